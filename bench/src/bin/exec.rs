//! Block execution time: Verai's executor (`verai_execution::execute_block`, which also builds
//! receipts, the receipts root, the bloom and the block's changeset) against a plain revm
//! loop (`transact_commit` per transaction on a `CacheDB`) over the same signed ERC-20
//! transfers, from the same state. Senders are recovered before timing in both cases.
//!
//! Usage: `cargo run --release -p verai-bench --bin exec -- [--senders 200] [--per-sender 100]
//! [--block 800] [--runs 20]`.

use alloy_consensus::Transaction as _;
use alloy_primitives::{B256, U256};
use eyre::bail;
use revm::{
    Context, ExecuteCommitEvm, MainBuilder, MainContext,
    bytecode::Bytecode,
    context::TxEnv,
    database::{CacheDB, EmptyDB},
    state::AccountInfo,
};
use std::time::Instant;
use verai_bench::Workload;
use verai_execution::{BlockParams, MemoryState, Mode, execute_block};
use verai_primitives::{AccountState, ChainSpec, KECCAK_EMPTY, RecoveredTx, StateKey};

/// The same state as a revm `CacheDB`, for the plain loop.
trait ToCacheDb {
    fn to_cache_db(&self) -> eyre::Result<CacheDB<EmptyDB>>;
}

impl ToCacheDb for MemoryState {
    fn to_cache_db(&self) -> eyre::Result<CacheDB<EmptyDB>> {
        let mut db = CacheDB::new(EmptyDB::default());
        for (k, v) in &self.0 {
            if let StateKey::Account(a) = k {
                let acc = AccountState::decode(v)?;
                let code = if acc.code_hash == KECCAK_EMPTY {
                    None
                } else {
                    let raw = self
                        .0
                        .get(&StateKey::Code(acc.code_hash))
                        .cloned()
                        .unwrap_or_default();
                    Some(Bytecode::new_raw(raw.into()))
                };
                db.insert_account_info(
                    *a,
                    AccountInfo {
                        balance: acc.balance,
                        nonce: acc.nonce,
                        code_hash: acc.code_hash,
                        code,
                        ..Default::default()
                    },
                );
            }
        }
        for (k, v) in &self.0 {
            if let StateKey::Storage(a, slot) = k {
                db.insert_account_storage(*a, *slot, U256::from_be_slice(v))?;
            }
        }
        Ok(db)
    }
}

fn params(number: u64) -> BlockParams {
    BlockParams {
        chain_id: 1337,
        number,
        timestamp: number,
        beneficiary: Default::default(),
        gas_limit: 1_000_000_000,
        base_fee: 1_000_000_000,
        prevrandao: B256::ZERO,
    }
}

fn tx_env(tx: &RecoveredTx) -> TxEnv {
    let e = &tx.envelope;
    TxEnv {
        tx_type: 2,
        caller: tx.sender,
        gas_limit: e.gas_limit(),
        gas_price: e.max_fee_per_gas(),
        gas_priority_fee: e.max_priority_fee_per_gas(),
        kind: e.kind(),
        value: e.value(),
        data: e.input().clone(),
        nonce: e.nonce(),
        chain_id: e.chain_id(),
        ..Default::default()
    }
}

/// Block execution on Verai's executor against a plain revm loop, same transactions.
#[derive(clap::Parser)]
struct Args {
    /// Accounts sending ERC-20 transfers.
    #[arg(long, default_value_t = 200)]
    senders: u64,
    /// Transfers per sender.
    #[arg(long, default_value_t = 100)]
    per_sender: u64,
    /// Transactions per block.
    #[arg(long, default_value_t = 800)]
    block: usize,
    /// Timed runs of each executor.
    #[arg(long, default_value_t = 20)]
    runs: usize,
}

fn main() -> std::process::ExitCode {
    verai_bench::report_errors(run(<Args as clap::Parser>::parse()))
}

