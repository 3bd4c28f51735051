//! Execution errors.

use alloy_primitives::B256;

/// The state could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("state read failed: {0}")]
pub struct ReadError(pub String);

impl revm::database_interface::DBErrorMarker for ReadError {}

/// Why a block could not be executed.
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    /// Reading the parent state failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// In [`crate::Mode::Verify`], a transaction of the block is invalid.
    #[error("transaction {hash} is invalid: {reason}")]
    InvalidTransaction {
        /// Its hash.
        hash: B256,
        /// Why revm refused it.
        reason: String,
    },
    /// The block's transactions use more gas than its limit.
    #[error("block gas {used} exceeds the limit {limit}")]
    GasLimit {
        /// Gas used.
        used: u64,
        /// Limit.
        limit: u64,
    },
    /// A bug or an invariant broken inside the EVM.
    #[error("evm failure: {0}")]
    Evm(String),
}
