//! Pages of the chain itself: home, block, transaction, address.

use super::{Ctx, bad_input, failed, not_found, render};
use crate::{
    charts,
    data::{Explorer, Finality, TxSummary, vai},
    decode::Decoded,
};
use alloy_primitives::{Address, B256, U256, keccak256};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use serde::Deserialize;
use verai_rpc::{Backend, api::VeraiApiServer, types::AuditDoc};
use verai_storage::{LogQuery, TOPIC_POSITIONS};

/// A transaction row of a list, formatted.
pub(crate) struct TxRow {
    pub hash: B256,
    pub block: u64,
    pub index: u32,
    pub gas_used: u64,
    pub method: String,
    pub from: Address,
    pub to: Option<Address>,
    pub created: Option<Address>,
    pub value: String,
    pub success: bool,
}

impl From<TxSummary> for TxRow {
    fn from(t: TxSummary) -> Self {
        Self {
            hash: t.hash,
            block: t.block,
            index: t.index,
            gas_used: t.gas_used,
            method: t.method,
            from: t.from,
            to: t.to,
            created: t.created,
            value: vai(t.value),
            success: t.success,
        }
    }
}

struct BlockRow {
    number: u64,
    hash: B256,
    txs: usize,
    gas_used: u64,
    age: u64,
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    chain_id: u64,
    head: u64,
    blocks: Vec<BlockRow>,
    tx_chart: String,
    finality_chart: String,
}

/// Blocks shown on the home page.
const HOME_BLOCKS: u64 = 20;
/// Blocks the home page's charts cover.
const CHART_BLOCKS: u64 = 100;

pub(crate) async fn home<B: Backend>(State(x): Ctx<B>) -> Response {
    let head = x.head();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut blocks = Vec::new();
    let mut txs = Vec::new();
    let mut finality = Vec::new();
    for n in (head.saturating_sub(CHART_BLOCKS - 1)..=head).rev() {
        let b = match x.backend.block(n) {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(e) => return failed(e.into()),
        };
        let count = b.transactions.len();
        txs.push((n as f64, count as f64));
        if let Ok(Some(ms)) = x.finalized_at(n) {
            let latency = ms.saturating_sub(b.header.timestamp.saturating_mul(1000));
            finality.push((n as f64, latency as f64));
        }
        if head - n < HOME_BLOCKS {
            blocks.push(BlockRow {
                number: n,
                hash: b.hash(),
                txs: count,
                gas_used: b.header.gas_used,
                age: if b.header.timestamp == 0 {
                    0
                } else {
                    now.saturating_sub(b.header.timestamp)
                },
            });
        }
    }
    txs.reverse();
    finality.reverse();
    render(Home {
        chain_id: x.backend.chain_id(),
        head,
        blocks,
        tx_chart: charts::line("transactions per block", "txs", &txs),
        finality_chart: charts::line(
            "finalized here after the block's timestamp",
            "ms",
            &finality,
        ),
    })
}

#[derive(Template)]
#[template(path = "block.html")]
struct BlockPage {
    number: u64,
    hash: B256,
    parent: B256,
    timestamp: u64,
    finality_ms: String,
    state_root: B256,
    transactions_root: B256,
    receipts_root: B256,
    gas_used: u64,
    gas_limit: u64,
    base_fee: u64,
    finality: String,
    finality_class: &'static str,
    txs: Vec<TxRow>,
}

pub(crate) async fn block<B: Backend>(State(x): Ctx<B>, Path(id): Path<String>) -> Response {
    let number = if let Ok(n) = id.parse::<u64>() {
        n
    } else if let Ok(h) = id.parse::<B256>() {
        match x.block_number(&h) {
            Ok(Some(n)) => n,
            Ok(None) => return not_found(&format!("Block {h}")),
            Err(e) => return failed(e),
        }
    } else {
        return bad_input(&format!("{id:?} is not a block number or hash."));
    };
    let b = match x.block(number) {
        Ok(Some(b)) => b,
        Ok(None) => return not_found(&format!("Block {number}")),
        Err(e) => return failed(e),
    };
    let h = &b.header;
    let (finality, finality_class) = match x.finality(number, h.hash).await {
        Finality::Proven { view, validators } => (
            format!("final: certificate of view {view} checked against {validators} validator(s)"),
            "ok",
        ),
        Finality::Missing => ("no certificate here".to_string(), "warn"),
        Finality::Invalid(why) => (format!("certificate does not verify: {why}"), "bad"),
    };
    let finality_ms = match x.finalized_at(number) {
        Ok(Some(ms)) => format!("{} ms", ms.saturating_sub(h.timestamp.saturating_mul(1000))),
        _ => "-".into(),
    };
    let txs = match x.block_txs(number) {
        Ok(t) => t.into_iter().map(TxRow::from).collect(),
        Err(e) => return failed(e),
    };
    render(BlockPage {
        number,
        hash: h.hash,
        parent: h.parent_hash,
        timestamp: h.timestamp,
        finality_ms,
        state_root: h.state_root,
        transactions_root: h.transactions_root,
        receipts_root: h.receipts_root,
        gas_used: h.gas_used,
        gas_limit: h.gas_limit,
        base_fee: h.base_fee_per_gas.unwrap_or_default(),
        finality,
        finality_class,
        txs,
    })
}

