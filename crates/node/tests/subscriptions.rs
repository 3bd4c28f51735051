//! `eth_subscribe` over WebSocket: `newPendingTransactions`, `newHeads` and `logs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use jsonrpsee::{
    core::client::{Subscription, SubscriptionClientT},
    rpc_params,
    ws_client::WsClientBuilder,
};
use serde_json::{Value, json};
use std::time::Duration;
use support::*;

async fn next(sub: &mut Subscription<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(30), sub.next())
        .await
        .expect("a notification in time")
        .expect("subscription open")
        .expect("valid notification")
}

#[test]
fn pending_heads_and_logs_are_streamed() {
    let dir = tempfile::tempdir().unwrap();
    with_node(dir.path(), |addr| async move {
        let ws = WsClientBuilder::default()
            .build(format!("ws://{addr}"))
            .await
            .unwrap();
        let mut pending: Subscription<Value> = ws
            .subscribe(
                "eth_subscribe",
                rpc_params!["newPendingTransactions"],
                "eth_unsubscribe",
            )
            .await
            .unwrap();
        let mut heads: Subscription<Value> = ws
            .subscribe("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
            .await
            .unwrap();
        let mut logs: Subscription<Value> = ws
            .subscribe(
                "eth_subscribe",
                rpc_params!["logs", json!({})],
                "eth_unsubscribe",
            )
            .await
            .unwrap();

        // A contract creation whose init code emits LOG1(topic 0x2a) with no data:
        // PUSH1 0x2a PUSH1 0 PUSH1 0 LOG1 STOP.
        let raw = signed(0, 0, None, 0, hex("602a60006000a100"), 100_000);
        let hash =
            tokio::task::spawn_blocking(move || ok(addr, "eth_sendRawTransaction", json!([raw])))
                .await
                .unwrap();

        assert_eq!(next(&mut pending).await, hash);
        let head = next(&mut heads).await;
        assert_eq!(head["number"], json!("0x1"));
        let log = next(&mut logs).await;
        assert_eq!(log["transactionHash"], hash);
        assert_eq!(log["topics"][0], json!(format!("0x{:064x}", 0x2a)));
        assert_eq!(log["blockHash"], head["hash"]);
        // The same log through eth_getLogs, with and without filters.
        let (h, t) = (hash.clone(), log["topics"][0].clone());
        tokio::task::spawn_blocking(move || {
            let all = ok(addr, "eth_getLogs", json!([{ "fromBlock": "0x0", "toBlock": "latest" }]));
            assert_eq!(all.as_array().unwrap().len(), 1);
            assert_eq!(all[0]["transactionHash"], h);
            let by_topic = ok(addr, "eth_getLogs", json!([{ "fromBlock": "0x0", "topics": [t] }]));
            assert_eq!(by_topic, all);
            let none = ok(addr, "eth_getLogs", json!([{ "fromBlock": "0x0", "topics": ["0x00000000000000000000000000000000000000000000000000000000000000ff"] }]));
            assert_eq!(none, json!([]));
        })
        .await
        .unwrap();
    });
}
