//! Errors of the client.

use alloy_primitives::{B256, Bytes};

/// Why a client operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The call failed: the node refused it, or could not be reached.
    #[error("{}", rpc_message(.0))]
    Rpc(#[from] jsonrpsee::core::ClientError),
    /// The node predicts (or the chain recorded) a revert; `reason` is the decoded reason.
    #[error("refused: {reason}")]
    Reverted {
        /// The decoded reason, or the node's message when the data decodes to nothing known.
        reason: String,
        /// ABI-encoded revert data, if any.
        data: Option<Bytes>,
    },
    /// Included, but the transaction failed on chain.
    #[error("transaction {0} failed on chain")]
    Failed(B256),
    /// Not included in time.
    #[error("transaction {hash} not included within {secs} s")]
    NotIncluded {
        /// The transaction.
        hash: B256,
        /// How long we waited.
        secs: u64,
    },
    /// No usable signing key.
    #[error("{0}")]
    Signer(String),
    /// The node's answer is not what the method promises.
    #[error("bad answer from the node: {0}")]
    BadAnswer(String),
    /// A trustless check failed: the node's data does not prove the claim.
    #[error("verification FAILED: {0}")]
    Verification(String),
    /// Input given here is unusable.
    #[error("{0}")]
    Input(String),
    /// Reading a local file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A JSON-RPC error in words: the node's message (jsonrpsee prints the whole object).
fn rpc_message(e: &jsonrpsee::core::ClientError) -> String {
    match e {
        jsonrpsee::core::ClientError::Call(o) => match o.data() {
            Some(d) if o.code() == verai_rpc_api::codes::REVERTED => {
                format!("{} (data {})", o.message(), d.get())
            }
            _ => format!("the node refused: {}", o.message()),
        },
        other => other.to_string(),
    }
}
