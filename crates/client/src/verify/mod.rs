//! Trustless checks: a claim about the chain holds when the storage slots it implies are
//! proven against a state root, and that state root is in a block a quorum of the validator
//! set finalized. The node that serves the data is trusted for nothing.
//!
//! [`verify_slots`] is the core; [`provenance`], [`inference`] and [`market`] build on it.

pub mod block;
pub mod inference;
pub mod market;
pub mod provenance;

use crate::{Client, ClientError};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, U256, keccak256};
use std::path::Path;
use verai_consensus::{FinalityProof, GenesisFile, PublicKey, Scheme, verify_certificate};
use verai_primitives::{Header, StateKey};
use verai_rpc_api::{
    VeraiApiClient,
    types::{CertificateResponse, ProofResponse},
};
use verai_storage::{StateProof, verify_state_proof};

/// A slot that must hold a value.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// What it is, for messages.
    pub name: &'a str,
    /// The slot.
    pub slot: U256,
    /// The value the claim implies.
    pub value: U256,
}

/// What [`verify_slots`] established.
#[derive(Debug, Clone)]
pub struct Proven {
    /// One line per check, in order.
    pub checks: Vec<String>,
    /// Proof bytes checked.
    pub proof_bytes: usize,
    /// Consensus view of the finalization.
    pub finalized_view: u64,
}

fn fail(what: impl Into<String>) -> ClientError {
    ClientError::Verification(what.into())
}

/// The validators of the network in `genesis`, or on the dev chain (chain id 1337) its one
/// validator when no file is given.
pub fn validators(genesis: Option<&Path>, chain_id: u64) -> Result<Vec<PublicKey>, ClientError> {
    match genesis {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|source| ClientError::Io {
                path: path.display().to_string(),
                source,
            })?;
            let file = GenesisFile::parse(&bytes)
                .map_err(|e| ClientError::Signer(format!("{}: {e}", path.display())))?;
            if file.chain_id != chain_id {
                return Err(fail(format!(
                    "{} is for chain id {}, the node serves chain id {chain_id}",
                    path.display(),
                    file.chain_id
                )));
            }
            Ok(file
                .validators()
                .map_err(|e| fail(e.to_string()))?
                .into_iter()
                .map(|(k, _)| k)
                .collect())
        }
        None if chain_id == verai_primitives::DEV_CHAIN_ID => {
            use verai_consensus::Signer as _;
            Ok(vec![verai_consensus::dev_validator().public_key()])
        }
        None => Err(fail(
            "pass the network's genesis file (--genesis) to know its validators",
        )),
    }
}

impl Client {
    /// A proof of `slots` of `account` against the latest finalized state root, and the
    /// finalization certificate of the block it is against.
    pub async fn proof_with_certificate(
        &self,
        account: Address,
        slots: Vec<U256>,
    ) -> Result<(ProofResponse, CertificateResponse), ClientError> {
        let proof = self.get_proof(account, Some(slots)).await?;
        let cert = self
            .get_certificate(BlockNumberOrTag::Number(proof.block_number))
            .await?
            .ok_or_else(|| {
                fail(format!(
                    "{} has no certificate for block {}",
                    self.url(),
                    proof.block_number
                ))
            })?;
        Ok((proof, cert))
    }
}

/// Check that each slot of `account` holds its expected value in `proof`, that the proofs
/// verify against the proof's state root, and that `cert` finalizes that block under
/// `validators`. Every failure names what did not match.
pub fn verify_slots(
    account: Address,
    expected: &[Expected<'_>],
    proof: &ProofResponse,
    cert: &[u8],
    validators: &[PublicKey],
) -> Result<Proven, ClientError> {
    if proof.address != account {
        return Err(fail(format!(
            "proof is for account {}, not {account}",
            proof.address
        )));
    }
    let mut checks = Vec::new();
    let mut proof_bytes = proof.account_proof.len();
    for e in expected {
        let name = e.name;
        let entry = proof
            .storage_proof
            .iter()
            .find(|p| p.key == e.slot)
            .ok_or_else(|| fail(format!("the node sent no proof for the {name} slot")))?;
        let got = entry
            .value
            .as_ref()
            .map(|v| {
                U256::try_from_be_slice(v)
                    .ok_or_else(|| fail(format!("{name} value is not a word")))
            })
            .transpose()?
            .unwrap_or_default();
        if got != e.value {
            return Err(fail(format!(
                "the claim does not match the proven state: {name} slot holds {got:#x}, the claim implies {:#x}",
                e.value
            )));
        }
        let value = (!e.value.is_zero()).then(|| e.value.to_be_bytes::<32>());
        let p = StateProof::from_bytes(entry.proof.clone())
            .map_err(|err| fail(format!("malformed {name} proof: {err}")))?;
        verify_state_proof(
            proof.state_root,
            &StateKey::Storage(account, e.slot),
            value.as_ref().map(|v| &v[..]),
            &p,
        )
        .map_err(|err| {
            fail(format!(
                "{name} slot proof does not verify against state root {}: {err}",
                proof.state_root
            ))
        })?;
        proof_bytes += entry.proof.len();
        checks.push(format!(
            "{name} slot {:#x} = {:#x} proven against state root {}",
            e.slot, e.value, proof.state_root
        ));
    }

    let set = verai_consensus::validator_set(validators).map_err(|e| fail(e.to_string()))?;
    let scheme = Scheme::verifier(verai_consensus::NAMESPACE, set);
    let fp = FinalityProof::decode(cert, &scheme).map_err(|e| fail(format!("certificate: {e}")))?;
    let first = fp
        .headers
        .first()
        .ok_or_else(|| fail("certificate has no header"))?;
    let header: Header = alloy_rlp::Decodable::decode(&mut first.as_slice())
        .map_err(|e| fail(format!("certificate header: {e}")))?;
    if keccak256(first) != proof.block_hash {
        return Err(fail(format!(
            "certificate is for block {}, not the proof's block {}",
            keccak256(first),
            proof.block_hash
        )));
    }
    if header.state_root != proof.state_root || header.number != proof.block_number {
        return Err(fail(format!(
            "block {} header has state root {}, the proof claims {}",
            header.number, header.state_root, proof.state_root
        )));
    }
    checks.push(format!(
        "block {} header (hash {}) commits to state root {}",
        header.number, proof.block_hash, header.state_root
    ));
    let fin = verify_certificate(validators, proof.block_hash, proof.block_number, cert)
        .map_err(|e| fail(format!("certificate does not verify: {e}")))?;
    checks.push(format!(
        "finalization certificate (view {}, block {}) signed by a quorum of the {} validator(s)",
        fin.view,
        fin.finalized_height,
        validators.len()
    ));
    Ok(Proven {
        checks,
        proof_bytes,
        finalized_view: fin.view,
    })
}
