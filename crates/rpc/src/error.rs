//! JSON-RPC error codes (EIP-1474) and the mapping of node errors onto them.
//!
//! The codes themselves are [`verai_rpc_api::codes`].

use crate::BackendError;
use alloy_primitives::Bytes;
use jsonrpsee::types::ErrorObjectOwned;
use verai_mempool::PoolError;

pub use verai_rpc_api::codes::*;

/// An error object with no data.
pub fn err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), None::<()>)
}

/// Invalid params.
pub fn invalid_params(msg: impl Into<String>) -> ErrorObjectOwned {
    err(INVALID_PARAMS, msg)
}

/// A revert, with the revert data as clients expect it (`data` is the hex return data).
/// The message says why when the data is `Error(string)`, a panic, or an error of one of
/// the chain's native `modules`.
pub fn reverted(output: &Bytes, modules: &verai_execution::ModuleSet) -> ErrorObjectOwned {
    let reason = modules
        .explain(output)
        .or_else(|| alloy_sol_types::decode_revert_reason(output));
    let msg = match reason {
        Some(r) => format!("execution reverted: {r}"),
        None => "execution reverted".to_string(),
    };
    ErrorObjectOwned::owned(REVERTED, msg, Some(output.to_string()))
}

impl From<BackendError> for ErrorObjectOwned {
    fn from(e: BackendError) -> Self {
        match &e {
            BackendError::Internal(_) => err(INTERNAL, e.to_string()),
            BackendError::Unavailable(_) => err(NOT_FOUND, e.to_string()),
            BackendError::LimitExceeded(_) => err(LIMIT_EXCEEDED, e.to_string()),
            BackendError::Refused(_) => err(INVALID_PARAMS, e.to_string()),
        }
    }
}

/// The code for a pool refusal.
pub fn pool_error(e: PoolError) -> ErrorObjectOwned {
    let code = match e {
        PoolError::PoolFull | PoolError::ReplacementUnderpriced | PoolError::AlreadyKnown => {
            TX_REJECTED
        }
        PoolError::Oversized { .. } => LIMIT_EXCEEDED,
        _ => INVALID_INPUT,
    };
    err(code, e.to_string())
}
