//! End-to-end tests with real Ethereum clients: Foundry's `cast` and ethers v6
//! (under node's test runner) against a fresh `verai node --dev` per test.
//!
//! Set-up (installs cast, anvil, ethers and solc-js into tests/e2e/node_modules):
//!     scripts/test.sh                       # everything, as CI runs it
//!     cargo nextest run -p verai --test e2e_clients
//! Against anvil instead of verai (the reference behaviour):
//!     VERAI_E2E_NODE=anvil cargo nextest run -p verai --test e2e_clients

mod common;

use common::{
    CHAIN_ID, DEV_ADDR_0, DEV_ADDR_1, DEV_KEY_0, Node, TRANSFER_TOPIC, command_timeout, e2e_dir,
    quantity, require_node_tools, run_with_timeout, token_artifact,
};
use std::process::Command;

/// 10 000 ether in wei: the balance of every funded dev account at genesis.
const DEV_BALANCE_WEI: u128 = 10_000 * 10u128.pow(18);

/// An address nobody has used: unique per call, never a precompile.
fn fresh_address() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "0xe2e0{:016x}{:08x}{:012x}",
        nanos as u64,
        std::process::id(),
        n
    )
}

/// A 32-byte topic holding an address (an indexed `address` event argument).
fn address_topic(addr: &str) -> String {
    format!(
        "0x{:0>64}",
        addr.trim_start_matches("0x").to_ascii_lowercase()
    )
}

/// `cast call ... (uint256)` prints `123` or `1000 [1e3]`: the first word.
fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}

#[test]
fn cast_chain_id_block_and_dev_balances() {
    let node = Node::start();
    assert_eq!(node.cast(&["chain-id"]), CHAIN_ID.to_string());
    // Fresh chain: account 0 has sent nothing yet.
    assert_eq!(
        node.cast(&["balance", DEV_ADDR_0]),
        DEV_BALANCE_WEI.to_string()
    );
    assert_eq!(
        node.cast(&["balance", "--ether", DEV_ADDR_1]),
        "10000.000000000000000000"
    );
    assert_eq!(node.cast(&["nonce", DEV_ADDR_0]), "0");
    let number: u64 = node
        .cast(&["block-number"])
        .parse()
        .expect("block number is an integer");
    let block = node.cast_json(&["block", "latest", "--json"]);
    assert_eq!(quantity(&block["number"]) as u64, number);
    assert!(
        block["hash"].as_str().is_some_and(|h| h.len() == 66),
        "block hash: {block}"
    );
    assert!(
        block.get("baseFeePerGas").is_some(),
        "EIP-1559 block: {block}"
    );
}

#[test]
fn cast_send_value_to_fresh_address() {
    let node = Node::start();
    let to = fresh_address();
    assert_eq!(node.cast(&["balance", &to]), "0");

    let receipt = node.cast_json(&[
        "send",
        "--private-key",
        DEV_KEY_0,
        "--value",
        "1.5ether",
        &to,
        "--json",
    ]);
    assert_eq!(receipt["status"], "0x1", "receipt: {receipt}");
    assert_eq!(quantity(&receipt["gasUsed"]), 21_000);
    assert_eq!(
        receipt["to"].as_str().map(str::to_ascii_lowercase),
        Some(to.to_ascii_lowercase())
    );
    let hash = receipt["transactionHash"]
        .as_str()
        .expect("transactionHash");

    assert_eq!(node.cast(&["balance", &to]), "1500000000000000000");
    assert_eq!(node.cast(&["nonce", DEV_ADDR_0]), "1");

    // The same transaction and receipt, fetched again.
    let tx = node.cast_json(&["tx", hash, "--json"]);
    assert_eq!(quantity(&tx["value"]), 1_500_000_000_000_000_000);
    assert_eq!(tx["blockHash"], receipt["blockHash"]);
    let again = node.cast_json(&["receipt", hash, "--json"]);
    assert_eq!(again["blockNumber"], receipt["blockNumber"]);

    // Sender paid exactly value + gasUsed * effectiveGasPrice.
    let spent = DEV_BALANCE_WEI
        - node
            .cast(&["balance", DEV_ADDR_0])
            .parse::<u128>()
            .expect("balance");
    let fee = quantity(&receipt["gasUsed"]) * quantity(&receipt["effectiveGasPrice"]);
    assert_eq!(spent, 1_500_000_000_000_000_000 + fee);
}

