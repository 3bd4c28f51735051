//! The sentinel's methods: `verai_getAlerts`, `verai_getHeld`, `verai_releaseHeld`,
//! `verai_sentinelStatus` (the `verai_alerts` stream is in `pubsub`).

use crate::{Backend, error::invalid_params};
use alloy_primitives::{B256, Bytes};
use jsonrpsee::core::RpcResult;
use std::sync::Arc;
use verai_rpc_api::{
    SentinelApiServer,
    types::{AlertFilter, AlertPage, DEFAULT_ALERTS_PAGE, HeldTx, MAX_ALERTS_PAGE, SentinelStatus},
};

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

    async fn sentinel_status(&self) -> RpcResult<SentinelStatus> {
        Ok(self.backend.sentinel_status()?)
    }
}
