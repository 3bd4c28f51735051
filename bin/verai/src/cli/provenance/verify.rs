//! `verai provenance verify ID`: check a record against the validators, trusting no node.
//!
//! From one node it fetches the record (`verai_getRecord`), a proof of the record's three
//! slots (`verai_getProof`: commitment, owner, flags) and the finalization certificate of
//! the proof's block (`verai_getCertificate`). Then, locally:
//! 1. the record's immutable fields hash to the value in the commitment slot, and its owner
//!    and flags are the values in their slots;
//! 2. each slot's proof verifies against the proof's state root;
//! 3. the certificate's first header hashes to the proof's block hash and has that state root;
//! 4. the certificate is a quorum of the validator set's signatures on that block (or on a
//!    descendant linked by the certificate's header chain).

use alloy_primitives::{B256, U256, keccak256};
use alloy_sol_types::SolValue;
use eyre::{bail, eyre};
use verai_consensus::{FinalityProof, PublicKey, Scheme, verify_certificate};
use verai_primitives::{Header, StateKey};
use verai_provenance::{ADDRESS, Kind, RecordView, layout, record_body};
use verai_rpc::ProofResponse;
use verai_storage::{StateProof, verify_state_proof};

/// What a successful verification established, one line per check.
#[derive(Debug, Clone, serde::Serialize)]
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

/// Check `record` against `proof` and `cert` under `validators`; every failure names what
/// did not match.
pub fn verify(
    record: &RecordView,
    proof: &ProofResponse,
    cert: &[u8],
    validators: &[PublicKey],
) -> eyre::Result<Report> {
    let mut checks = Vec::new();
    let id = record.id;
    let body =
        record_body(record).ok_or_else(|| eyre!("record has unknown kind {:?}", record.kind))?;
    let commitment = keccak256(body.abi_encode());
    let kind = Kind::parse(&record.kind).ok_or_else(|| eyre!("unknown kind"))? as u8;
    let flags = (U256::from(kind) << 8) | U256::from(u8::from(record.deprecated));
    let expected = [
        U256::from_be_bytes(commitment.0),
        U256::from_be_bytes(record.owner.into_word().0),
        flags,
    ];
    let names = ["commitment", "owner", "flags"];
    if proof.address != ADDRESS {
        bail!(
            "proof is for account {}, not the registry {ADDRESS}",
            proof.address
        );
    }
    let mut proof_bytes = proof.account_proof.len();
    for ((slot, want), name) in slots(id).into_iter().zip(expected).zip(names) {
        let entry = proof
            .storage_proof
            .iter()
            .find(|e| e.key == slot)
            .ok_or_else(|| eyre!("the node sent no proof for the {name} slot of record {id}"))?;
        let got = entry
            .value
            .as_ref()
            .map(|v| U256::try_from_be_slice(v).ok_or_else(|| eyre!("{name} value is not a word")))
            .transpose()?
            .unwrap_or_default();
        if got != want {
            bail!(
                "record {id} does not match the proven state: {name} slot holds {got:#x}, the record implies {want:#x}"
            );
        }
        let value = (!want.is_zero()).then(|| want.to_be_bytes::<32>());
        let p = StateProof::from_bytes(entry.proof.clone())
            .map_err(|e| eyre!("malformed {name} proof: {e}"))?;
        verify_state_proof(
            proof.state_root,
            &StateKey::Storage(ADDRESS, slot),
            value.as_ref().map(|v| &v[..]),
            &p,
        )
        .map_err(|e| {
            eyre!(
                "{name} slot proof does not verify against state root {}: {e}",
                proof.state_root
            )
        })?;
        proof_bytes += entry.proof.len();
        checks.push(format!(
            "{name} slot {slot:#x} = {want:#x} proven against state root {}",
            proof.state_root
        ));
    }
    checks.insert(
        0,
        format!("record {id} fields hash to commitment {commitment}"),
    );

    let scheme = Scheme::verifier(
        verai_consensus::NAMESPACE,
        verai_consensus::validator_set(validators)?,
    );
    let fp = FinalityProof::decode(cert, &scheme).map_err(|e| eyre!("certificate: {e}"))?;
    let first = fp
        .headers
        .first()
        .ok_or_else(|| eyre!("certificate has no header"))?;
    let header: Header = alloy_rlp::Decodable::decode(&mut first.as_slice())
        .map_err(|e| eyre!("certificate header: {e}"))?;
    if keccak256(first) != proof.block_hash {
        bail!(
            "certificate is for block {}, not the proof's block {}",
            keccak256(first),
            proof.block_hash
        );
    }
    if header.state_root != proof.state_root || header.number != proof.block_number {
        bail!(
            "block {} header has state root {}, the proof claims {}",
            header.number,
            header.state_root,
            proof.state_root
        );
    }
    checks.push(format!(
        "block {} header (hash {}) commits to state root {}",
        header.number, proof.block_hash, header.state_root
    ));
    let fin = verify_certificate(validators, proof.block_hash, proof.block_number, cert)
        .map_err(|e| eyre!("certificate does not verify: {e}"))?;
    checks.push(format!(
        "finalization certificate (view {}, block {}) signed by a quorum of the {} validator(s)",
        fin.view,
        fin.finalized_height,
        validators.len()
    ));
    Ok(Report {
        id,
        block_number: proof.block_number,
        block_hash: proof.block_hash,
        state_root: proof.state_root,
        commitment,
        proof_bytes,
        finalized_view: fin.view,
        validators: validators.len(),
        checks,
    })
}
