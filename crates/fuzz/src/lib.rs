//! Fuzz targets for every untrusted input of a Verai node, their seeds, and short runs on
//! the stable toolchain.
//!
//! Each target is a function of arbitrary bytes that does with them exactly what the node
//! does with such input from outside (a peer, a client, a file), and must neither panic nor
//! hang for any input; a target that returns has handled the input (refusing it is fine).
//! The same functions serve two harnesses:
//! - `fuzz/` at the repository root: one libFuzzer target per function (`cargo +nightly fuzz
//!   run NAME`), coverage-guided, for the long runs (`bench/fuzz/run.sh`);
//! - [`short_run`]: seeded mutations of each target's seeds, part of the test suite, so a
//!   regression is caught on every run without a nightly toolchain.
//!
//! Every crash a long run finds becomes a seed here (and so a test) once fixed.

pub mod mutate;
pub mod rpc;
pub mod seeds;
pub mod targets;

/// One fuzz target.
#[derive(Clone, Copy)]
pub struct Target {
    /// Its name (the libFuzzer target's name too).
    pub name: &'static str,
    /// What it runs.
    pub run: fn(&[u8]),
    /// Valid inputs to start from.
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Whether one execution takes more than microseconds (the RPC server, model loading,
    /// the auditor): long runs aim at 1 million executions instead of 10 million.
    pub slow: bool,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("slow", &self.slow)
            .finish()
    }
}

/// Every target.
pub fn all() -> Vec<Target> {
    use targets as t;
    let target = |name, run, seeds, slow| Target {
        name,
        run,
        seeds,
        slow,
    };
    vec![
        target("tx_decode", t::tx_decode, seeds::txs, false),
        target("block_decode", t::block_decode, seeds::blocks, false),
        target(
            "consensus_block",
            t::consensus_block,
            seeds::consensus_blocks,
            false,
        ),
        target("consensus_vote", t::consensus_vote, seeds::votes, false),
        target(
            "consensus_certificate",
            t::consensus_certificate,
            seeds::certificates,
            false,
        ),
        target(
            "finality_proof",
            t::finality_proof,
            seeds::finality_proofs,
            false,
        ),
        target("mempool_gossip", t::mempool_gossip, seeds::gossip, false),
        target("blob_message", t::blob_message, seeds::blob_messages, false),
        target("genesis_hello", t::genesis_hello, seeds::hellos, false),
        target("genesis_file", t::genesis_file, seeds::genesis_files, false),
        target(
            "provenance_abi",
            t::provenance_abi,
            seeds::provenance_calls,
            false,
        ),
        target(
            "inference_abi",
            t::inference_abi,
            seeds::inference_calls,
            true,
        ),
        target("market_abi", t::market_abi, seeds::market_calls, false),
        target("onnx_model", t::onnx_model, seeds::onnx_models, true),
        target("solidity_source", t::solidity_source, seeds::solidity, true),
        target("evm_bytecode", t::evm_bytecode, seeds::bytecode, true),
        target("sentinel_csv", t::sentinel_csv, seeds::csv, false),
        target(
            "sentinel_model",
            t::sentinel_model,
            seeds::model_files,
            false,
        ),
        target("node_toml", t::node_toml, seeds::tomls, false),
        target("json_rpc", t::json_rpc, seeds::rpc_requests, true),
    ]
}

/// For the libFuzzer targets whose code catches panics on purpose (tract, which is not
/// written for hostile input, runs under `catch_unwind` in `verai-inference`: a panic there
/// is a refusal): libfuzzer-sys's hook aborts on every panic, caught or not. This hook only
/// prints; a panic that escapes the target still aborts (libfuzzer-sys catches it at the
/// top), so it is still found.
pub fn tolerate_caught_panics() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("panic (caught or fatal): {info}")
    }));
}

/// Inputs that once crashed a long run (`crates/fuzz/regressions/NAME/`), fixed since or
/// shown to be handled; every short run replays them.
pub fn regressions(name: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("regressions")
        .join(name);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    files.iter().filter_map(|f| std::fs::read(f).ok()).collect()
}

/// The target named `name`.
pub fn by_name(name: &str) -> Option<Target> {
    all().into_iter().find(|t| t.name == name)
}

/// Run `target` on its seeds and then on `iterations` seeded mutations of them; returns
/// the number of executions. A panic in the target propagates (the test fails, with the
/// input's seed and index in the message).
pub fn short_run(target: &Target, iterations: usize, seed: u64) -> usize {
    let mut seeds = (target.seeds)();
    seeds.extend(regressions(target.name));
    for s in &seeds {
        (target.run)(s);
    }
    let mut rng = mutate::Rng::new(seed);
    let empty = vec![Vec::new()];
    let pool = if seeds.is_empty() { &empty } else { &seeds };
    for i in 0..iterations {
        let base = &pool[rng.below(pool.len())];
        let input = mutate::mutate(&mut rng, base);
        let result = std::panic::catch_unwind(|| (target.run)(&input));
        if let Err(e) = result {
            panic!(
                "{}: input {i} of seed {seed} panicked ({:?}): 0x{}",
                target.name,
                e.downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| e.downcast_ref::<&str>().copied()),
                alloy_primitives::hex::encode(&input)
            );
        }
    }
    seeds.len() + iterations
}
