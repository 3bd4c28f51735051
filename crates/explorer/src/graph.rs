//! Lineage graphs as SVG: a layered layout (layers by longest path, order by barycenter
//! sweeps) and a small SVG writer, so the page needs no JavaScript.
//!
//! Edges point from a source record to the record derived from it (dataset → model). The
//! root is outlined; each node links to its record's page.

use std::{collections::HashMap, fmt::Write as _};

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

/// Positions of a layered drawing: each node's layer (its longest path from a source) and
/// its place in the layer, ordered by a few barycenter sweeps to limit crossings (the
/// Sugiyama scheme dagre implements, without its network-simplex refinements, which took
/// seconds on 200 nodes). Linear in nodes and edges per sweep.
fn layout(ids: &[u64], edges: &[(u64, u64)]) -> HashMap<u64, (usize, usize)> {
    let index: HashMap<u64, usize> = ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    let n = ids.len();
    let mut preds = vec![Vec::new(); n];
    let mut succs = vec![Vec::new(); n];
    for (a, b) in edges {
        if let (Some(&i), Some(&j)) = (index.get(a), index.get(b))
            && i != j
        {
            succs[i].push(j);
            preds[j].push(i);
        }
    }
    // Layers by longest path, in topological order (Kahn); a node left over by a cycle
    // (lineage has none) goes one layer past the rest.
    let mut indegree: Vec<usize> = preds.iter().map(Vec::len).collect();
    let mut queue: std::collections::VecDeque<usize> =
        (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut layer = vec![usize::MAX; n];
    let mut done = 0;
    while let Some(i) = queue.pop_front() {
        layer[i] = preds[i]
            .iter()
            .map(|&p| layer[p].saturating_add(1))
            .max()
            .unwrap_or(0);
        done += 1;
        for &j in &succs[i] {
            indegree[j] -= 1;
            if indegree[j] == 0 {
                queue.push_back(j);
            }
        }
    }
    if done < n {
        let past = layer
            .iter()
            .filter(|&&l| l != usize::MAX)
            .max()
            .map_or(0, |m| m + 1);
        for l in layer.iter_mut().filter(|l| **l == usize::MAX) {
            *l = past;
        }
    }
    let layers = layer.iter().max().map_or(0, |m| m + 1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for i in 0..n {
        rows[layer[i]].push(i);
    }
    let mut pos = vec![0f64; n];
    let place = |rows: &Vec<Vec<usize>>, pos: &mut Vec<f64>| {
        for row in rows {
            for (k, &i) in row.iter().enumerate() {
                pos[i] = k as f64;
            }
        }
    };
    place(&rows, &mut pos);
    // Barycenter sweeps: down by predecessors, up by successors.
    for sweep in 0..6 {
        let order: Vec<usize> = if sweep % 2 == 0 {
            (1..layers).collect()
        } else {
            (0..layers.saturating_sub(1)).rev().collect()
        };
        for l in order {
            let neighbours = if sweep % 2 == 0 { &preds } else { &succs };
            let mut keyed: Vec<(f64, usize)> = rows[l]
                .iter()
                .map(|&i| {
                    let ns = &neighbours[i];
                    let b = if ns.is_empty() {
                        pos[i]
                    } else {
                        ns.iter().map(|&j| pos[j]).sum::<f64>() / ns.len() as f64
                    };
                    (b, i)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            rows[l] = keyed.into_iter().map(|(_, i)| i).collect();
            for (k, &i) in rows[l].iter().enumerate() {
                pos[i] = k as f64;
            }
        }
    }
    let mut out = HashMap::with_capacity(n);
    for (l, row) in rows.iter().enumerate() {
        for (k, &i) in row.iter().enumerate() {
            out.insert(ids[i], (l, k));
        }
    }
    out
}

const NODE_SEP: f64 = 14.0;
const RANK_SEP: f64 = 56.0;
const MARGIN: f64 = 8.0;

/// The SVG of `nodes` joined by `edges` (source, derived), left to right.
pub fn svg(nodes: &[Node], edges: &[(u64, u64)]) -> String {
    let shown: Vec<&Node> = nodes.iter().take(MAX_NODES).collect();
    let ids: Vec<u64> = shown.iter().map(|n| n.id).collect();
    let at = layout(&ids, edges);
    let layers = at.values().map(|p| p.0 + 1).max().unwrap_or(1);
    let mut per_layer = vec![0usize; layers];
    for p in at.values() {
        per_layer[p.0] += 1;
    }
    let tallest = per_layer.iter().copied().max().unwrap_or(1).max(1);
    let h = MARGIN * 2.0 + tallest as f64 * (NODE_H + NODE_SEP) - NODE_SEP;
    let w = MARGIN * 2.0 + layers as f64 * (NODE_W + RANK_SEP) - RANK_SEP;
    // Each layer centred vertically.
    let centre = |&(l, k): &(usize, usize)| -> (f64, f64) {
        let offset = (tallest - per_layer[l]) as f64 * (NODE_H + NODE_SEP) / 2.0;
        (
            MARGIN + l as f64 * (NODE_W + RANK_SEP) + NODE_W / 2.0,
            MARGIN + offset + k as f64 * (NODE_H + NODE_SEP) + NODE_H / 2.0,
        )
    };
    let mut out = String::with_capacity(256 * nodes.len().max(1));
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="lineage" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img" aria-label="lineage graph"><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#667"/></marker></defs>"##
    );
    let mut drawn = std::collections::HashSet::new();
    for (a, b) in edges {
        let (Some(pa), Some(pb)) = (at.get(a), at.get(b)) else {
            continue;
        };
        if a == b || !drawn.insert((*a, *b)) {
            continue;
        }
        let ((x1, y1), (x2, y2)) = (centre(pa), centre(pb));
        let _ = write!(
            out,
            r##"<path class="edge" data-from="{a}" data-to="{b}" d="M{:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {:.1},{y2:.1}" fill="none" stroke="#667" stroke-width="1.4" marker-end="url(#arrow)"/>"##,
            x1 + NODE_W / 2.0,
            x1 + NODE_W / 2.0 + RANK_SEP / 2.0,
            x2 - NODE_W / 2.0 - RANK_SEP / 2.0,
            x2 - NODE_W / 2.0,
        );
    }
    for n in shown {
        let Some(p) = at.get(&n.id) else {
            continue;
        };
        let (x, y) = centre(p);
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

    #[test]
    fn layers_follow_lineage_and_large_graphs_lay_out_fast() {
        // The benchmark's DAG: node i derives from i-1 and i/2.
        let ids: Vec<u64> = (1..=400).collect();
        let edges: Vec<(u64, u64)> = (2..=400u64)
            .flat_map(|i| [(i - 1, i), (i / 2, i)])
            .collect();
        let start = std::time::Instant::now();
        let at = layout(&ids, &edges);
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        for (a, b) in &edges {
            assert!(at[a].0 < at[b].0, "{a} -> {b} must go rightwards");
        }
        // No two nodes share a place.
        let places: std::collections::HashSet<_> = at.values().collect();
        assert_eq!(places.len(), ids.len());
    }
}
