//! The Verai node: wiring of storage, execution, pool, consensus and RPC, start-up and
//! shutdown.
//!
//! [`start_core`] runs a validator on any p2p network (the simulated one in tests): it
//! opens the chain state, agrees on genesis with the other validators ([`peers`]), then
//! starts consensus and mempool gossip. [`run`] wraps it for production with the
//! authenticated p2p network and JSON-RPC. State is QMDB plus the redb index, genesis is
//! written on first start, and consensus (simplex + marshal) drives [`app::App`]. The dev
//! chain is a one-validator network: no code path skips consensus.
//!
//! Recovery invariant: on disk, `store height <= index height <= QMDB height` and each block
//! is written in that reverse order (QMDB, index, store). After a crash the node reports the
//! store height as applied; consensus re-delivers the finalized blocks above it, which are
//! re-executed on the store and written where missing. A missing or inconsistent index file
//! is deleted and rebuilt from genesis by the same re-delivery.

mod app;
mod audit;
mod backend;
pub mod blobs;
mod chain;
mod config;
mod core;
mod error;
mod follow;
mod genesis;
mod open;
pub mod peers;
mod run;
mod screen;

pub use audit::DeployAuditor;
pub use chain::ProducerConfig;
pub use config::{NodeConfig, ValidatorKeys};
pub use core::{Core, CoreConfig, NodeNetwork, start_core};
pub use error::NodeError;
pub use follow::{FollowConfig, RunningFollower, follow};
pub use genesis::{GenesisFile, GenesisValidator, MAX_GENESIS_BYTES};
pub use open::{ChainConfig, INDEX_FILE, genesis_block, genesis_changes};
pub use run::{RunningNode, run};
pub use screen::{
    AccountReader, OnExpiry, ReleaseError, ScreenAction, ScreenConfig, Screening, TxScreen,
    release_message,
};
