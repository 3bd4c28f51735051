//! Trustless checks shared by `verai provenance verify` and `verai infer verify`: storage
//! slots proven against a state root, and that state root finalized by a quorum of the
//! validator set.

use alloy_primitives::{Address, U256, keccak256};
use eyre::{bail, eyre};
use verai_consensus::{FinalityProof, PublicKey, Scheme, verify_certificate};
use verai_primitives::{Header, StateKey};
use verai_rpc::ProofResponse;
use verai_storage::{StateProof, verify_state_proof};

/// A slot that must hold a value.
pub struct Expected<'a> {
    /// What it is, for messages.
    pub name: &'a str,
    /// The slot.
    pub slot: U256,
    /// The value the claim implies.
    pub value: U256,
}

/// What [`verify_slots`] established.
pub struct Proven {
    /// One line per check, in order.
    pub checks: Vec<String>,
    /// Proof bytes checked.
    pub proof_bytes: usize,
    /// Consensus view of the finalization.
    pub finalized_view: u64,
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
) -> eyre::Result<Proven> {
    if proof.address != account {
        bail!("proof is for account {}, not {account}", proof.address);
    }
    let mut checks = Vec::new();
    let mut proof_bytes = proof.account_proof.len();
    for e in expected {
        let name = e.name;
        let entry = proof
            .storage_proof
            .iter()
            .find(|p| p.key == e.slot)
            .ok_or_else(|| eyre!("the node sent no proof for the {name} slot"))?;
        let got = entry
            .value
            .as_ref()
            .map(|v| U256::try_from_be_slice(v).ok_or_else(|| eyre!("{name} value is not a word")))
            .transpose()?
            .unwrap_or_default();
        if got != e.value {
            bail!(
                "the claim does not match the proven state: {name} slot holds {got:#x}, the claim implies {:#x}",
                e.value
            );
        }
        let value = (!e.value.is_zero()).then(|| e.value.to_be_bytes::<32>());
        let p = StateProof::from_bytes(entry.proof.clone())
            .map_err(|err| eyre!("malformed {name} proof: {err}"))?;
        verify_state_proof(
            proof.state_root,
            &StateKey::Storage(account, e.slot),
            value.as_ref().map(|v| &v[..]),
            &p,
        )
        .map_err(|err| {
            eyre!(
                "{name} slot proof does not verify against state root {}: {err}",
                proof.state_root
            )
        })?;
        proof_bytes += entry.proof.len();
        checks.push(format!(
            "{name} slot {:#x} = {:#x} proven against state root {}",
            e.slot, e.value, proof.state_root
        ));
    }

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
    Ok(Proven {
        checks,
        proof_bytes,
        finalized_view: fin.view,
    })
}
