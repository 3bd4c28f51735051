//! Finality proofs: what `verai_getCertificate` returns and how a client checks one.
//!
//! A block at height `h` is final when a quorum (2f+1) of validators signed a simplex
//! *finalization* for it, or for a descendant of it (simplex finalizes ancestors implicitly, so
//! a block whose own view was not finalized has no finalization of its own). A
//! [`FinalityProof`] therefore carries one finalization and the RLP headers from the block up
//! to the finalized one: `headers[0]` is the block at `h`, each next header names the previous
//! one as parent, and the finalization signs the hash of the last header. For a block
//! finalized in its own view the list holds a single header.
//!
//! Encoding (all integers are Commonware varints):
//! `version (u8 = 1) || finalization || n_headers || (len || rlp_header) * n_headers`,
//! bounded by [`MAX_PROOF_HEADERS`] and [`MAX_HEADER_BYTES`], with no trailing bytes.

use crate::{
    ConsensusError,
    block::{Digest, to_b256},
};
use alloy_primitives::B256;
use alloy_rlp::Decodable as _;
use bytes::{Buf as _, BufMut};
use commonware_codec::{Copying, EncodeSize, Read, ReadExt as _, Write, varint::UInt};
use commonware_consensus::{Epochable as _, Viewable as _, simplex, types::Epoch};
use commonware_cryptography::{certificate::Verifier as _, ed25519};
use commonware_parallel::Sequential;
use commonware_utils::{ordered::Set, sys_rng};
use verai_primitives::{Header, keccak256};

/// Namespace of every consensus signature (votes and certificates) of Verai validators.
pub const NAMESPACE: &[u8] = b"_VERAI_CONSENSUS_V1";

/// The only epoch: the validator set is fixed.
pub const EPOCH: Epoch = Epoch::zero();

/// Signing scheme of votes and certificates (ed25519, attributable).
pub type Scheme = simplex::scheme::ed25519::Scheme;

/// A finalization certificate for a block digest.
pub type Finalization = simplex::types::Finalization<Scheme, Digest>;

/// Validator identity (and vote signing) key.
pub type PublicKey = ed25519::PublicKey;

/// Most headers a proof may carry.
pub const MAX_PROOF_HEADERS: usize = 1024;
/// Largest RLP header accepted in a proof.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

const VERSION: u8 = 1;

/// A finalization plus the header chain linking the proven block to the finalized one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinalityProof {
    /// Quorum certificate over the last header's hash.
    pub finalization: Finalization,
    /// RLP headers, from the proven block (first) up to the finalized block (last).
    pub headers: Vec<Vec<u8>>,
}

/// What a verified proof established.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedFinality {
    /// Consensus view of the finalization.
    pub view: u64,
    /// Hash of the block the finalization signs (equal to the proven block when direct).
    pub finalized_hash: B256,
    /// Height of that block.
    pub finalized_height: u64,
}

/// Builds the ordered validator set, rejecting an empty set or duplicates.
pub fn validator_set(validators: &[PublicKey]) -> Result<Set<PublicKey>, ConsensusError> {
    if validators.is_empty() {
        return Err(ConsensusError::InvalidValidatorSet("empty"));
    }
    Set::try_from(validators.to_vec())
        .map_err(|_| ConsensusError::InvalidValidatorSet("duplicate key"))
}

/// Parses an ed25519 public key from its 32 raw bytes.
pub fn public_key_from_bytes(bytes: &[u8]) -> Result<PublicKey, ConsensusError> {
    use commonware_codec::DecodeExt as _;
    PublicKey::decode(Copying(bytes)).map_err(|e| ConsensusError::InvalidPublicKey(e.to_string()))
}

/// Parses an ed25519 private key from its 32 raw bytes (a validator key file).
pub fn private_key_from_bytes(bytes: &[u8]) -> Result<ed25519::PrivateKey, ConsensusError> {
    use commonware_codec::DecodeExt as _;
    ed25519::PrivateKey::decode(Copying(bytes))
        .map_err(|e| ConsensusError::InvalidPublicKey(format!("private key: {e}")))
}

