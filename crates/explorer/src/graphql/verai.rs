//! Verai's records beside EIP-1767: provenance records and lineage, inference records,
//! sentinel alerts, and keyset pages of logs and of an account's transactions.

use super::{
    Gql,
    eth::{FilterCriteria, Log, Transaction},
    gql_err,
    scalars::{Address, BigInt, Bytes32, Long},
};
use alloy_primitives::{B256, U256};
use alloy_sol_types::SolEvent;
use async_graphql::{Object, Result, SimpleObject};
use verai_provenance::RecordView;
use verai_rpc::{Backend, api::SentinelApiServer, types::Alert as RpcAlert};
use verai_storage::{LogLocation, LogQuery, TOPIC_POSITIONS};

/// A provenance record.
pub struct Record(pub(crate) RecordView);

#[Object]
impl Record {
    async fn id(&self) -> Long {
        Long(self.0.id)
    }
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn content_hash(&self) -> Bytes32 {
        Bytes32(self.0.content_hash)
    }
    async fn uri(&self) -> &str {
        &self.0.uri
    }
    async fn license(&self) -> &str {
        &self.0.license
    }
    async fn owner(&self) -> Address {
        Address(self.0.owner)
    }
    async fn creator(&self) -> Address {
        Address(self.0.creator)
    }
    async fn contributors(&self) -> Vec<Contributor> {
        self.0
            .contributors
            .iter()
            .map(|c| Contributor {
                account: Address(c.account),
                share_bps: c.share_bps.into(),
            })
            .collect()
    }
    async fn parents(&self) -> Vec<Long> {
        self.0.parents.iter().copied().map(Long).collect()
    }
    async fn links(&self) -> Vec<Long> {
        self.0.links.iter().copied().map(Long).collect()
    }
    async fn block_number(&self) -> Long {
        Long(self.0.block_number)
    }
    async fn timestamp(&self) -> Long {
        Long(self.0.timestamp)
    }
    async fn deprecated(&self) -> bool {
        self.0.deprecated
    }
}

/// A contributor's share.
#[derive(SimpleObject)]
pub struct Contributor {
    account: Address,
    share_bps: i32,
}

/// A record reached by a lineage walk.
#[derive(SimpleObject)]
pub struct LineageNode {
    id: Long,
    kind: String,
    depth: i32,
    /// Its own edges in the walk's direction (parents, or children).
    edges: Vec<Long>,
}

/// A lineage walk from a record.
#[derive(SimpleObject)]
pub struct Lineage {
    root: Long,
    direction: String,
    edges: Vec<Long>,
    nodes: Vec<LineageNode>,
    truncated: bool,
}

/// An inference audit record (from its `InferenceRecorded` log).
#[derive(SimpleObject)]
pub struct Inference {
    id: Long,
    model: Long,
    requester: Address,
    block_number: Long,
    transaction_hash: Bytes32,
    input_hash: Bytes32,
    output_hash: Bytes32,
}

/// A sentinel alert.
#[derive(SimpleObject)]
pub struct Alert {
    id: Long,
    tx_hash: Bytes32,
    from: Address,
    to: Option<Address>,
    value: BigInt,
    action: String,
    block_number: Long,
    time: Long,
    /// The screen's explanation, as JSON text.
    scores: Option<String>,
}

impl Alert {
    fn of(a: RpcAlert) -> Self {
        Self {
            id: Long(a.id),
            tx_hash: Bytes32(a.tx_hash),
            from: Address(a.from),
            to: a.to.map(Address),
            value: BigInt(a.value),
            action: format!("{:?}", a.action).to_lowercase(),
            block_number: Long(a.block_number),
            time: Long(a.time),
            scores: a.scores.map(|s| s.get().to_string()),
        }
    }
}

/// A page of alerts.
#[derive(SimpleObject)]
pub struct AlertPage {
    alerts: Vec<Alert>,
    next_cursor: Option<Long>,
}

/// A keyset page of logs: pass `nextCursor` as `after` for the next page.
pub struct LogPage<B> {
    pub(crate) logs: Vec<Log<B>>,
    pub(crate) next: Option<String>,
}

