//! A 4-validator testnet of real `verai node --config` processes on loopback: transactions
//! flow through one node's RPC while another validator is killed with SIGKILL and restarted;
//! at the end every accepted transaction is in exactly one finalized block and all nodes
//! report the same block hash and state root at the same height. A follower syncs certified
//! blocks and forwards transactions. A node started from another genesis refuses to join
//! with a clear error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::BlockNumberOrTag;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, TxKind, U256, hex};
use alloy_primitives::{B256, Bytes};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use common::{Node, NodeKind, quantity};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    net::{SocketAddr, TcpListener},
    path::Path,
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
use verai_client::api::{EthApiClient, ProvenanceApiClient, VeraiApiClient, wire};
use verai_primitives::dev_signers;

const VALIDATORS: u16 = 4;

/// A base port with `n` free consecutive ports after it, below the kernel's ephemeral range
/// (32768 and up on Linux): the other tests' `127.0.0.1:0` listeners and every outgoing
/// connection's source port come from that range, and took a validator's port between this
/// check and its bind (CI, 2026-12-01: `BindFailed`).
fn free_range(n: u16) -> u16 {
    for _ in 0..200 {
        let base = 20_000 + (rand_u16() % (32_000 - 20_000 - n));
        if (0..n).all(|k| TcpListener::bind(("127.0.0.1", base + k)).is_ok()) {
            return base;
        }
    }
    panic!("no free port range");
}

fn rand_u16() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    (nanos ^ std::process::id().rotate_left(7)) as u16
}

