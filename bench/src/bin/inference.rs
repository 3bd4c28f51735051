//! Per-inference latency of the in-consensus path on the shipped models, as
//! `bench/inference/run.sh` compares it with onnxruntime and EZKL.
//!
//! Two figures per model:
//! - **engine**: `verai_inference::Model::run` on one thread with the consensus instruction
//!   set (what every validator computes), per call, over `--runs` seeded inputs;
//! - **in block**: a block of `inferRaw` transactions through `execute_block` (EVM call,
//!   gas, the audit record's writes, the provenance usage log, receipts), per transaction.
//!
//! Usage: `cargo run --release -p verai-bench --bin inference -- [--runs 2000] [--block 200]
//! [--json]`; inputs are written to `--inputs DIR` (default `target/bench-inference`) so that
//! onnxruntime runs on the same numbers.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{Address, B256, TxKind};
use alloy_signer::SignerSync;
use alloy_sol_types::SolCall;
use std::time::Instant;
use verai_bench::repo_root;
use verai_execution::{BlockParams, MemoryState, Mode, execute_block};
use verai_inference::Model;
use verai_inference_module::{ADDRESS, IInference};
use verai_primitives::{ChainSpec, RecoveredTx, dev_signers};

/// In-block inference: latency of the shipped models on Verai's engine, and a block of
/// inferences through the executor.
#[derive(clap::Parser)]
struct Args {
    /// Timed runs per model.
    #[arg(long, default_value_t = 2000)]
    runs: usize,
    /// Inferences in the timed block.
    #[arg(long, default_value_t = 200)]
    block: usize,
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Directory of the models' inputs (written by `bench/inference/run.sh`).
    #[arg(long, default_value_os_t = repo_root().join("target/bench-inference"))]
    inputs: std::path::PathBuf,
}

fn parse() -> eyre::Result<Args> {
    Ok(<Args as clap::Parser>::parse())
}

/// Seeded inputs in [-1, 3).
fn inputs(n: usize, count: usize) -> Vec<Vec<f32>> {
    let mut s: u64 = 0x5eed;
    (0..count)
        .map(|_| {
            (0..n)
                .map(|_| {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((s >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 1.0
                })
                .collect()
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn tx(nonce: u64, input: Vec<u8>) -> eyre::Result<RecoveredTx> {
    let signer = &dev_signers(1)[0];
    let tx = TxEip1559 {
        chain_id: 1337,
        nonce,
        gas_limit: 8_000_000,
        max_fee_per_gas: 3_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(ADDRESS),
        input: input.into(),
        ..Default::default()
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash())?;
    Ok(RecoveredTx::recover(TxEnvelope::from(tx.into_signed(sig)))?)
}

fn params(number: u64) -> BlockParams {
    BlockParams {
        chain_id: 1337,
        number,
        timestamp: 100 + number,
        beneficiary: Address::ZERO,
        gas_limit: 1_000_000_000,
        base_fee: 1_000_000_000,
        prevrandao: B256::ZERO,
    }
}

fn main() -> std::process::ExitCode {
    verai_bench::report_errors(run())
}

fn run() -> eyre::Result<()> {
    let a = parse()?;
    std::fs::create_dir_all(&a.inputs)?;
    let mut rows = Vec::new();
    for (name, file) in [
        ("mlp", "models/demand_forecast.onnx"),
        ("cnn", "models/cnn_small.onnx"),
    ] {
        let bytes = std::fs::read(repo_root().join(file))?;
        let model = Model::load(&bytes)?;
        let xs = inputs(model.input_len(), a.runs);
        // The same inputs for onnxruntime: little-endian f32, one after another.
        let flat: Vec<f32> = xs.iter().flatten().copied().collect();
        std::fs::write(
            a.inputs.join(format!("{name}.f32")),
            verai_inference::f32_bytes(&flat),
        )?;
        let mut outputs = Vec::new();
        for x in xs.iter().take(100) {
            outputs.extend(model.run(x)?);
        }
        std::fs::write(
            a.inputs.join(format!("{name}.out.f32")),
            verai_inference::f32_bytes(&outputs),
        )?;
        let mut times = Vec::with_capacity(a.runs);
        for x in &xs {
            let t = Instant::now();
            let out = model.run(x)?;
            times.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(out);
        }
        times.sort_by(|x, y| x.total_cmp(y));

        // In a block: register, then a block of inferRaw transactions.
        let mut state = MemoryState::genesis(&ChainSpec::dev());
        let reg = IInference::registerModelCall {
            onnx: bytes.clone().into(),
            uri: String::new(),
            license: "MIT".into(),
            parents: vec![],
        };
        let out = execute_block(
            &state,
            &params(1),
            &verai_modules::native_modules(),
            [tx(0, reg.abi_encode())?],
            Mode::Verify,
        )?;
        eyre::ensure!(out.receipts[0].receipt.status(), "registration failed");
        state.apply(&out.changeset);
        let block: Vec<RecoveredTx> = xs
            .iter()
            .cycle()
            .take(a.block)
            .enumerate()
            .map(|(i, x)| {
                let call = IInference::inferRawCall {
                    modelId: 1,
                    input: verai_inference::f32_bytes(x).into(),
                };
                tx(1 + i as u64, call.abi_encode())
            })
            .collect::<eyre::Result<_>>()?;
        let t = Instant::now();
        let out = execute_block(
            &state,
            &params(2),
            &verai_modules::native_modules(),
            block,
            Mode::Verify,
        )?;
        let per_tx = t.elapsed().as_secs_f64() * 1e6 / a.block as f64;
        eyre::ensure!(
            out.receipts.iter().all(|r| r.receipt.status()),
            "an inference failed"
        );
        let gas = out.receipts[1].receipt.cumulative_gas_used()
            - out.receipts[0].receipt.cumulative_gas_used();
        rows.push(serde_json::json!({
            "model": name,
            "file": file,
            "ops": model.ops(),
            "engine_us_p50": percentile(&times, 0.5),
            "engine_us_p99": percentile(&times, 0.99),
            "engine_us_mean": times.iter().sum::<f64>() / times.len() as f64,
            "in_block_us_per_tx": per_tx,
            "gas_per_tx": gas,
            "runs": a.runs,
        }));
    }
    if a.json {
        println!(
            "{}",
            serde_json::json!({ "isa": verai_inference::isa(), "models": rows })
        );
    } else {
        println!(
            "verai-inference (tract 0.23.9, one thread, ISA {})",
            verai_inference::isa()
        );
        for r in &rows {
            println!(
                "  {:<4} ops {:>7}  engine p50 {:>8.1} µs  p99 {:>8.1} µs  | in a block {:>8.1} µs/tx, {} gas/tx",
                r["model"].as_str().unwrap_or_default(),
                r["ops"],
                r["engine_us_p50"].as_f64().unwrap_or_default(),
                r["engine_us_p99"].as_f64().unwrap_or_default(),
                r["in_block_us_per_tx"].as_f64().unwrap_or_default(),
                r["gas_per_tx"],
            );
        }
    }
    Ok(())
}
