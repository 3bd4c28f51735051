//! The typed client of a Verai node: connection, signers, transactions, and the checks a
//! client runs to trust no single node.
//!
//! - [`Client`]: a jsonrpsee HTTP client that implements every `*Client` trait of
//!   `verai-rpc-api` (`EthApiClient`, `VeraiApiClient`, ...), so each method is called by
//!   its Rust name with typed parameters and results. A node that does not answer is
//!   reported as such, with what to do about it.
//! - [`signer`]: which key signs (a key, a key file, or the dev account on chain 1337).
//! - [`Client::transact`]: estimate, sign (EIP-1559), send, wait for the receipt, and
//!   explain a revert in the words of the module or contract that refused.
//! - [`Client::view`] and [`events`]: Solidity calls and logs through `alloy-sol-types`.
//! - [`verify`]: storage slots proven against a state root that a quorum of the validator
//!   set finalized; provenance records and inference records checked that way.

mod client;
pub mod content;
mod contract;
mod error;
pub mod signer;
mod transact;
pub mod verify;

pub use client::{Client, Unreachable, connect_ws};
pub use contract::{events, receipt_events};
pub use error::ClientError;
pub use transact::{Tx, explain_revert, sign};
/// The interfaces and wire types, so callers need one import.
pub use verai_rpc_api::{self as api, types};
