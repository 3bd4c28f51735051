//! A dev node started in-process (one validator, real consensus, RPC on a free port), and
//! raw HTTP and signing helpers for the tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use commonware_cryptography::Signer as _;
use commonware_runtime::Runner as _;
use serde_json::{Value, json};
use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    path::Path,
    time::{Duration, Instant},
};
use verai_consensus::{PrivateKey, Timeouts};
use verai_mempool::PoolConfig;
use verai_node::{NodeConfig, ProducerConfig, ValidatorKeys};
use verai_primitives::{ChainSpec, dev_signers};

/// Run `f` against a dev node whose data lives in `dir`; the node stops when `f` returns.
pub fn with_node<F, Fut>(dir: &Path, f: F)
where
    F: FnOnce(SocketAddr) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    with_node_sentinel(dir, None, f)
}

/// [`with_node`] with the sentinel configured.
pub fn with_node_sentinel<F, Fut>(
    dir: &Path,
    sentinel: Option<verai_node::sentinel::SentinelConfig>,
    f: F,
) where
    F: FnOnce(SocketAddr) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    with_node_config(dir, sentinel, ProducerConfig::default(), f)
}

/// [`with_node`] with the sentinel and block production configured.
pub fn with_node_config<F, Fut>(
    dir: &Path,
    sentinel: Option<verai_node::sentinel::SentinelConfig>,
    producer: ProducerConfig,
    f: F,
) where
    F: FnOnce(SocketAddr) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let runtime =
        commonware_runtime::tokio::Config::new().with_storage_directory(dir.join("consensus"));
    let datadir = dir.to_path_buf();
    commonware_runtime::tokio::Runner::new(runtime).start(|context| async move {
        let signer = <PrivateKey as commonware_cryptography::Signer>::from_seed(7);
        let spec = ChainSpec::dev();
        let config = NodeConfig {
            datadir,
            pool: PoolConfig::new(spec.chain_id, spec.gas_limit),
            spec,
            modules: verai_modules::native_modules(),
            rpc_addr: "127.0.0.1:0".parse().unwrap(),
            rpc_access: Default::default(),
            blob_capacity: verai_provenance::blob::DEFAULT_CAPACITY,
            explorer_addr: None,
            keys: ValidatorKeys {
                validators: vec![(signer.public_key(), "127.0.0.1:0".parse().unwrap())],
                signer,
                p2p_listen: "127.0.0.1:0".parse().unwrap(),
            },
            producer,
            timeouts: Timeouts::dev(),
            audit_deploys: None,
            sentinel,
            sentinel_model: None,
            operator: None,
        };
        let node = verai_node::run(context, config).await.expect("node starts");
        let addr = node.rpc_addr;
        tokio::time::timeout(Duration::from_secs(120), f(addr))
            .await
            .expect("test finished in time");
        node.shutdown().await.expect("clean shutdown");
    });
}

/// POST a raw body; returns the HTTP status and the body.
pub fn post_raw(addr: SocketAddr, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    // The server may answer and close before reading an oversized body.
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Call a method; returns the whole JSON-RPC response object.
pub fn call(addr: SocketAddr, method: &str, params: Value) -> Value {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let (_, text) = post_raw(addr, body.to_string().as_bytes());
    // Chunked transfer encoding is not used by jsonrpsee for these sizes.
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON from {method}: {e}: {text}"))
}

/// Call a method that must succeed; returns its result.
pub fn ok(addr: SocketAddr, method: &str, params: Value) -> Value {
    let r = call(addr, method, params);
    assert!(r.get("error").is_none(), "{method} failed: {r}");
    r["result"].clone()
}

/// The error code of a call that must fail.
pub fn err_code(addr: SocketAddr, method: &str, params: Value) -> (i64, String) {
    let r = call(addr, method, params);
    let e = r
        .get("error")
        .unwrap_or_else(|| panic!("{method} should fail: {r}"));
    (
        e["code"].as_i64().unwrap(),
        e["message"].as_str().unwrap_or_default().to_string(),
    )
}

/// A signed EIP-1559 transaction from dev account `from`.
pub fn signed(
    from: usize,
    nonce: u64,
    to: Option<Address>,
    value: u64,
    input: Vec<u8>,
    gas: u64,
) -> Bytes {
    sign_with(&dev_signers(10)[from], 1337, nonce, to, value, input, gas)
}

/// A signed EIP-1559 transaction.
pub fn sign_with(
    s: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: Option<Address>,
    value: u64,
    input: Vec<u8>,
    gas: u64,
) -> Bytes {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: to.map(TxKind::Call).unwrap_or(TxKind::Create),
        value: U256::from(value),
        input: input.into(),
        ..Default::default()
    };
    let sig = s.sign_hash_sync(&tx.signature_hash()).unwrap();
    TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into()
}

/// Wait for a receipt.
pub fn receipt(addr: SocketAddr, hash: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = ok(addr, "eth_getTransactionReceipt", json!([hash]));
        if !r.is_null() {
            return r;
        }
        assert!(Instant::now() < deadline, "no receipt for {hash}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Init code deploying a contract whose storage slot 0 holds 42 and whose code returns it.
pub fn storage_contract() -> Vec<u8> {
    let runtime = hex("6000546000526020")
        .into_iter()
        .chain(hex("6000f3"))
        .collect::<Vec<u8>>();
    let mut init = hex("602a600055");
    let offset = 5 + 12;
    init.extend(hex(&format!(
        "60{:02x}60{:02x}60003960{:02x}6000f3",
        runtime.len(),
        offset,
        runtime.len()
    )));
    init.extend(&runtime);
    init
}

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Parse a hex quantity.
pub fn qty(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}
