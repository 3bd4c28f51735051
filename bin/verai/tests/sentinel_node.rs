//! End to end: `verai node --dev --sentinel MODEL` driven by `verai sentinel simulate`.
//! The model is trained here on the real data set (read in place); the simulator sends
//! normal users' transfers and a phishing collector's sweep. Checked: alerts raised at
//! admission are served by `verai_getAlerts` (also by address), streamed by
//! the `verai_alerts` subscription and listed by `verai sentinel alerts`; the false-positive
//! rate on normal traffic is printed and bounded; the collector's sweep is flagged or held
//! before inclusion, its alert served and streamed (or, when every victim's payment was
//! held and the collector has nothing to sweep, those holds are the alerts checked).
//!
//! The account model scores the fresh collector as benign (fraud probability ~0.004; it was
//! trained on long-lived accounts), so the anomaly detector carries the detection: the
//! sweep scores 0.78 to 0.83 over seeds 1 to 5, where the most anomalous normal transaction
//! scores 0.69 to 0.73 and the 99th percentile 0.66 to 0.71. The node runs with the default
//! flag threshold (0.7) and holds at 0.75 (see ARCHITECTURE.md, "Sentinel in the node").
//! The victims' own payments (a fresh address sending 90 % of its balance) score 0.55 to
//! 0.77, so some are held; the collector then receives from fewer addresses and its sweep
//! scores lower (0.749 with 4 of 20 payments received): flagged rather than held. The
//! margin is narrow: this is a demonstration on simulated traffic, not a calibration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_primitives::B256;
use common::Node;
use serde_json::Value;
use sha2::Digest as _;
use std::process::Command;
use std::time::Duration;
use verai_client::{
    api::{
        ALERTS_SUBSCRIPTION, EthApiClient, EthPubSubApiClient, ProvenanceApiClient,
        SentinelApiClient,
    },
    types::AlertFilter,
};

/// shared/ sits beside the clone, or two levels up from a worktree under wt/.
fn data() -> Option<std::path::PathBuf> {
    ["../shared", "../../shared"]
        .iter()
        .map(|s| common::repo_root().join(s).join("data/eth-fraud/train.csv"))
        .find(|p| p.exists())
}

