//! `eth_subscribe`: `newHeads`, `logs` and `newPendingTransactions` over WebSocket, and
//! `verai_alerts` (sentinel alerts as they are stored; params `{"address": A}` keep those
//! concerning one sender or recipient).

use crate::{Backend, convert, eth::logs};
use alloy_eips::BlockNumberOrTag;
use alloy_rpc_types_eth::{
    Filter, FilterBlockOption,
    pubsub::{Params, SubscriptionKind},
};
use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage, core::SubscriptionResult};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use verai_rpc_api::{ALERTS_SUBSCRIPTION as ALERTS, EthPubSubApiServer};

/// Implementation over a [`Backend`].
pub struct PubSub<B> {
    pub(crate) backend: Arc<B>,
}

/// Params of a `verai_alerts` subscription.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertParams {
    address: Option<alloy_primitives::Address>,
}

async fn alerts<B: Backend>(
    backend: &B,
    pending: PendingSubscriptionSink,
    params: Option<serde_json::Value>,
) -> SubscriptionResult {
    let reject = |m: String| crate::error::err(crate::error::INVALID_PARAMS, m);
    let address = match params
        .map(serde_json::from_value::<AlertParams>)
        .transpose()
    {
        Ok(p) => p.and_then(|p| p.address),
        Err(e) => {
            pending.reject(reject(e.to_string())).await;
            return Ok(());
        }
    };
    let Some(mut rx) = backend.subscribe_alerts() else {
        let e = crate::backend::sentinel_off();
        pending
            .reject(jsonrpsee::types::ErrorObjectOwned::from(e))
            .await;
        return Ok(());
    };
    let sink = pending.accept().await?;
    loop {
        let alert = tokio::select! {
            r = rx.recv() => match r {
                Ok(a) => a,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            },
            _ = sink.closed() => break,
        };
        if let Some(a) = address {
            let concerns = |k: &str| {
                alert[k]
                    .as_str()
                    .and_then(|s| s.parse::<alloy_primitives::Address>().ok())
                    == Some(a)
            };
            if !concerns("from") && !concerns("to") {
                continue;
            }
        }
        if let Some(m) = msg(&alert)
            && sink.send(m).await.is_err()
        {
            break;
        }
    }
    Ok(())
}

fn msg<T: serde::Serialize>(v: &T) -> Option<SubscriptionMessage> {
    serde_json::value::to_raw_value(v)
        .ok()
        .map(SubscriptionMessage::from)
}

#[jsonrpsee::core::async_trait]
impl<B: Backend> EthPubSubApiServer for PubSub<B> {
    async fn eth_subscribe(
        &self,
        pending: PendingSubscriptionSink,
        kind: String,
        params: Option<serde_json::Value>,
    ) -> SubscriptionResult {
        let backend = self.backend.clone();
        if kind == ALERTS {
            return alerts(&*backend, pending, params).await;
        }
        let reject = |m: String| crate::error::err(crate::error::INVALID_PARAMS, m);
        let kind: SubscriptionKind = match serde_json::from_value(serde_json::Value::String(kind)) {
            Ok(k) => k,
            Err(e) => {
                pending.reject(reject(e.to_string())).await;
                return Ok(());
            }
        };
        let params: Option<Params> = match params.map(serde_json::from_value).transpose() {
            Ok(p) => p,
            Err(e) => {
                pending.reject(reject(e.to_string())).await;
                return Ok(());
            }
        };
        match kind {
            SubscriptionKind::NewHeads | SubscriptionKind::Logs => {
                let filter = match (kind, params) {
                    (SubscriptionKind::Logs, Some(Params::Logs(f))) => Some(*f),
                    (SubscriptionKind::Logs, _) => Some(Filter::default()),
                    _ => None,
                };
                let mut blocks = backend.subscribe_blocks();
                let sink = pending.accept().await?;
                loop {
                    let number = tokio::select! {
                        r = blocks.recv() => match r {
                            Ok(n) => n,
                            Err(RecvError::Lagged(_)) => continue,
                            Err(RecvError::Closed) => break,
                        },
                        _ = sink.closed() => break,
                    };
                    let items: Vec<SubscriptionMessage> = match &filter {
                        None => match backend.block(number) {
                            Ok(Some(b)) => {
                                msg(&convert::block(&b, false).header).into_iter().collect()
                            }
                            _ => continue,
                        },
                        Some(f) => {
                            let at = BlockNumberOrTag::Number(number);
                            let f = f.clone().select(FilterBlockOption::Range {
                                from_block: Some(at),
                                to_block: Some(at),
                            });
                            match logs(&*backend, &f) {
                                Ok(logs) => logs.iter().filter_map(msg).collect(),
                                Err(_) => continue,
                            }
                        }
                    };
                    for item in items {
                        if sink.send(item).await.is_err() {
                            return Ok(());
                        }
                    }
                }
            }
            SubscriptionKind::NewPendingTransactions => {
                let mut txs = backend.subscribe_pending();
                let sink = pending.accept().await?;
                loop {
                    let hash = tokio::select! {
                        r = txs.recv() => match r {
                            Ok(h) => h,
                            Err(RecvError::Lagged(_)) => continue,
                            Err(RecvError::Closed) => break,
                        },
                        _ = sink.closed() => break,
                    };
                    if let Some(m) = msg(&hash)
                        && sink.send(m).await.is_err()
                    {
                        break;
                    }
                }
            }
            other => {
                let msg = format!("subscription {other:?} is not supported");
                pending
                    .reject(crate::error::err(crate::error::INVALID_PARAMS, msg))
                    .await;
            }
        }
        Ok(())
    }
}
