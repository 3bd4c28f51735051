//! Access to private data: a request signed by the record's owner or a current grantee.
//!
//! A node serves a blob it keeps private only against a [`BlobAccess`] signed (EIP-712,
//! domain "Verai Blobs", version 1, the chain id, this module's address) by an account that
//! may use the record whose content hash the blob is: its owner, or the holder of a grant
//! that has not expired. The signature is fresh for [`MAX_SKEW_SECS`] around the node's
//! clock, so a leaked request cannot be replayed for long. The check reads the finalized
//! state of the registry and the market; the node decides nothing else.

use crate::{ADDRESS, read};
use alloy_primitives::{Address, B256, Signature};
use alloy_sol_types::{Eip712Domain, SolStruct, eip712_domain};
use verai_primitives::ModuleError;
use verai_provenance::read::Slots;

alloy_sol_types::sol! {
    /// What the requester signs: the blob, the record it is the content of, and when.
    #[derive(Debug, PartialEq, Eq)]
    struct BlobAccess {
        bytes32 blob;
        uint64 recordId;
        uint64 signedAt;
    }
}

/// How far a request's `signedAt` may be from the node's clock (seconds).
pub const MAX_SKEW_SECS: u64 = 300;

/// The EIP-712 domain of blob requests on chain `chain_id`.
pub fn domain(chain_id: u64) -> Eip712Domain {
    eip712_domain! {
        name: "Verai Blobs",
        version: "1",
        chain_id: chain_id,
        verifying_contract: ADDRESS,
    }
}

/// The hash a requester signs.
pub fn signing_hash(req: &BlobAccess, chain_id: u64) -> B256 {
    req.eip712_signing_hash(&domain(chain_id))
}

/// Why a request is refused.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// Malformed or unrecoverable signature.
    #[error("the signature is not a valid 65-byte signature of this request")]
    BadSignature,
    /// Too old or from the future.
    #[error(
        "the request was signed at {signed_at}, more than {MAX_SKEW_SECS} s from the node's clock ({now})"
    )]
    Stale {
        /// When it says it was signed.
        signed_at: u64,
        /// The node's time.
        now: u64,
    },
    /// No such record.
    #[error("no record {0}")]
    UnknownRecord(u64),
    /// The blob is not the record's content.
    #[error("blob {blob} is not the content of record {record} (its content hash is {content})")]
    NotTheContent {
        /// The blob asked for.
        blob: B256,
        /// The record named.
        record: u64,
        /// The record's content hash.
        content: B256,
    },
    /// The signer may not use the record.
    #[error(
        "{account} is neither the owner of record {record} nor the holder of a current grant on it"
    )]
    NoGrant {
        /// The signer.
        account: Address,
        /// The record.
        record: u64,
    },
    /// The state could not be read.
    #[error("state: {0}")]
    State(#[from] ModuleError),
}

/// Check `req` signed with `signature` at the node's time `now` (seconds) against the
/// registry's state (`registry`) and the market's (`market`); returns the signer.
pub fn check(
    registry: &mut (impl Slots + ?Sized),
    market: &mut (impl Slots + ?Sized),
    req: &BlobAccess,
    signature: &[u8],
    chain_id: u64,
    now: u64,
) -> Result<Address, AccessError> {
    if req.signedAt.abs_diff(now) > MAX_SKEW_SECS {
        return Err(AccessError::Stale {
            signed_at: req.signedAt,
            now,
        });
    }
    let account = Signature::from_raw(signature)
        .ok()
        .and_then(|s| {
            s.recover_address_from_prehash(&signing_hash(req, chain_id))
                .ok()
        })
        .ok_or(AccessError::BadSignature)?;
    let record = verai_provenance::read::record(registry, req.recordId)?
        .ok_or(AccessError::UnknownRecord(req.recordId))?;
    if record.contentHash != req.blob {
        return Err(AccessError::NotTheContent {
            blob: req.blob,
            record: req.recordId,
            content: record.contentHash,
        });
    }
    if record.owner == account {
        return Ok(account);
    }
    let grant = read::grant(market, req.recordId, account)?;
    if read::grant_valid(&grant, now) {
        Ok(account)
    } else {
        Err(AccessError::NoGrant {
            account,
            record: req.recordId,
        })
    }
}
