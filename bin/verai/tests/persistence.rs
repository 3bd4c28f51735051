//! Persistence of `verai node --dev`: a clean stop (SIGTERM), a crash (SIGKILL) while
#![allow(clippy::unwrap_used, clippy::expect_used)]
//! transactions flow, and a deleted index; after each restart every finalized block,
//! receipt and balance is there and unchanged.

mod common;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::BlockNumberOrTag;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::B256;
use alloy_primitives::{Address, TxKind, U256, hex};
use alloy_signer::SignerSync;
use common::{Node, quantity};
use serde_json::{Value, json};
use std::{
    collections::HashSet,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
use verai_client::api::EthApiClient;
use verai_primitives::dev_signers;

fn transfer(from: usize, nonce: u64, to: Address) -> String {
    let tx = TxEip1559 {
        chain_id: 1337,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(to),
        value: U256::from(1_000 + nonce),
        ..Default::default()
    };
    let sig = dev_signers(10)[from]
        .sign_hash_sync(&tx.signature_hash())
        .unwrap();
    hex::encode_prefixed(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
}

/// Send over a raw connection: `None` once the node is gone (it is killed mid-stream).
fn send(addr: SocketAddr, raw: &str) -> Option<String> {
    let method = verai_client::api::wire::SEND_RAW_TRANSACTION;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": [raw]});
    let v: Value = serde_json::from_str(&common::rpc_raw(addr, &body.to_string()).ok()?).ok()?;
    v["result"].as_str().map(str::to_string)
}

fn receipt(node: &Node, hash: &str) -> Value {
    let h: B256 = hash.parse().unwrap();
    node.call(|c| async move { c.get_transaction_receipt(h).await })
}

fn head(node: &Node) -> u64 {
    quantity(&node.call(|c| async move { c.block_number().await })) as u64
}

fn block(node: &Node, n: u64) -> Value {
    let n = BlockNumberOrTag::Number(n);
    node.call(|c| async move { c.get_block_by_number(n, false).await })
}

fn wait_receipt(node: &Node, hash: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = receipt(node, hash);
        if !r.is_null() {
            return r;
        }
        assert!(Instant::now() < deadline, "no receipt for {hash}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Block hashes 0..=latest.
fn block_hashes(node: &Node) -> Vec<String> {
    (0..=head(node))
        .map(|n| block(node, n)["hash"].as_str().unwrap().to_string())
        .collect()
}

/// Wait until the node has re-applied at least `height` (replay after a restart).
fn wait_height(node: &Node, height: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while head(node) < height {
        assert!(
            Instant::now() < deadline,
            "node did not reach block {height}\n{}",
            node.log_tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn balances(node: &Node, addrs: &[Address]) -> Vec<Value> {
    addrs
        .iter()
        .map(|&a| node.call(|c| async move { c.get_balance(a, None).await }))
        .collect()
}

fn recipients() -> Vec<Address> {
    (1..=5u8).map(Address::repeat_byte).collect()
}

#[test]
fn sigterm_restart_and_deleted_index_keep_every_block_receipt_and_balance() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = Node::start_in(Some(dir.path()));
    let addr = SocketAddr::from(([127, 0, 0, 1], node.port));
    let to = recipients();
    let hashes: Vec<String> = (0..12u64)
        .map(|n| send(addr, &transfer(1, n, to[n as usize % 5])).expect("accepted"))
        .collect();
    let receipts: Vec<Value> = hashes.iter().map(|h| wait_receipt(&node, h)).collect();
    let blocks = block_hashes(&node);
    let before = balances(&node, &to);
    assert!(
        node.terminate(),
        "clean exit on SIGTERM\n{}",
        node.log_tail()
    );

    let mut node = Node::start_in(Some(dir.path()));
    wait_height(&node, blocks.len() as u64 - 1);
    assert_eq!(block_hashes(&node)[..blocks.len()], blocks[..]);
    for (h, r) in hashes.iter().zip(&receipts) {
        assert_eq!(&receipt(&node, h), r);
    }
    assert_eq!(balances(&node, &to), before);
    // Still live: the next nonce goes through.
    let h = send(
        SocketAddr::from(([127, 0, 0, 1], node.port)),
        &transfer(1, 12, to[0]),
    )
    .expect("accepted");
    wait_receipt(&node, &h);
    let blocks = block_hashes(&node);
    let before = balances(&node, &to);
    assert!(node.terminate());

    // A deleted index is rebuilt from the finalized blocks.
    std::fs::remove_file(dir.path().join("index.redb")).unwrap();
    let node = Node::start_in(Some(dir.path()));
    wait_height(&node, blocks.len() as u64 - 1);
    assert_eq!(block_hashes(&node)[..blocks.len()], blocks[..]);
    for (h, r) in hashes.iter().zip(&receipts) {
        assert_eq!(&receipt(&node, h), r);
    }
    assert_eq!(balances(&node, &to), before);
}

#[test]
fn sigkill_while_transactions_flow_loses_no_finalized_block() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = Node::start_in(Some(dir.path()));
    let addr = SocketAddr::from(([127, 0, 0, 1], node.port));
    let to = recipients();
    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (accepted, stop, to) = (accepted.clone(), stop.clone(), to.clone());
        std::thread::spawn(move || {
            let mut nonce = 0;
            while !stop.load(Ordering::Relaxed) && nonce < 2_000 {
                match send(addr, &transfer(2, nonce, to[nonce as usize % 5])) {
                    Some(h) => {
                        accepted.lock().unwrap().push(h);
                        nonce += 1;
                    }
                    None => break, // the node is gone
                }
            }
        })
    };
    // Let blocks finalize while transactions keep arriving, then crash the node.
    wait_height(&node, 3);
    while accepted.lock().unwrap().len() < 40 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let finalized_blocks = block_hashes(&node);
    let seen: Vec<(String, Value)> = accepted
        .lock()
        .unwrap()
        .clone()
        .into_iter()
        .filter_map(|h| {
            let hash: B256 = h.parse().ok()?;
            node.try_call(|c| async move { c.get_transaction_receipt(hash).await })
                .ok()
                .map(|r| (h, r))
        })
        .filter(|(_, r)| !r.is_null())
        .collect();
    node.kill9();
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    assert!(!seen.is_empty());

    let node = Node::start_in(Some(dir.path()));
    wait_height(&node, finalized_blocks.len() as u64 - 1);
    // Every block finalized before the crash is there, unchanged; so is every receipt seen.
    assert_eq!(
        block_hashes(&node)[..finalized_blocks.len()],
        finalized_blocks[..]
    );
    for (h, r) in &seen {
        assert_eq!(&receipt(&node, h), r, "receipt of {h}");
    }
    // No transaction is in two blocks, and the sender's nonce counts exactly its included txs.
    let mut included = HashSet::new();
    for n in 1..=head(&node) {
        let b = block(&node, n);
        for t in b["transactions"].as_array().unwrap() {
            assert!(
                included.insert(t.as_str().unwrap().to_string()),
                "{t} included twice"
            );
        }
    }
    let sender = dev_signers(3)[2].address();
    let nonce = node.call(|c| async move { c.get_transaction_count(sender, None).await });
    let nonce = quantity(&nonce) as usize;
    assert_eq!(nonce, included.len());
    // Accepted transactions are either included or were still pooled at the crash (the
    // pool is memory only); nothing else is included.
    let accepted: HashSet<String> = accepted.lock().unwrap().iter().cloned().collect();
    assert!(included.is_subset(&accepted));
}
