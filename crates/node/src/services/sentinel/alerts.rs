//! Sentinel alerts: queued at admission, stored in the index by the sentinel thread in
//! batches, streamed to subscribers, and read back page by page for `verai_getAlerts`.
//!
//! Format: each alert is stored once as the JSON of [`verai_rpc::types::Alert`] (its id and
//! the alert's fields, the screen's explanation as raw JSON), keyed by id and by the
//! addresses it concerns (`verai_storage` keeps the tables).

use crate::chain::Chain;
use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, B256, U256};
use serde::Serialize;
use serde_json::value::RawValue;
use std::{ops::ControlFlow, time::Duration};
use tokio::sync::broadcast;
use tracing::{debug, warn};
use verai_primitives::{RecoveredTx, sentinel::ScreenAction};
use verai_rpc::types::Alert;
use verai_storage::StateContext;

/// How long the first alert of a batch waits for others before the batch is stored (and
/// streamed): the latency an alert gains for not costing one index commit each.
pub(super) const BATCH_WINDOW: Duration = Duration::from_millis(50);

/// Most alerts stored in one index transaction.
pub(super) const MAX_BATCH: usize = 1024;

/// An alert waiting for the sentinel thread; stored and served as an [`Alert`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Pending {
    tx_hash: B256,
    from: Address,
    to: Option<Address>,
    value: U256,
    nonce: u64,
    pub(super) action: ScreenAction,
    hold_until: Option<u64>,
    time: u64,
    block_number: u64,
    /// The screen's explanation (`Screening::detail`).
    scores: Option<Box<RawValue>>,
}

impl Pending {
    pub(super) fn new(
        tx: &RecoveredTx,
        action: ScreenAction,
        hold_until: Option<u64>,
        time: u64,
        block_number: u64,
        scores: Option<Box<RawValue>>,
    ) -> Self {
        Self {
            tx_hash: tx.hash,
            from: tx.sender,
            to: tx.envelope.to(),
            value: tx.envelope.value(),
            nonce: tx.nonce(),
            action,
            hold_until,
            time,
            block_number,
            scores,
        }
    }
}

/// A stored alert: its id and the alert's fields (the shape of [`Alert`]).
#[derive(Serialize)]
struct Stored<'a> {
    id: u64,
    #[serde(flatten)]
    alert: &'a Pending,
}

/// Store a batch of alerts in one index transaction and stream them.
pub(super) fn store<E: StateContext>(
    chain: &Chain<E>,
    stream: &broadcast::Sender<serde_json::Value>,
    batch: Vec<Pending>,
) {
    // Each alert is serialized once, with its id, as it is stored; the stream gets a parsed
    // copy only when someone subscribes.
    let entries = batch
        .iter()
        .map(|p| {
            let mut addresses = vec![p.from];
            addresses.extend(p.to.filter(|t| *t != p.from));
            (addresses, move |id: u64| {
                serde_json::to_vec(&Stored { id, alert: p }).unwrap_or_default()
            })
        })
        .collect();
    let results = match chain.index().put_alerts(entries) {
        Ok(r) => r,
        Err(e) => {
            warn!(%e, count = batch.len(), "cannot store sentinel alerts");
            return;
        }
    };
    let streamed = stream.receiver_count() > 0;
    for (p, result) in batch.iter().zip(results) {
        match result {
            Ok(id) => {
                debug!(id, tx = %p.tx_hash, action = ?p.action, "sentinel alert");
                if streamed {
                    match serde_json::to_value(Stored { id, alert: p }) {
                        Ok(doc) => {
                            let _ = stream.send(doc);
                        }
                        Err(e) => warn!(%e, tx = %p.tx_hash, "cannot stream a sentinel alert"),
                    }
                }
            }
            Err(e) => warn!(%e, tx = %p.tx_hash, "cannot store a sentinel alert"),
        }
    }
}

/// Filters of `verai_getAlerts`, applied to stored alerts in id order.
#[derive(Debug, Clone, Default)]
pub(crate) struct AlertQuery {
    pub address: Option<Address>,
    pub from_block: Option<u64>,
    pub to_block: Option<u64>,
    pub from_time: Option<u64>,
    pub to_time: Option<u64>,
    pub after: u64,
    pub limit: usize,
}

/// Stored alerts matching `q` (at most `q.limit`) and the cursor to continue from, `None`
/// when the scan reached the end.
pub(crate) fn query<E: StateContext>(
    chain: &Chain<E>,
    q: &AlertQuery,
) -> Result<(Vec<Alert>, Option<u64>), crate::NodeError> {
    let mut out = Vec::new();
    let mut last = q.after;
    let mut stopped = false;
    let mut bad = None;
    let visited = chain
        .index()
        .scan_alerts(q.address.as_ref(), q.after, |id, bytes| {
            last = id;
            let alert: Alert = match serde_json::from_slice(bytes) {
                Ok(d) => d,
                Err(e) => {
                    bad = Some(format!("alert {id}: {e}"));
                    return ControlFlow::Break(());
                }
            };
            let (block, time) = (alert.block_number, alert.time);
            let keep = q.from_block.is_none_or(|f| block >= f)
                && q.to_block.is_none_or(|t| block <= t)
                && q.from_time.is_none_or(|f| time >= f)
                && q.to_time.is_none_or(|t| time <= t);
            if keep {
                out.push(alert);
            }
            if out.len() >= q.limit {
                stopped = true;
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
    if let Some(e) = bad {
        return Err(crate::NodeError::Inconsistent(e));
    }
    let more = stopped || visited >= verai_storage::MAX_ALERT_SCAN;
    Ok((out, more.then_some(last)))
}
