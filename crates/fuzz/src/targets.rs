//! The targets: each does with arbitrary bytes what the node does with that input.

use alloy_primitives::{Address, U256};
use commonware_codec::{Copying, Decode as _, DecodeExt as _};
use commonware_cryptography::certificate::Verifier as _;
use std::sync::OnceLock;
use verai_consensus::{ConsensusBlock, Digest, FinalityProof, GenesisFile, Scheme};
use verai_node::{blobs, peers};
use verai_primitives::{Block, MAX_BLOCK_BYTES, NativeModule, RecoveredTx, testing::MemHost};

#[path = "../../../bin/verai/src/cli/node_file.rs"]
#[allow(dead_code, missing_docs)]
mod node_file;

/// A transaction from a client or a peer (`eth_sendRawTransaction`, gossip).
pub fn tx_decode(data: &[u8]) {
    if let Ok(tx) = RecoveredTx::decode(data) {
        // What decodes must encode back to the same transaction.
        use alloy_eips::eip2718::Encodable2718 as _;
        let again = RecoveredTx::decode(&tx.envelope.encoded_2718())
            .expect("a decoded transaction re-decodes");
        assert_eq!((again.hash, again.sender), (tx.hash, tx.sender));
    }
}

/// A block from a peer or from storage.
pub fn block_decode(data: &[u8]) {
    if let Ok(b) = Block::decode(data) {
        let again = Block::decode(&b.encode()).expect("a decoded block re-decodes");
        assert_eq!(again.hash(), b.hash());
    }
}

/// A block as the consensus engine's codec reads it (broadcast, marshal).
pub fn consensus_block(data: &[u8]) {
    let _ = ConsensusBlock::decode_cfg(Copying(data), &MAX_BLOCK_BYTES);
}

/// A vote on the voter channel.
pub fn consensus_vote(data: &[u8]) {
    let _ = commonware_consensus::simplex::types::Vote::<Scheme, Digest>::decode(Copying(data));
}

/// A certificate on the voter channel.
pub fn consensus_certificate(data: &[u8]) {
    let cfg = scheme().certificate_codec_config();
    let _ = commonware_consensus::simplex::types::Certificate::<Scheme, Digest>::decode_cfg(
        Copying(data),
        &cfg,
    );
}

/// A finality proof served by `verai_getCertificate` and checked by clients and followers.
pub fn finality_proof(data: &[u8]) {
    let _ = FinalityProof::decode(data, scheme());
    // And the whole check a light client runs, against the block the seed proves.
    let (hash, height) = crate::seeds::proven_block();
    let _ = verai_consensus::verify_certificate(validators(), hash, height, data);
}

/// The four validators the consensus seeds are signed by.
fn validators() -> &'static [verai_consensus::PublicKey] {
    static KEYS: OnceLock<Vec<verai_consensus::PublicKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        use commonware_cryptography::Signer as _;
        (0..4u64)
            .map(|i| verai_consensus::PrivateKey::from_seed(i).public_key())
            .collect()
    })
}

/// Their verifier, as a client checking a testnet's certificates has.
fn scheme() -> &'static Scheme {
    static SCHEME: OnceLock<Scheme> = OnceLock::new();
    SCHEME.get_or_init(|| {
        let set = verai_consensus::validator_set(validators()).expect("four distinct keys");
        Scheme::verifier(verai_consensus::NAMESPACE, set)
    })
}

/// A mempool gossip message from a peer: a batch, then each transaction in it.
pub fn mempool_gossip(data: &[u8]) {
    if let Ok(txs) = peers::decode_batch(data) {
        for t in txs {
            let _ = RecoveredTx::decode(&t);
        }
    }
}

/// A message on the blob channel.
pub fn blob_message(data: &[u8]) {
    let _ = blobs::parse(data);
}

/// A genesis handshake message.
pub fn genesis_hello(data: &[u8]) {
    let _ = peers::parse_hello(data);
}

/// A network's genesis file (`--genesis`, followers, clients verifying certificates).
pub fn genesis_file(data: &[u8]) {
    if let Ok(g) = GenesisFile::parse(data) {
        let _ = g.validators();
        let _ = g.spec();
    }
}

fn call(state: &MemHost, module: &dyn NativeModule, data: &[u8]) {
    let mut h = state.clone();
    let caller = Address::repeat_byte(0xa1);
    let _ = h.call(module, caller, U256::ZERO, data);
    // A payable call with value too, from a funded account.
    let mut h = state.clone();
    let _ = h.call(module, caller, U256::from(1_000_000u64), data);
}

/// Call input of the provenance registry, on a state holding a small lineage.
pub fn provenance_abi(data: &[u8]) {
    call(crate::seeds::state(), &verai_provenance::Provenance, data);
}

/// Call input of the inference module, on a state holding the demand model.
pub fn inference_abi(data: &[u8]) {
    call(
        crate::seeds::state(),
        &verai_inference_module::Inference,
        data,
    );
}

/// Call input of the market, on a state holding listings and stacks.
pub fn market_abi(data: &[u8]) {
    call(crate::seeds::state(), &verai_market::Market, data);
}

/// An ONNX model submitted for in-block inference (checked before it is stored).
pub fn onnx_model(data: &[u8]) {
    let _ = verai_inference::Model::load(data);
}

/// Solidity source given to the auditor.
pub fn solidity_source(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = verai_auditor::audit_source(s);
    }
}

/// Deployed bytecode the node audits (`--audit-deploys`) or `verai audit --address`.
pub fn evm_bytecode(data: &[u8]) {
    let _ = verai_auditor::audit_bytecode(data);
}

/// A CSV given to `verai sentinel train|eval`.
pub fn sentinel_csv(data: &[u8]) {
    let _ = verai_sentinel::dataset::Dataset::parse(data);
}

/// A model file given to `verai node --sentinel` or `verai sentinel eval`.
pub fn sentinel_model(data: &[u8]) {
    let _ = verai_sentinel::model::Model::from_bytes(data);
}

/// The node's TOML configuration (`verai node --config`).
pub fn node_toml(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = node_file::FileConfig::parse(s);
    }
}

/// A JSON-RPC request body, through the real server of an in-process dev node.
pub fn json_rpc(data: &[u8]) {
    crate::rpc::post(data);
}
