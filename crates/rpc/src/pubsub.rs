//! `eth_subscribe`: `newHeads`, `logs` and `newPendingTransactions` over WebSocket.

use crate::{Backend, convert, eth::logs};
use alloy_eips::BlockNumberOrTag;
use alloy_rpc_types_eth::{
    Filter, FilterBlockOption,
    pubsub::{Params, SubscriptionKind},
};
use jsonrpsee::{
    PendingSubscriptionSink, SubscriptionMessage, core::SubscriptionResult, proc_macros::rpc,
};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

#[rpc(server, namespace = "eth")]
pub trait EthPubSubApi {
    #[subscription(name = "subscribe" => "subscription", unsubscribe = "unsubscribe", item = serde_json::Value)]
    async fn subscribe(&self, kind: SubscriptionKind, params: Option<Params>)
    -> SubscriptionResult;
}

/// Implementation over a [`Backend`].
pub struct PubSub<B> {
    pub(crate) backend: Arc<B>,
}

fn msg<T: serde::Serialize>(v: &T) -> Option<SubscriptionMessage> {
    serde_json::value::to_raw_value(v)
        .ok()
        .map(SubscriptionMessage::from)
}

#[jsonrpsee::core::async_trait]
impl<B: Backend> EthPubSubApiServer for PubSub<B> {
    async fn subscribe(
        &self,
        pending: PendingSubscriptionSink,
        kind: SubscriptionKind,
        params: Option<Params>,
    ) -> SubscriptionResult {
        let backend = self.backend.clone();
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
