//! Ethereum JSON-RPC for Verai (jsonrpsee), over HTTP and WebSocket on one port.
//!
//! RPC is an edge: it reads through [`Backend`] and writes only by submitting transactions.
//! Namespaces: `web3_`, `net_`, `eth_` (what `cast`, ethers and viem use) and `verai_`
//! (state proofs, finalization certificates, provenance queries and blobs, deploy audits,
//! sentinel alerts). Errors follow EIP-1474; see [`error`].

mod backend;
mod convert;
pub mod error;
mod eth;
mod provenance;
mod pubsub;
mod sentinel;
mod server;
mod types;
mod verai;

pub use backend::{Backend, BackendError, ProofKey, ProvenValue, sentinel_off};
pub use provenance::{BlobReceipt, Lineage, ListFilter, MAX_LIST, MAX_WALK, RecordList, UsageLog};
pub use sentinel::{
    AlertFilter, AlertPage, DEFAULT_ALERTS_PAGE, HeldTx, MAX_ALERTS_PAGE, SentinelApiServer,
};
pub use server::{RpcConfig, start};
pub use types::{CertificateResponse, ProofResponse, StorageProofEntry};
