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
    let signer = &dev_signers(3)[i];
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
    let out = execute_block(&state, &params(), [tx], Mode::Verify).unwrap();
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
    let built = execute_block(&state, &params(), [good.clone(), bad.clone()], Mode::Build).unwrap();
    assert_eq!(built.transactions.len(), 1);
    assert_eq!(built.rejected.len(), 1);
    assert_eq!(built.rejected[0].hash, bad.hash);
    assert!(execute_block(&state, &params(), [good, bad], Mode::Verify).is_err());
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
    let out = execute_block(&genesis(), &params(), [tx], Mode::Verify).unwrap();
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
    let out = execute_block(&state, &params(), [tx], Mode::Verify).unwrap();
    assert_eq!(out.receipts[0].effective_gas_price, 2_000_000_000);
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
