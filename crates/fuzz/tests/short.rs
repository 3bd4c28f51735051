//! A short run of every fuzz target: its seeds, then seeded mutations of them (2,000 for a
//! fast target, 200 for a slow one). The long, coverage-guided runs are `bench/fuzz/run.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

fn run(name: &str) {
    let t = verai_fuzz::by_name(name).expect("a target of that name");
    let n = if t.slow { 200 } else { 2_000 };
    let done = verai_fuzz::short_run(&t, n, 0x5eed_0000 + name.len() as u64);
    assert!(done >= n);
}

macro_rules! short {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { run(stringify!($name)); } )*

        #[test]
        fn every_target_has_a_short_run() {
            let listed = [$(stringify!($name)),*];
            for t in verai_fuzz::all() {
                assert!(listed.contains(&t.name), "{} has no short run", t.name);
            }
        }
    };
}

short!(
    tx_decode,
    block_decode,
    consensus_block,
    consensus_vote,
    consensus_certificate,
    finality_proof,
    mempool_gossip,
    blob_message,
    genesis_hello,
    genesis_file,
    provenance_abi,
    inference_abi,
    market_abi,
    onnx_model,
    solidity_source,
    evm_bytecode,
    sentinel_csv,
    sentinel_model,
    node_toml,
    json_rpc,
);

/// The consensus seeds are the real thing (a verifying proof, decodable votes), so mutations
/// start from inputs that reach the deep checks rather than failing at the first byte.
#[test]
fn consensus_seeds_are_valid() {
    use commonware_codec::DecodeExt as _;
    let proofs = verai_fuzz::seeds::finality_proofs();
    assert_eq!(proofs.len(), 1);
    let (hash, height) = verai_fuzz::seeds::proven_block();
    let keys: Vec<_> = (0..4u64)
        .map(|i| {
            use commonware_cryptography::Signer as _;
            verai_consensus::PrivateKey::from_seed(i).public_key()
        })
        .collect();
    let ok = verai_consensus::verify_certificate(&keys, hash, height, &proofs[0]).unwrap();
    assert_eq!(ok.finalized_hash, hash);
    let votes = verai_fuzz::seeds::votes();
    assert_eq!(votes.len(), 3);
    for v in &votes {
        commonware_consensus::simplex::types::Vote::<
            verai_consensus::Scheme,
            verai_consensus::Digest,
        >::decode(commonware_codec::Copying(v.as_slice()))
        .unwrap();
    }
    assert_eq!(verai_fuzz::seeds::certificates().len(), 2);
}

/// Found by the long run of `onnx_model` (bench/README.md): a graph naming an output no
/// node produces panics inside tract-onnx 0.23.9 (`model.rs:187`, a map index); the model
/// check turns the panic into a refusal.
#[test]
fn onnx_model_with_a_dangling_outlet_is_refused() {
    let inputs = verai_fuzz::regressions("onnx_model");
    assert!(!inputs.is_empty());
    for m in inputs {
        let e = verai_inference::Model::load(&m).map(|_| ()).unwrap_err();
        assert!(!e.to_string().is_empty());
    }
}
