//! The Verai node: wiring of storage, execution, pool, consensus and RPC, start-up and
//! shutdown.
//!
//! [`run`] starts a validator inside a Commonware runtime context: it opens the state
//! (QMDB) and the redb index, writes genesis on first start, starts the consensus engine
//! (simplex + marshal) with [`app::App`] as its application, and serves JSON-RPC. The
//! dev chain is a one-validator network: no code path skips consensus.
//!
//! Recovery invariant: on disk, `store height <= index height <= QMDB height` and each block
//! is written in that reverse order (QMDB, index, store). After a crash the node reports the
//! store height as applied; consensus re-delivers the finalized blocks above it, which are
//! re-executed on the store and written where missing. A missing or inconsistent index file
//! is deleted and rebuilt from genesis by the same re-delivery.

mod app;
mod backend;
mod chain;
mod config;
mod error;
mod run;

pub use chain::ProducerConfig;
pub use config::{NodeConfig, ValidatorKeys};
pub use error::NodeError;
pub use run::{RunningNode, run};
