//! The oracle path end to end on `verai node --dev`: a hub with a 2-of-3 quorum, three
//! `verai oracle run` processes (one lying on purpose), a model known only by its
//! provenance record and blob, a contract that gets the result by callback. The quorum
//! result is the honest one, the liar is slashed and recorded, the audit record names the
//! hub, and every wei of fees, slashed bonds and refunds is accounted for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Node, ok_json, verai, wait_for};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use verai_inference::{Limits, Model};

/// Dev accounts 1-3 of the test mnemonic (public test keys): the oracles.
const ORACLE_KEYS: [&str; 3] = [
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];
const ORACLE_ADDRS: [&str; 3] = [
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
];

/// A worker process, killed when dropped.
struct Worker(Child);
impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wei(node: &Node, hub: &str, sig: &str, arg: &str) -> u128 {
    let mut args = vec!["call", hub, sig];
    if !arg.is_empty() {
        args.push(arg);
    }
    let out = node.cast(&args);
    out.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn quorum_outvotes_a_liar_and_fees_balance() {
    common::require_node_tools();
    let node = Node::start();
    let rpc = node.rpc_url.clone();
    let hub = ok_json(
        &rpc,
        &[
            "oracle",
            "deploy",
            "--quorum",
            "2",
            "--timeout-blocks",
            "4",
            "--slash-bps",
            "5000",
        ],
    );
    let hub = hub["hub"].as_str().unwrap().to_owned();
    for k in ORACLE_KEYS {
        ok_json(
            &rpc,
            &[
                "oracle",
                "register",
                "--hub",
                &hub,
                "--bond",
                "1",
                "--private-key",
                k,
            ],
        );
    }
    // Known to the chain only by its provenance record and the blob store.
    let cnn = common::repo_root().join("models/cnn_small.onnx");
    let rec = ok_json(
        &rpc,
        &[
            "provenance",
            "register-model",
            cnn.to_str().unwrap(),
            "--license",
            "MIT",
            "--upload",
        ],
    );
    let model = rec["id"]
        .as_u64()
        .unwrap_or_else(|| rec["ids"][0].as_u64().unwrap());

    let mut workers = Vec::new();
    for (i, k) in ORACLE_KEYS.iter().enumerate() {
        let mut c = Command::new(env!("CARGO_BIN_EXE_verai"));
        c.args([
            "oracle",
            "run",
            "--hub",
            &hub,
            "--key",
            k,
            "--rpc",
            &rpc,
            "--poll-ms",
            "100",
        ]);
        if i == 2 {
            c.args(["--fault", "wrong-output"]);
        }
        c.stdout(Stdio::null())
            .stderr(Stdio::null())
            .env_remove("RUST_BACKTRACE");
        workers.push(Worker(c.spawn().unwrap()));
    }

    // A contract asks, paying 0.3 VAI; the answer arrives by callback.
    let artifact: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo_root().join("contracts/out/ForecastConsumer.json"))
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
        "constructor(address)",
        &hub,
    ]);
    let consumer = deploy["contractAddress"].as_str().unwrap().to_owned();
    let x: Vec<f32> = (0..256).map(|i| ((i as f32) * 0.1).sin()).collect();
    let input = format!(
        "0x{}",
        alloy_primitives::hex::encode(verai_inference::f32_bytes(&x))
    );
    let fee: u128 = 300_000_000_000_000_000;
    let tx = node.cast_json(&[
        "send",
        "--private-key",
        common::DEV_KEY_0,
        "--json",
        "--value",
        &fee.to_string(),
        &consumer,
        "ask(uint64,bytes)",
        &model.to_string(),
        &input,
    ]);
    assert_eq!(tx["status"], "0x1", "{tx}");
    wait_for("the callback", Duration::from_secs(60), || {
        node.cast(&["call", &consumer, "answered()(uint256)"])
            .trim()
            == "1"
    });
    // The callback got the honest output, bit for bit what this process computes.
    let honest = Model::load_with(&std::fs::read(&cnn).unwrap(), Limits::OFFCHAIN)
        .unwrap()
        .run(&x)
        .unwrap();
    let got = node.cast(&["call", &consumer, "results(uint256)(bytes)", "1"]);
    assert_eq!(
        got.trim(),
        format!(
            "0x{}",
            alloy_primitives::hex::encode(verai_inference::f32_bytes(&honest))
        )
    );

    // Wait for all three submissions: the liar is slashed half its bond, early or late.
    wait_for("the liar's submission", Duration::from_secs(60), || {
        wei(
            &node,
            &hub,
            "disagreements(address)(uint256)",
            ORACLE_ADDRS[2],
        ) == 1
    });
    let one: u128 = 1_000_000_000_000_000_000;
    assert_eq!(
        wei(&node, &hub, "bond(address)(uint256)", ORACLE_ADDRS[2]),
        one / 2
    );
    let c0 = wei(&node, &hub, "credit(address)(uint256)", ORACLE_ADDRS[0]);
    let c1 = wei(&node, &hub, "credit(address)(uint256)", ORACLE_ADDRS[1]);
    let c2 = wei(&node, &hub, "credit(address)(uint256)", ORACLE_ADDRS[2]);
    assert_eq!(c2, 0);
    assert_eq!(
        c0 + c1,
        fee + one / 2,
        "fee and slashed bond go to the agreeing oracles"
    );

    // The audit record: oracle path, reported by the hub, requested by the consumer.
    let status = ok_json(&rpc, &["oracle", "status", "1", "--hub", &hub]);
    assert_eq!(status["status"], "final");
    let record = status["record"].as_u64().unwrap().to_string();
    let v = ok_json(&rpc, &["infer", "verify", &record]);
    assert_eq!(v["verified"], true);
    assert_eq!(v["path"], "oracle");
    assert_eq!(
        v["reporter"].as_str().unwrap().to_lowercase(),
        hub.to_lowercase()
    );
    assert_eq!(
        v["requester"].as_str().unwrap().to_lowercase(),
        consumer.to_lowercase()
    );

    // The same through the CLI, inline and as a blob, waiting for the quorum.
    let xs = serde_json::to_string(&x).unwrap();
    let via_infer = ok_json(
        &rpc,
        &[
            "infer",
            &model.to_string(),
            "--input",
            &xs,
            "--oracle",
            "--hub",
            &hub,
            "--fee",
            "0.1",
        ],
    );
    let via_blob = ok_json(
        &rpc,
        &[
            "oracle",
            "request",
            &model.to_string(),
            "--input",
            &xs,
            "--input-blob",
            "--wait",
            "--hub",
            &hub,
            "--fee",
            "0.1",
        ],
    );
    for v in [&via_infer, &via_blob] {
        let out: Vec<f32> = serde_json::from_value(v["output"].clone()).unwrap();
        assert_eq!(out, honest, "{v}");
        assert!(v["record"].as_u64().unwrap() > 1);
    }
    wait_for(
        "the liar's later submissions",
        Duration::from_secs(60),
        || {
            wei(
                &node,
                &hub,
                "disagreements(address)(uint256)",
                ORACLE_ADDRS[2],
            ) == 3
        },
    );

    // A request nobody can serve (wrong input size) times out and is refunded.
    drop(workers);
    let r = ok_json(
        &rpc,
        &[
            "oracle",
            "request",
            &model.to_string(),
            "--input",
            "[1,2,3]",
            "--fee",
            "0.2",
            "--hub",
            &hub,
        ],
    );
    let id = r["request"].as_u64().unwrap().to_string();
    let early = verai(&rpc, &["oracle", "refund", &id, "--hub", &hub]);
    assert!(
        !early.status.success(),
        "refund before the deadline must fail"
    );
    for _ in 0..5 {
        node.cast_json(&[
            "send",
            "--private-key",
            common::DEV_KEY_0,
            "--json",
            "--value",
            "1",
            common::DEV_ADDR_1,
        ]);
    }
    ok_json(&rpc, &["oracle", "refund", &id, "--hub", &hub]);
    let refund = wei(&node, &hub, "credit(address)(uint256)", common::DEV_ADDR_0);
    assert_eq!(refund, 200_000_000_000_000_000);

    // The hub holds exactly the bonds, the credits and the open fees.
    let balance: u128 = node.cast(&["balance", &hub]).trim().parse().unwrap();
    let bonds = wei(&node, &hub, "totalBonds()(uint256)", "");
    let open = wei(&node, &hub, "openFees()(uint256)", "");
    let credits: Vec<u128> = ORACLE_ADDRS
        .iter()
        .map(|a| wei(&node, &hub, "credit(address)(uint256)", a))
        .collect();
    assert_eq!(open, 0);
    assert_eq!(
        balance,
        bonds + credits.iter().sum::<u128>() + refund,
        "every wei accounted for"
    );
    // Three requests: the liar lost half its bond three times, to the honest two.
    assert_eq!(bonds, 2 * one + one / 8);
    assert_eq!(credits[2], 0);
    assert_eq!(
        credits[0] + credits[1],
        fee + 2 * (one / 10) + one - one / 8
    );
    let c0 = credits[0];
    // Withdrawing pays out exactly the credit.
    ok_json(
        &rpc,
        &[
            "oracle",
            "withdraw",
            "--hub",
            &hub,
            "--private-key",
            ORACLE_KEYS[0],
        ],
    );
    let after: u128 = node.cast(&["balance", &hub]).trim().parse().unwrap();
    assert_eq!(after, balance - c0);
}
