//! The oracle path of verifiable inference: models too large for a block run off chain on
//! registered oracle nodes, and a result counts when a quorum of them agrees.
//!
//! The coordinator is a Solidity contract (`contracts/src/OracleHub.sol`): bonds, requests,
//! quorum, fee split, slashing, refunds and the requester's callback live on chain. This
//! crate is everything off chain:
//! - [`hub`]: the hub's ABI, its deployment and its views;
//! - [`request`]: asking the oracles for an inference and waiting for the agreed output;
//! - [`worker`]: an oracle: it follows the hub's `InferenceRequested` events, fetches the
//!   model (from the inference module, or a provenance model record's blob, checked against
//!   its content hash), runs it with the same engine and instruction set as the validators
//!   (off-chain size limits), and submits the output in a signed transaction.

pub mod hub;
pub mod request;
pub mod worker;

pub use hub::{DeployParams, IOracleHub, RequestStatus, deploy, status};
pub use request::{Answer, Request, ask};
pub use worker::{Fault, Worker};

/// Why an oracle operation failed.
#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    /// The node or chain refused, or could not be reached.
    #[error(transparent)]
    Client(verai_client::ClientError),
    /// A model could not be loaded or run.
    #[error("model {model}: {reason}")]
    Model {
        /// The model's id.
        model: u64,
        /// Why.
        reason: String,
    },
    /// Something the hub or node returned is not what it should be.
    #[error("{0}")]
    Invalid(String),
}

impl From<verai_client::ClientError> for OracleError {
    /// A revert of the hub is explained in the hub's words.
    fn from(e: verai_client::ClientError) -> Self {
        match e {
            verai_client::ClientError::Reverted { data: Some(d), .. }
                if hub::explain(&d).is_some() =>
            {
                Self::Client(verai_client::ClientError::Reverted {
                    reason: hub::explain(&d).unwrap_or_default(),
                    data: Some(d),
                })
            }
            other => Self::Client(other),
        }
    }
}

impl From<verai_client::api::jsonrpsee::core::ClientError> for OracleError {
    fn from(e: verai_client::api::jsonrpsee::core::ClientError) -> Self {
        Self::Client(e.into())
    }
}