struct LogRow {
    index: u64,
    address: Address,
    topics: Vec<B256>,
    data: String,
    decoded: Option<DecodedRow>,
}

struct DecodedRow {
    name: String,
    source: String,
    args: Vec<(String, String, String)>,
}

impl From<Decoded> for DecodedRow {
    fn from(d: Decoded) -> Self {
        Self {
            name: d.name,
            source: d.source.label(),
            args: d.args,
        }
    }
}

#[derive(Template)]
#[template(path = "tx.html")]
struct TxPage {
    t: TxRow,
    timestamp: u64,
    nonce: u64,
    gas_limit: u64,
    gas_price: u128,
    tx_type: u8,
    input: String,
    decoded: Option<DecodedRow>,
    logs: Vec<LogRow>,
    state_note: &'static str,
}

/// Hex of at most 4 KiB of bytes, shortened beyond.
fn hex_bytes(b: &[u8]) -> String {
    if b.len() > 4096 {
        format!(
            "0x{}… ({} bytes)",
            alloy_primitives::hex::encode(&b[..4096]),
            b.len()
        )
    } else {
        format!("0x{}", alloy_primitives::hex::encode(b))
    }
}

pub(crate) async fn tx<B: Backend>(State(x): Ctx<B>, Path(id): Path<String>) -> Response {
    let Ok(hash) = id.parse::<B256>() else {
        return bad_input(&format!(
            "{id:?} is not a transaction hash (0x and 64 hex digits)."
        ));
    };
    let t = match x.tx(&hash) {
        Ok(Some(t)) => t,
        Ok(None) => return not_found(&format!("Transaction {hash}")),
        Err(e) => return failed(e),
    };
    render(TxPage {
        t: t.summary.into(),
        timestamp: t.timestamp,
        nonce: t.nonce,
        gas_limit: t.gas_limit,
        gas_price: t.effective_gas_price,
        tx_type: t.tx_type,
        input: hex_bytes(&t.input),
        decoded: t.decoded.map(DecodedRow::from),
        logs: t
            .logs
            .into_iter()
            .map(|l| LogRow {
                index: l.index,
                address: l.address,
                topics: l.topics,
                data: hex_bytes(&l.data),
                decoded: l.decoded.map(DecodedRow::from),
            })
            .collect(),
        state_note: "Per-transaction state changes are not kept: the node stores the state \
                     after each block, and the logs above are what the transaction changed \
                     that a contract chose to announce.",
    })
}

struct AuditView {
    risk: String,
    risk_class: &'static str,
    findings: Vec<(String, String, String, String, String)>,
}

fn audit_view(doc: &AuditDoc) -> AuditView {
    let r = &doc.report;
    let risk = r["risk"]["level"].as_str().unwrap_or("unknown").to_string();
    let risk_class = match risk.as_str() {
        "critical" | "high" => "bad",
        "medium" => "warn",
        _ => "ok",
    };
    let s = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    let findings = r["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let at = if f["offsets"].as_array().is_some_and(|o| !o.is_empty()) {
                format!("offsets {}", f["offsets"])
            } else {
                format!("lines {}", f["lines"])
            };
            (
                s(&f["category"]),
                s(&f["severity"]),
                s(&f["detector"]),
                at,
                s(&f["explanation"]),
            )
        })
        .collect();
    AuditView {
        risk,
        risk_class,
        findings,
    }
}

