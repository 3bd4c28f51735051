//! Why a transaction was refused. Messages follow geth's, which clients match on.

/// Admission failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The transaction is already pooled.
    #[error("already known")]
    AlreadyKnown,
    /// Signed for another chain, or without EIP-155 replay protection.
    #[error("invalid chain id: expected {expected}, got {got:?}")]
    WrongChainId {
        /// This chain's id.
        expected: u64,
        /// The transaction's.
        got: Option<u64>,
    },
    /// Nonce below the account's.
    #[error("nonce too low: next nonce {state}, tx nonce {tx}")]
    NonceTooLow {
        /// The account's nonce.
        state: u64,
        /// The transaction's.
        tx: u64,
    },
    /// Nonce too far ahead of the account's.
    #[error("nonce too high: next nonce {state}, tx nonce {tx}")]
    NonceTooHigh {
        /// The account's nonce.
        state: u64,
        /// The transaction's.
        tx: u64,
    },
    /// The balance does not cover `gas_limit * max_fee + value`.
    #[error("insufficient funds for gas * price + value: balance {balance}, tx cost {cost}")]
    InsufficientFunds {
        /// Balance.
        balance: alloy_primitives::U256,
        /// Maximum cost.
        cost: alloy_primitives::U256,
    },
    /// Gas limit above the block's.
    #[error("exceeds block gas limit: {gas} > {limit}")]
    GasLimitExceeded {
        /// The transaction's gas limit.
        gas: u64,
        /// The block's.
        limit: u64,
    },
    /// Gas limit below the intrinsic cost.
    #[error("intrinsic gas too low: have {have}, want {want}")]
    IntrinsicGasTooLow {
        /// The gas limit.
        have: u64,
        /// The intrinsic gas.
        want: u64,
    },
    /// Fee cap below the current base fee.
    #[error("max fee per gas less than block base fee: maxFeePerGas {fee}, baseFee {base_fee}")]
    FeeCapTooLow {
        /// Fee cap.
        fee: u128,
        /// Base fee.
        base_fee: u64,
    },
    /// Tip above the fee cap.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    /// A replacement that does not raise the fees enough.
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced,
    /// The sender or the whole pool is at its bound.
    #[error("txpool is full")]
    PoolFull,
    /// The encoded transaction is too large.
    #[error("oversized data: {size} bytes, limit {limit}")]
    Oversized {
        /// Size.
        size: usize,
        /// Limit.
        limit: usize,
    },
}
