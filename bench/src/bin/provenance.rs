//! Provenance registry benchmark: registration throughput, lineage walks, record proofs.
//!
//! 1. Registers N records (default 100,000) as signed transactions executed block by block
//!    by `verai_execution::execute_block` on an in-memory state (30M gas blocks), each record
//!    with up to two earlier parents (`i-1` and `i/2`), so the records form one lineage graph.
//!    Peer from the same run: plain value transfers through the same executor.
//! 2. Walks ancestors and descendants over that graph with the RPC's read code
//!    (`verai_provenance::read::walk`), limited to 10,000 records.
//! 3. Commits all the registry's slots to QMDB (the node's state database), then for 200
//!    records among the first R (default 10,000) fetches the proof of the three slots
//!    `verai provenance verify` checks and times their verification.
//!
//! Run: `cargo run --release -p verai-bench --bin provenance [-- RECORDS [PROOF_RECORDS]]`.

use alloy_primitives::{Address, B256, TxKind, U256, keccak256};
use alloy_sol_types::SolCall;
use commonware_runtime::{Runner as _, Supervisor as _};
use std::time::Instant;
use verai_bench::{sender_key, sign};
use verai_execution::{BlockParams, MemoryState, Mode, execute_block};
use verai_primitives::{ChainSpec, ModuleError, RecoveredTx, StateKey};
use verai_provenance::{
    ADDRESS, IProvenance, layout,
    read::{self, Direction, Slots},
};
use verai_storage::{Commitment, verify_state_proof};

const GAS_PER_REGISTER: u64 = 1_000_000;

struct MemSlots<'a>(&'a MemoryState);

impl Slots for MemSlots<'_> {
    fn slot(&mut self, slot: U256) -> Result<U256, ModuleError> {
        Ok(self
            .0
            .0
            .get(&StateKey::Storage(ADDRESS, slot))
            .map(|v| U256::from_be_slice(v))
            .unwrap_or_default())
    }
}

fn params(number: u64) -> BlockParams {
    BlockParams {
        chain_id: 1337,
        number,
        timestamp: 1_700_000_000 + number,
        beneficiary: Address::ZERO,
        gas_limit: 30_000_000,
        base_fee: 1_000_000_000,
        prevrandao: B256::ZERO,
    }
}

/// Execute `raw` transactions in 30M-gas blocks; returns (state, blocks, seconds, gas).
fn run_blocks(
    mut state: MemoryState,
    raw: Vec<RecoveredTx>,
) -> eyre::Result<(MemoryState, u64, f64, u64)> {
    let mut pending = raw.into_iter().peekable();
    let (mut blocks, mut gas, mut secs) = (0u64, 0u64, 0f64);
    while pending.peek().is_some() {
        blocks += 1;
        let mut batch = Vec::new();
        let mut budget = 30_000_000u64;
        while let Some(tx) = pending.peek() {
            if tx.gas_limit() > budget {
                break;
            }
            budget -= tx.gas_limit();
            batch.extend(pending.next());
        }
        let t = Instant::now();
        let out = execute_block(
            &state,
            &params(blocks),
            &verai_modules::native_modules(),
            batch,
            Mode::Verify,
        )?;
        state.apply(&out.changeset);
        secs += t.elapsed().as_secs_f64();
        gas += out.gas_used;
        if out.receipts.iter().any(|r| !r.receipt.status()) {
            eyre::bail!("a transaction failed in block {blocks}");
        }
    }
    Ok((state, blocks, secs, gas))
}

/// The provenance registry at scale: registration throughput, query and proof latency.
#[derive(clap::Parser)]
struct Args {
    /// Records to register.
    #[arg(default_value_t = 100_000)]
    records: u64,
    /// Records whose proofs are timed.
    #[arg(default_value_t = 10_000)]
    proof_records: u64,
}

fn main() -> std::process::ExitCode {
    verai_bench::report_errors(run(<Args as clap::Parser>::parse()))
}

