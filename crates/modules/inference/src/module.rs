//! The native module: decodes a call, checks it, runs the model, writes the audit record.

use crate::{
    ADDRESS, IInference, IInference::IInferenceCalls, MAX_RANK, Path, gas_per_call, layout,
};
use alloy_primitives::{Address, B256, Bytes, I256, U256};
use alloy_sol_types::{SolCall, SolError, SolEvent, SolInterface};
use std::sync::{Arc, OnceLock};
use verai_inference::{Model, ModelCache, RunError, f32_bytes, f32_values, fixed, tensor_hash};
use verai_primitives::{Host, ModuleError, NativeModule, module::gas, with_module};
use verai_provenance::Kind;

/// The inference module.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inference;

/// The node-wide cache of compiled models and outputs (content-addressed, so every executor
/// and `eth_call` can share it).
pub fn model_cache() -> &'static ModelCache {
    static CACHE: OnceLock<ModelCache> = OnceLock::new();
    CACHE.get_or_init(ModelCache::default)
}

fn revert(e: impl SolError) -> ModuleError {
    ModuleError::Revert(e.abi_encode().into())
}

fn bad_input(reason: impl Into<String>) -> ModuleError {
    revert(IInference::BadInput {
        reason: reason.into(),
    })
}

fn words(len: usize) -> u64 {
    (len as u64).div_ceil(32)
}

impl NativeModule for Inference {
    fn address(&self) -> Address {
        ADDRESS
    }

    fn name(&self) -> &'static str {
        "inference"
    }

    fn explain(&self, data: &[u8]) -> Option<String> {
        crate::explain(data)
    }

    fn call(&self, host: &mut dyn Host, input: &[u8]) -> Result<Bytes, ModuleError> {
        let call = match IInferenceCalls::abi_decode(input) {
            Ok(c) => c,
            Err(_) => {
                let mut sel = [0u8; 4];
                let n = input.len().min(4);
                sel[..n].copy_from_slice(&input[..n]);
                return Err(revert(IInference::UnknownSelector {
                    selector: sel.into(),
                }));
            }
        };
        let paid = matches!(
            call,
            IInferenceCalls::infer(_)
                | IInferenceCalls::inferRaw(_)
                | IInferenceCalls::recordOracle(_)
        );
        if !paid && !host.value().is_zero() {
            return Err(revert(IInference::ValueNotAccepted {}));
        }
        use IInferenceCalls as C;
        Ok(match call {
            C::registerModel(c) => {
                let id = register_model(host, &c.onnx, &c.uri, &c.license, &c.parents)?;
                IInference::registerModelCall::abi_encode_returns(&id).into()
            }
            C::infer(c) => {
                let x = from_fixed(&c.input)?;
                let (out, id) = infer(host, c.modelId, &x, Path::Consensus)?;
                let output = to_fixed(&out)?;
                IInference::inferCall::abi_encode_returns(&IInference::inferReturn {
                    output,
                    inferenceId: id,
                })
                .into()
            }
            C::inferRaw(c) => {
                let x = f32_values(&c.input)
                    .ok_or_else(|| bad_input("input length is not a multiple of 4 bytes"))?;
                let (out, id) = infer(host, c.modelId, &x, Path::Consensus)?;
                IInference::inferRawCall::abi_encode_returns(&IInference::inferRawReturn {
                    output: f32_bytes(&out).into(),
                    inferenceId: id,
                })
                .into()
            }
            C::predict(c) => {
                let x = from_fixed(&c.input)?;
                let model = load(host, c.modelId)?;
                host.charge(gas_per_call(model.ops()))?;
                let out = run(&model, &x)?;
                IInference::predictCall::abi_encode_returns(&to_fixed(&out)?).into()
            }
            C::recordOracle(c) => {
                let id = record_oracle(host, c.modelId, c.inputHash, c.outputHash, c.requester)?;
                IInference::recordOracleCall::abi_encode_returns(&id).into()
            }
            C::getModel(c) => {
                IInference::getModelCall::abi_encode_returns(&model_info(host, c.modelId)?).into()
            }
            C::modelBytes(c) => {
                let (size, _) = meta(host, c.modelId)?;
                host.charge(words(size as usize).saturating_mul(gas::SLOAD))?;
                let bytes = read_bytes(host, c.modelId, size)?;
                IInference::modelBytesCall::abi_encode_returns(&Bytes::from(bytes)).into()
            }
            C::inferenceCount(_) => {
                let n = host.sload(layout::count())?.saturating_to::<u64>();
                IInference::inferenceCountCall::abi_encode_returns(&n).into()
            }
            C::getInference(c) => {
                IInference::getInferenceCall::abi_encode_returns(&record(host, c.id)?).into()
            }
        })
    }
}

