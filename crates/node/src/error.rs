//! Node errors.

/// Why the node could not start or apply a block.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] verai_storage::StorageError),
    /// Stored bytes did not decode.
    #[error("decode: {0}")]
    Decode(#[from] verai_primitives::PrimitivesError),
    /// Execution failed.
    #[error("execution: {0}")]
    Execution(#[from] verai_execution::ExecutionError),
    /// Consensus failed to start.
    #[error("consensus: {0}")]
    Consensus(#[from] verai_consensus::ConsensusError),
    /// A proposal is invalid.
    #[error("invalid block: {0}")]
    InvalidBlock(String),
    /// Local state disagrees with the finalized chain.
    #[error("inconsistent state: {0}")]
    Inconsistent(String),
    /// I/O failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
