//! Verai's JSON-RPC interfaces: every method declared once, with jsonrpsee's
//! `#[rpc(server, client)]`, so the server (`verai-rpc`) and the typed client
//! (`verai-client`) come from the same definition and cannot drift apart.
//!
//! Namespaces: `web3_`, `net_`, `eth_` (what `cast`, ethers and viem use), `debug_getRawBlock`
//! (what followers sync from) and `verai_` (state proofs, certificates, provenance, blobs,
//! the market, deploy audits, the sentinel). Wire types of the `verai_` methods live in [`types`];
//! Ethereum's come from `alloy-rpc-types-eth`. Error codes follow EIP-1474 ([`codes`]).
//!
//! Outside this crate no code names a method by its string: callers use the generated
//! `*Client` traits (e.g. [`EthApiClient::chain_id`]), which every jsonrpsee client
//! implements.

pub mod auth;
pub mod codes;
mod eth;
mod market;
mod provenance;
mod sentinel;
pub mod types;
mod verai;
pub mod wire;

pub use eth::{
    EthApiClient, EthApiServer, EthPubSubApiClient, EthPubSubApiServer, NetApiClient, NetApiServer,
    Web3ApiClient, Web3ApiServer,
};
pub use market::{MarketApiClient, MarketApiServer};
pub use provenance::{ProvenanceApiClient, ProvenanceApiServer};
pub use sentinel::{ALERTS_SUBSCRIPTION, SentinelApiClient, SentinelApiServer};
pub use verai::{DebugApiClient, DebugApiServer, MAX_PROOF_KEYS, VeraiApiClient, VeraiApiServer};

/// Re-exported so implementers and callers name one version.
pub use jsonrpsee;
