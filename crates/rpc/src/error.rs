//! JSON-RPC error codes (EIP-1474) and the mapping of node errors onto them.
//!
//! | code   | meaning                                  | used for                                  |
//! |--------|------------------------------------------|-------------------------------------------|
//! | -32700 | parse error                              | invalid JSON (jsonrpsee)                  |
//! | -32600 | invalid request                          | not a JSON-RPC request (jsonrpsee)        |
//! | -32601 | method not found                         | unknown method (jsonrpsee)                |
//! | -32602 | invalid params                           | wrong params, malformed RLP, bad signature|
//! | -32603 | internal error                           | storage failures                          |
//! | -32000 | invalid input                            | nonce, funds, gas, fee checks (as geth)   |
//! | -32001 | resource not found                       | historical state                          |
//! | -32003 | transaction rejected                     | pool full, underpriced replacement        |
//! | -32005 | limit exceeded                           | too many logs                             |
//! | 3      | execution reverted (geth convention)     | `eth_call`/`eth_estimateGas` reverts      |

use crate::BackendError;
use alloy_primitives::Bytes;
use jsonrpsee::types::ErrorObjectOwned;
use verai_mempool::PoolError;

/// Invalid params.
pub const INVALID_PARAMS: i32 = -32602;
/// Internal error.
pub const INTERNAL: i32 = -32603;
/// Invalid input.
pub const INVALID_INPUT: i32 = -32000;
/// Resource not found.
pub const NOT_FOUND: i32 = -32001;
/// Transaction rejected.
pub const TX_REJECTED: i32 = -32003;
/// Limit exceeded.
pub const LIMIT_EXCEEDED: i32 = -32005;
/// Execution reverted.
pub const REVERTED: i32 = 3;

/// An error object with no data.
pub fn err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), None::<()>)
}

/// Invalid params.
pub fn invalid_params(msg: impl Into<String>) -> ErrorObjectOwned {
    err(INVALID_PARAMS, msg)
}

/// A revert, with the revert data as clients expect it (`data` is the hex return data).
pub fn reverted(output: &Bytes) -> ErrorObjectOwned {
    let reason = alloy_sol_types::decode_revert_reason(output);
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
