//! Verai's core data types: blocks, transactions, receipts, state keys and the chain spec.
//!
//! Everything here is plain data with Ethereum encodings from `alloy`: a block header is an
//! Ethereum [`Header`] (its hash is the keccak of its RLP), transactions are EIP-2718
//! envelopes, receipts are Ethereum receipts. Decoding untrusted bytes is always bounded by
//! the limits in this module.

mod block;
mod error;
mod genesis;
pub mod module;
mod receipt;
pub mod sentinel;
mod state;
#[cfg(feature = "testing")]
pub mod testing;
mod tx;

pub use alloy_consensus::{Header, ReceiptEnvelope, TxEnvelope};
pub use alloy_primitives::{Address, B256, Bloom, Bytes, Log, U256, keccak256};
pub use block::Block;
pub use error::PrimitivesError;
pub use genesis::{
    ChainSpec, DEV_CHAIN_ID, DEV_MNEMONIC, DEV_OPERATOR_INDEX, GenesisAccount, dev_operator,
    dev_signers,
};
pub use module::{Host, ModuleError, ModuleSet, NativeModule, module_address, with_module};
pub use receipt::{StoredReceipt, decode_receipts, encode_receipts, logs_bloom, receipts_root};
pub use state::{AccountState, Changeset, KECCAK_EMPTY, StateKey};
pub use tx::{RecoveredTx, transactions_root};

/// Largest encoded transaction accepted from the network (128 KiB, as geth's pool).
pub const MAX_TX_BYTES: usize = 128 * 1024;
/// Largest encoded block accepted from a peer or read back from storage.
pub const MAX_BLOCK_BYTES: usize = 32 * 1024 * 1024;
/// Default block gas limit.
pub const DEFAULT_GAS_LIMIT: u64 = 30_000_000;
/// Base fee of the genesis block (1 gwei, as anvil).
pub const INITIAL_BASE_FEE: u64 = 1_000_000_000;
