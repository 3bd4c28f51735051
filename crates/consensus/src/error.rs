//! Errors of the consensus adapter.

/// What went wrong in the consensus adapter.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConsensusError {
    /// The validator set is empty or holds a duplicate key.
    #[error("invalid validator set: {0}")]
    InvalidValidatorSet(&'static str),
    /// The local signing key is not in the validator set.
    #[error("the signing key is not a member of the validator set")]
    NotAValidator,
    /// The configuration is unusable.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// A certificate (finality proof) could not be decoded.
    #[error("malformed certificate: {0}")]
    MalformedCertificate(String),
    /// A certificate decoded but does not prove what it was asked to prove.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(&'static str),
    /// A genesis file is invalid.
    #[error("genesis file: {0}")]
    Genesis(String),
    /// A public key could not be parsed.
    #[error("invalid public key: {0}")]
    InvalidPublicKey(String),
}
