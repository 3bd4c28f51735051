//! Lineage graphs as SVG: a layered layout (dagre, the layout dagre.js and its users
//! draw DAGs with) and a small SVG writer, so the page needs no JavaScript.
//!
//! Edges point from a source record to the record derived from it (dataset → model). The
//! root is outlined; each node links to its record's page.

use dagre::{
    EdgeLabel, GraphLabel, LayoutOptions, NodeLabel, RankDir,
    graph::{Graph, GraphOptions},
};
use std::fmt::Write as _;

/// One node of a lineage drawing.
#[derive(Debug, Clone)]
pub struct Node {
    /// Record id.
    pub id: u64,
    /// Its kind (`dataset`, `model`, ...).
    pub kind: String,
    /// Whether it is the record the page is about.
    pub root: bool,
}

/// Most nodes drawn; a larger lineage is drawn up to this many and says so.
pub const MAX_NODES: usize = 400;

const NODE_W: f64 = 112.0;
const NODE_H: f64 = 34.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn color(kind: &str) -> &'static str {
    match kind {
        "dataset" => "#e3f2e1",
        "model" => "#e1ebf7",
        "training-run" => "#f7efe1",
        "inference" => "#f1e4f5",
        _ => "#eeeeee",
    }
}

/// The SVG of `nodes` joined by `edges` (source, derived), left to right.
pub fn svg(nodes: &[Node], edges: &[(u64, u64)]) -> String {
    let mut g: Graph<NodeLabel, EdgeLabel> = Graph::with_options(GraphOptions {
        directed: true,
        multigraph: false,
        compound: false,
    });
    let shown: std::collections::HashSet<u64> =
        nodes.iter().take(MAX_NODES).map(|n| n.id).collect();
    for n in nodes.iter().take(MAX_NODES) {
        let label = NodeLabel {
            width: NODE_W,
            height: NODE_H,
            ..Default::default()
        };
        g.set_node(n.id.to_string(), Some(label));
    }
    for (a, b) in edges {
        if shown.contains(a) && shown.contains(b) && a != b {
            g.set_edge(
                a.to_string(),
                b.to_string(),
                Some(EdgeLabel::default()),
                None,
            );
        }
    }
    dagre::layout(
        &mut g,
        Some(LayoutOptions {
            rankdir: RankDir::LR,
            nodesep: 14.0,
            ranksep: 56.0,
            marginx: 8.0,
            marginy: 8.0,
            ..Default::default()
        }),
    );
    let (w, h) = g.graph_label::<GraphLabel>().map_or((NODE_W, NODE_H), |l| {
        (l.width.max(NODE_W), l.height.max(NODE_H))
    });
    let mut out = String::with_capacity(256 * nodes.len().max(1));
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="lineage" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img" aria-label="lineage graph"><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#667"/></marker></defs>"##
    );
    for e in g.edges() {
        let Some(label) = g.edge(&e.v, &e.w, None) else {
            continue;
        };
        let mut d = String::new();
        for (i, p) in label.points.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1} ",
                if i == 0 { 'M' } else { 'L' },
                p.x,
                p.y
            );
        }
        let _ = write!(
            out,
            r##"<path class="edge" data-from="{}" data-to="{}" d="{}" fill="none" stroke="#667" stroke-width="1.4" marker-end="url(#arrow)"/>"##,
            escape(&e.v),
            escape(&e.w),
            d.trim_end()
        );
    }
    for n in nodes.iter().take(MAX_NODES) {
        let Some(l) = g.node(&n.id.to_string()) else {
            continue;
        };
        let (x, y) = (l.x.unwrap_or_default(), l.y.unwrap_or_default());
        let stroke = if n.root { "#222" } else { "#889" };
        let width = if n.root { 2.4 } else { 1.0 };
        let _ = write!(
            out,
            r##"<a href="/record/{id}"><g class="node" data-id="{id}"><rect x="{:.1}" y="{:.1}" width="{NODE_W}" height="{NODE_H}" rx="6" fill="{}" stroke="{stroke}" stroke-width="{width}"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-family="sans-serif" font-size="12">#{id} {}</text></g></a>"##,
            x - NODE_W / 2.0,
            y - NODE_H / 2.0,
            color(&n.kind),
            y + 4.0,
            escape(&n.kind),
            id = n.id,
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_edge_is_drawn_once() {
        let nodes: Vec<Node> = (1..=6)
            .map(|id| Node {
                id,
                kind: if id < 3 { "dataset" } else { "model" }.into(),
                root: id == 6,
            })
            .collect();
        let edges = [(1, 3), (2, 3), (3, 4), (3, 5), (4, 6), (5, 6)];
        let s = svg(&nodes, &edges);
        assert_eq!(s.matches("class=\"edge\"").count(), edges.len());
        assert_eq!(s.matches("class=\"node\"").count(), nodes.len());
        for (a, b) in edges {
            assert!(
                s.contains(&format!("data-from=\"{a}\" data-to=\"{b}\"")),
                "{a}->{b}"
            );
        }
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
    }
}
