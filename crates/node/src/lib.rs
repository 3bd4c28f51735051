//! The Verai node: wiring of storage, execution, pool, consensus and RPC, start-up and
//! shutdown.
//!
//! Three groups of files:
//! - **the chain and the consensus application**: [`chain`](crate::chain) holds the shared
//!   state (storage handles, pool, executed blocks, the finalized head and its channel);
//!   `app` builds blocks, verifies proposals and applies finalized blocks (the rules are
//!   `verai_execution::rules`); `backend` serves RPC from it.
//! - **services** beside the chain, which never affect what is finalized: the sentinel's
//!   host (screening at admission, alerts, holds), deploy audits and the registrar that
//!   records the node's own AI in provenance. They follow the chain's finalized channel.
//! - **launch**: opening storage and recovery (`open`), a validator on any p2p network
//!   ([`start_core`], the simulated one in tests), a production validator ([`run`]) and
//!   follower ([`follow`]), a whole process ([`process`]); and the node's p2p protocols
//!   ([`net`]: genesis handshake, mempool gossip, blob exchange).
//!
//! Recovery invariant: on disk, `store height <= index height <= QMDB height` and each block
//! is written in that reverse order (QMDB, index, store). After a crash the node reports the
//! store height as applied; consensus re-delivers the finalized blocks above it, which are
//! re-executed on the store and written where missing. A missing or inconsistent index file
//! is deleted and rebuilt from genesis by the same re-delivery.

mod app;
mod backend;
mod chain;
mod error;
mod launch;
pub mod net;
mod services;

pub use chain::ProducerConfig;
pub use error::NodeError;
pub use launch::{
    config::{NodeConfig, ValidatorKeys},
    core::{Core, CoreConfig, NodeNetwork, start_core},
    follow::{FollowConfig, RunningFollower, follow},
    open::{BLOB_DIR, ChainConfig, INDEX_FILE, genesis_block, genesis_changes},
    process,
    run::{RunningNode, run},
    testnet,
};
pub use net::{blobs, peers};
pub use services::{
    audit::{DeployAuditor, DeployAudits},
    registrar::OwnModel,
    sentinel::{ReleaseError, release_message},
};
pub use verai_consensus::{GenesisFile, GenesisValidator, MAX_GENESIS_BYTES};
/// The sentinel's interface, as the node calls it.
pub use verai_primitives::sentinel;
/// JSON-RPC access options (tokens, write quotas), for the binary's flags.
pub use verai_rpc::access;