fn transfer(s: &PrivateKeySigner, nonce: u64) -> String {
    let tx = TxEip1559 {
        chain_id: 1337,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(Address::repeat_byte(0x77)),
        value: U256::from(1 + nonce),
        ..Default::default()
    };
    let sig = s.sign_hash_sync(&tx.signature_hash()).unwrap();
    hex::encode_prefixed(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
}

fn validator(dir: &Path, k: u16, rpc_port: u16, extra: &[&str]) -> Node {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_verai"));
    cmd.arg("node")
        .arg("--config")
        .arg(dir.join(format!("node-{k}.toml")))
        .args(extra)
        .env("RUST_BACKTRACE", "0");
    Node::spawn(cmd, NodeKind::Verai, rpc_port).unwrap_or_else(|e| panic!("{e:?}"))
}

fn height(node: &Node) -> u64 {
    quantity(&node.call(|c| async move { c.block_number().await })) as u64
}

fn block(node: &Node, n: u64, full: bool) -> Value {
    let n = BlockNumberOrTag::Number(n);
    node.call(|c| async move { c.get_block_by_number(n, full).await })
}

fn receipt(node: &Node, hash: &str) -> Value {
    let h: B256 = hash.parse().unwrap();
    node.call(|c| async move { c.get_transaction_receipt(h).await })
}

fn blob(node: &Node, hash: &str) -> Value {
    let h: B256 = hash.parse().unwrap();
    node.call(|c| async move { c.get_blob(h).await })
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `verai provenance register-dataset FILE --license MIT --json ARGS` through the RPC on
/// `port`, bounded in time.
fn register_dataset(port: u16, file: &Path, args: &[&str]) -> common::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_verai"));
    cmd.args(["provenance", "register-dataset"])
        .arg(file)
        .args(["--license", "MIT", "--json", "--rpc"])
        .arg(format!("http://127.0.0.1:{port}"))
        .args(args)
        .env("RUST_BACKTRACE", "0");
    common::run_with_timeout(&mut cmd, common::command_timeout())
}

#[test]
fn four_processes_survive_a_sigkill_and_agree() {
    let dir = tempfile::tempdir().unwrap();
    // One range for all of the test's ports, so that they cannot overlap each other.
    let rpc = free_range(2 * VALIDATORS + 1);
    let p2p = rpc + VALIDATORS;
    let fport = rpc + 2 * VALIDATORS;
    let init = Command::new(env!("CARGO_BIN_EXE_verai"))
        .args([
            "testnet",
            "init",
            "--validators",
            "4",
            "--metrics-port",
            "0",
        ])
        .arg("--dir")
        .arg(dir.path())
        .args([
            "--rpc-port",
            &rpc.to_string(),
            "--p2p-port",
            &p2p.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );

    let mut nodes: Vec<Node> = (0..VALIDATORS)
        .map(|k| validator(dir.path(), k, rpc + k, &[]))
        .collect();
    for n in &mut nodes {
        n.wait_ready("validator")
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
    let entry = SocketAddr::from(([127, 0, 0, 1], rpc));

    // Load through node 0 from five accounts, in the background.
    let signers = dev_signers(5);
    let accepted: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = std::thread::spawn({
        let accepted = accepted.clone();
        let stop = stop.clone();
        move || {
            let mut nonces = vec![0u64; signers.len()];
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let a = i % signers.len();
                i += 1;
                // Raw, so that a validator killed mid-stream is only a refused send.
                let body = json!({"jsonrpc": "2.0", "id": 1, "method": wire::SEND_RAW_TRANSACTION,
                    "params": [transfer(&signers[a], nonces[a])]});
                if let Ok(text) = common::rpc_raw(entry, &body.to_string()) {
                    let v: Value = serde_json::from_str(&text).unwrap();
                    if let Some(h) = v["result"].as_str() {
                        nonces[a] += 1;
                        accepted.lock().unwrap().push(h.to_string());
                    }
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    });

    std::thread::sleep(Duration::from_secs(2));
    let victim = 2usize;
    nodes[victim].kill9();
    let at_kill = height(&nodes[0]);
    wait_until(
        "progress without the killed validator",
        Duration::from_secs(60),
        || height(&nodes[0]) >= at_kill + 5,
    );
    nodes[victim] = validator(dir.path(), victim as u16, rpc + victim as u16, &[]);
    nodes[victim]
        .wait_ready("restarted validator")
        .unwrap_or_else(|e| panic!("{e:?}"));
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    let accepted = accepted.lock().unwrap().clone();
    assert!(
        accepted.len() > 100,
        "only {} transactions accepted",
        accepted.len()
    );

    // Every accepted transaction gets a receipt on node 0.
    wait_until(
        "receipts for every accepted transaction",
        Duration::from_secs(120),
        || {
            accepted
                .iter()
                .rev()
                .take(20)
                .all(|h| !receipt(&nodes[0], h).is_null())
        },
    );
    let top = height(&nodes[0]);
    wait_until(
        "every node at the same height",
        Duration::from_secs(120),
        || nodes.iter().all(|n| height(n) >= top),
    );

    // Exactly once: count each accepted hash over all finalized blocks.
    let mut seen: HashMap<String, u32> = HashMap::new();
    for n in 1..=top {
        for tx in block(&nodes[0], n, true)["transactions"]
            .as_array()
            .unwrap()
        {
            *seen
                .entry(tx["hash"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    for h in &accepted {
        assert_eq!(
            seen.get(h),
            Some(&1),
            "transaction {h} is in {:?} blocks",
            seen.get(h)
        );
    }
    assert_eq!(
        seen.len(),
        accepted.len(),
        "a block holds a transaction nobody accepted"
    );
    // Same block hash and state root at every height on every node.
    for n in 0..=top {
        let reference = block(&nodes[0], n, false);
        for (k, node) in nodes.iter().enumerate().skip(1) {
            let b = block(node, n, false);
            assert_eq!(b["hash"], reference["hash"], "node {k} differs at {n}");
            assert_eq!(
                b["stateRoot"], reference["stateRoot"],
                "node {k} differs at {n}"
            );
        }
    }

    // The public verifier: a block's certificate checks against the genesis validators,
    // and not against another validator set.
    let verify = |genesis: &Path| {
        Command::new(env!("CARGO_BIN_EXE_verai"))
            .args(["block", &top.to_string(), "--verify", "--json", "--rpc"])
            .arg(format!("http://127.0.0.1:{}", rpc + 1))
            .arg("--genesis")
            .arg(genesis)
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap()
    };
    let ok = verify(&dir.path().join("genesis.json"));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let report: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(report["verified"], true);
    assert_eq!(report["hash"], block(&nodes[0], top, false)["hash"]);
    let strangers = tempfile::tempdir().unwrap();
    let init = Command::new(env!("CARGO_BIN_EXE_verai"))
        .args(["testnet", "init", "--validators", "4", "--dir"])
        .arg(strangers.path())
        .output()
        .unwrap();
    assert!(init.status.success());
    let refused = verify(&strangers.path().join("genesis.json"));
    assert!(
        !refused.status.success(),
        "a foreign validator set must not verify"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("NOT proven final"));

    // A follower syncs certified blocks from validator 1, serves them with their
    // certificates, and forwards a transaction to the network.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_verai"));
    cmd.args(["node", "--follow", &format!("http://127.0.0.1:{}", rpc + 1)])
        .arg("--genesis")
        .arg(dir.path().join("genesis.json"))
        .arg("--datadir")
        .arg(dir.path().join("follower"))
        .args(["--rpc-port", &fport.to_string()])
        .env("RUST_BACKTRACE", "0");
    let mut follower = Node::spawn(cmd, NodeKind::Verai, fport).unwrap();
    follower
        .wait_ready("follower")
        .unwrap_or_else(|e| panic!("{e:?}"));
    wait_until("the follower catches up", Duration::from_secs(60), || {
        height(&follower) >= top
    });
    for n in [1, top / 2, top] {
        assert_eq!(
            block(&follower, n, false),
            block(&nodes[0], n, false),
            "follower at {n}"
        );
        let tag = BlockNumberOrTag::Number(n);
        let cert = follower.call(|c| async move { c.get_certificate(tag).await });
        assert_eq!(cert["blockHash"], block(&nodes[0], n, false)["hash"]);
    }
    let raw: Bytes = transfer(&dev_signers(6)[5], 0).parse().unwrap();
    let via_follower = follower.call(|c| async move { c.send_raw_transaction(raw).await });
    let h = via_follower.as_str().unwrap().to_string();
    wait_until(
        "a transaction sent to the follower is finalized",
        Duration::from_secs(60),
        || !receipt(&nodes[0], &h).is_null() && !receipt(&follower, &h).is_null(),
    );
    // A data set uploaded to the follower and registered through it: the follower pushes
    // the blob to its upstream before forwarding the transaction, which the validator admits.
    let fdata = "a,b\n9,8\n".repeat(500);
    let ffile = dir.path().join("via-follower.csv");
    std::fs::write(&ffile, &fdata).unwrap();
    let out = register_dataset(fport, &ffile, &["--upload"]);
    assert!(out.status.success(), "{}", out.stderr);
    let record: Value = serde_json::from_str(&out.stdout).unwrap();
    let id = record["id"].as_u64().unwrap();
    let fhash = nodes[1].call(|c| async move { c.get_record(id).await })["contentHash"].clone();
    assert_eq!(
        blob(&nodes[1], fhash.as_str().unwrap()),
        json!(hex::encode_prefixed(&fdata)),
        "the upstream got the blob from the follower"
    );
    drop(follower);

    // A data set uploaded to validator 3 and registered through validator 0: node 0 fetches
    // the blob from its peers before it admits the record. A record naming a blob that no
    // node holds is refused with a clear error.
    let data = "x,y\n1,2\n3,4\n".repeat(2_000);
    let file = dir.path().join("dataset.csv");
    std::fs::write(&file, &data).unwrap();
    let bytes = Bytes::from(data.clone().into_bytes());
    let put = nodes[3].call(|c| async move { c.put_blob(bytes).await });
    let hash = put["hash"].as_str().unwrap().to_string();
    assert!(blob(&nodes[0], &hash).is_null());
    let out = register_dataset(rpc, &file, &["--uri", &format!("blob:{hash}")]);
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(
        blob(&nodes[0], &hash),
        json!(hex::encode_prefixed(&data)),
        "validator 0 fetched the blob from a peer"
    );
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "x\n5\n").unwrap();
    let out = register_dataset(
        rpc,
        &other,
        &["--uri", &format!("blob:0x{}", "ab".repeat(32))],
    );
    assert!(!out.status.success(), "a record naming a missing blob");
    assert!(
        out.stderr.contains("neither this node nor its peers"),
        "{}",
        out.stderr
    );

    // A validator restarted from another genesis refuses to join.
    let genesis: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("genesis.json")).unwrap()).unwrap();
    let mut other = genesis.clone();
    other["timestamp"] = json!(genesis["timestamp"].as_u64().unwrap() + 1);
    let bad = dir.path().join("genesis-other.json");
    std::fs::write(&bad, serde_json::to_vec(&other).unwrap()).unwrap();
    nodes[3].kill9();
    let mut impostor = validator(
        dir.path(),
        3,
        rpc + 3,
        &[
            "--genesis",
            bad.to_str().unwrap(),
            "--datadir",
            dir.path().join("other").to_str().unwrap(),
        ],
    );
    let status = impostor
        .wait_exit(Duration::from_secs(60))
        .expect("a node with another genesis must exit");
    assert!(!status.success());
    let log = impostor.log_tail();
    assert!(log.contains("genesis mismatch"), "no clear error:\n{log}");
}

/// `verai testnet run` supervises the processes: a validator stopped by hand leaves the
/// other three finalizing; started again, it catches up; Ctrl-C (SIGTERM) stops them all.
#[test]
fn testnet_run_stops_and_starts_one_validator_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let rpc = free_range(2 * VALIDATORS);
    let p2p = rpc + VALIDATORS;
    let init = Command::new(env!("CARGO_BIN_EXE_verai"))
        .args([
            "testnet",
            "init",
            "--validators",
            "4",
            "--metrics-port",
            "0",
        ])
        .args(["--explorer-port", "0", "--block-time", "1", "--dir"])
        .arg(dir.path())
        .args([
            "--rpc-port",
            &rpc.to_string(),
            "--p2p-port",
            &p2p.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let mut supervisor = Command::new(env!("CARGO_BIN_EXE_verai"))
        .args(["testnet", "run", "--dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client =
        |k: u16| verai_client::Client::connect(&format!("http://127.0.0.1:{}", rpc + k)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let h =
        |k: u16| rt.block_on(async { client(k).block_number().await.ok().map(|n| n.to::<u64>()) });
    wait_until("the network finalizes", Duration::from_secs(60), || {
        h(0).is_some_and(|n| n >= 3)
    });
    let control = |what: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_verai"))
            .args(["testnet", what, "3", "--dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "testnet {what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    control("stop");
    wait_until("validator 3 is down", Duration::from_secs(10), || {
        h(3).is_none()
    });
    let at_stop = h(0).unwrap();
    wait_until("three validators finalize", Duration::from_secs(30), || {
        h(0).is_some_and(|n| n >= at_stop + 3)
    });
    control("start");
    wait_until(
        "validator 3 catches up",
        Duration::from_secs(60),
        || match (h(3), h(0)) {
            (Some(a), Some(b)) => a + 1 >= b && a > at_stop + 3,
            _ => false,
        },
    );
    let _ = Command::new("kill")
        .args(["-TERM", &supervisor.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while supervisor.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the supervisor did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_until("every validator stopped", Duration::from_secs(10), || {
        (0..4).all(|k| h(k).is_none())
    });
}
