//! JSON-RPC error codes (EIP-1474), shared by the server that sets them and the clients
//! that tell them apart.
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
