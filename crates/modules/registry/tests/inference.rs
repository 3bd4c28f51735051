//! The inference module through the executor: a model is checked and registered (in
//! provenance too), `infer` writes an audit record, re-executing a block gives the same
//! bytes, `eth_call` `predict` agrees with the recorded output, and a bad model or input is
//! refused with its reason and writes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{Address, B256, I256, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_sol_types::{SolCall, SolError, SolEvent};
use verai_execution::{BlockParams, CallRequest, MemoryState, Mode, call, execute_block};
use verai_inference_module::{ADDRESS, IInference, gas_per_call};
use verai_primitives::{ChainSpec, RecoveredTx, StateKey, dev_signers};
use verai_provenance::IProvenance;

fn modules() -> verai_primitives::ModuleSet {
    verai_modules::native_modules()
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

fn tx(nonce: u64, input: Vec<u8>) -> RecoveredTx {
    let signer = &dev_signers(1)[0];
    let tx = TxEip1559 {
        chain_id: 1337,
        nonce,
        gas_limit: 8_000_000,
        max_fee_per_gas: 3_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(ADDRESS),
        input: input.into(),
        ..Default::default()
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    RecoveredTx::recover(TxEnvelope::from(tx.into_signed(sig))).unwrap()
}

fn repo_file(rel: &str) -> Vec<u8> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    std::fs::read(dir.join("../../..").join(rel)).unwrap()
}

fn register(onnx: Vec<u8>) -> Vec<u8> {
    IInference::registerModelCall {
        onnx: onnx.into(),
        uri: "blob:demo".into(),
        license: "MIT".into(),
        parents: vec![],
    }
    .abi_encode()
}

fn fixed(v: &[i64]) -> Vec<I256> {
    v.iter().map(|x| I256::try_from(*x).unwrap()).collect()
}

fn writes_of(c: &verai_primitives::Changeset, a: Address) -> usize {
    c.keys()
        .filter(|k| matches!(k, StateKey::Storage(x, _) if *x == a))
        .count()
}

fn eth_call(state: &MemoryState, input: Vec<u8>) -> verai_execution::CallOutcome {
    let req = CallRequest {
        from: Some(dev_signers(1)[0].address()),
        to: Some(ADDRESS),
        input: input.into(),
        ..Default::default()
    };
    call(state, &params(9), &modules(), &req).unwrap()
}

#[test]
fn register_infer_and_audit() {
    let mut state = MemoryState::genesis(&ChainSpec::dev());
    let onnx = repo_file("models/demand_forecast.onnx");
    let out = execute_block(
        &state,
        &params(1),
        &modules(),
        [tx(0, register(onnx.clone()))],
        Mode::Verify,
    )
    .unwrap();
    let r = &out.receipts[0].receipt;
    assert!(r.status());
    // Provenance's RecordRegistered, then the module's ModelRegistered.
    let topics: Vec<B256> = r.logs().iter().map(|l| l.topics()[0]).collect();
    assert_eq!(
        topics,
        vec![
            IProvenance::RecordRegistered::SIGNATURE_HASH,
            IInference::ModelRegistered::SIGNATURE_HASH
        ]
    );
    // The bytes are stored: a word per 32 bytes, plus metadata.
    assert!(writes_of(&out.changeset, ADDRESS) >= onnx.len() / 32);
    assert!(writes_of(&out.changeset, verai_provenance::ADDRESS) > 5);
    state.apply(&out.changeset);

    let info = eth_call(&state, IInference::getModelCall { modelId: 1 }.abi_encode());
    let info = IInference::getModelCall::abi_decode_returns(&info.output).unwrap();
    assert_eq!(info.contentHash, B256::from(verai_inference::sha256(&onnx)));
    assert_eq!(
        (info.inputShape.clone(), info.outputShape.clone()),
        (vec![1, 8], vec![1, 1])
    );
    assert_eq!(info.gasPerCall, gas_per_call(info.ops));
    let stored = eth_call(
        &state,
        IInference::modelBytesCall { modelId: 1 }.abi_encode(),
    );
    assert_eq!(
        IInference::modelBytesCall::abi_decode_returns(&stored.output)
            .unwrap()
            .to_vec(),
        onnx
    );

    // Seven days of sales (hundreds of units) and a promotion flag.
    let input = fixed(&[
        2_400_000, 2_700_000, 3_000_000, 3_000_000, 3_600_000, 4_800_000, 4_200_000, 1_000_000,
    ]);
    let infer = IInference::inferCall {
        modelId: 1,
        input: input.clone(),
    }
    .abi_encode();
    let block = [tx(1, infer.clone())];
    let a = execute_block(&state, &params(2), &modules(), block.clone(), Mode::Verify).unwrap();
    let b = execute_block(&state, &params(2), &modules(), block, Mode::Verify).unwrap();
    assert!(a.receipts[0].receipt.status());
    assert_eq!(
        a.changeset, b.changeset,
        "re-execution writes the same bytes"
    );
    assert_eq!(a.receipts, b.receipts);
    let logs = a.receipts[0].receipt.logs();
    let rec = logs
        .iter()
        .find(|l| l.topics()[0] == IInference::InferenceRecorded::SIGNATURE_HASH)
        .unwrap();
    let ev = IInference::InferenceRecorded::decode_log_data(&rec.data).unwrap();
    assert_eq!((ev.id, ev.modelId), (1, 1));
    let output = verai_inference::f32_values(&ev.output).unwrap();
    state.apply(&a.changeset);

    // The audit record matches the log; predict (a view) returns the same numbers.
    let got = eth_call(&state, IInference::getInferenceCall { id: 1 }.abi_encode());
    let rec = IInference::getInferenceCall::abi_decode_returns(&got.output).unwrap();
    assert_eq!(rec.modelHash, info.contentHash);
    assert_eq!(
        rec.outputHash,
        B256::from(verai_inference::tensor_hash(&output))
    );
    assert_eq!(
        rec.inputHash,
        B256::from(verai_inference::tensor_hash(
            &verai_inference::f32_values(&ev.input).unwrap()
        ))
    );
    assert_eq!(
        (rec.requester, rec.blockNumber, rec.path),
        (dev_signers(1)[0].address(), 2, 0)
    );
    let p = eth_call(
        &state,
        IInference::predictCall { modelId: 1, input }.abi_encode(),
    );
    let p = IInference::predictCall::abi_decode_returns(&p.output).unwrap();
    let expect = verai_inference::fixed::from_f32(output[0]).unwrap();
    assert_eq!(p, vec![I256::try_from(expect).unwrap()]);
    // Usage is logged in provenance against the model record.
    let n = verai_execution::call(
        &state,
        &params(9),
        &modules(),
        &CallRequest {
            to: Some(verai_provenance::ADDRESS),
            input: IProvenance::usageCountCall { id: 1 }.abi_encode().into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        IProvenance::usageCountCall::abi_decode_returns(&n.output).unwrap(),
        1
    );
}

#[test]
fn bad_models_and_inputs_are_refused_and_write_nothing() {
    let mut state = MemoryState::genesis(&ChainSpec::dev());
    let softmax = repo_file("crates/ai/inference/tests/fixtures/softmax.onnx");
    let got = eth_call(&state, register(softmax.clone()));
    assert!(!got.success);
    let err = IInference::ModelRejected::abi_decode(&got.output).unwrap();
    assert!(
        err.reason.contains("unsupported operator Softmax"),
        "{}",
        err.reason
    );
    let out = execute_block(
        &state,
        &params(1),
        &modules(),
        [
            tx(0, register(softmax)),
            tx(1, register(b"not onnx".to_vec())),
            tx(2, register(repo_file("models/demand_forecast.onnx"))),
        ],
        Mode::Verify,
    )
    .unwrap();
    assert!(!out.receipts[0].receipt.status() && !out.receipts[1].receipt.status());
    assert!(out.receipts[0].receipt.logs().is_empty() && out.receipts[1].receipt.logs().is_empty());
    assert!(out.receipts[2].receipt.status());
    state.apply(&out.changeset);
    // Only the good model was registered: it got record id 1.
    let got = eth_call(&state, IInference::getModelCall { modelId: 1 }.abi_encode());
    assert!(got.success);

    for (input, want) in [
        (
            IInference::inferCall {
                modelId: 1,
                input: fixed(&[1; 7]),
            }
            .abi_encode(),
            "takes 8 input values, got 7",
        ),
        (
            IInference::inferCall {
                modelId: 7,
                input: fixed(&[1; 8]),
            }
            .abi_encode(),
            "UnknownModel",
        ),
        (
            IInference::inferRawCall {
                modelId: 1,
                input: vec![0u8; 31].into(),
            }
            .abi_encode(),
            "multiple of 4",
        ),
    ] {
        let got = eth_call(&state, input.clone());
        assert!(!got.success);
        let reason = IInference::BadInput::abi_decode(&got.output)
            .map(|e| e.reason)
            .unwrap_or_else(|_| {
                IInference::UnknownModel::abi_decode(&got.output)
                    .map(|_| "UnknownModel".to_string())
                    .unwrap()
            });
        assert!(reason.contains(want), "{reason}");
        let out =
            execute_block(&state, &params(2), &modules(), [tx(3, input)], Mode::Verify).unwrap();
        assert!(!out.receipts[0].receipt.status());
        assert_eq!(writes_of(&out.changeset, ADDRESS), 0);
        assert_eq!(writes_of(&out.changeset, verai_provenance::ADDRESS), 0);
    }
    let _ = U256::ZERO;
}
