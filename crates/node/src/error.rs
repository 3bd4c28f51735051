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
    /// A quorum-breaking number of validators runs from another genesis.
    #[error(
        "genesis mismatch: this node's genesis block is {ours} but {theirs}; start every node from the same genesis file (see `verai testnet init`)"
    )]
    GenesisMismatch {
        /// Our genesis hash.
        ours: alloy_primitives::B256,
        /// Which validators reported what.
        theirs: String,
    },
    /// A configuration or genesis file is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// A follower's upstream failed or served something invalid.
    #[error("upstream: {0}")]
    Upstream(String),
    /// A submitted transaction was refused.
    #[error("transaction refused: {0}")]
    Rejected(String),
    /// I/O failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