/// Check the model, register it in provenance, store its bytes and metadata.
fn register_model(
    host: &mut dyn Host,
    onnx: &[u8],
    uri: &str,
    license: &str,
    parents: &[u64],
) -> Result<u64, ModuleError> {
    host.charge(words(onnx.len()).saturating_mul(gas::HASH_WORD))?;
    let model = Model::load(onnx).map_err(|e| {
        revert(IInference::ModelRejected {
            reason: e.to_string(),
        })
    })?;
    let rank_ok = |s: &[usize]| s.len() <= MAX_RANK && s.iter().all(|d| u32::try_from(*d).is_ok());
    if !rank_ok(model.input_shape()) || !rank_ok(model.output_shape()) {
        return Err(revert(IInference::ModelRejected {
            reason: format!("tensors of rank above {MAX_RANK} are not supported"),
        }));
    }
    let hash = B256::from(model.hash());
    let id = with_module(host, verai_provenance::ADDRESS, |h| {
        verai_provenance::register(h, Kind::Model, hash, uri, license, &[], parents)
    })?;
    let dims = |s: &[usize]| s.iter().map(|d| *d as u32).collect::<Vec<_>>();
    host.sstore(
        layout::model(id),
        layout::pack_model(onnx.len() as u32, model.ops()),
    )?;
    host.sstore(layout::model_hash(id), U256::from_be_bytes(hash.0))?;
    host.sstore(
        layout::shape(id, 0),
        layout::pack_shape(&dims(model.input_shape())),
    )?;
    host.sstore(
        layout::shape(id, 1),
        layout::pack_shape(&dims(model.output_shape())),
    )?;
    let base = layout::bytes(id);
    for (i, chunk) in onnx.chunks(32).enumerate() {
        let mut w = [0u8; 32];
        w[..chunk.len()].copy_from_slice(chunk);
        host.sstore_immutable(base + U256::from(i), U256::from_be_bytes(w))?;
    }
    let ops = model.ops();
    model_cache().insert(Arc::new(model));
    emit(
        host,
        IInference::ModelRegistered {
            modelId: id,
            contentHash: hash,
            ops,
        },
    )?;
    Ok(id)
}

/// Size and ops of a registered model.
fn meta(host: &mut dyn Host, id: u64) -> Result<(u32, u64), ModuleError> {
    let v = host.sload(layout::model(id))?;
    if v.is_zero() {
        return Err(revert(IInference::UnknownModel { modelId: id }));
    }
    Ok(layout::unpack_model(v))
}

fn read_bytes(host: &mut dyn Host, id: u64, size: u32) -> Result<Vec<u8>, ModuleError> {
    let base = layout::bytes(id);
    let mut out = Vec::with_capacity(size as usize + 32);
    for i in 0..words(size as usize) {
        out.extend_from_slice(&host.peek(base + U256::from(i))?.to_be_bytes::<32>());
    }
    out.truncate(size as usize);
    Ok(out)
}

/// The compiled model: from the cache, or from storage (uncharged: see the crate docs).
fn load(host: &mut dyn Host, id: u64) -> Result<Arc<Model>, ModuleError> {
    let (size, _) = meta(host, id)?;
    let hash = host.sload(layout::model_hash(id))?.to_be_bytes::<32>();
    let mut fatal = None;
    let model = model_cache().model(hash, || {
        read_bytes(host, id, size).map_err(|e| {
            let msg = e.to_string();
            fatal = Some(e);
            verai_inference::ModelError::Invalid(msg)
        })
    });
    match (model, fatal) {
        (_, Some(e)) => Err(e),
        (Ok(m), None) => Ok(m),
        // The bytes passed these checks when they were stored: the state is damaged.
        (Err(e), None) => Err(ModuleError::Fatal(format!("stored model {id}: {e}"))),
    }
}

fn run(model: &Model, input: &[f32]) -> Result<Arc<Vec<f32>>, ModuleError> {
    model_cache().run(model, input).map_err(|e| match e {
        RunError::InputLength { .. } | RunError::NonFiniteInput { .. } => bad_input(e.to_string()),
        RunError::Engine(_) => revert(IInference::InferenceFailed {
            reason: e.to_string(),
        }),
    })
}

/// Run model `id` on `input` and write the audit record; returns the output and record id.
fn infer(
    host: &mut dyn Host,
    id: u64,
    input: &[f32],
    path: Path,
) -> Result<(Arc<Vec<f32>>, u64), ModuleError> {
    let model = load(host, id)?;
    host.charge(gas_per_call(model.ops()))?;
    host.charge((words(input.len() * 4) * 2).saturating_mul(gas::HASH_WORD))?;
    let out = run(&model, input)?;
    let requester = host.caller();
    pay_fee(host, id, requester)?;
    let record = record_inference(
        host,
        id,
        tensor_hash(input),
        tensor_hash(&out),
        requester,
        path,
    )?;
    emit(
        host,
        IInference::InferenceRecorded {
            id: record,
            modelId: id,
            requester,
            input: f32_bytes(input).into(),
            output: f32_bytes(&out).into(),
        },
    )?;
    Ok((out, record))
}

