//! Block execution on revm: a pure function of (parent state, block) to (receipts, changeset).
//!
//! The executor never writes storage. It reads the parent state through [`StateReader`]
//! (the node layers the changesets of unfinalized ancestors over the finalized state) and
//! returns the block's [`verai_primitives::Changeset`]; the caller commits it. Everything
//! here is deterministic: no clocks, no randomness, no floats, ordered maps for output; the
//! helper thread that seals receipts of large blocks ([`seal`]) changes when work happens,
//! never its result.
//! Native modules (provenance, ...) run as precompiles from one registry, [`native_modules`].

mod db;
mod env;
mod error;
mod executor;
mod precompiles;
mod seal;
mod simulate;

pub use db::{MemoryState, StateReader};
pub use env::{BlockParams, SPEC};
pub use error::{ExecutionError, ReadError};
pub use executor::{ExecutedBlock, Mode, Rejected, execute_block};
pub use precompiles::{VeraiPrecompiles, native_modules};
pub use simulate::{CallOutcome, CallRequest, call, estimate_gas};
