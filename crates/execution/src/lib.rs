//! Block execution on revm: a pure function of (parent state, block) to (receipts, changeset).
//!
//! The executor never writes storage. It reads the parent state through [`StateReader`]
//! (the node layers the changesets of unfinalized ancestors over the finalized state) and
//! returns the block's [`verai_primitives::Changeset`]; the caller commits it. Everything
//! here is deterministic: no clocks, no randomness, no floats, ordered maps for output; the
//! helper thread that seals receipts of large blocks ([`seal`]) changes when work happens,
//! never its result.
//! Native modules run as precompiles ([`VeraiPrecompiles`]) from the [`ModuleSet`] the caller
//! passes: the list lives in `verai-modules`, so execution builds and tests without any
//! module's dependencies (the inference engine among them).

mod db;
mod env;
mod error;
mod executor;
mod precompiles;
pub mod rules;
mod seal;
mod simulate;

pub use db::{MemoryState, StateReader};
pub use env::{BlockParams, SPEC};
pub use error::{ExecutionError, ReadError};
pub use executor::{ExecutedBlock, Mode, Rejected, execute_block};
pub use precompiles::VeraiPrecompiles;
pub use simulate::{CallOutcome, CallRequest, call, estimate_gas};
pub use verai_primitives::ModuleSet;
