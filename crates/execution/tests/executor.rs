//! Block execution against an in-memory state: transfers, contract creation, invalid txs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use verai_execution::{BlockParams, CallRequest, MemoryState, Mode, call, execute_block};
use verai_primitives::{AccountState, ChainSpec, RecoveredTx, StateKey, dev_signers};

fn genesis() -> MemoryState {
    MemoryState::genesis(&ChainSpec::dev())
}

fn modules() -> verai_primitives::ModuleSet {
    verai_primitives::ModuleSet::default()
}

fn params() -> BlockParams {
    BlockParams {
        chain_id: 1337,
        number: 1,
        timestamp: 1,
        beneficiary: Address::ZERO,
        gas_limit: 30_000_000,
        base_fee: 1_000_000_000,
        prevrandao: B256::ZERO,
    }
}

fn sign(i: usize, nonce: u64, to: TxKind, value: u64, input: Vec<u8>, gas: u64) -> RecoveredTx {
    // Deriving from the mnemonic is slow in debug builds: once per test binary.
    static SIGNERS: std::sync::OnceLock<Vec<alloy_signer_local::PrivateKeySigner>> =
        std::sync::OnceLock::new();
    let signer = &SIGNERS.get_or_init(|| dev_signers(3))[i];
    let tx = TxEip1559 {
        chain_id: 1337,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 3_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to,
        value: U256::from(value),
        input: input.into(),
        ..Default::default()
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    RecoveredTx::recover(TxEnvelope::from(tx.into_signed(sig))).unwrap()
}

fn account(m: &MemoryState, c: &verai_primitives::Changeset, a: Address) -> AccountState {
    let raw = c
        .get(&StateKey::Account(a))
        .cloned()
        .flatten()
        .or_else(|| m.0.get(&StateKey::Account(a)).cloned());
    raw.map(|r| AccountState::decode(&r).unwrap())
        .unwrap_or_default()
}

#[test]
fn transfer_moves_value_and_charges_gas() {
    let state = genesis();
    let to = Address::repeat_byte(0x42);
    let tx = sign(0, 0, TxKind::Call(to), 1000, vec![], 21_000);
    let from = tx.sender;
    let before = account(&state, &Default::default(), from).balance;
    let out = execute_block(&state, &params(), &modules(), [tx], Mode::Verify).unwrap();
    assert_eq!(out.gas_used, 21_000);
    assert_eq!(out.receipts.len(), 1);
    assert_eq!(
        account(&state, &out.changeset, to).balance,
        U256::from(1000)
    );
    let sender = account(&state, &out.changeset, from);
    assert_eq!(sender.nonce, 1);
    // base fee 1 gwei + tip 1 gwei
    assert_eq!(
        before - sender.balance,
        U256::from(1000u64 + 21_000 * 2_000_000_000)
    );
}

#[test]
fn invalid_nonce_skipped_in_build_and_fatal_in_verify() {
    let state = genesis();
    let good = sign(0, 0, TxKind::Call(Address::ZERO), 1, vec![], 21_000);
    let bad = sign(1, 5, TxKind::Call(Address::ZERO), 1, vec![], 21_000);
    let built = execute_block(
        &state,
        &params(),
        &modules(),
        [good.clone(), bad.clone()],
        Mode::Build,
    )
    .unwrap();
    assert_eq!(built.transactions.len(), 1);
    assert_eq!(built.rejected.len(), 1);
    assert_eq!(built.rejected[0].hash, bad.hash);
    assert!(execute_block(&state, &params(), &modules(), [good, bad], Mode::Verify).is_err());
}

#[test]
fn deploys_contract_and_reads_storage_with_call() {
    // init code: store 0x2a at slot 0, return runtime that returns slot 0.
    // runtime: PUSH1 0 SLOAD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
    let runtime = hex_bytes("600054600052602060 00f3".replace(' ', "").as_str());
    let mut init = hex_bytes("602a600055"); // PUSH1 42 PUSH1 0 SSTORE
    // PUSH1 len PUSH1 offset PUSH1 0 CODECOPY PUSH1 len PUSH1 0 RETURN
    let offset = 5 + 12;
    init.extend(hex_bytes(
        &format!(
            "60{:02x}60{:02x}600039 60{:02x}6000f3",
            runtime.len(),
            offset,
            runtime.len()
        )
        .replace(' ', ""),
    ));
    init.extend(&runtime);
    let tx = sign(0, 0, TxKind::Create, 0, init, 200_000);
    let sender = tx.sender;
    let out = execute_block(&genesis(), &params(), &modules(), [tx], Mode::Verify).unwrap();
    let created = out.receipts[0].contract_address.expect("created");
    assert_eq!(created, sender.create(0));
    assert!(out.receipts[0].receipt.is_success());
    assert_eq!(
        out.changeset
            .get(&StateKey::Storage(created, U256::ZERO))
            .cloned()
            .flatten()
            .map(|v| U256::from_be_slice(&v)),
        Some(U256::from(42))
    );
    // Apply and eth_call it.
    let mut state = genesis();
    state.apply(&out.changeset);
    let res = call(
        &state,
        &params(),
        &modules(),
        &CallRequest {
            to: Some(created),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(res.success);
    assert_eq!(U256::from_be_slice(&res.output), U256::from(42));
}

#[test]
fn legacy_eip155_transaction_executes() {
    let state = genesis();
    let signer = &dev_signers(1)[0];
    let tx = TxLegacy {
        chain_id: Some(1337),
        nonce: 0,
        gas_price: 2_000_000_000,
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(9)),
        value: U256::from(1),
        input: Bytes::new(),
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    let tx = RecoveredTx::recover(TxEnvelope::from(tx.into_signed(sig))).unwrap();
    let out = execute_block(&state, &params(), &modules(), [tx], Mode::Verify).unwrap();
    assert_eq!(out.receipts[0].effective_gas_price, 2_000_000_000);
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The state after block 1 deployed a contract whose every call logs `LOG2(topic 1,
/// caller)`, the contract's address, and the parameters of block 2.
fn with_logger() -> (MemoryState, Address, BlockParams) {
    let mut state = genesis();
    // Init code: store the 9-byte runtime `CALLER PUSH1 1 PUSH1 0 PUSH1 0 LOG2 STOP` and return it.
    let init = hex_bytes("6833600160006000a20060005260096017f3");
    let tx = sign(0, 0, TxKind::Create, 0, init, 200_000);
    let out = execute_block(&state, &params(), &modules(), [tx], Mode::Verify).unwrap();
    state.apply(&out.changeset);
    let mut p = params();
    p.number = 2;
    (state, out.receipts[0].contract_address.unwrap(), p)
}

/// `n` calls to `to`, round-robin over the three dev signers (signer 0 already used nonce 0).
fn logger_calls(to: Address, n: usize) -> Vec<RecoveredTx> {
    let mut nonces = [1u64, 0, 0];
    (0..n)
        .map(|k| {
            let i = k % 3;
            nonces[i] += 1;
            sign(i, nonces[i] - 1, TxKind::Call(to), 0, vec![], 60_000)
        })
        .collect()
}

#[test]
fn large_blocks_seal_receipts_like_alloy_in_both_modes() {
    let (state, logger, p) = with_logger();
    // Past the size where receipts are sealed on a helper thread, across the 127/128 keys.
    let txs = logger_calls(logger, 300);
    let verify = execute_block(&state, &p, &modules(), txs.clone(), Mode::Verify).unwrap();
    let build = execute_block(&state, &p, &modules(), txs, Mode::Build).unwrap();
    let envelopes: Vec<_> = verify.receipts.iter().map(|r| r.receipt.clone()).collect();
    assert_eq!(verify.receipts.len(), 300);
    assert_eq!(
        verify.receipts_root,
        verai_primitives::receipts_root(&envelopes)
    );
    assert_eq!(verify.logs_bloom, verai_primitives::logs_bloom(&envelopes));
    assert_ne!(verify.logs_bloom, alloy_primitives::Bloom::ZERO);
    for r in &verify.receipts {
        assert_eq!(r.receipt.logs().len(), 1);
        let caller = r.from.into_word();
        assert!(
            r.receipt
                .logs_bloom()
                .contains_input(alloy_primitives::BloomInput::Raw(caller.as_slice()))
        );
    }
    assert_eq!(build.receipts_root, verify.receipts_root);
    assert_eq!(build.logs_bloom, verify.logs_bloom);
    assert_eq!(build.changeset, verify.changeset);
}

#[test]
fn large_block_with_a_bad_transaction_midway() {
    let (state, logger, p) = with_logger();
    let mut txs = logger_calls(logger, 150);
    // A nonce from the future at position 100.
    txs[100] = sign(1, 999, TxKind::Call(logger), 0, vec![], 60_000);
    assert!(matches!(
        execute_block(&state, &p, &modules(), txs.clone(), Mode::Verify),
        Err(verai_execution::ExecutionError::InvalidTransaction { .. })
    ));
    let built = execute_block(&state, &p, &modules(), txs, Mode::Build).unwrap();
    // Signer 1's later transactions are refused too (their nonces now have a gap).
    assert!(built.rejected.iter().all(|r| r.invalid));
    let envelopes: Vec<_> = built.receipts.iter().map(|r| r.receipt.clone()).collect();
    assert_eq!(built.receipts.len() + built.rejected.len(), 150);
    assert_eq!(
        built.receipts_root,
        verai_primitives::receipts_root(&envelopes)
    );
    assert_eq!(built.logs_bloom, verai_primitives::logs_bloom(&envelopes));
}
