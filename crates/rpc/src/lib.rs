//! The JSON-RPC server of Verai (jsonrpsee), over HTTP and WebSocket on one port.
//!
//! RPC is an edge: it reads through [`Backend`] and writes only by submitting transactions.
//! The methods are declared once in `verai-rpc-api`; this crate implements them.
//! Namespaces: `web3_`, `net_`, `eth_` (what `cast`, ethers and viem use) and `verai_`
//! (state proofs, finalization certificates, provenance queries and blobs, the market, deploy audits,
//! sentinel alerts). Errors follow EIP-1474; see [`error`].

pub mod access;
mod backend;
mod convert;
pub mod error;
mod eth;
mod market;
mod provenance;
mod pubsub;
mod sentinel;
mod server;
mod slots;
mod verai;

pub use backend::{Backend, BackendError, ProofKey, ProvenValue, sentinel_off};
pub use eth::{Eth, MAX_LOG_RANGE, MAX_LOGS, MAX_UNFILTERED_LOG_RANGE};
pub use market::MarketRpc;
pub use provenance::ProvenanceRpc;
pub use sentinel::SentinelRpc;
pub use server::{Handlers, RpcConfig, module, start};
pub use verai::Verai;
/// The interfaces this crate serves, and their wire types.
pub use verai_rpc_api::{self as api, types};
