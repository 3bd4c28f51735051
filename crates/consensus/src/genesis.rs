//! A network's genesis file: the chain spec plus the validator set with p2p addresses.
//!
//! Format (JSON): `chain_id`, `gas_limit`, `timestamp`, `alloc` (`address`, `balance` as
//! hex wei), and `validators` (`public_key`: 32-byte ed25519 key in hex, `p2p`: address).
//! The genesis block's `extra_data` is the keccak-256 of the sorted validator keys, so the
//! genesis hash, which every node checks with its peers, commits to the validator set too.

use crate::{ConsensusError, PublicKey, public_key_from_bytes};
use alloy_primitives::{Bytes, keccak256};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use verai_primitives::{ChainSpec, GenesisAccount};

/// Largest genesis file accepted, in bytes.
pub const MAX_GENESIS_BYTES: usize = 16 << 20;

/// Seed of the dev validator's key: fixed, so a dev datadir restarts as the same validator
/// and clients know the dev chain's validator set.
const DEV_VALIDATOR_SEED: u64 = 0x7e7a1;

/// The dev chain's one validator key (`verai node --dev`).
pub fn dev_validator() -> crate::PrivateKey {
    <crate::PrivateKey as commonware_cryptography::Signer>::from_seed(DEV_VALIDATOR_SEED)
}

/// One validator of the genesis set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisValidator {
    /// ed25519 public key, hex.
    pub public_key: String,
    /// Where its p2p listens.
    pub p2p: SocketAddr,
}

/// The genesis file of a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisFile {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Gas limit of every block.
    pub gas_limit: u64,
    /// Genesis timestamp (seconds).
    pub timestamp: u64,
    /// Prefunded accounts.
    pub alloc: Vec<GenesisAccount>,
    /// The fixed validator set.
    pub validators: Vec<GenesisValidator>,
}

impl GenesisFile {
    /// Parse a genesis file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, ConsensusError> {
        if bytes.len() > MAX_GENESIS_BYTES {
            return Err(ConsensusError::Genesis(format!(
                "genesis file larger than {MAX_GENESIS_BYTES} bytes"
            )));
        }
        let file: Self =
            serde_json::from_slice(bytes).map_err(|e| ConsensusError::Genesis(e.to_string()))?;
        file.validators()?;
        Ok(file)
    }

    /// The validators' keys and addresses, checked (valid keys, no duplicates, not empty).
    pub fn validators(&self) -> Result<Vec<(PublicKey, SocketAddr)>, ConsensusError> {
        let list = self
            .validators
            .iter()
            .map(|v| {
                let raw = alloy_primitives::hex::decode(&v.public_key).map_err(|e| {
                    ConsensusError::Genesis(format!("validator key {}: {e}", v.public_key))
                })?;
                Ok((public_key_from_bytes(&raw)?, v.p2p))
            })
            .collect::<Result<Vec<_>, ConsensusError>>()?;
        let keys: Vec<PublicKey> = list.iter().map(|(k, _)| k.clone()).collect();
        crate::validator_set(&keys)?;
        Ok(list)
    }

    /// The chain spec; its `extra` commits to the validator set.
    pub fn spec(&self) -> Result<ChainSpec, ConsensusError> {
        let mut keys: Vec<Vec<u8>> = self
            .validators()?
            .iter()
            .map(|(k, _)| k.as_ref().to_vec())
            .collect();
        keys.sort();
        Ok(ChainSpec {
            chain_id: self.chain_id,
            gas_limit: self.gas_limit,
            timestamp: self.timestamp,
            alloc: self.alloc.clone(),
            extra: Bytes::from(keccak256(keys.concat()).to_vec()),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use commonware_cryptography::Signer as _;

    fn file(n: u64) -> GenesisFile {
        let spec = ChainSpec::dev();
        GenesisFile {
            chain_id: 7,
            gas_limit: spec.gas_limit,
            timestamp: 1,
            alloc: spec.alloc,
            validators: (0..n)
                .map(|i| GenesisValidator {
                    public_key: alloy_primitives::hex::encode(
                        crate::PrivateKey::from_seed(i).public_key(),
                    ),
                    p2p: SocketAddr::from(([127, 0, 0, 1], 30_000 + i as u16)),
                })
                .collect(),
        }
    }

    #[test]
    fn round_trips_and_commits_to_the_validator_set() {
        let f = file(4);
        let text = serde_json::to_vec_pretty(&f).unwrap();
        let back = GenesisFile::parse(&text).unwrap();
        assert_eq!(back, f);
        assert_eq!(back.validators().unwrap().len(), 4);
        let mut other = f.clone();
        other.validators.pop();
        assert_ne!(f.spec().unwrap().extra, other.spec().unwrap().extra);
        // Order of the list does not matter.
        let mut shuffled = f.clone();
        shuffled.validators.reverse();
        assert_eq!(f.spec().unwrap().extra, shuffled.spec().unwrap().extra);
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let mut f = file(2);
        f.validators[1].public_key = "zz".into();
        let e = GenesisFile::parse(&serde_json::to_vec(&f).unwrap()).unwrap_err();
        assert!(e.to_string().contains("validator key zz"), "{e}");
        let mut f = file(2);
        f.validators[1] = f.validators[0].clone();
        assert!(GenesisFile::parse(&serde_json::to_vec(&f).unwrap()).is_err());
        assert!(GenesisFile::parse(b"{}").is_err());
        let mut f = file(0);
        f.validators.clear();
        assert!(GenesisFile::parse(&serde_json::to_vec(&f).unwrap()).is_err());
    }
}
