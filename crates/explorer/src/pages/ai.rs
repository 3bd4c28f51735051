//! Pages of what Verai adds: provenance records with their lineage, models with their
//! inference history, the sentinel's alerts and holds.

use super::{Ctx, bad_input, failed, not_found, render};
use crate::{charts, graph};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, U256};
use alloy_rpc_types_eth::Filter;
use alloy_sol_types::{SolCall, SolEvent};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use serde::Deserialize;
use verai_inference_module::{ADDRESS as INFERENCE, IInference};
use verai_provenance::{RecordView, UsageView};
use verai_rpc::{
    Backend,
    api::{EthApiServer, ProvenanceApiServer, SentinelApiServer},
    types::{AlertAction, AlertFilter, ListFilter},
};

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    r: RecordView,
    is_model: bool,
    ancestors: usize,
    descendants: usize,
    truncated: bool,
    lineage_svg: String,
    usage_count: u64,
    usage: Vec<UsageView>,
}

/// Most records walked each way for a record's lineage drawing.
const LINEAGE_LIMIT: usize = 200;

pub(crate) async fn record<B: Backend>(State(x): Ctx<B>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.trim_start_matches('r').parse::<u64>() else {
        return bad_input(&format!("{id:?} is not a record id."));
    };
    let p = &x.rpc.provenance;
    let r = match p.get_record(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(&format!("Record {id}")),
        Err(e) => return failed(e.into()),
    };
    let walk = |dir: &'static str| p.get_lineage(id, Some(dir.into()), None, Some(LINEAGE_LIMIT));
    let (up, down) = match (walk("ancestors").await, walk("descendants").await) {
        (Ok(u), Ok(d)) => (u, d),
        (Err(e), _) | (_, Err(e)) => return failed(e.into()),
    };
    let mut nodes = vec![graph::Node {
        id,
        kind: r.kind.clone(),
        root: true,
    }];
    let mut edges = Vec::new();
    let mut kind_of = std::collections::HashMap::new();
    for n in up.nodes.iter().chain(&down.nodes) {
        if let std::collections::hash_map::Entry::Vacant(e) = kind_of.entry(n.id) {
            let kind = match p.get_record(n.id).await {
                Ok(r) => r.map(|r| r.kind).unwrap_or_default(),
                Err(e) => return failed(e.into()),
            };
            e.insert(kind);
        }
    }
    let kind = |id: u64| kind_of.get(&id).cloned().unwrap_or_default();
    // Ancestors: each node's edges are its parents (parent → node).
    for e in &up.edges {
        edges.push((*e, id));
    }
    for n in &up.nodes {
        nodes.push(graph::Node {
            id: n.id,
            kind: kind(n.id),
            root: false,
        });
        edges.extend(n.edges.iter().map(|p| (*p, n.id)));
    }
    // Descendants: each node's edges are its children (node → child).
    for e in &down.edges {
        edges.push((id, *e));
    }
    for n in &down.nodes {
        if !nodes.iter().any(|m| m.id == n.id) {
            nodes.push(graph::Node {
                id: n.id,
                kind: kind(n.id),
                root: false,
            });
        }
        edges.extend(n.edges.iter().map(|c| (n.id, *c)));
    }
    edges.sort_unstable();
    edges.dedup();
    let usage = match p.get_usage(id, Some(0), Some(50)).await {
        Ok(u) => u,
        Err(e) => return failed(e.into()),
    };
    render(RecordPage {
        is_model: r.kind == "model",
        ancestors: up.nodes.len(),
        descendants: down.nodes.len(),
        truncated: up.truncated || down.truncated,
        lineage_svg: graph::svg(&nodes, &edges),
        usage_count: usage.count,
        usage: usage.entries,
        r,
    })
}

#[derive(Template)]
#[template(path = "records.html")]
struct RecordsPage {
    total: u64,
    records: Vec<RecordView>,
    next: Option<u64>,
}

#[derive(Deserialize)]
pub(crate) struct Offset {
    offset: Option<u64>,
}

pub(crate) async fn records<B: Backend>(State(x): Ctx<B>, Query(q): Query<Offset>) -> Response {
    let offset = q.offset.unwrap_or(0);
    let filter = ListFilter {
        offset: Some(offset),
        limit: Some(100),
        ..Default::default()
    };
    match x.rpc.provenance.list_records(Some(filter)).await {
        Ok(list) => render(RecordsPage {
            next: (offset + 100 < list.total).then_some(offset + 100),
            total: list.total,
            records: list.records,
        }),
        Err(e) => failed(e.into()),
    }
}

#[derive(Template)]
#[template(path = "model.html")]
struct ModelPage {
    id: u64,
    model: Option<(B256, u32, u64, u64, String, String)>,
    gas_chart: String,
    rows: Vec<(u64, u64, Address, u64, String, B256)>,
}

/// Inferences listed on a model's page.
const MODEL_ROWS: usize = 100;

