//! Errors of decoding and validating primitive data.

/// Why bytes could not become a block or transaction.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrimitivesError {
    /// The input is larger than the limit for its kind.
    #[error("{what} of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// What was being decoded.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The bytes are not valid RLP / EIP-2718 for the expected type.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// Decoder message.
        reason: String,
    },
    /// A transaction type this chain does not execute (blob and set-code transactions).
    #[error("unsupported transaction type {0}")]
    UnsupportedTxType(u8),
    /// The signature does not recover to a sender.
    #[error("invalid transaction signature")]
    InvalidSignature,
}
