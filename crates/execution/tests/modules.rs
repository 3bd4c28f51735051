//! Native modules through the executor: the provenance registry's writes reach the
//! changeset, a refused call rolls back to nothing, `eth_call` and `estimateGas` see the
//! same module, and value or delegate calls are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{Address, B256, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_sol_types::SolCall;
use verai_execution::{
    BlockParams, CallRequest, MemoryState, Mode, call, estimate_gas, execute_block,
};
use verai_primitives::{ChainSpec, RecoveredTx, StateKey, dev_signers};
use verai_provenance::{ADDRESS, IProvenance, layout};

fn modules() -> verai_primitives::ModuleSet {
    verai_primitives::ModuleSet::new(vec![std::sync::Arc::new(verai_provenance::Provenance)])
}

fn params(number: u64) -> BlockParams {
    BlockParams {
        chain_id: 1337,
        number,
        timestamp: 100 + number,
        beneficiary: Address::ZERO,
        gas_limit: 30_000_000,
        base_fee: 1_000_000_000,
        prevrandao: B256::ZERO,
    }
}

fn tx(nonce: u64, input: Vec<u8>, value: u64) -> RecoveredTx {
    let signer = &dev_signers(1)[0];
    let tx = TxEip1559 {
        chain_id: 1337,
        nonce,
        gas_limit: 2_000_000,
        max_fee_per_gas: 3_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(ADDRESS),
        value: U256::from(value),
        input: input.into(),
        ..Default::default()
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    RecoveredTx::recover(TxEnvelope::from(tx.into_signed(sig))).unwrap()
}

fn register(hash: u8, parents: Vec<u64>) -> Vec<u8> {
    IProvenance::registerCall {
        kind: 0,
        contentHash: B256::repeat_byte(hash),
        uri: "u".into(),
        license: "MIT".into(),
        contributors: vec![],
        parents,
    }
    .abi_encode()
}

fn module_writes(c: &verai_primitives::Changeset) -> usize {
    c.keys()
        .filter(|k| matches!(k, StateKey::Storage(a, _) if *a == ADDRESS))
        .count()
}

#[test]
fn registry_through_the_executor() {
    let mut state = MemoryState::genesis(&ChainSpec::dev());
    let out = execute_block(
        &state,
        &params(1),
        &modules(),
        [tx(0, register(1, vec![]), 0)],
        Mode::Verify,
    )
    .unwrap();
    assert!(out.receipts[0].receipt.status());
    let logs = out.receipts[0].receipt.logs();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].address, ADDRESS);
    assert_eq!(
        logs[0].topics()[0],
        <IProvenance::RecordRegistered as alloy_sol_types::SolEvent>::SIGNATURE_HASH
    );
    assert!(module_writes(&out.changeset) > 5);
    // The module account exists (nonce 1), so EIP-161 cannot drop its storage.
    assert!(
        out.changeset
            .get(&StateKey::Account(ADDRESS))
            .unwrap()
            .is_some()
    );
    state.apply(&out.changeset);

    // Refused calls (unknown parent, duplicate, value sent) are included as failed
    // transactions and write nothing of the module's.
    let bad = [
        tx(1, register(2, vec![7]), 0),
        tx(2, register(1, vec![]), 0),
        tx(3, register(3, vec![]), 1),
    ];
    let out = execute_block(&state, &params(2), &modules(), bad, Mode::Verify).unwrap();
    assert!(
        out.receipts
            .iter()
            .all(|r| !r.receipt.status() && r.receipt.logs().is_empty())
    );
    assert_eq!(module_writes(&out.changeset), 0);
    state.apply(&out.changeset);

    // eth_call reads the same state; estimateGas finds a limit that works.
    let req = CallRequest {
        to: Some(ADDRESS),
        input: IProvenance::getRecordCall { id: 1 }.abi_encode().into(),
        ..Default::default()
    };
    let got = call(&state, &params(3), &modules(), &req).unwrap();
    assert!(got.success);
    let r = IProvenance::getRecordCall::abi_decode_returns(&got.output).unwrap();
    assert_eq!((r.id, r.blockNumber, r.timestamp), (1, 1, 101));
    let req = CallRequest {
        from: Some(dev_signers(1)[0].address()),
        to: Some(ADDRESS),
        input: register(9, vec![1]).into(),
        ..Default::default()
    };
    let gas = estimate_gas(&state, &params(3), &modules(), &req)
        .unwrap()
        .unwrap();
    let out = execute_block(
        &state,
        &params(3),
        &modules(),
        [{
            let signer = &dev_signers(1)[0];
            let t = TxEip1559 {
                chain_id: 1337,
                nonce: 4,
                gas_limit: gas,
                max_fee_per_gas: 3_000_000_000,
                max_priority_fee_per_gas: 1_000_000_000,
                to: TxKind::Call(ADDRESS),
                input: register(9, vec![1]).into(),
                ..Default::default()
            };
            let sig = signer.sign_hash_sync(&t.signature_hash()).unwrap();
            RecoveredTx::recover(TxEnvelope::from(t.into_signed(sig))).unwrap()
        }],
        Mode::Verify,
    )
    .unwrap();
    assert!(
        out.receipts[0].receipt.status(),
        "the estimate ({gas}) is enough"
    );
    state.apply(&out.changeset);
    let count = state
        .0
        .get(&StateKey::Storage(ADDRESS, layout::count()))
        .unwrap();
    assert_eq!(U256::from_be_slice(count), U256::from(2));
}