#[test]
fn simulated_traffic_alerts_are_served_streamed_and_listed() {
    let Some(data) = data() else {
        eprintln!("skipped: ../shared/data/eth-fraud/train.csv is not here");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("sentinel.json");
    let out = Command::new(env!("CARGO_BIN_EXE_verai"))
        .args(["sentinel", "train", "--json", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let node = Node::start_with_args(&[
        "--sentinel",
        model.to_str().unwrap(),
        "--sentinel-policy",
        "hold",
        "--sentinel-hold-anomaly",
        "0.75",
    ]);

    // Collect the alert stream while the simulator runs.
    let ws_url = node.rpc_url.clone();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let streamed = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let ws = verai_client::connect_ws(&ws_url).await.unwrap();
            let mut sub = ws
                .eth_subscribe(ALERTS_SUBSCRIPTION.into(), None)
                .await
                .unwrap();
            let mut got = Vec::new();
            loop {
                match tokio::time::timeout(Duration::from_millis(200), sub.next()).await {
                    Ok(Some(Ok(a))) => got.push(a),
                    Ok(_) => break,
                    Err(_) if stop_rx.try_recv().is_ok() => break,
                    Err(_) => {}
                }
            }
            got
        })
    });
    std::thread::sleep(Duration::from_millis(500));

    let out = Command::new(env!("CARGO_BIN_EXE_verai"))
        .args([
            "sentinel",
            "simulate",
            "--json",
            "--seed",
            "2",
            "--rpc",
            &node.rpc_url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    println!("simulation report: {report}");
    let normal = &report["normal"];
    println!(
        "false-positive rate on simulated normal traffic: {:.2} % ({} of {})",
        normal["falsePositiveRate"].as_f64().unwrap() * 100.0,
        normal["alerted"],
        normal["sent"]
    );
    let sweep = &report["sweep"];
    println!(
        "victims' payments: {} held of {}; sweep sent: {}, alerted: {} (before inclusion: {}), held: {}, scores {}",
        report["victims"]["held"],
        report["victims"]["sent"],
        sweep["sent"],
        sweep["alerted"],
        sweep["alertedBeforeInclusion"],
        sweep["held"],
        sweep["scores"]
    );
    // Normal users pass: at most 5 % alerted, none held.
    assert!(
        normal["falsePositiveRate"].as_f64().unwrap() <= 0.05,
        "{report}"
    );
    assert_eq!(normal["held"], 0, "{report}");
    let alerts_of = |f: AlertFilter| node.call(|c| async move { c.get_alerts(Some(f)).await });
    let page = alerts_of(AlertFilter {
        limit: Some(1000),
        ..Default::default()
    });
    let alerts = page["alerts"].as_array().unwrap();
    let same = |a: &Value, b: &Value| {
        a.as_str().map(str::to_lowercase) == b.as_str().map(str::to_lowercase)
    };
    // The alert checked below over RPC, the stream and the CLI.
    let stored = if sweep["sent"] == true {
        // Flagged or held before inclusion. Which one depends on how many victims' payments
        // were held themselves (they score 0.55-0.77): each one held is money the collector
        // never gets, and a smaller fan-in makes the sweep less anomalous (0.75-0.83).
        assert_eq!(sweep["alerted"], true, "{report}");
        assert_eq!(sweep["alertedBeforeInclusion"], true, "{report}");
        let held = sweep["action"] == "hold";
        assert_eq!(sweep["held"], held, "{report}");
        assert_eq!(sweep["includedInBlock"].is_null(), held, "{report}");
        // A held sweep is still out of blocks: the chain moved on without it.
        let sweep_tx: B256 = sweep["tx"].as_str().unwrap().parse().unwrap();
        let r = node.call(|c| async move { c.get_transaction_receipt(sweep_tx).await });
        assert_eq!(r.is_null(), held, "{r}");
        alerts
            .iter()
            .find(|a| a["txHash"] == sweep["tx"])
            .expect("the sweep's alert is stored")
    } else {
        // Every victim's payment was held, so the collector had nothing to sweep: the fraud
        // stopped one step earlier (seen in about 1 run in 8 on a loaded machine). Those
        // holds are the alerts to check.
        assert_eq!(
            report["victims"]["held"], report["victims"]["sent"],
            "{report}"
        );
        assert!(report["victims"]["sent"].as_u64().unwrap() > 0, "{report}");
        alerts
            .iter()
            .find(|a| a["action"] == "hold" && same(&a["to"], &sweep["from"]))
            .expect("a held payment to the collector is stored")
    };
    if sweep["sent"] == true {
        assert_eq!(stored["action"], sweep["action"]);
    }
    let tx = stored["txHash"].as_str().unwrap().to_lowercase();
    let from = stored["from"].as_str().unwrap().to_owned();
    assert!(
        stored["scores"]["modelHash"]
            .as_str()
            .unwrap()
            .starts_with("0x")
    );
    assert!(stored["blockNumber"].as_u64().is_some());
    let by_address = alerts_of(AlertFilter {
        address: Some(from.parse().unwrap()),
        limit: Some(1000),
        ..Default::default()
    });
    assert!(
        by_address["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["txHash"].as_str().unwrap().to_lowercase() == tx)
    );

    // The model is recorded in provenance, its training data as parent.
    let status = node.call(|c| async move { c.sentinel_status().await });
    let id = status["screen"]["modelRecord"]
        .as_u64()
        .unwrap_or_else(|| panic!("the model is not recorded: {status}"));
    assert_eq!(stored["scores"]["modelRecord"], id);
    let model = node.call(|c| async move { c.get_record(id).await });
    assert_eq!(model["kind"], "model");
    assert_eq!(model["contentHash"], stored["scores"]["modelHash"]);
    let parent_id = model["parents"][0].as_u64().unwrap();
    let parent = node.call(|c| async move { c.get_record(parent_id).await });
    assert_eq!(parent["kind"], "dataset");
    let csv = std::fs::read(&data).unwrap();
    assert_eq!(
        parent["contentHash"],
        format!("0x{}", hex::encode(sha2::Sha256::digest(&csv)))
    );

    // Streamed.
    stop_tx.send(()).unwrap();
    let streamed = streamed.join().unwrap();
    assert!(
        streamed
            .iter()
            .any(|a| a["txHash"].as_str().unwrap().to_lowercase() == tx),
        "the alert was not streamed ({} alerts streamed)",
        streamed.len()
    );

    // Listed by the CLI.
    let out = Command::new(env!("CARGO_BIN_EXE_verai"))
        .args(["sentinel", "alerts", "--rpc", &node.rpc_url, "--address"])
        .arg(&from)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(text.contains(&tx), "{text}");
}