pub(crate) async fn model<B: Backend>(State(x): Ctx<B>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return bad_input(&format!("{id:?} is not a model id."));
    };
    let call = verai_execution::CallRequest {
        to: Some(INFERENCE),
        input: IInference::getModelCall { modelId: id }.abi_encode().into(),
        ..Default::default()
    };
    let model = verai_execution::call(
        &x.backend.state(),
        &x.backend.next_block_params(),
        x.backend.modules(),
        &call,
    )
    .ok()
    .filter(|o| o.success)
    .and_then(|o| IInference::getModelCall::abi_decode_returns(&o.output).ok())
    .map(|m| {
        (
            m.contentHash,
            m.size,
            m.ops,
            m.gasPerCall,
            format!("{:?}", m.inputShape),
            format!("{:?}", m.outputShape),
        )
    });
    if model.is_none() && matches!(x.rpc.provenance.get_record(id).await, Ok(None)) {
        return not_found(&format!("Model {id}"));
    }
    // The latest inferences of the model, newest first, by its indexed id.
    let filter = Filter::new()
        .address(INFERENCE)
        .from_block(BlockNumberOrTag::Earliest)
        .to_block(BlockNumberOrTag::Latest)
        .event_signature(IInference::InferenceRecorded::SIGNATURE_HASH)
        .topic2(B256::from(U256::from(id)));
    let logs = match x.rpc.eth.get_logs(filter) {
        Ok(l) => l,
        Err(e) => return failed(e.into()),
    };
    let mut rows = Vec::new();
    let mut gas = Vec::new();
    for l in logs.iter().rev().take(MODEL_ROWS) {
        let Ok(ev) = IInference::InferenceRecorded::decode_log_data(l.data()) else {
            continue;
        };
        let hash = l.transaction_hash.unwrap_or_default();
        let used = x
            .rpc
            .eth
            .get_transaction_receipt(hash)
            .ok()
            .flatten()
            .map_or(0, |r| r.gas_used);
        let block = l.block_number.unwrap_or_default();
        gas.push((block as f64, used as f64));
        let output = verai_inference::f32_values(&ev.output)
            .map(|v| format!("{v:?}"))
            .unwrap_or_else(|| format!("{} bytes", ev.output.len()));
        rows.push((ev.id, block, ev.requester, used, output, hash));
    }
    gas.reverse();
    render(ModelPage {
        id,
        model,
        gas_chart: charts::line("gas per inference", "gas", &gas),
        rows,
    })
}

/// An alert row: id, badge class, action, transaction, from, to, value, block, why.
type AlertRow = (
    u64,
    &'static str,
    &'static str,
    B256,
    Address,
    String,
    String,
    u64,
    String,
);

#[derive(Template)]
#[template(path = "sentinel.html")]
struct SentinelPage {
    status: Option<String>,
    chart: String,
    address: String,
    held: Vec<(B256, u64)>,
    alerts: Vec<AlertRow>,
    next: Option<u64>,
}

#[derive(Deserialize)]
pub(crate) struct AlertQuery {
    address: Option<String>,
    cursor: Option<u64>,
}

pub(crate) async fn sentinel<B: Backend>(
    State(x): Ctx<B>,
    Query(q): Query<AlertQuery>,
) -> Response {
    let s = &x.rpc.sentinel;
    let address = match q
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        None => None,
        Some(a) => match a.parse::<Address>() {
            Ok(a) => Some(a),
            Err(_) => return bad_input(&format!("{a:?} is not an address.")),
        },
    };
    let Ok(status) = s.sentinel_status().await else {
        return render(SentinelPage {
            status: None,
            chart: String::new(),
            address: String::new(),
            held: vec![],
            alerts: vec![],
            next: None,
        });
    };
    let filter = AlertFilter {
        address,
        cursor: q.cursor,
        limit: Some(200),
        ..Default::default()
    };
    let page = match s.get_alerts(Some(filter)).await {
        Ok(p) => p,
        Err(e) => return failed(e.into()),
    };
    // Alerts per finalized height at admission, over the page.
    let mut per_block = std::collections::BTreeMap::<u64, f64>::new();
    for a in &page.alerts {
        *per_block.entry(a.block_number).or_default() += 1.0;
    }
    let points: Vec<(f64, f64)> = per_block.into_iter().map(|(b, n)| (b as f64, n)).collect();
    let held = s.get_held().await.unwrap_or_default();
    let alerts = page
        .alerts
        .iter()
        .map(|a| {
            let (class, action) = match a.action {
                AlertAction::Hold => ("bad", "hold"),
                AlertAction::Flag => ("warn", "flag"),
                AlertAction::Allow => ("ok", "allow"),
            };
            let scores = a.scores_json();
            let f = |k: &str| scores[k].as_f64().map_or("-".into(), |v| format!("{v:.3}"));
            let why = format!(
                "sender {} recipient {} anomaly {}",
                f("senderRisk"),
                f("recipientRisk"),
                f("anomaly")
            );
            (
                a.id,
                class,
                action,
                a.tx_hash,
                a.from,
                a.to.map_or("(create)".into(), |t| t.to_string()),
                crate::data::vai(a.value),
                a.block_number,
                why,
            )
        })
        .collect();
    render(SentinelPage {
        status: Some(format!(
            "{} transactions screened, {} flagged, {} held (mean {:.1} µs per screening); policy {}",
            status.screened,
            status.flagged,
            status.held,
            status.mean_screen_nanos as f64 / 1e3,
            status.screen["mode"].as_str().unwrap_or("?")
        )),
        chart: charts::line("alerts by finalized height at admission", "alerts", &points),
        address: address.map(|a| a.to_string()).unwrap_or_default(),
        held: held.into_iter().map(|h| (h.hash, h.until)).collect(),
        alerts,
        next: page.next_cursor,
    })
}
