//! The node's side of the sentinel with a rule screen standing in for the model: alerts are
//! stored, paged and filtered (`verai_getAlerts`) and streamed (`verai_alerts`); a held
//! transaction stays out of blocks until a release key releases it; an unauthorized
//! release is refused; an expired hold is dropped; the screen sees every finalized block.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use alloy_primitives::{Address, B256, U256};
use alloy_signer::SignerSync;
use jsonrpsee::{
    core::client::{Subscription, SubscriptionClientT},
    rpc_params,
    ws_client::WsClientBuilder,
};
use serde_json::{Value, json};
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};
use std::time::{Duration, Instant};
use support::*;
use verai_node::{
    release_message,
    sentinel::{AccountReader, OnExpiry, ScreenAction, Screening, SentinelConfig, TxScreen},
};
use verai_primitives::{Block, RecoveredTx, StoredReceipt, dev_signers};

/// Flags value 1000 wei, holds value 7777 wei, allows the rest; counts finalized blocks.
struct ByValue {
    blocks: AtomicU64,
    txs_seen: AtomicU64,
}

impl TxScreen for ByValue {
    fn screen(&self, tx: &RecoveredTx, _now: u64, _base_fee: u64, _balance: U256) -> Screening {
        use alloy_consensus::Transaction as _;
        let action = match tx.envelope.value().to::<u64>() {
            1000 => ScreenAction::Flag,
            7777 => ScreenAction::Hold,
            _ => return Screening::ALLOW,
        };
        Screening {
            action,
            detail: serde_json::value::to_raw_value(
                &json!({ "rule": "value", "modelHash": "0xtest" }),
            )
            .ok(),
        }
    }
    fn finalized(&self, block: &Block, receipts: &[StoredReceipt], _: &dyn AccountReader) {
        assert_eq!(block.transactions.len(), receipts.len());
        self.blocks.fetch_add(1, Ordering::SeqCst);
        self.txs_seen
            .fetch_add(receipts.len() as u64, Ordering::SeqCst);
    }
    fn describe(&self) -> Value {
        json!({ "kind": "by-value", "blocks": self.blocks.load(Ordering::SeqCst) })
    }
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn release(addr: std::net::SocketAddr, key: usize, tx: &Value, drop: bool) -> Value {
    let hash: B256 = tx.as_str().unwrap().parse().unwrap();
    let sig = dev_signers(10)[key]
        .sign_message_sync(release_message(1337, &hash, drop).as_bytes())
        .unwrap();
    let action = if drop { "drop" } else { "release" };
    call(
        addr,
        "verai_releaseHeld",
        json!([
            hash,
            action,
            format!("0x{}", alloy_primitives::hex::encode(sig.as_bytes()))
        ]),
    )
}

#[test]
fn alerts_holds_and_releases() {
    let dir = tempfile::tempdir().unwrap();
    let screen = Arc::new(ByValue {
        blocks: AtomicU64::new(0),
        txs_seen: AtomicU64::new(0),
    });
    let release_key = dev_signers(10)[9].address();
    let config = SentinelConfig {
        screen: screen.clone(),
        hold_for: Duration::from_secs(10),
        on_expiry: OnExpiry::Drop,
        release_keys: vec![release_key],
    };
    let seen = screen.clone();
    with_node_sentinel(dir.path(), Some(config), move |addr| async move {
        let ws = WsClientBuilder::default()
            .build(format!("ws://{addr}"))
            .await
            .unwrap();
        let mut all: Subscription<Value> = ws
            .subscribe(
                "eth_subscribe",
                rpc_params!["verai_alerts"],
                "eth_unsubscribe",
            )
            .await
            .unwrap();
        let other = Address::repeat_byte(0x55);
        let mut only_other: Subscription<Value> = ws
            .subscribe(
                "eth_subscribe",
                rpc_params!["verai_alerts", json!({ "address": other })],
                "eth_unsubscribe",
            )
            .await
            .unwrap();
        let to = Address::repeat_byte(0x11);
        let flagged_hash = tokio::task::spawn_blocking(move || {
            // Allowed, then flagged: both included.
            let a = ok(
                addr,
                "eth_sendRawTransaction",
                json!([signed(0, 0, Some(to), 1, vec![], 21_000)]),
            );
            let f = ok(
                addr,
                "eth_sendRawTransaction",
                json!([signed(0, 1, Some(to), 1000, vec![], 21_000)]),
            );
            assert_eq!(receipt(addr, &a)["status"], "0x1");
            assert_eq!(receipt(addr, &f)["status"], "0x1");
            f
        })
        .await
        .unwrap();
        let alert = tokio::time::timeout(Duration::from_secs(30), all.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(alert["txHash"], flagged_hash);
        assert_eq!(alert["action"], "flag");
        assert_eq!(alert["scores"]["rule"], "value");
        assert_eq!(alert["id"], 1);

        tokio::task::spawn_blocking(move || {
            // Held: pooled (its nonce is pending) but not included while later txs of
            // other senders are.
            let h = ok(
                addr,
                "eth_sendRawTransaction",
                json!([signed(1, 0, Some(other), 7777, vec![], 21_000)]),
            );
            let held = ok(addr, "verai_getHeld", json!([]));
            assert_eq!(held[0]["hash"], h, "{held}");
            let n = ok(
                addr,
                "eth_sendRawTransaction",
                json!([signed(2, 0, Some(to), 5, vec![], 21_000)]),
            );
            receipt(addr, &n);
            assert!(ok(addr, "eth_getTransactionReceipt", json!([h])).is_null());
            // Not a release key: refused, still held.
            let (code, msg) = {
                let r = release(addr, 3, &h, false);
                (
                    r["error"]["code"].as_i64().unwrap(),
                    r["error"]["message"].to_string(),
                )
            };
            assert_eq!(code, -32602, "{msg}");
            assert!(msg.contains("not a release key"), "{msg}");
            // A signature for "drop" does not authorize "release" (different message).
            let hash: B256 = h.as_str().unwrap().parse().unwrap();
            let sig = dev_signers(10)[9]
                .sign_message_sync(release_message(1337, &hash, true).as_bytes())
                .unwrap();
            let r = call(
                addr,
                "verai_releaseHeld",
                json!([
                    hash,
                    "release",
                    format!("0x{}", alloy_primitives::hex::encode(sig.as_bytes()))
                ]),
            );
            assert!(r.get("error").is_some(), "{r}");
            // The release key releases it: included.
            assert_eq!(release(addr, 9, &h, false)["result"], true);
            assert_eq!(receipt(addr, &h)["status"], "0x1");
            assert_eq!(release(addr, 9, &h, false)["result"], false);

            // Expiry drops a hold nobody released.
            let e = ok(
                addr,
                "eth_sendRawTransaction",
                json!([signed(4, 0, Some(to), 7777, vec![], 21_000)]),
            );
            wait_for("the hold to expire", || {
                ok(addr, "verai_getHeld", json!([]))
                    .as_array()
                    .unwrap()
                    .is_empty()
            });
            assert!(ok(addr, "eth_getTransactionByHash", json!([e])).is_null());

            // Stored alerts: all, paged, by address, by time.
            wait_for("three alerts", || {
                ok(addr, "verai_getAlerts", json!([]))["alerts"]
                    .as_array()
                    .unwrap()
                    .len()
                    == 3
            });
            let page = ok(addr, "verai_getAlerts", json!([{ "limit": 2 }]));
            assert_eq!(page["alerts"].as_array().unwrap().len(), 2);
            let next = page["nextCursor"].as_u64().unwrap();
            let rest = ok(addr, "verai_getAlerts", json!([{ "cursor": next }]));
            assert_eq!(rest["alerts"].as_array().unwrap().len(), 1);
            assert!(rest["nextCursor"].is_null());
            assert_eq!(rest["alerts"][0]["action"], "hold");
            let by_other = ok(addr, "verai_getAlerts", json!([{ "address": other }]));
            assert_eq!(by_other["alerts"].as_array().unwrap().len(), 1);
            assert_eq!(by_other["alerts"][0]["txHash"], h);
            let t = by_other["alerts"][0]["time"].as_u64().unwrap();
            let late = ok(addr, "verai_getAlerts", json!([{ "fromTime": t + 3600 }]));
            assert!(late["alerts"].as_array().unwrap().is_empty());
            let (code, _) = err_code(addr, "verai_getAlerts", json!([{ "limit": 5000 }]));
            assert_eq!(code, -32602);
            let (code, _) = err_code(addr, "verai_getAlerts", json!([{ "bogus": 1 }]));
            assert_eq!(code, -32602);
            let status = ok(addr, "verai_sentinelStatus", json!([]));
            assert_eq!(status["flagged"], 1);
            assert_eq!(status["held"], 2);
            assert_eq!(status["released"], 1);
            assert_eq!(status["dropped"], 1);
            assert!(status["screened"].as_u64().unwrap() >= 5);
            h
        })
        .await
        .unwrap();
        // The address-filtered stream got only the hold to `other`.
        let a = tokio::time::timeout(Duration::from_secs(30), only_other.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(
            a["to"].as_str().unwrap().to_lowercase(),
            format!("{other:#x}")
        );
        assert_eq!(a["action"], "hold");
    });
    // Every finalized block reached the screen, with its transactions.
    assert!(seen.blocks.load(Ordering::SeqCst) >= 4);
    assert!(seen.txs_seen.load(Ordering::SeqCst) >= 4);
}

#[test]
fn sentinel_methods_say_when_it_is_off() {
    let dir = tempfile::tempdir().unwrap();
    with_node(dir.path(), |addr| async move {
        tokio::task::spawn_blocking(move || {
            let (code, msg) = err_code(addr, "verai_getAlerts", json!([]));
            assert_eq!(code, -32001);
            assert!(msg.contains("sentinel is off"), "{msg}");
        })
        .await
        .unwrap();
        let ws = WsClientBuilder::default()
            .build(format!("ws://{addr}"))
            .await
            .unwrap();
        let r: Result<Subscription<Value>, _> = ws
            .subscribe(
                "eth_subscribe",
                rpc_params!["verai_alerts"],
                "eth_unsubscribe",
            )
            .await;
        assert!(r.is_err());
        // The standard kinds still parse.
        let r: Result<Subscription<Value>, _> = ws
            .subscribe("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
            .await;
        assert!(r.is_ok());
    });
}
