//! Response types of the `verai_` namespace.

use alloy_primitives::{Address, B256, Bytes, U256};
use serde::{Deserialize, Serialize};

/// One proven storage slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageProofEntry {
    /// The slot.
    pub key: U256,
    /// The 32-byte word, `None` when unset (zero).
    pub value: Option<Bytes>,
    /// Proof of the key's value (or absence) against `stateRoot`.
    pub proof: Bytes,
}

/// `verai_getProof` result: an account and slots proven against a finalized block's state root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofResponse {
    /// Height of the block whose state root the proofs verify against.
    pub block_number: u64,
    /// Its hash.
    pub block_hash: B256,
    /// Its state root.
    pub state_root: B256,
    /// The account.
    pub address: Address,
    /// Encoded account state (72 bytes: nonce, balance, code hash), `None` when absent.
    pub account: Option<Bytes>,
    /// Proof of the account.
    pub account_proof: Bytes,
    /// Proven slots.
    pub storage_proof: Vec<StorageProofEntry>,
}

/// `verai_getCertificate` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateResponse {
    /// Height of the block.
    pub block_number: u64,
    /// Its hash.
    pub block_hash: B256,
    /// The encoded finalization certificate.
    pub certificate: Bytes,
}