/// Record an inference agreed by an oracle quorum, reported by the caller.
fn record_oracle(
    host: &mut dyn Host,
    model: u64,
    input_hash: B256,
    output_hash: B256,
    requester: Address,
) -> Result<u64, ModuleError> {
    let record = with_module(host, verai_provenance::ADDRESS, |h| {
        verai_provenance::read::record(h, model)
    })?
    .filter(|r| r.kind == Kind::Model as u8)
    .ok_or_else(|| revert(IInference::UnknownModel { modelId: model }))?;
    // A model run only off chain has no hash here yet: take the provenance record's.
    if host.sload(layout::model_hash(model))?.is_zero() {
        host.sstore(
            layout::model_hash(model),
            U256::from_be_bytes(record.contentHash.0),
        )?;
    }
    let reporter = host.caller();
    pay_fee(host, model, requester)?;
    let id = record_inference(
        host,
        model,
        input_hash.0,
        output_hash.0,
        requester,
        Path::Oracle,
    )?;
    host.sstore(
        layout::inference_slots(id)[4],
        U256::from_be_slice(reporter.as_slice()),
    )?;
    emit(
        host,
        IInference::OracleInferenceRecorded {
            id,
            modelId: model,
            reporter,
            requester,
            outputHash: output_hash,
        },
    )?;
    Ok(id)
}

/// The model's per-call fee: the call's value, moved to the market, which checks it is the
/// listed price and splits it along the model's lineage.
fn pay_fee(host: &mut dyn Host, model: u64, payer: Address) -> Result<(), ModuleError> {
    let value = host.value();
    if !value.is_zero() {
        host.transfer(verai_market::ADDRESS, value)?;
    }
    with_module(host, verai_market::ADDRESS, |h| {
        verai_market::charge_call(h, model, payer, value)
    })
}

/// Append an audit record and log the use of the model in provenance.
fn record_inference(
    host: &mut dyn Host,
    model: u64,
    input_hash: [u8; 32],
    output_hash: [u8; 32],
    requester: Address,
    path: Path,
) -> Result<u64, ModuleError> {
    let id = host.sload(layout::count())?.saturating_to::<u64>() + 1;
    let [s0, s1, s2, s3, _] = layout::inference_slots(id);
    host.sstore(
        s0,
        layout::pack_inference(model, host.block_number(), path as u8),
    )?;
    host.sstore(s1, U256::from_be_bytes(input_hash))?;
    host.sstore(s2, U256::from_be_bytes(output_hash))?;
    host.sstore(s3, U256::from_be_slice(requester.as_slice()))?;
    host.sstore(layout::count(), U256::from(id))?;
    with_module(host, verai_provenance::ADDRESS, |h| {
        verai_provenance::record_usage(h, model, B256::from(U256::from(id)))
    })?;
    Ok(id)
}

fn model_info(host: &mut dyn Host, id: u64) -> Result<IInference::Model, ModuleError> {
    let (size, ops) = meta(host, id)?;
    let hash = host.sload(layout::model_hash(id))?;
    let input = layout::unpack_shape(host.sload(layout::shape(id, 0))?);
    let output = layout::unpack_shape(host.sload(layout::shape(id, 1))?);
    Ok(IInference::Model {
        modelId: id,
        contentHash: B256::from(hash.to_be_bytes::<32>()),
        size,
        ops,
        gasPerCall: gas_per_call(ops),
        inputShape: input,
        outputShape: output,
    })
}

fn record(host: &mut dyn Host, id: u64) -> Result<IInference::Inference, ModuleError> {
    let count = host.sload(layout::count())?.saturating_to::<u64>();
    if id == 0 || id > count {
        return Err(revert(IInference::UnknownInference { id }));
    }
    let [s0, s1, s2, s3, s4] = layout::inference_slots(id);
    let (model, block, path) = layout::unpack_inference(host.sload(s0)?);
    let word = |v: U256| B256::from(v.to_be_bytes::<32>());
    Ok(IInference::Inference {
        id,
        modelId: model,
        modelHash: word(host.sload(layout::model_hash(model))?),
        inputHash: word(host.sload(s1)?),
        outputHash: word(host.sload(s2)?),
        requester: Address::from_word(word(host.sload(s3)?)),
        blockNumber: block,
        path,
        reporter: Address::from_word(word(host.sload(s4)?)),
    })
}

fn from_fixed(v: &[I256]) -> Result<Vec<f32>, ModuleError> {
    v.iter()
        .enumerate()
        .map(|(i, x)| {
            i128::try_from(*x)
                .ok()
                .and_then(fixed::to_f32)
                .ok_or_else(|| bad_input(format!("input value {i} is out of range")))
        })
        .collect()
}

fn to_fixed(v: &[f32]) -> Result<Vec<I256>, ModuleError> {
    v.iter()
        .enumerate()
        .map(|(i, x)| {
            fixed::from_f32(*x)
                .and_then(|f| I256::try_from(f).ok())
                .ok_or_else(|| {
                    revert(IInference::InferenceFailed {
                        reason: format!("output value {i} ({x}) is not finite or out of range"),
                    })
                })
        })
        .collect()
}

fn emit(host: &mut dyn Host, event: impl SolEvent) -> Result<(), ModuleError> {
    let log = event.encode_log_data();
    host.log(log.topics().to_vec(), log.data)
}
