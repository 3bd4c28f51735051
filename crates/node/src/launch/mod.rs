//! Start-up and shutdown: opening storage ([`open`]), a validator on any p2p network
//! ([`core`]), a production validator with RPC and its services ([`run`]), a follower
//! ([`follow`], syncing from an [`upstream`]), the metrics endpoint ([`metrics`]), and the
//! configuration they take ([`config`]).

pub(crate) mod config;
pub(crate) mod core;
pub(crate) mod follow;
pub(crate) mod metrics;
pub(crate) mod open;
pub mod process;
pub(crate) mod run;
pub mod testnet;
pub(crate) mod upstream;
