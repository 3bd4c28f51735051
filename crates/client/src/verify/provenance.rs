//! A provenance record checked against the validators, trusting no node.
//!
//! From one node: the record (`verai_getRecord`), a proof of its three slots (commitment,
//! owner, flags) and the finalization certificate of the proof's block. Then, locally:
//! 1. the record's immutable fields hash to the value in the commitment slot, and its owner
//!    and flags are the values in their slots;
//! 2. each slot's proof verifies against the proof's state root;
//! 3. the certificate's first header hashes to the proof's block hash and has that state root;
//! 4. the certificate is a quorum of the validator set's signatures on that block (or on a
//!    descendant linked by the certificate's header chain).

use super::{Expected, fail, verify_slots};
use crate::{Client, ClientError};
use alloy_primitives::{B256, U256, keccak256};
use alloy_sol_types::SolValue;
use verai_consensus::PublicKey;
use verai_provenance::{ADDRESS, Kind, RecordView, layout, record_body};
use verai_rpc_api::{ProvenanceApiClient, types::ProofResponse};

/// What a successful verification established, one line per check.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The record's id.
    pub id: u64,
    /// Block whose state the proofs are against.
    pub block_number: u64,
    /// Its hash.
    pub block_hash: B256,
    /// Its state root.
    pub state_root: B256,
    /// The record commitment (keccak of its immutable body).
    pub commitment: B256,
    /// Total proof bytes checked.
    pub proof_bytes: usize,
    /// Consensus view of the finalization.
    pub finalized_view: u64,
    /// Validators in the set.
    pub validators: usize,
    /// The checks, in order.
    pub checks: Vec<String>,
}

/// The slots proven for record `id`.
pub fn slots(id: u64) -> [U256; 3] {
    [layout::commitment(id), layout::owner(id), layout::flags(id)]
}

/// Fetch record `id` with its proof and certificate from `client` and verify it.
pub async fn fetch_and_verify(
    client: &Client,
    id: u64,
    validators: &[PublicKey],
) -> Result<(RecordView, Report), ClientError> {
    let record = client
        .get_record(id)
        .await?
        .ok_or_else(|| fail(format!("{} has no record {id}", client.url())))?;
    let (proof, cert) = client
        .proof_with_certificate(ADDRESS, slots(id).to_vec())
        .await?;
    let report = verify(&record, &proof, &cert.certificate, validators)?;
    Ok((record, report))
}

/// Check `record` against `proof` and `cert` under `validators`; every failure names what
/// did not match.
pub fn verify(
    record: &RecordView,
    proof: &ProofResponse,
    cert: &[u8],
    validators: &[PublicKey],
) -> Result<Report, ClientError> {
    let id = record.id;
    let body = record_body(record)
        .ok_or_else(|| fail(format!("record has unknown kind {:?}", record.kind)))?;
    let commitment = keccak256(body.abi_encode());
    let kind = Kind::parse(&record.kind).ok_or_else(|| fail("unknown kind"))? as u8;
    let flags = (U256::from(kind) << 8) | U256::from(u8::from(record.deprecated));
    let expected = [
        U256::from_be_bytes(commitment.0),
        U256::from_be_bytes(record.owner.into_word().0),
        flags,
    ];
    let names = ["commitment", "owner", "flags"];
    let expected: Vec<Expected<'_>> = slots(id)
        .into_iter()
        .zip(expected)
        .zip(names)
        .map(|((slot, value), name)| Expected { name, slot, value })
        .collect();
    let proven =
        verify_slots(ADDRESS, &expected, proof, cert, validators).map_err(|e| match e {
            ClientError::Verification(m) => fail(format!("record {id}: {m}")),
            other => other,
        })?;
    let mut checks = vec![format!(
        "record {id} fields hash to commitment {commitment}"
    )];
    checks.extend(proven.checks);
    Ok(Report {
        id,
        block_number: proof.block_number,
        block_hash: proof.block_hash,
        state_root: proof.state_root,
        commitment,
        proof_bytes: proven.proof_bytes,
        finalized_view: proven.finalized_view,
        validators: validators.len(),
        checks,
    })
}
