//! An inference audit record checked against the validators, and re-run here.
//!
//! 1. The record's five slots and its model's hash are proven against a finalized state
//!    root (see [`super::verify_slots`]).
//! 2. For an in-block inference, the input and output in its `InferenceRecorded` log hash
//!    to the proven hashes; the model's bytes hash to the proven model hash; running the
//!    model here (same engine, same pinned instruction set) gives the proven output hash.
//!    An oracle inference proves who reported which hashes: it is not re-run (the model
//!    may be too large for a block).

use super::{Expected, fail, verify_slots};
use crate::{Client, ClientError, events};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, U256};
use alloy_rpc_types_eth::Filter;
use alloy_sol_types::SolEvent;
use serde::{Deserialize, Serialize};
use verai_consensus::PublicKey;
use verai_inference::{Model, f32_values, sha256, tensor_hash};
use verai_inference_module::{ADDRESS, IInference, Path, layout};
use verai_rpc_api::EthApiClient;

/// What a successful verification established.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The record.
    pub id: u64,
    /// Always true (a failed check is an error).
    pub verified: bool,
    /// The model's id.
    pub model: u64,
    /// `consensus` or `oracle`.
    pub path: String,
    /// Block of the inference.
    pub block_number: u64,
    /// Who asked.
    pub requester: Address,
    /// Who reported (the module, or the oracle hub).
    pub reporter: Address,
    /// The output, when re-run here.
    pub output: Option<Vec<f32>>,
    /// Proof bytes checked.
    pub proof_bytes: usize,
    /// The checks, in order.
    pub checks: Vec<String>,
}

/// The `InferenceRecorded` log of record `id` in `block`.
pub async fn record_log(
    client: &Client,
    id: u64,
    block: u64,
) -> Result<IInference::InferenceRecorded, ClientError> {
    let filter = Filter::new()
        .address(ADDRESS)
        .from_block(BlockNumberOrTag::Number(block))
        .to_block(BlockNumberOrTag::Number(block))
        .event_signature(IInference::InferenceRecorded::SIGNATURE_HASH)
        .topic1(B256::from(U256::from(id)));
    let logs = client.get_logs(filter).await?;
    events::<IInference::InferenceRecorded>(&logs)
        .into_iter()
        .next()
        .ok_or_else(|| {
            fail(format!(
                "{} has no InferenceRecorded log for record {id} in block {block}",
                client.url()
            ))
        })
}

/// Verify inference record `id` served by `client` under `validators`; `model_file` replaces
/// the model bytes the chain stores (it must hash to the same).
pub async fn verify(
    client: &Client,
    id: u64,
    validators: &[PublicKey],
    model_file: Option<Vec<u8>>,
) -> Result<Report, ClientError> {
    let rec = client
        .view(ADDRESS, &IInference::getInferenceCall { id })
        .await?;
    let fail = |what: String| fail(format!("inference {id}: {what}"));
    let slots = layout::inference_slots(id);
    let word = |b: B256| U256::from_be_bytes(b.0);
    let expected = [
        Expected {
            name: "model, block and path",
            slot: slots[0],
            value: layout::pack_inference(rec.modelId, rec.blockNumber, rec.path),
        },
        Expected {
            name: "input hash",
            slot: slots[1],
            value: word(rec.inputHash),
        },
        Expected {
            name: "output hash",
            slot: slots[2],
            value: word(rec.outputHash),
        },
        Expected {
            name: "requester",
            slot: slots[3],
            value: word(rec.requester.into_word()),
        },
        Expected {
            name: "reporter",
            slot: slots[4],
            value: word(rec.reporter.into_word()),
        },
        Expected {
            name: "model hash",
            slot: layout::model_hash(rec.modelId),
            value: word(rec.modelHash),
        },
    ];
    let keys = expected.iter().map(|e| e.slot).collect();
    let (proof, cert) = client.proof_with_certificate(ADDRESS, keys).await?;
    let proven = verify_slots(ADDRESS, &expected, &proof, &cert.certificate, validators)?;
    let mut checks = proven.checks;
    let mut report = Report {
        id,
        verified: true,
        model: rec.modelId,
        path: if rec.path == Path::Oracle as u8 {
            "oracle"
        } else {
            "consensus"
        }
        .into(),
        block_number: rec.blockNumber,
        requester: rec.requester,
        reporter: rec.reporter,
        output: None,
        proof_bytes: proven.proof_bytes,
        checks: Vec::new(),
    };
    if rec.path == Path::Oracle as u8 {
        checks.push(format!(
            "oracle path: output hash {} agreed by a quorum at hub {}; not re-run (the model may be too large for a block)",
            rec.outputHash, rec.reporter
        ));
        report.checks = checks;
        return Ok(report);
    }
    let ev = record_log(client, id, rec.blockNumber).await?;
    if B256::from(sha256(&ev.input)) != rec.inputHash {
        return Err(fail(
            "the logged input does not hash to the recorded input hash".into(),
        ));
    }
    if B256::from(sha256(&ev.output)) != rec.outputHash {
        return Err(fail(
            "the logged output does not hash to the recorded output hash".into(),
        ));
    }
    checks.push(format!(
        "input ({} bytes) and output ({} bytes) hash to the proven hashes",
        ev.input.len(),
        ev.output.len()
    ));
    let bytes = match model_file {
        Some(b) => b,
        None => client
            .view(
                ADDRESS,
                &IInference::modelBytesCall {
                    modelId: rec.modelId,
                },
            )
            .await?
            .to_vec(),
    };
    if B256::from(sha256(&bytes)) != rec.modelHash {
        return Err(fail(format!(
            "the model bytes hash to {}, the proven model hash is {}",
            B256::from(sha256(&bytes)),
            rec.modelHash
        )));
    }
    let model = Model::load(&bytes).map_err(|e| fail(format!("model: {e}")))?;
    let input = f32_values(&ev.input).ok_or_else(|| fail("input is not f32 values".into()))?;
    let out = model.run(&input).map_err(|e| fail(e.to_string()))?;
    let got = B256::from(tensor_hash(&out));
    if got != rec.outputHash {
        return Err(fail(format!(
            "re-running model {} here gives output hash {got}, the record says {}",
            rec.modelId, rec.outputHash
        )));
    }
    checks.push(format!(
        "model {} (hash {}) re-run here on {}: output hash {got} matches",
        rec.modelId,
        rec.modelHash,
        verai_inference::isa()
    ));
    report.output = Some(out);
    report.checks = checks;
    Ok(report)
}