impl FinalityProof {
    /// Encodes the proof.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            1 + self.finalization.encode_size()
                + self.headers.iter().map(|h| h.len() + 3).sum::<usize>()
                + 3,
        );
        out.put_u8(VERSION);
        self.finalization.write(&mut out);
        UInt(self.headers.len() as u64).write(&mut out);
        for header in &self.headers {
            UInt(header.len() as u64).write(&mut out);
            out.put_slice(header);
        }
        out
    }

    /// Decodes a proof made by validators of `scheme` (bounds the certificate size).
    pub fn decode(bytes: &[u8], scheme: &Scheme) -> Result<Self, ConsensusError> {
        let malformed = |what: &str| ConsensusError::MalformedCertificate(what.to_string());
        let mut input = Copying(bytes);
        let buf = &mut input;
        if buf.remaining() < 1 || buf.get_u8() != VERSION {
            return Err(malformed("unknown version"));
        }
        let finalization = Finalization::read_cfg(buf, &scheme.certificate_codec_config())
            .map_err(|e| ConsensusError::MalformedCertificate(e.to_string()))?;
        let count = UInt::<u64>::read(buf)
            .map_err(|_| malformed("header count"))?
            .0;
        let count = usize::try_from(count).map_err(|_| malformed("header count"))?;
        if count == 0 || count > MAX_PROOF_HEADERS {
            return Err(malformed("header count out of range"));
        }
        let mut headers = Vec::with_capacity(count);
        for _ in 0..count {
            let len = UInt::<u64>::read(buf)
                .map_err(|_| malformed("header length"))?
                .0;
            let len = usize::try_from(len).map_err(|_| malformed("header length"))?;
            if len > MAX_HEADER_BYTES || len > buf.remaining() {
                return Err(malformed("header length out of range"));
            }
            headers.push(buf.0[..len].to_vec());
            buf.advance(len);
        }
        if buf.has_remaining() {
            return Err(malformed("trailing bytes"));
        }
        Ok(Self {
            finalization,
            headers,
        })
    }
}

/// Decodes one RLP header, rejecting trailing bytes.
fn decode_header(raw: &[u8]) -> Result<Header, ConsensusError> {
    let mut slice = raw;
    let header = Header::decode(&mut slice)
        .map_err(|e| ConsensusError::MalformedCertificate(format!("header: {e}")))?;
    if !slice.is_empty() {
        return Err(ConsensusError::MalformedCertificate(
            "header trailing bytes".into(),
        ));
    }
    Ok(header)
}

/// Checks that `cert` proves block `block_hash` at `height` final under `validators`.
///
/// Verifies, in order: the encoding (bounded), that the first header hashes to `block_hash`
/// and has number `height`, that every next header is the child of the previous one, that the
/// finalization is for the current epoch and signs the last header's hash, and that its quorum
/// of ed25519 signatures verifies against `validators` (in any order; the set is sorted).
pub fn verify_certificate(
    validators: &[PublicKey],
    block_hash: B256,
    height: u64,
    cert: &[u8],
) -> Result<VerifiedFinality, ConsensusError> {
    let scheme = Scheme::verifier(NAMESPACE, validator_set(validators)?);
    let proof = FinalityProof::decode(cert, &scheme)?;

    let mut expected_hash = block_hash;
    let mut expected_number = height;
    let mut last = (block_hash, height);
    for (i, raw) in proof.headers.iter().enumerate() {
        let header = decode_header(raw)?;
        let hash = keccak256(raw);
        if i == 0 {
            if hash != block_hash {
                return Err(ConsensusError::InvalidCertificate(
                    "first header is not the block",
                ));
            }
        } else if header.parent_hash != expected_hash {
            return Err(ConsensusError::InvalidCertificate("broken header chain"));
        }
        if header.number != expected_number {
            return Err(ConsensusError::InvalidCertificate(
                "unexpected header number",
            ));
        }
        last = (hash, header.number);
        expected_hash = hash;
        expected_number = header
            .number
            .checked_add(1)
            .ok_or(ConsensusError::InvalidCertificate("height overflow"))?;
    }

    let finalization = &proof.finalization;
    if finalization.epoch() != EPOCH {
        return Err(ConsensusError::InvalidCertificate("wrong epoch"));
    }
    if to_b256(&finalization.proposal.payload) != last.0 {
        return Err(ConsensusError::InvalidCertificate(
            "finalization signs another block",
        ));
    }
    if !finalization.verify(&mut sys_rng(), &scheme, &Sequential) {
        return Err(ConsensusError::InvalidCertificate(
            "signatures do not verify",
        ));
    }
    Ok(VerifiedFinality {
        view: finalization.view().get(),
        finalized_hash: last.0,
        finalized_height: last.1,
    })
}
