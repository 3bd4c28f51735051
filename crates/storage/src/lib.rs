//! Verai's storage: the authenticated state (QMDB), its synchronous copy, and the RPC index.
//!
//! - [`Commitment`]: chain state in Commonware's QMDB, variant `current::ordered::variable`.
//!   *current* because its root authenticates, besides the operation log, a bitmap of which
//!   operations are still active, so a proof shows that a key has a value *now* (an `any`
//!   database can only prove that a key had a value at some point). *ordered* because each
//!   active key links to the next one, so absence of a key is provable too. *variable* because
//!   values are accounts (72 bytes), storage words (32) and contract code (up to
//!   [`MAX_VALUE_BYTES`]). Blocks are executed into speculative batches ([`PendingState`])
//!   that chain on their parents and are merkleized once; the finalized one is applied as is.
//! - [`StateStore`]: a plain key-value copy of the latest finalized state in redb, for the
//!   synchronous reads of execution (revm). Derived: it can be rebuilt from the blocks or from
//!   [`Commitment::for_each_entry`].
//! - [`Index`]: the RPC index in redb (blocks, hashes, receipts, logs by address and topic).
//! - [`verify_state_proof`]: the pure check of a [`StateProof`] that clients run.
//!
//! Crash order: the node commits QMDB first, then the state store, then the index. On start,
//! `store.height() <= commitment.height()` and the node replays the blocks in between.

mod commitment;
mod error;
mod explore;
mod index;
mod key;
mod proof;
mod sentinel;
mod state_store;

pub use commitment::{Commitment, PendingState, StateContext, StateDb};
pub use error::{Result, StorageError};
pub use explore::{AddressTx, MAX_PAGE, role};
pub use index::{Index, IndexedBlock, LogLocation, LogQuery, TOPIC_POSITIONS};
pub use key::{QKEY_LEN, qkey};
pub use proof::{MAX_PROOF_BYTES, MAX_PROOF_DIGESTS, ProofError, StateProof, verify_state_proof};
pub use sentinel::{MAX_ALERT_BYTES, MAX_ALERT_SCAN};
pub use state_store::{StateSnapshot, StateStore};

/// Largest state value (contract code is the largest kind): 256 KiB.
pub const MAX_VALUE_BYTES: usize = 256 * 1024;

#[cfg(test)]
mod tests;
