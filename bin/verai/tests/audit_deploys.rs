//! `verai node --audit-deploys`: every contract a finalized block deploys is audited after
//! finalization, and `verai_getAudit(address)` serves the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_primitives::{Address, B256};
use common::Node;
use sha2::Digest as _;
use std::time::{Duration, Instant};
use verai_client::api::{ProvenanceApiClient, VeraiApiClient};

fn deploy(node: &Node, artifact: &str, ctor: &[&str]) -> String {
    let path = common::repo_root().join("contracts/out").join(artifact);
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut args = vec![
        "send",
        "--private-key",
        common::DEV_KEY_0,
        "--json",
        "--create",
        a["bytecode"].as_str().unwrap(),
    ];
    args.extend_from_slice(ctor);
    let r = node.cast_json(&args);
    assert_eq!(r["status"], "0x1", "{r}");
    r["contractAddress"].as_str().unwrap().to_owned()
}

fn audit_of(node: &Node, address: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let a: Address = address.parse().unwrap();
        let r = node.call(|c| async move { c.get_audit(a).await });
        if !r.is_null() || Instant::now() > deadline {
            return r;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn deployments_are_audited_and_served() {
    common::require_node_tools();
    let node = Node::start_with_args(&["--audit-deploys"]);
    let bank = deploy(&node, "AuditDemoBank.json", &[]);
    let token = deploy(
        &node,
        "VeraiToken.json",
        &[
            "constructor(string,string,uint256)",
            "Verai",
            "VAI",
            "1000000",
        ],
    );

    let r = audit_of(&node, &bank);
    assert_eq!(
        r["address"].as_str().unwrap().to_lowercase(),
        bank.to_lowercase()
    );
    assert!(r["blockNumber"].as_u64().unwrap() >= 1);
    let report = &r["report"];
    let cats: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["category"].as_str().unwrap())
        .collect();
    assert!(cats.contains(&"reentrancy"), "{report}");
    assert!(cats.contains(&"access_control"), "{report}");
    let level = report["risk"]["level"].as_str().unwrap();
    assert!(level == "high" || level == "critical", "{report}");

    // The token is audited too, and ranks below the bank.
    let t = audit_of(&node, &token);
    assert!(!t.is_null());
    assert!(
        !t["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["category"] == "reentrancy"),
        "{t}"
    );
    // The audit is an AI decision recorded in provenance: an inference record of the
    // auditor's risk model, content-addressed by the report without its `provenance` field.
    let hash = report["provenance"]["contentHash"]
        .as_str()
        .unwrap_or_else(|| panic!("no provenance in {report}"))
        .to_owned();
    let mut bare = report.clone();
    bare.as_object_mut().unwrap().remove("provenance");
    let digest = sha2::Sha256::digest(serde_json::to_vec(&bare).unwrap());
    assert_eq!(hash, format!("0x{}", hex::encode(digest)));
    let deadline = Instant::now() + Duration::from_secs(30);
    let record = loop {
        let h: B256 = hash.parse().unwrap();
        let r = node.call(|c| async move { c.find_record("inference".into(), h).await });
        if !r.is_null() {
            break r;
        }
        assert!(Instant::now() < deadline, "the audit was not recorded");
        std::thread::sleep(Duration::from_millis(100));
    };
    let model_id = record["parents"][0].as_u64().unwrap();
    let model = node.call(|c| async move { c.get_record(model_id).await });
    assert_eq!(model["kind"], "model", "{model}");
    let risk =
        std::fs::read(common::repo_root().join("crates/ai/auditor/model/risk.json")).unwrap();
    assert_eq!(
        model["contentHash"],
        format!("0x{}", hex::encode(sha2::Sha256::digest(&risk)))
    );
    let model_hash: B256 = model["contentHash"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        node.call(|c| async move { c.find_record("model".into(), model_hash).await })["id"],
        model_id
    );
    // Every audit is a use of the model.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let usage = node.call(|c| async move { c.get_usage(model_id, None, None).await });
        if usage["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["ref"] == hash.as_str())
        {
            break;
        }
        assert!(Instant::now() < deadline, "no usage entry: {usage}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Not a contract, or not deployed: null.
    let dev1: Address = common::DEV_ADDR_1.parse().unwrap();
    assert!(
        node.call(|c| async move { c.get_audit(dev1).await })
            .is_null()
    );
}

#[test]
fn off_by_default() {
    common::require_node_tools();
    let node = Node::start();
    if node.kind != common::NodeKind::Verai {
        return;
    }
    let bank = deploy(&node, "AuditDemoBank.json", &[]);
    std::thread::sleep(Duration::from_millis(500));
    let bank: Address = bank.parse().unwrap();
    assert!(
        node.call(|c| async move { c.get_audit(bank).await })
            .is_null()
    );
}
