//! Wire names of methods, for code that handles requests as JSON rather than through the
//! generated clients: batches (jsonrpsee's clients do not build them) and tests that look
//! at or forge requests on the wire (proxies, raw bodies). Everything else calls methods by
//! their Rust names. The node's RPC tests (`crates/node/tests/rpc_errors.rs`) check that
//! each name here is a method the server registers, so no name can drift from its
//! declaration.

/// `EthApi::chain_id`.
pub const CHAIN_ID: &str = "eth_chainId";
/// `EthApi::send_raw_transaction`.
pub const SEND_RAW_TRANSACTION: &str = "eth_sendRawTransaction";
/// `EthApi::call`.
pub const CALL: &str = "eth_call";
/// `EthApi::get_code`.
pub const GET_CODE: &str = "eth_getCode";
/// `EthApi::get_logs`.
pub const GET_LOGS: &str = "eth_getLogs";
/// `ProvenanceApi::get_record`.
pub const GET_RECORD: &str = "verai_getRecord";
/// `ProvenanceApi::put_blob`.
pub const PUT_BLOB: &str = "verai_putBlob";
/// `VeraiApi::get_proof`.
pub const GET_PROOF: &str = "verai_getProof";
/// `VeraiApi::get_certificate`.
pub const GET_CERTIFICATE: &str = "verai_getCertificate";

/// Every name above.
pub const ALL: [&str; 9] = [
    CHAIN_ID,
    SEND_RAW_TRANSACTION,
    CALL,
    GET_CODE,
    GET_LOGS,
    GET_RECORD,
    PUT_BLOB,
    GET_PROOF,
    GET_CERTIFICATE,
];
