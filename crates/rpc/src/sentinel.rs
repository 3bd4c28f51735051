//! The sentinel's methods: `verai_getAlerts`, `verai_getHeld`, `verai_releaseHeld`,
//! `verai_sentinelStatus` (the `verai_alerts` stream is in `pubsub`).

use crate::{Backend, error::invalid_params};
use alloy_primitives::{Address, B256, Bytes};
use jsonrpsee::{core::RpcResult, proc_macros::rpc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Most alerts one `verai_getAlerts` page returns.
pub const MAX_ALERTS_PAGE: usize = 1000;
/// Page size when none is asked for.
pub const DEFAULT_ALERTS_PAGE: usize = 100;

/// Filters of `verai_getAlerts`, all optional: alerts concerning `address` (as sender or
/// recipient), raised while the finalized head was in `fromBlock..=toBlock`, at a time (unix
/// seconds) in `fromTime..=toTime`; ids above `cursor` (the previous page's `nextCursor`),
/// at most `limit` (≤ 1000, default 100), oldest first.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertFilter {
    /// Sender or recipient.
    pub address: Option<Address>,
    /// First finalized height at admission.
    pub from_block: Option<u64>,
    /// Last finalized height at admission.
    pub to_block: Option<u64>,
    /// Earliest admission time (unix seconds).
    pub from_time: Option<u64>,
    /// Latest admission time (unix seconds).
    pub to_time: Option<u64>,
    /// Return alerts with ids above this.
    pub cursor: Option<u64>,
    /// Page size.
    pub limit: Option<usize>,
}

/// One page of alerts.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertPage {
    /// The alerts, oldest first.
    pub alerts: Vec<serde_json::Value>,
    /// Pass as `cursor` for the next page; `null` when the scan reached the end.
    pub next_cursor: Option<u64>,
}

/// A held transaction.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldTx {
    /// Its hash.
    pub hash: B256,
    /// When the hold ends (unix seconds).
    pub until: u64,
}

#[rpc(server, namespace = "verai")]
pub trait SentinelApi {
    /// Stored alerts matching a filter (see [`AlertFilter`]).
    #[method(name = "getAlerts")]
    async fn get_alerts(&self, filter: Option<AlertFilter>) -> RpcResult<AlertPage>;
    /// Transactions this node holds out of its proposals.
    #[method(name = "getHeld")]
    async fn get_held(&self) -> RpcResult<Vec<HeldTx>>;
    /// End a hold: `action` is `release` (propose it again) or `drop` (remove it from the
    /// pool); `signature` is a release key's EIP-191 signature of
    /// `verai_releaseHeld:<chainId>:<txHash>:<action>`. Returns whether it was held.
    #[method(name = "releaseHeld")]
    async fn release_held(&self, tx: B256, action: String, signature: Bytes) -> RpcResult<bool>;
    /// Counters, screening time, model and policy of the sentinel.
    #[method(name = "sentinelStatus")]
    async fn sentinel_status(&self) -> RpcResult<serde_json::Value>;
}

/// Implementation over a [`Backend`].
pub struct SentinelRpc<B> {
    pub(crate) backend: Arc<B>,
}

#[jsonrpsee::core::async_trait]
impl<B: Backend> SentinelApiServer for SentinelRpc<B> {
    async fn get_alerts(&self, filter: Option<AlertFilter>) -> RpcResult<AlertPage> {
        let mut f = filter.unwrap_or_default();
        let limit = f.limit.unwrap_or(DEFAULT_ALERTS_PAGE);
        if limit == 0 || limit > MAX_ALERTS_PAGE {
            return Err(invalid_params(format!(
                "limit must be in 1..={MAX_ALERTS_PAGE}"
            )));
        }
        f.limit = Some(limit);
        Ok(self.backend.alerts(&f)?)
    }

    async fn get_held(&self) -> RpcResult<Vec<HeldTx>> {
        Ok(self.backend.held()?)
    }

    async fn release_held(&self, tx: B256, action: String, signature: Bytes) -> RpcResult<bool> {
        let drop = match action.as_str() {
            "release" => false,
            "drop" => true,
            other => {
                return Err(invalid_params(format!(
                    "action must be release or drop, not {other:?}"
                )));
            }
        };
        Ok(self.backend.release_held(tx, drop, &signature)?)
    }

    async fn sentinel_status(&self) -> RpcResult<serde_json::Value> {
        Ok(self.backend.sentinel_status()?)
    }
}