#[Object]
impl<B: Backend> LogPage<B> {
    async fn logs(&self) -> &[Log<B>] {
        &self.logs
    }
    async fn next_cursor(&self) -> Option<&str> {
        self.next.as_deref()
    }
}

/// A page of an account's transactions, newest first: pass `nextCursor` as `before`.
pub struct TxPage<B> {
    pub(crate) transactions: Vec<Transaction<B>>,
    pub(crate) next: Option<String>,
}

#[Object]
impl<B: Backend> TxPage<B> {
    async fn transactions(&self) -> &[Transaction<B>] {
        &self.transactions
    }
    async fn next_cursor(&self) -> Option<&str> {
        self.next.as_deref()
    }
}

/// `block.tx.log` as a cursor.
pub(crate) fn log_cursor(l: &LogLocation) -> String {
    format!("{}.{}.{}", l.block, l.tx_index, l.log_index)
}

fn parse_log_cursor(s: &str) -> Result<LogLocation> {
    let mut it = s.split('.').map(str::parse::<u64>);
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(Ok(block)), Some(Ok(tx)), Some(Ok(log)), None) => Ok(LogLocation {
            block,
            tx_index: u32::try_from(tx).map_err(|_| bad_cursor())?,
            log_index: u32::try_from(log).map_err(|_| bad_cursor())?,
        }),
        _ => Err(bad_cursor()),
    }
}

fn bad_cursor() -> async_graphql::Error {
    super::coded(
        verai_rpc::api::codes::INVALID_PARAMS,
        "malformed cursor: pass back a nextCursor exactly".into(),
    )
}

impl<B: Backend> Gql<B> {
    /// One keyset page of logs matching `filter` (it must name an address or a topic).
    pub(crate) fn logs_page(
        &self,
        filter: &FilterCriteria,
        first: usize,
        after: Option<&str>,
    ) -> Result<LogPage<B>> {
        let head = self.backend.latest();
        let mut topics: [Vec<B256>; TOPIC_POSITIONS] = Default::default();
        for (i, t) in filter
            .topics
            .iter()
            .flatten()
            .enumerate()
            .take(TOPIC_POSITIONS)
        {
            topics[i] = t.iter().map(|t| t.0).collect();
        }
        let q = LogQuery {
            from: filter.from_block.map_or(0, |b| b.0),
            to: filter.to_block.map_or(head, |b| b.0.min(head)),
            addresses: filter.addresses.iter().flatten().map(|a| a.0).collect(),
            topics,
        };
        if q.addresses.is_empty() && q.topics.iter().all(Vec::is_empty) {
            return Err(super::coded(
                verai_rpc::api::codes::INVALID_PARAMS,
                "a log page needs addresses or topics (use `logs` for a bounded block range)"
                    .into(),
            ));
        }
        let after = after.map(parse_log_cursor).transpose()?;
        let (locs, next) = self
            .backend
            .logs_page(&q, after, first)
            .map_err(|e| gql_err(e.into()))?;
        let mut logs = Vec::with_capacity(locs.len());
        let mut block: Option<(u64, Vec<alloy_rpc_types_eth::Log>)> = None;
        for loc in locs {
            if block.as_ref().is_none_or(|(n, _)| *n != loc.block) {
                block = Some((loc.block, self.block_logs(loc.block)?));
            }
            if let Some((_, all)) = &block
                && let Some(l) = all.get(loc.log_index as usize)
            {
                logs.push(Log {
                    x: self.clone(),
                    l: l.clone(),
                });
            }
        }
        Ok(LogPage {
            logs,
            next: next.map(|l| log_cursor(&l)),
        })
    }

    /// Every log of block `n`, in order, as JSON-RPC serves them.
    fn block_logs(&self, n: u64) -> Result<Vec<alloy_rpc_types_eth::Log>> {
        let f = alloy_rpc_types_eth::Filter::new().from_block(n).to_block(n);
        // An unfiltered one-block range reads that block's receipts.
        self.logs_rpc(f)
    }