fn run(a: Args) -> eyre::Result<()> {
    let n = a.records;
    let proof_records = a.proof_records.min(n);
    let key = sender_key(0);
    let mut spec = ChainSpec::dev();
    spec.alloc.push(verai_primitives::GenesisAccount {
        address: key.address(),
        balance: U256::from(10u64).pow(U256::from(30)),
    });
    let genesis = MemoryState::genesis(&spec);

    // 1. Registration throughput.
    let t = Instant::now();
    let mut txs = Vec::with_capacity(n as usize);
    for i in 1..=n {
        let mut parents = Vec::new();
        if i > 1 {
            parents.push(i - 1);
        }
        if i > 3 {
            parents.push(i / 2);
        }
        let call = IProvenance::registerCall {
            kind: (i % 2) as u8,
            contentHash: keccak256(i.to_be_bytes()),
            uri: format!("ipfs://bench/{i}"),
            license: "MIT".into(),
            contributors: vec![],
            parents,
        };
        let raw = sign(
            &key,
            1337,
            i - 1,
            TxKind::Call(ADDRESS),
            U256::ZERO,
            call.abi_encode(),
            GAS_PER_REGISTER,
        );
        txs.push(RecoveredTx::decode(&raw)?);
    }
    let sign_secs = t.elapsed().as_secs_f64();
    // Gas limits are an upper bound: size blocks by the gas actually used per record.
    let (state, blocks, secs, gas) = run_blocks(genesis.clone(), txs)?;
    let per_block = n / blocks.max(1);
    println!(
        "registration: {n} records in {blocks} blocks of 30M gas ({per_block}/block by gas limit), execution {secs:.2} s = {:.0} records/s; {:.0} gas/record (signing and recovery, not timed: {sign_secs:.1} s)",
        n as f64 / secs,
        gas as f64 / n as f64
    );
    let mut s = MemSlots(&state);
    if read::count(&mut s).map_err(|e| eyre::eyre!("{e}"))? != n {
        eyre::bail!("record count mismatch");
    }

    // Peer: value transfers through the same executor, same number of transactions.
    let peer_key = sender_key(1);
    let mut spec2 = ChainSpec::dev();
    spec2.alloc.push(verai_primitives::GenesisAccount {
        address: peer_key.address(),
        balance: U256::from(10u64).pow(U256::from(30)),
    });
    let mut transfers = Vec::with_capacity(n as usize);
    for i in 0..n {
        let to = Address::from_word(keccak256(i.to_be_bytes()));
        let raw = sign(
            &peer_key,
            1337,
            i,
            TxKind::Call(to),
            U256::from(1),
            vec![],
            21_000,
        );
        transfers.push(RecoveredTx::decode(&raw)?);
    }
    let (_, pblocks, psecs, _) = run_blocks(MemoryState::genesis(&spec2), transfers)?;
    println!(
        "peer (same run): {n} plain transfers in {pblocks} blocks, execution {psecs:.2} s = {:.0} tx/s",
        n as f64 / psecs
    );

    // 2. Lineage walks over the graph, 10,000-record limit.
    let mut s = MemSlots(&state);
    let t = Instant::now();
    let (up, cut) = read::walk(&mut s, n, Direction::Ancestors, u32::MAX, 10_000)
        .map_err(|e| eyre::eyre!("{e}"))?;
    let up_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (down, dcut) = read::walk(&mut s, 1, Direction::Descendants, u32::MAX, 10_000)
        .map_err(|e| eyre::eyre!("{e}"))?;
    let down_secs = t.elapsed().as_secs_f64();
    println!(
        "lineage walk: ancestors of record {n}: {} records (truncated: {cut}) in {:.1} ms; descendants of record 1: {} records (truncated: {dcut}) in {:.1} ms (in-memory state; the node reads redb)",
        up.len(),
        up_secs * 1e3,
        down.len(),
        down_secs * 1e3
    );

    // 3. Proofs: commit every registry slot to QMDB in one batch (the proof size grows with
    // the log of the state size), then prove records spread over the first `proof_records`.
    let mut changes = verai_primitives::Changeset::new();
    let limit_slot = |k: &StateKey| matches!(k, StateKey::Storage(a, _) if *a == ADDRESS);
    for (k, v) in state.0.iter().filter(|(k, _)| limit_slot(k)) {
        changes.insert(*k, Some(v.clone()));
    }
    let total_slots = changes.len();
    let dir = std::env::temp_dir().join(format!("verai-bench-prov-{}", std::process::id()));
    let cfg = commonware_runtime::tokio::Config::new().with_storage_directory(&dir);
    let proof_ids: Vec<u64> = (0..200u64)
        .map(|i| 1 + i * proof_records.max(200) / 200)
        .collect();
    let result = commonware_runtime::tokio::Runner::new(cfg).start(|context| async move {
        let mut c = Commitment::init(context.child("state"), "bench").await?;
        let t = Instant::now();
        c.commit(0, &changes).await?;
        let commit_secs = t.elapsed().as_secs_f64();
        let root = c.root()?;
        let mut proofs = Vec::new();
        for &id in &proof_ids {
            let mut one = Vec::new();
            for slot in [layout::commitment(id), layout::owner(id), layout::flags(id)] {
                let key = StateKey::Storage(ADDRESS, slot);
                let (v, p) = c.get_with_proof(&key).await?;
                one.push((key, v, p));
            }
            proofs.push(one);
        }
        Ok::<_, eyre::Report>((root, commit_secs, proofs))
    });
    let _ = std::fs::remove_dir_all(&dir);
    let (root, commit_secs, proofs) = result?;
    let sizes: Vec<usize> = proofs
        .iter()
        .map(|p| p.iter().map(|(_, _, p)| p.len()).sum())
        .collect();
    let t = Instant::now();
    let rounds = 20;
    for _ in 0..rounds {
        for one in &proofs {
            for (key, v, p) in one {
                verify_state_proof(root, key, v.as_deref(), p).map_err(|e| eyre::eyre!("{e}"))?;
            }
        }
    }
    let per_record = t.elapsed().as_secs_f64() / (rounds * proofs.len()) as f64;
    println!(
        "record proofs: state of {total_slots} registry slots ({n} records) committed to QMDB in {commit_secs:.1} s; per record 3 slot proofs (commitment, owner, flags): {}–{} bytes (mean {:.0}), verified in {:.1} µs (goal: < 8 KB, < 5 ms)",
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0),
        sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64,
        per_record * 1e6
    );
    println!(
        "(the certificate check `verify` adds is one ed25519 quorum verification per block, independent of the record)"
    );
    Ok(())
}
