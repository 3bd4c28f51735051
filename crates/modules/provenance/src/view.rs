//! JSON views of records, usage and lineage, as RPC serves them and the CLI prints them.

use crate::{
    IProvenance::{Record, Usage},
    Kind, RecordBody,
};
use alloy_primitives::{Address, B256};
use serde::{Deserialize, Serialize};

/// A contributor's share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContributorView {
    /// Account.
    pub account: Address,
    /// Share in basis points.
    pub share_bps: u16,
}

/// A record, as `verai_getRecord` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordView {
    /// Id (1-based, registration order).
    pub id: u64,
    /// `dataset`, `model`, `training-run` or `inference`.
    pub kind: String,
    /// SHA-256 of the content.
    pub content_hash: B256,
    /// Where the content is.
    pub uri: String,
    /// SPDX id or licence document hash.
    pub license: String,
    /// Current owner.
    pub owner: Address,
    /// Who registered it.
    pub creator: Address,
    /// Shares.
    pub contributors: Vec<ContributorView>,
    /// Parents fixed at registration.
    pub parents: Vec<u64>,
    /// Parents added later (the training run that produced a model).
    pub links: Vec<u64>,
    /// Block timestamp of registration.
    pub timestamp: u64,
    /// Block of registration.
    pub block_number: u64,
    /// Marked deprecated by its owner.
    pub deprecated: bool,
}

impl From<Record> for RecordView {
    fn from(r: Record) -> Self {
        Self {
            id: r.id,
            kind: Kind::from_u8(r.kind)
                .map(|k| k.name().to_owned())
                .unwrap_or_else(|| format!("kind-{}", r.kind)),
            content_hash: r.contentHash,
            uri: r.uri,
            license: r.license,
            owner: r.owner,
            creator: r.creator,
            contributors: r
                .contributors
                .into_iter()
                .map(|c| ContributorView {
                    account: c.account,
                    share_bps: c.shareBps,
                })
                .collect(),
            parents: r.parents,
            links: r.links,
            timestamp: r.timestamp,
            block_number: r.blockNumber,
            deprecated: r.deprecated,
        }
    }
}

/// The committed body of a record as a client rebuilds it from a view (to check it against
/// the proven commitment slot); `None` for an unknown kind name.
pub fn record_body(v: &RecordView) -> Option<RecordBody> {
    Some(RecordBody {
        kind: Kind::parse(&v.kind)? as u8,
        contentHash: v.content_hash,
        uri: v.uri.clone(),
        license: v.license.clone(),
        creator: v.creator,
        contributorAccounts: v.contributors.iter().map(|c| c.account).collect(),
        contributorShares: v.contributors.iter().map(|c| c.share_bps).collect(),
        parents: v.parents.clone(),
        timestamp: v.timestamp,
        blockNumber: v.block_number,
    })
}

/// One usage entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageView {
    /// Index in the model's log.
    pub index: u64,
    /// Who used it.
    pub user: Address,
    /// Block.
    pub block_number: u64,
    /// Block timestamp.
    pub timestamp: u64,
    /// Caller-supplied reference (e.g. an inference's input hash).
    #[serde(rename = "ref")]
    pub reference: B256,
}

impl UsageView {
    /// From the ABI struct.
    pub fn new(index: u64, u: Usage) -> Self {
        Self {
            index,
            user: u.user,
            block_number: u.blockNumber,
            timestamp: u.timestamp,
            reference: u.r#ref,
        }
    }
}

/// A record reached by a lineage walk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineageNode {
    /// Its id.
    pub id: u64,
    /// Distance from the root (1 = direct parent or child).
    pub depth: u32,
    /// Its own edges in the walk's direction (parents and links, or children).
    pub edges: Vec<u64>,
}
