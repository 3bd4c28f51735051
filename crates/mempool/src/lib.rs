//! The transaction pool: admission checks, fee-then-nonce ordering, bounds and replacement.
//!
//! Invariants:
//! - every pooled transaction has a recovered sender, the chain's id, a gas limit within the
//!   block gas limit and a fee cap at or above the base fee when it was admitted;
//! - per sender, at most one transaction per nonce; a replacement must raise both the fee
//!   cap and the tip by at least [`PoolConfig::price_bump_percent`];
//! - the pool never holds more than [`PoolConfig::max_total`] transactions, nor more than
//!   [`PoolConfig::max_per_sender`] of one sender.
//!
//! The pool does not read state itself: callers pass the sender's account (nonce, balance)
//! from the state the transaction will run on.

mod error;
mod intrinsic;
mod pool;

pub use error::PoolError;
pub use intrinsic::intrinsic_gas;
pub use pool::{Mempool, PoolConfig};
