//! In-consensus inference: the native module at `0x…0a02`, its storage layout and the audit
//! record of every inference.
//!
//! A model is registered with its ONNX bytes in the transaction: every validator checks it
//! with [`verai_inference::Model::load`] (the same verdict everywhere), the bytes are stored
//! in this module's account as write-once words, and the model becomes a provenance record
//! (kind model, content hash = SHA-256 of the bytes) owned by the caller. Its id is the
//! provenance record id.
//!
//! `infer` runs the model inside block execution, so every validator computes the output and
//! the state root commits to the audit record: model hash, input hash, output hash,
//! requester, block and path. The input and output themselves go into the
//! `InferenceRecorded` log, from which `verai infer verify` re-runs the model.
//!
//! Invariants:
//! - gas is a function of the model and the call only (never of what a node has cached):
//!   [`gas_per_call`] is charged before the model runs, and loading the model's bytes on a
//!   cache miss reads storage uncharged ([`verai_primitives::Host::peek`]);
//! - a refused call (bad model, unknown model, bad input) reverts with an `IInference` error
//!   and writes nothing;
//! - the model bytes of an id never change after registration (they are written once).
//!
//! Storage layout: see [`layout`].

mod abi;
mod explain;
pub mod layout;
mod module;

pub use abi::IInference;
pub use explain::explain;
pub use module::{Inference, model_cache};

use alloy_primitives::Address;

/// The module's address, `0x0000000000000000000000000000000000000a02`.
pub const ADDRESS: Address = verai_primitives::module_address(2);

/// Gas of every inference before the model's own cost: the flat fee for loading the model.
pub const INFER_BASE_GAS: u64 = 20_000;
/// Operations of the model per unit of gas.
pub const OPS_PER_GAS: u64 = 32;
/// Largest tensor rank stored.
pub const MAX_RANK: usize = 7;

/// Gas an inference of a model with `ops` operations costs, before its audit record.
pub fn gas_per_call(ops: u64) -> u64 {
    INFER_BASE_GAS.saturating_add(ops.div_ceil(OPS_PER_GAS))
}

/// `path` of an audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Path {
    /// Run by every validator inside block execution.
    Consensus = 0,
    /// Agreed by a quorum of oracle nodes.
    Oracle = 1,
}
