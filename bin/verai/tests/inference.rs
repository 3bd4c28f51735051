//! In-consensus inference end to end on `verai node --dev`: register a model with the CLI,
//! call it from Solidity (the supply-chain example), read and verify the audit record, and
//! see verification fail against a node that lies about the output or the record.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Node, fails, flip_hex, ok_json, tampering_proxy};
use verai_client::{
    api::{ProvenanceApiClient, wire},
    types::ListFilter,
};
use verai_inference::Model;

fn model_path() -> String {
    common::repo_root()
        .join("models/demand_forecast.onnx")
        .display()
        .to_string()
}

/// Fixed point (six decimals) as `cast` takes an `int256[7]`.
fn week(v: &[f64; 7]) -> String {
    let parts: Vec<String> = v
        .iter()
        .map(|x| format!("{}", (x * 1e6).round() as i64))
        .collect();
    format!("[{}]", parts.join(","))
}

#[test]
fn register_call_from_solidity_and_verify() {
    common::require_node_tools();
    let node = Node::start();
    let rpc = node.rpc_url.clone();

    // A model with a forbidden operator is refused with the reason; nothing is recorded.
    let softmax = common::repo_root().join("crates/ai/inference/tests/fixtures/softmax.onnx");
    let e = fails(
        &rpc,
        &[
            "model",
            "register",
            softmax.to_str().unwrap(),
            "--name",
            "x",
            "--license",
            "MIT",
        ],
    );
    assert!(e.contains("unsupported operator Softmax"), "{e}");
    let models = || ListFilter {
        kind: Some("model".into()),
        ..Default::default()
    };
    let none = node.call(|c| async move { c.list_records(Some(models())).await });
    assert!(none["records"].as_array().unwrap().is_empty());

    let reg = ok_json(
        &rpc,
        &[
            "model",
            "register",
            &model_path(),
            "--name",
            "demand",
            "--license",
            "MIT",
        ],
    );
    let model = reg["modelId"].as_u64().unwrap();
    assert_eq!(reg["inputShape"], serde_json::json!([1, 8]));
    let rec = node.call(|c| async move { c.get_record(model).await });
    assert_eq!(rec["kind"], "model");
    assert_eq!(rec["contentHash"], reg["contentHash"]);
    assert!(rec["uri"].as_str().unwrap().ends_with("#demand"));

    // The supply-chain contract, deployed with cast: reorder above 4.0 (hundreds of units).
    let artifact: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo_root().join("contracts/out/SupplyChain.json"))
            .unwrap(),
    )
    .unwrap();
    let deploy = node.cast_json(&[
        "send",
        "--private-key",
        common::DEV_KEY_0,
        "--json",
        "--create",
        artifact["bytecode"].as_str().unwrap(),
        "constructor(uint64,int256)",
        &model.to_string(),
        "4000000",
    ]);
    assert_eq!(deploy["status"], "0x1", "{deploy}");
    let shop = deploy["contractAddress"].as_str().unwrap().to_owned();
    let sku = format!("0x{}", "ab".repeat(32));
    let reorder_topic = "0x".to_string()
        + &alloy_primitives::hex::encode(alloy_primitives::keccak256(
            "ReorderRequested(bytes32,int256,int256,uint64)",
        ));

    // A busy week with a promotion: the forecast passes the threshold.
    let busy = [4.0, 4.5, 5.0, 5.0, 6.0, 8.0, 7.0];
    let tx = node.cast_json(&[
        "send",
        "--private-key",
        common::DEV_KEY_0,
        "--json",
        &shop,
        "checkStock(bytes32,int256[7],bool)",
        &sku,
        &week(&busy),
        "true",
    ]);
    assert_eq!(tx["status"], "0x1", "{tx}");
    let logs = tx["logs"].as_array().unwrap();
    assert!(
        logs.iter()
            .any(|l| l["topics"][0] == reorder_topic.as_str()),
        "{tx}"
    );
    // A quiet week: no reorder.
    let quiet = [1.0, 1.1, 1.2, 1.2, 1.3, 1.6, 1.5];
    let tx2 = node.cast_json(&[
        "send",
        "--private-key",
        common::DEV_KEY_0,
        "--json",
        &shop,
        "checkStock(bytes32,int256[7],bool)",
        &sku,
        &week(&quiet),
        "false",
    ]);
    assert_eq!(tx2["status"], "0x1");
    assert!(
        !tx2["logs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["topics"][0] == reorder_topic.as_str())
    );

    // The chain's forecast is bit-identical to this process running the same model.
    let local = Model::load(&std::fs::read(model_path()).unwrap()).unwrap();
    let mut x: Vec<f32> = quiet
        .iter()
        .map(|v| ((v * 1e6).round() / 1e6) as f32)
        .collect();
    x.push(0.0);
    let want = verai_inference::fixed::from_f32(local.run(&x).unwrap()[0]).unwrap();
    let got = node.cast(&["call", &shop, "lastForecast(bytes32)(int256)", &sku]);
    assert_eq!(got.split_whitespace().next().unwrap(), want.to_string());
    let id = node.cast(&["call", &shop, "lastInference(bytes32)(uint64)", &sku]);
    let id = id.trim().to_string();
    assert_eq!(id, "2");

    // The audit trail: both inferences, requested by the contract.
    let h = ok_json(&rpc, &["infer", "history", &model.to_string()]);
    let rows = h["inferences"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[1]["requester"].as_str().unwrap().to_lowercase(),
        shop.to_lowercase()
    );
    // Usage is logged in provenance.
    let usage = node.call(|c| async move { c.get_usage(model, None, None).await });
    assert_eq!(
        usage["entries"]
            .as_array()
            .map(|a| a.len())
            .unwrap_or_else(|| usage.as_array().unwrap().len()),
        2
    );

    // The CLI path, then verification of both records.
    let run = ok_json(
        &rpc,
        &[
            "infer",
            &model.to_string(),
            "--input",
            "[[2.4,2.7,3.0,3.0,3.6,4.8,4.2,1]]",
        ],
    );
    assert_eq!(run["record"], 3);
    assert!(run["gasUsed"].as_u64().unwrap() > 21_000);
    for rec in ["2", "3"] {
        let v = ok_json(&rpc, &["infer", "verify", rec]);
        assert_eq!(v["verified"], true, "{v}");
    }

    // A node that lies: about the logged output, about the record, about the model bytes.
    let addr: std::net::SocketAddr = rpc.trim_start_matches("http://").parse().unwrap();
    let lie_log = tampering_proxy(addr, |method, r| {
        if method == wire::GET_LOGS
            && let Some(l) = r.as_array_mut().and_then(|a| a.first_mut())
        {
            let d = l["data"].as_str().unwrap().to_owned();
            // The last word holds the output's 4 bytes, then padding.
            l["data"] = flip_hex(&d, d.len() - 63).into();
        }
    });
    let e = fails(&lie_log, &["infer", "verify", "3"]);
    assert!(
        e.contains("FAILED") && e.contains("output does not hash"),
        "{e}"
    );
    let lie_record = tampering_proxy(addr, |method, r| {
        // getInference returns nine words; the fifth is the output hash.
        if method == wire::CALL {
            let s = r.as_str().unwrap_or_default().to_owned();
            if s.len() == 2 + 9 * 64 {
                *r = flip_hex(&s, 2 + 4 * 64 + 10).into();
            }
        }
    });
    let e = fails(&lie_record, &["infer", "verify", "3"]);
    assert!(
        e.contains("FAILED") && e.contains("does not match the proven state"),
        "{e}"
    );
    let other = common::repo_root().join("models/cnn_small.onnx");
    let e = fails(
        &rpc,
        &["infer", "verify", "3", "--model", other.to_str().unwrap()],
    );
    assert!(
        e.contains("FAILED") && e.contains("model bytes hash to"),
        "{e}"
    );

    // Bad input is refused before anything is sent, with the reason.
    let e = fails(&rpc, &["infer", &model.to_string(), "--input", "[1,2]"]);
    assert!(e.contains("takes 8 input values, got 2"), "{e}");
    let e = fails(
        &rpc,
        &["infer", &model.to_string(), "--input", "[1, \"a\"]"],
    );
    assert!(e.contains("expected numbers"), "{e}");
    let e = fails(&rpc, &["infer", "99", "--input", "[1]"]);
    assert!(e.contains("no model with id 99"), "{e}");
}
