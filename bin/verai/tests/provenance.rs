//! The provenance registry end to end through the `verai provenance` CLI on a dev node:
//! two datasets, a model trained on them, a fine-tune on top, a training run, usage;
//! lineage both ways; `verify` against the honest node and through a proxy that tampers
//! with the record, the proof or the certificate; bad input refused with nothing changed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_primitives::{Address, B256};
use alloy_rpc_types_eth::Filter;
use common::{DEV_ADDR_0, Node, command_timeout, flip_hex, rpc_raw, run_with_timeout};
use std::{net::SocketAddr, path::Path, process::Command};
use verai_client::{
    api::{EthApiClient, ProvenanceApiClient, wire},
    types::ListFilter,
};

/// Dev account 1's key (public test key): not the owner of anything here.
const DEV_KEY_1: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const REGISTRY: &str = "0x0000000000000000000000000000000000000a01";

fn verai(rpc: &str, args: &[&str]) -> common::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_verai"));
    c.arg("provenance").args(args).args(["--rpc", rpc]);
    c.env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    run_with_timeout(&mut c, command_timeout())
}

/// Run, expect success, return stdout parsed as JSON (with `--json`) .
fn ok_json(rpc: &str, args: &[&str]) -> serde_json::Value {
    let mut a = args.to_vec();
    a.push("--json");
    let out = verai(rpc, &a);
    assert!(
        out.status.success(),
        "verai {args:?} failed: {}",
        out.stderr
    );
    serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

/// Run, expect failure, return stderr.
fn fails(rpc: &str, args: &[&str]) -> String {
    let out = verai(rpc, args);
    assert!(
        !out.status.success(),
        "verai {args:?} succeeded: {}",
        out.stdout
    );
    out.stderr
}

fn id_of(v: &serde_json::Value) -> u64 {
    v["id"].as_u64().unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[derive(Clone, Copy)]
enum Tamper {
    Record,
    Proof,
    Certificate,
}

/// A JSON-RPC proxy in front of `node` that alters one kind of answer.
fn tampering_proxy(node: SocketAddr, mode: Tamper) -> String {
    common::tampering_proxy(node, move |method, r| match (mode, method) {
        (Tamper::Record, wire::GET_RECORD) => {
            r["license"] = "CC0-1.0".into();
        }
        (Tamper::Proof, wire::GET_PROOF) => {
            let proof = r["storageProof"][0]["proof"].as_str().unwrap().to_owned();
            r["storageProof"][0]["proof"] = flip_hex(&proof, proof.len() / 2).into();
        }
        (Tamper::Certificate, wire::GET_CERTIFICATE) => {
            let cert = r["certificate"].as_str().unwrap().to_owned();
            // A byte inside the finalization's signature.
            r["certificate"] = flip_hex(&cert, 2 + 2 * 120).into();
        }
        _ => {}
    })
}

#[test]
fn register_lineage_usage_and_verify() {
    let node = Node::start();
    let rpc = node.rpc_url.clone();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("d1.csv"), "a,b\n1,2\n").unwrap();
    std::fs::create_dir(d.join("d2")).unwrap();
    std::fs::write(d.join("d2/part-0.csv"), "x\n1\n").unwrap();
    std::fs::write(d.join("d2/part-1.csv"), "x\n2\n").unwrap();
    std::fs::write(d.join("model.onnx"), b"base model bytes").unwrap();
    std::fs::write(d.join("ft.onnx"), b"fine-tuned model bytes").unwrap();
    std::fs::write(d.join("params.json"), r#"{"lr":0.01}"#).unwrap();

    let d1 = id_of(&ok_json(
        &rpc,
        &[
            "register-dataset",
            p(&d.join("d1.csv")),
            "--license",
            "MIT",
            "--uri",
            "ipfs://d1",
        ],
    ));
    let d2 = id_of(&ok_json(
        &rpc,
        &[
            "register-dataset",
            p(&d.join("d2")),
            "--license",
            "CC-BY-4.0",
            "--uri",
            "ipfs://d2",
        ],
    ));
    let m = id_of(&ok_json(
        &rpc,
        &[
            "register-model",
            p(&d.join("model.onnx")),
            "--trained-on",
            &d1.to_string(),
            &d2.to_string(),
            "--license",
            "Apache-2.0",
        ],
    ));
    let ft = id_of(&ok_json(
        &rpc,
        &[
            "register-model",
            p(&d.join("ft.onnx")),
            "--trained-on",
            &m.to_string(),
            "--license",
            "Apache-2.0",
        ],
    ));
    let run = id_of(&ok_json(
        &rpc,
        &[
            "record-training",
            "--inputs",
            &d1.to_string(),
            &d2.to_string(),
            "--output",
            &m.to_string(),
            "--params",
            p(&d.join("params.json")),
        ],
    ));
    assert_eq!((d1, d2, m, ft, run), (1, 2, 3, 4, 5));
    for _ in 0..2 {
        ok_json(&rpc, &["record-usage", &ft.to_string()]);
    }

    let shown = ok_json(&rpc, &["show", &m.to_string()]);
    assert_eq!(shown["kind"], "model");
    assert_eq!(shown["parents"], serde_json::json!([d1, d2]));
    assert_eq!(shown["links"], serde_json::json!([run]));
    assert_eq!(
        shown["owner"].as_str().unwrap().to_lowercase(),
        DEV_ADDR_0.to_lowercase()
    );
    let usage = ok_json(&rpc, &["usage", &ft.to_string()]);
    assert_eq!(usage["count"], 2);

    // Lineage up from the fine-tune: the base model, its datasets and its training run.
    let up = ok_json(&rpc, &["lineage", &ft.to_string()]);
    let mut ids: Vec<u64> = up["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![d1, d2, m, run]);
    // Down from the first dataset: the model (directly and through the run) and the fine-tune.
    let down = ok_json(&rpc, &["lineage", &d1.to_string(), "--descendants"]);
    let mut ids: Vec<u64> = down["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![m, ft, run]);
    let tree = verai(&rpc, &["lineage", &ft.to_string(), "--format", "tree"]);
    assert!(tree.status.success());
    assert!(
        tree.stdout.contains("└─ 3 model") && tree.stdout.contains("└─ 1 dataset"),
        "{}",
        tree.stdout
    );
    let dot = verai(&rpc, &["lineage", &ft.to_string(), "--format", "dot"]);
    assert!(
        dot.stdout.contains("\"3\" -> \"4\";") && dot.stdout.contains("\"5\" -> \"3\";"),
        "{}",
        dot.stdout
    );
    let one_level = ok_json(&rpc, &["lineage", &ft.to_string(), "--depth", "1"]);
    assert_eq!(one_level["nodes"].as_array().unwrap().len(), 1);

    // Lists by kind and by owner.
    let list = |f: ListFilter| node.call(|c| async move { c.list_records(Some(f)).await });
    let models = list(ListFilter {
        kind: Some("model".into()),
        ..Default::default()
    });
    let ids: Vec<u64> = models["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![m, ft]);
    let mine = list(ListFilter {
        owner: Some(DEV_ADDR_0.parse().unwrap()),
        limit: Some(2),
        ..Default::default()
    });
    assert_eq!(mine["records"].as_array().unwrap().len(), 2);
    let nobody = list(ListFilter {
        owner: Some(Address::repeat_byte(0xde)),
        ..Default::default()
    });
    assert!(nobody["records"].as_array().unwrap().is_empty());

    // A blob uploaded at registration is served back by its hash.
    let with_blob = ok_json(
        &rpc,
        &[
            "register-dataset",
            p(&d.join("params.json")),
            "--license",
            "MIT",
            "--upload",
        ],
    );
    let rec = ok_json(&rpc, &["show", &id_of(&with_blob).to_string()]);
    let hash = rec["contentHash"].as_str().unwrap();
    assert_eq!(rec["uri"], format!("blob:{hash}"));
    let h: B256 = hash.parse().unwrap();
    let blob = node.call(|c| async move { c.get_blob(h).await });
    assert_eq!(blob, format!("0x{}", hex::encode(r#"{"lr":0.01}"#)));

    // Events are indexed like any contract's.
    let registry: Address = REGISTRY.parse().unwrap();
    let logs = node.call(|c| async move {
        c.get_logs(Filter::new().address(registry).from_block(0u64))
            .await
    });
    assert_eq!(
        logs.as_array().unwrap().len(),
        6 + 1 + 2,
        "6 registrations, 1 link, 2 uses"
    );

    // Honest node: verified.
    let v = verai(&rpc, &["verify", &ft.to_string()]);
    assert!(v.status.success(), "{}", v.stderr);
    assert!(
        v.stdout.contains("verified") && v.stdout.contains("signed by a quorum"),
        "{}",
        v.stdout
    );

    // A lying node is caught, whatever it alters.
    let addr = SocketAddr::from(([127, 0, 0, 1], node.port));
    for (mode, expect) in [
        (Tamper::Record, "does not match the proven state"),
        (Tamper::Proof, "does not verify"),
        (Tamper::Certificate, "certificate"),
    ] {
        let proxy = tampering_proxy(addr, mode);
        let err = fails(&proxy, &["verify", &ft.to_string()]);
        assert!(err.contains("FAILED") && err.contains(expect), "{err}");
    }
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let node = Node::start();
    let rpc = node.rpc_url.clone();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("d.csv"), "a\n").unwrap();
    std::fs::write(d.join("d2.csv"), "b\n").unwrap();
    std::fs::write(d.join("m.bin"), "m").unwrap();
    std::fs::write(d.join("params"), "p").unwrap();
    let ds = id_of(&ok_json(
        &rpc,
        &["register-dataset", p(&d.join("d.csv")), "--license", "MIT"],
    ));
    let m = id_of(&ok_json(
        &rpc,
        &[
            "register-model",
            p(&d.join("m.bin")),
            "--trained-on",
            &ds.to_string(),
            "--license",
            "MIT",
        ],
    ));
    let count = |node: &Node| {
        node.call(|c| async move { c.list_records(None).await })["total"]
            .as_u64()
            .unwrap()
    };
    let head = |node: &Node| node.call(|c| async move { c.block_number().await });
    let (before, height) = (count(&node), head(&node));
    assert_eq!(before, 2);

    let e = fails(
        &rpc,
        &["register-dataset", p(&d.join("d.csv")), "--license", "MIT"],
    );
    assert!(e.contains("exists already: id 1"), "{e}");
    let e = fails(
        &rpc,
        &[
            "register-dataset",
            p(&d.join("d2.csv")),
            "--license",
            "MIT",
            "--parent",
            "99",
        ],
    );
    assert!(e.contains("unknown record 99"), "{e}");
    let e = fails(
        &rpc,
        &[
            "register-dataset",
            p(&d.join("d2.csv")),
            "--license",
            "MIT",
            "--contributor",
            &format!("{DEV_ADDR_0}:5000"),
        ],
    );
    assert!(e.contains("sum to 5000 basis points, not 10000"), "{e}");
    let long = format!("ipfs://{}", "x".repeat(2100));
    let e = fails(
        &rpc,
        &[
            "register-dataset",
            p(&d.join("d2.csv")),
            "--license",
            "MIT",
            "--uri",
            &long,
        ],
    );
    assert!(e.contains("URI too long"), "{e}");
    let e = fails(
        &rpc,
        &[
            "record-training",
            "--inputs",
            &m.to_string(),
            "--output",
            &m.to_string(),
            "--params",
            p(&d.join("params")),
        ],
    );
    assert!(e.contains("lineage cycle"), "{e}");
    let e = fails(
        &rpc,
        &[
            "transfer",
            &m.to_string(),
            "--to",
            DEV_ADDR_0,
            "--private-key",
            DEV_KEY_1,
        ],
    );
    assert!(
        e.contains("is owned by") && e.contains("not by the caller"),
        "{e}"
    );
    let e = fails(
        &rpc,
        &["deprecate", &m.to_string(), "--private-key", DEV_KEY_1],
    );
    assert!(e.contains("is owned by"), "{e}");
    // Empty hash: straight through eth_call, as a contract or cast would send it.
    let call = alloy_sol_types::SolCall::abi_encode(&verai_provenance::IProvenance::registerCall {
        kind: 0,
        contentHash: Default::default(),
        uri: String::new(),
        license: "MIT".into(),
        contributors: vec![],
        parents: vec![],
    });
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": wire::CALL, "params": [{"to": REGISTRY, "data": format!("0x{}", hex::encode(call))}, "latest"]});
    let answer: serde_json::Value = serde_json::from_str(
        &rpc_raw(
            SocketAddr::from(([127, 0, 0, 1], node.port)),
            &body.to_string(),
        )
        .unwrap(),
    )
    .unwrap();
    let data = answer["error"]["data"].as_str().unwrap();
    let data = hex::decode(data.trim_start_matches("0x")).unwrap();
    assert_eq!(
        verai_provenance::explain(&data).unwrap(),
        "content hash is empty (zero)"
    );

    // Blobs: stored by hash, refused over the limit.
    let put = node.call(|c| async move { c.put_blob(b"hello".to_vec().into()).await });
    assert_eq!(
        put["hash"],
        "0x2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    let put_hash: B256 = put["hash"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        node.call(|c| async move { c.get_blob(put_hash).await }),
        "0x68656c6c6f"
    );
    let big = format!(
        "0x{}",
        "00".repeat(verai_provenance::blob::DEFAULT_MAX_BLOB_BYTES as usize + 1)
    );
    let body =
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": wire::PUT_BLOB, "params": [big]});
    let answer = rpc_raw(
        SocketAddr::from(([127, 0, 0, 1], node.port)),
        &body.to_string(),
    )
    .unwrap();
    assert!(answer.contains("exceeds the limit"), "{answer}");

    // Nothing changed: same records, and no transaction was even sent.
    assert_eq!(count(&node), before);
    assert_eq!(head(&node), height);
    let r = ok_json(&rpc, &["show", &m.to_string()]);
    assert_eq!(
        r["owner"].as_str().unwrap().to_lowercase(),
        DEV_ADDR_0.to_lowercase()
    );
    assert_eq!(r["deprecated"], false);
}

/// An example contract registers a dataset and a model through `IProvenance` and reads the
/// lineage back; deployed and called with `cast`, as a user would.
#[test]
fn solidity_contract_uses_the_registry() {
    common::require_node_tools();
    let node = Node::start();
    let path = common::repo_root().join("contracts/out/ProvenanceExample.json");
    let artifact: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let deploy = node.cast_json(&[
        "send",
        "--private-key",
        common::DEV_KEY_0,
        "--json",
        "--create",
        artifact["bytecode"].as_str().unwrap(),
    ]);
    assert_eq!(deploy["status"], "0x1", "{deploy}");
    let example = deploy["contractAddress"].as_str().unwrap().to_owned();
    let data_hash = format!("0x{}", "11".repeat(32));
    let model_hash = format!("0x{}", "22".repeat(32));
    let tx = node.cast_json(&[
        "send",
        "--private-key",
        common::DEV_KEY_0,
        "--json",
        &example,
        "registerPair(bytes32,bytes32)",
        &data_hash,
        &model_hash,
    ]);
    assert_eq!(tx["status"], "0x1", "{tx}");
    // The registry's RecordRegistered events are in the receipt, from its address.
    let from_registry = tx["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["address"] == REGISTRY)
        .count();
    assert_eq!(from_registry, 2);

    let out = node.cast(&[
        "call",
        &example,
        "lineageOf(uint64)(uint64[],address,uint8)",
        "2",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0].trim(), "[1]", "{out}");
    assert_eq!(lines[1].trim().to_lowercase(), example.to_lowercase());
    assert_eq!(lines[2].trim(), "1");
    // The same record through RPC: the contract is the owner and creator.
    let r = node.call(|c| async move { c.get_record(2).await });
    assert_eq!(r["parents"], serde_json::json!([1]));
    assert_eq!(
        r["owner"].as_str().unwrap().to_lowercase(),
        example.to_lowercase()
    );
    assert_eq!(r["contentHash"], model_hash);

    // A duplicate reverts with the registry's custom error, bubbled up through the contract.
    let again = node.cast_output(&[
        "call",
        &example,
        "registerDatasetAgain(bytes32)(uint64)",
        &data_hash,
    ]);
    assert!(!again.status.success());
    let selector =
        alloy_sol_types::SolError::abi_encode(&verai_provenance::IProvenance::DuplicateRecord {
            existing: 1,
        });
    let expect = hex::encode(&selector);
    assert!(
        again.stderr.contains(&expect) || again.stderr.contains("DuplicateRecord"),
        "{}",
        again.stderr
    );
}