#[derive(Template)]
#[template(path = "address.html")]
struct AddressPage {
    kind: &'static str,
    address: Address,
    balance: String,
    nonce: u64,
    code: Option<String>,
    verified: Option<String>,
    audit: Option<AuditView>,
    tokens: Vec<(Address, String)>,
    txs: Vec<TxRow>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Before {
    before: Option<String>,
}

/// ERC-20 `Transfer(address,address,uint256)`.
fn transfer_topic() -> B256 {
    keccak256("Transfer(address,address,uint256)")
}

/// Tokens `a` sent or received (from the latest 1,000 `Transfer` logs naming it), with
/// their `balanceOf(a)`.
fn tokens<B: Backend>(x: &Explorer<B>, a: &Address) -> Vec<(Address, String)> {
    let mut seen = std::collections::BTreeSet::new();
    for position in [1usize, 2] {
        let mut topics: [Vec<B256>; TOPIC_POSITIONS] = Default::default();
        topics[0] = vec![transfer_topic()];
        topics[position] = vec![a.into_word()];
        let q = LogQuery {
            from: 0,
            to: x.head(),
            addresses: vec![],
            topics,
        };
        let Ok((locs, _)) = x.backend.logs_page(&q, None, 1000) else {
            continue;
        };
        for l in locs {
            if seen.len() >= 20 {
                break;
            }
            if let Ok(Some(r)) = x.backend.receipts(l.block)
                && let Some(log) = r
                    .iter()
                    .flat_map(|r| r.receipt.logs())
                    .nth(l.log_index as usize)
            {
                seen.insert(log.address);
            }
        }
    }
    seen.into_iter()
        .filter_map(|token| {
            let mut input = keccak256("balanceOf(address)")[..4].to_vec();
            input.extend_from_slice(a.into_word().as_slice());
            let req = verai_execution::CallRequest {
                to: Some(token),
                input: input.into(),
                ..Default::default()
            };
            let out = verai_execution::call(
                &x.backend.state(),
                &x.backend.next_block_params(),
                x.backend.modules(),
                &req,
            )
            .ok()?;
            (out.success && out.output.len() == 32)
                .then(|| (token, U256::from_be_slice(&out.output).to_string()))
        })
        .collect()
}

pub(crate) async fn address<B: Backend>(
    State(x): Ctx<B>,
    Path(id): Path<String>,
    Query(q): Query<Before>,
) -> Response {
    let Ok(a) = id.parse::<Address>() else {
        return bad_input(&format!("{id:?} is not an address (0x and 40 hex digits)."));
    };
    let before = match q.before.as_deref().map(parse_cursor) {
        None => None,
        Some(Some(c)) => Some(c),
        Some(None) => return bad_input("`before` is BLOCK-INDEX, as the older link gives it."),
    };
    let acc = x.account(&a);
    let code_hash = x.code_hash(&a);
    let code = code_hash.map(|h| {
        let size = x
            .backend
            .state()
            .get(&verai_primitives::StateKey::Code(h))
            .ok()
            .flatten()
            .map_or(0, |c| c.len());
        format!("{size} bytes, hash {h}")
    });
    let module = x.decoder.module_name(&a).map(str::to_owned);
    let verified = module
        .clone()
        .map(|m| format!("native module {m}"))
        .or_else(|| {
            code_hash
                .as_ref()
                .and_then(|h| x.decoder.verified_name(h))
                .map(|n| format!("contracts/src/{n}.sol (exact bytecode match)"))
        });
    let audit = match x.rpc.verai.get_audit(a).await {
        Ok(Some(doc)) => Some(audit_view(&doc)),
        _ => None,
    };
    const PAGE: usize = 50;
    let txs = match x.address_txs(&a, before, PAGE) {
        Ok(t) => t,
        Err(e) => return failed(e),
    };
    let next = (txs.len() == PAGE)
        .then(|| txs.last().map(|t| format!("{}-{}", t.block, t.index)))
        .flatten();
    render(AddressPage {
        kind: if module.is_some() {
            "Module"
        } else if code_hash.is_some() {
            "Contract"
        } else {
            "Account"
        },
        address: a,
        balance: vai(acc.balance),
        nonce: acc.nonce,
        code,
        verified,
        audit,
        tokens: tokens(&x, &a),
        txs: txs.into_iter().map(TxRow::from).collect(),
        next,
    })
}

/// `BLOCK-INDEX`.
fn parse_cursor(s: &str) -> Option<(u64, u32)> {
    let (b, i) = s.split_once('-')?;
    Some((b.parse().ok()?, i.parse().ok()?))
}
