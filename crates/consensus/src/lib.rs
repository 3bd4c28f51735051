//! Verai's consensus adapter: Commonware simplex + marshal driving the Verai application.
//!
//! # What runs
//!
//! [`start_validator`] starts, on one Commonware runtime context:
//! - **simplex** (BFT consensus, ed25519 votes, round-robin leaders, one epoch: the validator
//!   set is fixed);
//! - **marshal** in the *standard* variant with the [`Inline`] verification wrapper: it keeps
//!   finalized blocks and finalization certificates in immutable archives, backfills missing
//!   blocks from peers, and reports finalized blocks in height order;
//! - **buffered broadcast** of proposed blocks;
//! - a delivery task calling [`Application::finalized`] exactly once per height, with a
//!   [`FinalityProof`].
//!
//! It works with one validator (the dev chain: quorum of one, every view is proposed,
//! notarized, certified and finalized locally with no network round trip) and with N.
//!
//! # Digest
//!
//! The consensus digest is the Ethereum block hash (keccak-256 of the RLP header), as
//! Commonware's `keccak256::Digest`. Decoding a block checks that its header's
//! `transactions_root` matches its transactions, so the hash commits to the whole block.
//!
//! # Why `Inline` and not `Deferred`
//!
//! Marshal's `Deferred` wrapper needs blocks to embed the consensus context (round, leader,
//! parent view). An Ethereum header has no such field, so Verai uses `Inline`: a validator
//! runs [`Application::verify`] (full execution) before voting to notarize. A validator that
//! missed a proposal relies on the honest members of the notarizing quorum having verified it.
//!
//! # Empty views (nothing to propose)
//!
//! Simplex needs a proposal per view. What happens when the application has nothing to put
//! in a block depends on what [`Application::propose`] does (measured in this crate's tests,
//! one validator, [`Timeouts::dev`]):
//! - **Wait in `propose`** (recommended for the dev chain): keep the future pending until a
//!   transaction arrives, then return the block. The first block appears about 20 ms after
//!   the wake-up. If nothing arrives within [`Timeouts::leader`], consensus drops the future
//!   (it must be cancellation-safe), nullifies the view and asks again in the next view: an
//!   idle chain writes one nullification per leader timeout and produces no blocks.
//! - **Return `None`**: the adapter waits [`Timeouts::idle_backoff`], then consensus nullifies
//!   the view. Simplex only skips a few views early (its skip budget); after that each view
//!   waits out the leader timeout, so the first block after work arrives can take up to
//!   [`Timeouts::leader`] (1.2 s measured).
//! - **Return an empty block**: valid; one empty block per view (tens per second on one
//!   validator), so only sensible with a pacing delay inside `propose`.
//!
//! With N validators a waiting leader holds its view until the leader timeout, so prefer a
//! short bounded wait and then an empty block or `None`.
//!
//! # Application contract
//!
//! - `propose` and `verify` may be called on a parent that is notarized but not finalized
//!   (a fork that may be abandoned): execute on the parent's state, not on the finalized tip.
//! - Consensus does not call `verify` on this validator's own proposals: cache the execution
//!   of a proposal by block hash and reuse it in `finalized`.
//! - `finalized` is called once per height, in order, with an encoded [`FinalityProof`];
//!   [`ConsensusHandle::certificate`] rebuilds the proof of any stored height for RPC, and
//!   [`verify_certificate`] is what a client runs on it.
//!
//! # Wiring (tokio, one validator on loopback)
//!
//! ```rust,ignore
//! use commonware_runtime::{Runner as _, Supervisor as _, tokio};
//! use verai_consensus::{network::{start_lookup, LookupConfig}, *};
//!
//! let runner = tokio::Runner::new(tokio::Config::new().with_storage_directory(data_dir.join("consensus")));
//! runner.start(|context| async move {
//!     let signer = PrivateKey::from_seed(0); // dev key; testnets: one seed or key file per validator
//!     let me = commonware_cryptography::Signer::public_key(&signer);
//!     let listen = "127.0.0.1:30303".parse().unwrap();
//!     let net = start_lookup(context.child("p2p"), signer.clone(), LookupConfig {
//!         namespace: b"verai-1337".to_vec(),
//!         listen,
//!         peers: vec![(me.clone(), listen)], // N validators: every (key, address), same on all
//!         max_block_bytes: verai_primitives::MAX_BLOCK_BYTES,
//!         allow_private_ips: true,
//!     })?;
//!     let validator = start_validator(context.child("consensus"), ValidatorConfig {
//!         signer,
//!         validators: vec![me],
//!         partition_prefix: "verai".into(),
//!         blocker: net.oracle.clone(),
//!         peer_provider: net.oracle.clone(),
//!         timeouts: Timeouts::dev(), // Timeouts::network() for N validators
//!         mailbox_size: commonware_utils::NZUsize!(1024),
//!         max_block_bytes: verai_primitives::MAX_BLOCK_BYTES,
//!     }, net.channels, app).await?;
//!     // RPC: validator.handle.certificate(height).await for verai_getCertificate.
//!     // Start the JSON-RPC server inside this context (spawn), then await validator.task.
//! });
//! ```

mod application;
mod block;
mod certificate;
mod engine;
mod error;
mod genesis;
pub mod network;

pub use application::{Adapter, Application, MarshalMailbox, finality_proof};
pub use block::{ConsensusBlock, Digest, to_b256, to_digest};
pub use certificate::private_key_from_bytes;
pub use certificate::{
    EPOCH, FinalityProof, Finalization, MAX_HEADER_BYTES, MAX_PROOF_HEADERS, NAMESPACE, PublicKey,
    Scheme, VerifiedFinality, public_key_from_bytes, validator_set, verify_certificate,
};
pub use commonware_consensus::marshal::standard::Inline;
pub use commonware_cryptography::{Signer, ed25519::PrivateKey};
pub use engine::{
    Channels, ConsensusHandle, Timeouts, Validator, ValidatorConfig, start_validator,
};
pub use error::ConsensusError;
pub use genesis::{GenesisFile, GenesisValidator, MAX_GENESIS_BYTES, dev_validator};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_byzantine;
