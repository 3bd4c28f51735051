//! A block checked final: its header decoded here, and its finalization certificate a
//! quorum of the validator set's signatures on it (or on a descendant linked by the
//! certificate's headers).

use super::fail;
use crate::{Client, ClientError};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::B256;
use serde::{Deserialize, Serialize};
use verai_consensus::{PublicKey, verify_certificate};
use verai_primitives::Block;
use verai_rpc_api::{DebugApiClient, VeraiApiClient};

/// What a successful check established.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The block's height.
    pub number: u64,
    /// Its hash, computed here.
    pub hash: B256,
    /// Its state root.
    pub state_root: B256,
    /// Always true (a failed check is an error).
    pub verified: bool,
    /// Validators in the set.
    pub validators: usize,
    /// Consensus view of the finalization.
    pub view: u64,
    /// The block the certificate finalizes (this one or a descendant).
    pub finalized_height: u64,
    /// Its hash.
    pub finalized_hash: B256,
}

/// Fetch block `number` (raw) and its certificate from `client` and check both here.
pub async fn verify(
    client: &Client,
    number: u64,
    validators: &[PublicKey],
) -> Result<Report, ClientError> {
    let tag = BlockNumberOrTag::Number(number);
    let raw = client
        .get_raw_block(tag)
        .await?
        .ok_or_else(|| fail(format!("the node has no raw block {number}")))?;
    let block = Block::decode(&raw).map_err(|e| fail(format!("block {number}: {e}")))?;
    let cert = client
        .get_certificate(tag)
        .await?
        .ok_or_else(|| fail(format!("the node has no certificate for block {number}")))?;
    let height = block.number();
    let fin = verify_certificate(validators, block.hash(), height, &cert.certificate)
        .map_err(|e| fail(format!("block {height} is NOT proven final: {e}")))?;
    Ok(Report {
        number: height,
        hash: block.hash(),
        state_root: block.header.state_root,
        verified: true,
        validators: validators.len(),
        view: fin.view,
        finalized_height: fin.finalized_height,
        finalized_hash: fin.finalized_hash,
    })
}
