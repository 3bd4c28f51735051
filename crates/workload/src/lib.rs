//! Traffic generators that drive a node through its typed client, for people trying the
//! chain, for tests and for benchmarks: labelled scenarios whose outcome is measured.
//!
//! - [`phishing`]: normal users and a phishing collector against a node running the
//!   sentinel (`verai sentinel simulate`).
//! - [`Sender`]: signs transfers from many keys with locally tracked nonces.

pub mod phishing;
mod sender;

pub use sender::Sender;

/// Why a workload stopped.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The node refused or could not be reached.
    #[error(transparent)]
    Client(#[from] verai_client::ClientError),
    /// The node is not what the workload needs.
    #[error("{0}")]
    Unsuitable(String),
    /// Transactions neither included nor held in time.
    #[error("{0} transactions neither included nor held after {1} s")]
    Stalled(usize, u64),
}

impl From<verai_client::api::jsonrpsee::core::ClientError> for WorkloadError {
    fn from(e: verai_client::api::jsonrpsee::core::ClientError) -> Self {
        Self::Client(e.into())
    }
}
