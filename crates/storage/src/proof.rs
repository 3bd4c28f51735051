//! State proofs: what `verai_getProof` returns, and the pure check a client runs against a root.
//!
//! A [`StateProof`] is one tag byte followed by the Commonware codec encoding of a QMDB
//! `current::ordered` proof:
//! - tag 0, *inclusion*: a `KeyValueProof` that the key's update operation is in the log and
//!   still active (its bit in the activity bitmap is set), so the key has exactly that value;
//! - tag 1, *exclusion*: an `ExclusionProof` that shows the active key just below the queried
//!   key and its successor link (the key falls in the gap between two adjacent active keys), or
//!   that the state is empty.
//!
//! Hashing is SHA-256 over an MMR (QMDB's Merkle mountain range); the 32-byte root is the
//! block's state root. Decoding is bounded by [`MAX_PROOF_BYTES`], [`MAX_PROOF_DIGESTS`] and
//! [`crate::MAX_VALUE_BYTES`].

use crate::{MAX_VALUE_BYTES, key::QKey};
use alloy_primitives::{B256, Bytes};
use commonware_codec::{Decode, RangeCfg};
use commonware_cryptography::{Sha256, sha256::Digest};
use commonware_storage::{
    mmr,
    qmdb::{
        any::value::VariableEncoding,
        current::ordered::proof::constant::{ExclusionProof, KeyValueProof},
    },
};
use serde::{Deserialize, Deserializer, Serialize};
use thiserror::Error;
use verai_primitives::StateKey;

/// Merkle family of the state database.
pub(crate) type Family = mmr::Family;
/// Bytes per activity-bitmap chunk (one SHA-256 digest, the smallest proofs).
pub(crate) const CHUNK: usize = 32;
/// Value encoding of the state database.
pub(crate) type ValueEnc = VariableEncoding<Vec<u8>>;
pub(crate) type InclusionProof = KeyValueProof<Family, QKey, Digest, CHUNK>;
pub(crate) type AbsenceProof = ExclusionProof<Family, QKey, ValueEnc, Digest, CHUNK>;

/// Most Merkle digests a proof may carry (a path in an MMR of up to 2^64 leaves needs fewer).
pub const MAX_PROOF_DIGESTS: usize = 256;
/// Largest encoded proof accepted: digests, keys and one neighbouring value (an exclusion
/// proof carries the value of the key below the queried one).
pub const MAX_PROOF_BYTES: usize = MAX_VALUE_BYTES + MAX_PROOF_DIGESTS * 32 + 4096;

const TAG_INCLUSION: u8 = 0;
const TAG_EXCLUSION: u8 = 1;

/// A proof that a state key has a given value, or none, under a state root.
///
/// Serialized (serde) as one `0x`-prefixed hex string; deserializing rejects more than
/// [`MAX_PROOF_BYTES`] bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct StateProof(Bytes);

impl StateProof {
    pub(crate) fn inclusion(p: &InclusionProof) -> Self {
        Self::tagged(TAG_INCLUSION, commonware_codec::Encode::encode(p).as_ref())
    }

    pub(crate) fn exclusion(p: &AbsenceProof) -> Self {
        Self::tagged(TAG_EXCLUSION, commonware_codec::Encode::encode(p).as_ref())
    }

    fn tagged(tag: u8, body: &[u8]) -> Self {
        let mut v = Vec::with_capacity(1 + body.len());
        v.push(tag);
        v.extend_from_slice(body);
        Self(v.into())
    }

    /// Wrap encoded proof bytes (for example read from a file), bounded by [`MAX_PROOF_BYTES`].
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Result<Self, ProofError> {
        let bytes = bytes.into();
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(ProofError::TooLarge(bytes.len()));
        }
        Ok(Self(bytes))
    }

    /// The encoded proof.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Encoded size in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the proof is empty (never true for a proof made by this crate).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether this proves absence (`true`) or a value (`false`); `None` if malformed.
    pub fn proves_absence(&self) -> Option<bool> {
        match self.0.first() {
            Some(&TAG_INCLUSION) => Some(false),
            Some(&TAG_EXCLUSION) => Some(true),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for StateProof {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bytes = Bytes::deserialize(d)?;
        Self::from_bytes(bytes).map_err(serde::de::Error::custom)
    }
}

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProofError {
    /// More than [`MAX_PROOF_BYTES`] bytes.
    #[error("proof of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// The bytes do not decode as a state proof.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// A value was claimed but the proof proves absence, or the other way round.
    #[error("proof kind does not match the claim: the proof shows the key is {0}")]
    KindMismatch(&'static str),
    /// The value is larger than any state value can be.
    #[error("claimed value of {0} bytes exceeds the state value limit")]
    ValueTooLarge(usize),
    /// The proof does not authenticate the claim under this root.
    #[error("proof does not verify against the root")]
    Invalid,
}

/// Check that, under state root `root`, `key` has value `value` (`None`: the key is absent).
///
/// Pure and bounded: a light client calls this with a root it trusts (from a block header
/// finalized by a quorum certificate) and the key, value and proof from `verai_getProof`.
pub fn verify_state_proof(
    root: B256,
    key: &StateKey,
    value: Option<&[u8]>,
    proof: &StateProof,
) -> Result<(), ProofError> {
    let bytes = proof.as_bytes();
    if bytes.len() > MAX_PROOF_BYTES {
        return Err(ProofError::TooLarge(bytes.len()));
    }
    let (tag, body) = bytes
        .split_first()
        .ok_or_else(|| ProofError::Malformed("empty".into()))?;
    let root = Digest(root.0);
    let qk = crate::key::qkey(key);
    let value_cfg: RangeCfg<usize> = (0..=MAX_VALUE_BYTES).into();
    let ok = match (*tag, value) {
        (TAG_INCLUSION, Some(v)) => {
            if v.len() > MAX_VALUE_BYTES {
                return Err(ProofError::ValueTooLarge(v.len()));
            }
            let p = InclusionProof::decode_cfg(body.to_vec(), &(MAX_PROOF_DIGESTS, ()))
                .map_err(|e| ProofError::Malformed(e.to_string()))?;
            p.verify::<Sha256, ValueEnc>(qk, v.to_vec(), &root)
        }
        (TAG_EXCLUSION, None) => {
            let cfg = (MAX_PROOF_DIGESTS, ((), (value_cfg, ())), (value_cfg, ()));
            let p = AbsenceProof::decode_cfg(body.to_vec(), &cfg)
                .map_err(|e| ProofError::Malformed(e.to_string()))?;
            p.verify::<Sha256>(&qk, &root)
        }
        (TAG_INCLUSION, None) => return Err(ProofError::KindMismatch("present")),
        (TAG_EXCLUSION, Some(_)) => return Err(ProofError::KindMismatch("absent")),
        (t, _) => return Err(ProofError::Malformed(format!("unknown tag {t}"))),
    };
    if ok { Ok(()) } else { Err(ProofError::Invalid) }
}
