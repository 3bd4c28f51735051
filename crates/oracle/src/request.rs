//! Asking the hub's oracles for an inference.

use crate::{IOracleHub, OracleError};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, U256};
use alloy_rpc_types_eth::Filter;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use serde::Serialize;
use std::time::{Duration, Instant};
use verai_client::{
    Client, Tx,
    api::{EthApiClient, ProvenanceApiClient},
    events, receipt_events,
};
use verai_inference::{f32_bytes, f32_values, sha256};

/// An inference to ask for.
#[derive(Debug, Clone)]
pub struct Request {
    /// The hub.
    pub hub: Address,
    /// The model's id (a provenance model record).
    pub model: u64,
    /// The input values.
    pub input: Vec<f32>,
    /// Fee for the agreeing oracles, in wei.
    pub fee: U256,
    /// Store the input in the node's blob store and send only its hash.
    pub as_blob: bool,
    /// Contract to call back with the output.
    pub callback: Option<Address>,
    /// Wait for the quorum's answer.
    pub wait: bool,
    /// How long to wait for inclusion, and for the answer.
    pub timeout: Duration,
}

/// What [`ask`] got back.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The request id.
    pub request: u64,
    /// The agreed output, when waited for.
    pub output: Option<Vec<f32>>,
    /// Its inference audit record, when waited for.
    pub record: Option<u64>,
}

/// Send a request (the input inline, or as a blob) and, with `wait`, wait until its quorum
/// is reached and return the output.
pub async fn ask(
    client: &Client,
    signer: &PrivateKeySigner,
    chain_id: u64,
    r: &Request,
) -> Result<Answer, OracleError> {
    let bytes = f32_bytes(&r.input);
    let callback = r.callback.unwrap_or_default();
    let input = if r.as_blob {
        let stored = client.put_blob(bytes.clone().into()).await?;
        if stored.hash != B256::from(sha256(&bytes)) {
            return Err(OracleError::Invalid(format!(
                "the node stored the input as {}, not its SHA-256",
                stored.hash
            )));
        }
        IOracleHub::requestInferenceBlobCall {
            modelId: r.model,
            inputBlob: stored.hash,
            callback,
        }
        .abi_encode()
    } else {
        IOracleHub::requestInferenceCall {
            modelId: r.model,
            input: bytes.into(),
            callback,
        }
        .abi_encode()
    };
    let tx = Tx::call(r.hub, input).value(r.fee).timeout(r.timeout);
    let receipt = client.transact(signer, chain_id, tx).await?;
    let request = receipt_events::<IOracleHub::InferenceRequested>(&receipt)
        .first()
        .map(|e| e.id.saturating_to::<u64>())
        .ok_or_else(|| {
            OracleError::Invalid("the receipt has no InferenceRequested event".into())
        })?;
    if !r.wait {
        return Ok(Answer {
            request,
            output: None,
            record: None,
        });
    }
    let deadline = Instant::now() + r.timeout;
    loop {
        let st = client
            .view(
                r.hub,
                &IOracleHub::requestsCall {
                    id: U256::from(request),
                },
            )
            .await?;
        match st.status {
            2 => break,
            3 => {
                return Err(OracleError::Invalid(format!(
                    "request {request} expired and was refunded"
                )));
            }
            _ if Instant::now() > deadline => {
                return Err(OracleError::Invalid(format!(
                    "request {request} not final within {} s (are oracles running?)",
                    r.timeout.as_secs()
                )));
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let filter = Filter::new()
        .address(r.hub)
        .from_block(BlockNumberOrTag::Earliest)
        .to_block(BlockNumberOrTag::Latest)
        .event_signature(IOracleHub::InferenceFinalized::SIGNATURE_HASH)
        .topic1(B256::from(U256::from(request)));
    let logs = client.get_logs(filter).await?;
    let ev = events::<IOracleHub::InferenceFinalized>(&logs)
        .into_iter()
        .next()
        .ok_or_else(|| {
            OracleError::Invalid(format!("no InferenceFinalized log for request {request}"))
        })?;
    let out = f32_values(&ev.output)
        .ok_or_else(|| OracleError::Invalid("output is not f32 values".into()))?;
    Ok(Answer {
        request,
        output: Some(out),
        record: Some(ev.recordId),
    })
}

/// The model's bytes: stored by the inference module, or the blob of its provenance record
/// (checked against the record's content hash).
pub async fn model_bytes(client: &Client, model: u64) -> Result<Vec<u8>, OracleError> {
    use verai_inference_module::{ADDRESS, IInference};
    if let Ok(b) = client
        .view(ADDRESS, &IInference::modelBytesCall { modelId: model })
        .await
    {
        return Ok(b.to_vec());
    }
    let rec = client
        .get_record(model)
        .await?
        .ok_or_else(|| OracleError::Invalid(format!("no record {model}")))?;
    if rec.kind != "model" {
        return Err(OracleError::Invalid(format!(
            "record {model} is not a model"
        )));
    }
    let hash = rec.content_hash;
    let blob = client.get_blob(hash).await?.ok_or_else(|| {
        OracleError::Invalid(format!(
            "{} has no blob {hash} for model {model}",
            client.url()
        ))
    })?;
    if B256::from(sha256(&blob)) != hash {
        return Err(OracleError::Invalid(format!(
            "blob for model {model} does not hash to its record's content hash"
        )));
    }
    Ok(blob.to_vec())
}
