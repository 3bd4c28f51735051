//! Provenance registry: the native module at `0x…0a01`, its read API and the blob store.
//!
//! Records (datasets, models, training runs, inferences) live in the storage of the module's
//! account, so the block's state root commits to them and `verai_getProof` proves them. The
//! ABI is `contracts/interfaces/IProvenance.sol`, read here by `sol!`, so Solidity, `cast`,
//! ethers and the Rust code share one definition.
//!
//! Invariants:
//! - ids are 1, 2, 3, … in registration order; a record's parents all have smaller ids, so
//!   the `parents` of registration can never form a cycle. The only edge added later is a
//!   training run linked as a parent of its output model, and that link is refused when the
//!   model is already an ancestor of the run ([`IProvenance::LineageCycle`]).
//! - the immutable part of a record (its [`RecordBody`]) is written once and committed by its
//!   keccak hash in one slot; owner and the deprecated flag are separate slots.
//! - (kind, content hash) is unique.
//! - a refused call reverts with an `IProvenance` custom error and writes nothing (the
//!   executor rolls back the call frame).
//!
//! Storage layout: see [`layout`].

mod abi;
pub mod blob;
mod explain;
pub mod layout;
pub mod licence;
mod module;
pub mod read;
pub mod refs;
mod view;
pub mod words;

pub use IProvenance::LicenseTerms;
pub use abi::{IProvenance, RecordBody};
pub use explain::explain;
pub use module::{Provenance, record_usage, register};
pub use view::{LineageNode, RecordView, UsageView, record_body};

use alloy_primitives::Address;

/// The module's address, `0x0000000000000000000000000000000000000a01`.
pub const ADDRESS: Address = verai_primitives::module_address(1);

/// Longest URI accepted (bytes).
pub const MAX_URI_BYTES: usize = 2048;
/// Longest licence string accepted (bytes): an SPDX id or `sha256:<hex>` of a licence text.
pub const MAX_LICENSE_BYTES: usize = 256;
/// Most parents (or training inputs) of one record.
pub const MAX_PARENTS: usize = 64;
/// Most contributors of one record.
pub const MAX_CONTRIBUTORS: usize = 64;
/// Most records an on-chain ancestor walk (the cycle check) visits before refusing.
pub const MAX_CHAIN_WALK: usize = 4096;
/// Shares of all contributors sum to this many basis points.
pub const TOTAL_BPS: u32 = 10_000;

/// Kinds of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Kind {
    /// A data set.
    Dataset = 0,
    /// A trained model.
    Model = 1,
    /// A training run (its content hash is the hash of its parameters).
    TrainingRun = 2,
    /// An inference (its content hash is the hash of its output).
    Inference = 3,
}

impl Kind {
    /// All kinds, by number.
    pub const ALL: [Kind; 4] = [
        Kind::Dataset,
        Kind::Model,
        Kind::TrainingRun,
        Kind::Inference,
    ];

    /// The kind numbered `n`.
    pub fn from_u8(n: u8) -> Option<Self> {
        Self::ALL.get(usize::from(n)).copied()
    }

    /// Lower-case name (`dataset`, `model`, `training-run`, `inference`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Dataset => "dataset",
            Kind::Model => "model",
            Kind::TrainingRun => "training-run",
            Kind::Inference => "inference",
        }
    }

    /// Parse a name as printed by [`Self::name`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}