fn run(a: Args) -> eyre::Result<()> {
    let (senders, per_sender, block, runs) = (a.senders, a.per_sender, a.block, a.runs);
    let root = verai_bench::repo_root();
    let w = Workload::new(&root, 1337, senders, per_sender)?;

    // Genesis, then the set-up block (deployment and funding), executed once.
    let mut state = MemoryState::genesis(&ChainSpec::dev());
    let setup: Vec<RecoveredTx> = w
        .setup
        .iter()
        .map(|r| RecoveredTx::decode(r))
        .collect::<Result<_, _>>()?;
    let out = execute_block(
        &state,
        &params(1),
        &verai_modules::native_modules(),
        setup,
        Mode::Verify,
    )?;
    state.apply(&out.changeset);

    // The measured transactions, interleaved across senders as a pool would order them.
    let rounds = per_sender as usize;
    let mut txs = Vec::with_capacity(w.len());
    for n in 0..rounds {
        for s in &w.transfers {
            txs.push(RecoveredTx::decode(&s[n])?);
        }
    }
    let blocks: Vec<Vec<RecoveredTx>> = txs.chunks(block).map(<[RecoveredTx]>::to_vec).collect();
    println!(
        "{} ERC-20 transfers in {} blocks of up to {block}, best of {runs} runs",
        txs.len(),
        blocks.len()
    );

    let mut best_verai = f64::MAX;
    let mut best_revm = f64::MAX;
    for _ in 0..runs {
        // Verai: each block executed on the state left by the previous one.
        let mut s = state.clone();
        // The node hands the executor owned transactions; copy them before the clock starts.
        let owned = blocks.clone();
        let start = Instant::now();
        let detail = std::env::var("VERAI_BENCH_DETAIL").is_ok();
        let (mut t_root, mut t_apply) = (0f64, 0f64);
        for (i, b) in owned.into_iter().enumerate() {
            let out = execute_block(
                &s,
                &params(2 + i as u64),
                &verai_modules::native_modules(),
                b,
                Mode::Verify,
            )?;
            if detail {
                // How much of execute_block the receipts root is: recompute it, outside the figure.
                let t = Instant::now();
                std::hint::black_box(verai_primitives::receipts_root(
                    out.receipts.iter().map(|r| &r.receipt),
                ));
                t_root += t.elapsed().as_secs_f64();
            }
            let t = Instant::now();
            s.apply(&out.changeset);
            t_apply += t.elapsed().as_secs_f64();
        }
        best_verai = best_verai.min(start.elapsed().as_secs_f64() - t_root);
        if detail {
            println!(
                "  detail: receipts root {:.1} ms (recomputed, excluded), state apply {:.1} ms",
                t_root * 1e3,
                t_apply * 1e3
            );
        }

        if std::env::var("VERAI_BENCH_ONLY_VERAI").is_ok() {
            continue;
        }
        // Plain revm loop: one EVM per block over a CacheDB, transact_commit per tx.
        let mut db = state.to_cache_db()?;
        let start = Instant::now();
        for (i, b) in blocks.iter().enumerate() {
            let p = params(2 + i as u64);
            let mut evm = Context::mainnet()
                .with_db(&mut db)
                .with_block(p.block_env())
                .with_cfg(p.cfg_env())
                .build_mainnet();
            for tx in b {
                let r = evm
                    .transact_commit(tx_env(tx))
                    .map_err(|e| eyre::eyre!("{e:?}"))?;
                if !r.is_success() {
                    bail!("plain revm: a transfer failed");
                }
            }
        }
        best_revm = best_revm.min(start.elapsed().as_secs_f64());
    }
    let n = txs.len() as f64;
    println!(
        "verai execute_block: {:>8.1} ms  ({:>9.0} tx/s)",
        best_verai * 1e3,
        n / best_verai
    );
    println!(
        "plain revm loop:     {:>8.1} ms  ({:>9.0} tx/s)",
        best_revm * 1e3,
        n / best_revm
    );
    println!(
        "verai speed / plain revm speed: {:.2}x (goal: at least 0.7x)",
        best_revm / best_verai
    );
    Ok(())
}
