//! The sentinel's methods (the `verai_alerts` stream is an `eth_subscribe` kind).

use crate::types::{AlertFilter, AlertPage, HeldTx, SentinelStatus};
use alloy_primitives::{B256, Bytes};
use jsonrpsee::{core::RpcResult, proc_macros::rpc};

/// The `eth_subscribe` kind of the sentinel's alert stream.
pub const ALERTS_SUBSCRIPTION: &str = "verai_alerts";

/// Alerts, holds and counters of a node running the sentinel (`verai node --sentinel`).
#[rpc(server, client, namespace = "verai")]
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
    async fn sentinel_status(&self) -> RpcResult<SentinelStatus>;
}
