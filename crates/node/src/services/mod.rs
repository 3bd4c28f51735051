//! Services beside the chain: each follows finalized blocks through the chain's finalized
//! channel (or, for the registrar, submits through the chain), and none affects what is
//! finalized.
//!
//! - [`sentinel`]: screening at admission, alerts and holds;
//! - [`audit`]: auditing every contract a finalized block deploys;
//! - [`registrar`]: the node's own models and AI decisions, recorded in provenance.

pub(crate) mod audit;
pub(crate) mod registrar;
pub(crate) mod sentinel;