#[test]
fn cast_erc20_deploy_transfer_and_logs() {
    let node = Node::start();
    let artifact = token_artifact();
    let bytecode = artifact["bytecode"].as_str().expect("bytecode");
    let supply = 1_000_000u128 * 10u128.pow(18);
    let supply_s = supply.to_string();

    // Deploy with constructor arguments; cast waits for the receipt.
    let deploy = node.cast_json(&[
        "send",
        "--private-key",
        DEV_KEY_0,
        "--json",
        "--create",
        bytecode,
        "constructor(string,string,uint256)",
        "Verai Token",
        "VRT",
        &supply_s,
    ]);
    assert_eq!(deploy["status"], "0x1", "deploy receipt: {deploy}");
    let token = deploy["contractAddress"]
        .as_str()
        .expect("contractAddress in the deployment receipt")
        .to_string();
    assert_eq!(
        node.cast(&["code", &token]),
        artifact["deployedBytecode"]
            .as_str()
            .expect("deployedBytecode")
    );
    assert_eq!(
        node.cast(&["call", &token, "name()(string)"]),
        "\"Verai Token\""
    );
    assert_eq!(node.cast(&["call", &token, "decimals()(uint8)"]), "18");
    assert_eq!(
        first_word(&node.cast(&["call", &token, "totalSupply()(uint256)"])),
        supply_s
    );
    assert_eq!(
        first_word(&node.cast(&["call", &token, "balanceOf(address)(uint256)", DEV_ADDR_0])),
        supply_s
    );

    // Transfer without waiting, then let `cast receipt` wait for it.
    let amount = 250u128 * 10u128.pow(18);
    let amount_s = amount.to_string();
    let hash = node.cast(&[
        "send",
        "--private-key",
        DEV_KEY_0,
        "--async",
        &token,
        "transfer(address,uint256)",
        DEV_ADDR_1,
        &amount_s,
    ]);
    assert!(
        hash.starts_with("0x") && hash.len() == 66,
        "tx hash: {hash}"
    );
    let receipt = node.cast_json(&["receipt", &hash, "--json"]);
    assert_eq!(receipt["status"], "0x1", "receipt: {receipt}");
    let logs = receipt["logs"].as_array().expect("receipt logs");
    assert_eq!(logs.len(), 1, "one Transfer log: {receipt}");
    let log = &logs[0];
    assert_eq!(
        log["address"].as_str().map(str::to_ascii_lowercase),
        Some(token.to_ascii_lowercase())
    );
    assert_eq!(log["topics"][0], TRANSFER_TOPIC);
    assert_eq!(log["topics"][1], address_topic(DEV_ADDR_0));
    assert_eq!(log["topics"][2], address_topic(DEV_ADDR_1));
    assert_eq!(quantity(&log["data"]), amount);

    assert_eq!(
        first_word(&node.cast(&["call", &token, "balanceOf(address)(uint256)", DEV_ADDR_1])),
        amount_s
    );
    assert_eq!(
        first_word(&node.cast(&["call", &token, "balanceOf(address)(uint256)", DEV_ADDR_0])),
        (supply - amount).to_string()
    );

    // `cast logs` by address and event signature: the mint and the transfer.
    let all = node.cast_json(&[
        "logs",
        "--from-block",
        "0",
        "--to-block",
        "latest",
        "--address",
        &token,
        "Transfer(address,address,uint256)",
        "--json",
    ]);
    let all = all.as_array().expect("array of logs");
    assert_eq!(all.len(), 2, "mint + transfer: {all:?}");
    assert_eq!(all[0]["topics"][1], address_topic("0x0"));
    assert_eq!(all[0]["transactionHash"], deploy["transactionHash"]);
    assert_eq!(all[1]["transactionHash"].as_str(), Some(hash.as_str()));

    // Raw eth_getLogs through `cast rpc`, filtered by address, topic0 and the
    // indexed recipient.
    let filter = serde_json::json!({
        "fromBlock": "0x0",
        "toBlock": "latest",
        "address": token,
        "topics": [TRANSFER_TOPIC, null, address_topic(DEV_ADDR_1)],
    });
    let get_logs = verai_client::api::wire::GET_LOGS;
    let filtered = node.cast_json(&["rpc", get_logs, &filter.to_string()]);
    let filtered = filtered.as_array().expect("array of logs");
    assert_eq!(
        filtered.len(),
        1,
        "only the transfer to account 1: {filtered:?}"
    );
    assert_eq!(filtered[0]["transactionHash"].as_str(), Some(hash.as_str()));
    assert_eq!(filtered[0]["blockNumber"], receipt["blockNumber"]);
    assert_eq!(quantity(&filtered[0]["data"]), amount);
    // And a filter that matches nothing returns an empty list.
    let none = serde_json::json!({
        "fromBlock": "0x0",
        "address": token,
        "topics": [TRANSFER_TOPIC, address_topic(DEV_ADDR_1)],
    });
    assert_eq!(
        node.cast_json(&["rpc", get_logs, &none.to_string()]),
        serde_json::json!([])
    );

    // The same through Verai's typed client, to cross-check cast.
    let number = quantity(&receipt["blockNumber"]) as u64;
    let block = node.call(|c| async move {
        use verai_client::api::EthApiClient;
        c.get_block_by_number(alloy_eips::BlockNumberOrTag::Number(number), false)
            .await
    });
    let txs = block["transactions"]
        .as_array()
        .expect("transaction hashes");
    assert!(
        txs.iter().any(|t| t.as_str() == Some(hash.as_str())),
        "block lists the tx: {block}"
    );

    // A reverting transfer is refused at estimation, with the custom error.
    let out = node.cast_output(&[
        "send",
        "--private-key",
        DEV_KEY_0,
        &token,
        "transfer(address,uint256)",
        DEV_ADDR_1,
        &(supply * 2).to_string(),
    ]);
    assert!(
        !out.status.success(),
        "over-spend must fail: {}",
        out.stdout
    );
    assert!(
        out.stderr.contains("revert") || out.stderr.contains("0xdb42144d"),
        "error mentions the revert: {}",
        out.stderr
    );
}

#[test]
fn ethers_client_suite() {
    require_node_tools();
    let node = Node::start();
    let dir = e2e_dir();
    let mut cmd = Command::new("node");
    cmd.current_dir(&dir)
        .args(["--test", "--test-reporter=spec", "ethers.test.mjs"])
        .env("RPC_URL", &node.rpc_url)
        .env("EXPECTED_CHAIN_ID", CHAIN_ID.to_string())
        .env("NO_COLOR", "1");
    let out = run_with_timeout(&mut cmd, command_timeout());
    assert!(
        out.status.success(),
        "ethers suite failed ({}):\n{}\n{}\n--- node log ---\n{}",
        out.status,
        out.stdout,
        out.stderr,
        node.log_tail()
    );
    println!("{}", out.stdout);
}

#[test]
fn contract_artifact_is_fresh() {
    require_node_tools();
    let mut cmd = Command::new("node");
    cmd.arg(e2e_dir().join("compile.mjs")).arg("--check");
    let out = run_with_timeout(&mut cmd, command_timeout());
    assert!(
        out.status.success(),
        "contracts/out is stale or missing; run `node tests/e2e/compile.mjs` and commit:\n{}{}",
        out.stdout,
        out.stderr
    );
}