    /// The latest inferences of `model` in the last 100,000 blocks (the `eth_getLogs`
    /// range limit), newest first.
    pub(crate) fn inferences(&self, model: u64, first: usize) -> Result<Vec<Inference>> {
        use verai_inference_module::{ADDRESS, IInference};
        let head = self.backend.latest();
        let f = alloy_rpc_types_eth::Filter::new()
            .address(ADDRESS)
            .from_block(head.saturating_sub(verai_rpc::MAX_LOG_RANGE - 1))
            .to_block(head)
            .event_signature(IInference::InferenceRecorded::SIGNATURE_HASH)
            .topic2(B256::from(U256::from(model)));
        Ok(self
            .logs_rpc(f)?
            .iter()
            .rev()
            .take(first)
            .filter_map(|l| {
                let ev = IInference::InferenceRecorded::decode_log_data(l.data()).ok()?;
                Some(Inference {
                    id: Long(ev.id),
                    model: Long(ev.modelId),
                    requester: Address(ev.requester),
                    block_number: Long(l.block_number.unwrap_or_default()),
                    transaction_hash: Bytes32(l.transaction_hash.unwrap_or_default()),
                    input_hash: Bytes32(verai_inference::sha256(&ev.input).into()),
                    output_hash: Bytes32(verai_inference::sha256(&ev.output).into()),
                })
            })
            .collect())
    }

    /// A page of alerts.
    pub(crate) async fn alerts(
        &self,
        address: Option<Address>,
        first: usize,
        after: Option<u64>,
    ) -> Result<AlertPage> {
        let f = verai_rpc::types::AlertFilter {
            address: address.map(|a| a.0),
            cursor: after,
            limit: Some(first),
            ..Default::default()
        };
        let page = self
            .rpc
            .sentinel
            .get_alerts(Some(f))
            .await
            .map_err(|e| gql_err(e.into()))?;
        Ok(AlertPage {
            alerts: page.alerts.into_iter().map(Alert::of).collect(),
            next_cursor: page.next_cursor.map(Long),
        })
    }

    /// The lineage of record `id`.
    pub(crate) async fn lineage(
        &self,
        id: u64,
        direction: Option<String>,
        depth: Option<u32>,
        limit: usize,
    ) -> Result<Lineage> {
        use verai_rpc::api::ProvenanceApiServer;
        let p = &self.rpc.provenance;
        let l = p
            .get_lineage(id, direction, depth, Some(limit))
            .await
            .map_err(|e| gql_err(e.into()))?;
        let mut kinds = Vec::with_capacity(l.nodes.len());
        for n in &l.nodes {
            let r = p.get_record(n.id).await.map_err(|e| gql_err(e.into()))?;
            kinds.push(r.map(|r| r.kind).unwrap_or_default());
        }
        Ok(Lineage {
            root: Long(l.root.id),
            direction: l.direction,
            edges: l.edges.into_iter().map(Long).collect(),
            nodes: l
                .nodes
                .into_iter()
                .zip(kinds)
                .map(|(n, kind)| LineageNode {
                    id: Long(n.id),
                    kind,
                    depth: n.depth as i32,
                    edges: n.edges.into_iter().map(Long).collect(),
                })
                .collect(),
            truncated: l.truncated,
        })
    }

    /// A page of `address`'s transactions, newest first.
    pub(crate) fn account_transactions(
        &self,
        address: Address,
        first: usize,
        before: Option<&str>,
    ) -> Result<TxPage<B>> {
        let before = match before {
            None => None,
            Some(s) => {
                let (b, i) = s.split_once('.').ok_or_else(bad_cursor)?;
                Some((
                    b.parse().map_err(|_| bad_cursor())?,
                    i.parse().map_err(|_| bad_cursor())?,
                ))
            }
        };
        let entries = self
            .backend
            .address_txs(&address.0, before, first)
            .map_err(|e| gql_err(e.into()))?;
        let next = (entries.len() == first)
            .then(|| entries.last().map(|e| format!("{}.{}", e.block, e.index)))
            .flatten();
        let mut transactions = Vec::with_capacity(entries.len());
        for e in entries {
            let Some(block) = self.backend.block(e.block).map_err(|e| gql_err(e.into()))? else {
                continue;
            };
            if let Some(tx) = block.transactions.get(e.index as usize)
                && let Some(t) = self.transaction(*tx.tx_hash())?
            {
                transactions.push(t);
            }
        }
        Ok(TxPage { transactions, next })
    }
}
