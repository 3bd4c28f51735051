//! The block executor: runs transactions in order and returns receipts and the changeset.

use crate::seal::{Sealed, Sealer};
use crate::{BlockParams, ExecutionError, ReadError, StateReader, db::RevmDb, env::tx_env};
use alloy_consensus::{
    Receipt, ReceiptEnvelope, ReceiptWithBloom, Transaction, TxEnvelope, TxType,
};
use alloy_primitives::{B256, Bloom, Log};
use revm::{
    Context, DatabaseCommit, ExecuteEvm, MainBuilder, MainContext,
    context::result::{EVMError, ExecutionResult},
    database::CacheDB,
    database_interface::WrapDatabaseRef,
    state::EvmState,
};
use std::sync::mpsc;
use verai_primitives::{AccountState, Changeset, ModuleSet, RecoveredTx, StateKey, StoredReceipt};

/// What to do with a transaction the EVM refuses (bad nonce, too little balance, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Building a proposal: leave the transaction out and report it.
    Build,
    /// Verifying a proposal: the whole block is invalid.
    Verify,
}

/// A transaction left out of a block being built, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its hash.
    pub hash: B256,
    /// The EVM's reason.
    pub reason: String,
    /// `true` when the transaction cannot run on this state at all (drop it from the pool);
    /// `false` when it only did not fit in this block.
    pub invalid: bool,
}

/// The result of executing a block.
#[derive(Debug, Clone)]
pub struct ExecutedBlock {
    /// The transactions included, in order.
    pub transactions: Vec<TxEnvelope>,
    /// One receipt per included transaction.
    pub receipts: Vec<StoredReceipt>,
    /// All state writes of the block.
    pub changeset: Changeset,
    /// Total gas used.
    pub gas_used: u64,
    /// Union of the receipts' blooms.
    pub logs_bloom: Bloom,
    /// Ethereum receipts root.
    pub receipts_root: B256,
    /// Transactions left out ([`Mode::Build`] only).
    pub rejected: Vec<Rejected>,
}

/// Blocks with at least this many transactions seal their receipts on a helper thread;
/// below it, a thread costs more than it saves.
const THREADED_SEAL_MIN: usize = 64;

/// Receipts are handed to the sealing thread in batches of this many.
const SEAL_BATCH: usize = 64;

/// Execute `txs` in order on top of `state`.
///
/// In [`Mode::Build`] a transaction that does not fit the remaining gas or that the EVM
/// refuses is skipped; in [`Mode::Verify`] either makes the block invalid.
///
/// Receipts are sealed (blooms, receipts root) while the EVM runs, on a helper thread for
/// blocks of `THREADED_SEAL_MIN` transactions or more (module `seal`). The result is
/// the same either way.
pub fn execute_block<R: StateReader>(
    state: &R,
    params: &BlockParams,
    modules: &ModuleSet,
    txs: impl IntoIterator<Item = RecoveredTx>,
    mode: Mode,
) -> Result<ExecutedBlock, ExecutionError> {
    let txs = txs.into_iter();
    let (lower, upper) = txs.size_hint();
    // Verifying, every transaction must make a receipt, so their number is known up front.
    let known = (mode == Mode::Verify && upper == Some(lower)).then_some(lower);
    if lower < THREADED_SEAL_MIN {
        return execute_inline(state, params, modules, txs, mode, known);
    }
    std::thread::scope(|scope| {
        let (send, recv) = mpsc::channel::<Vec<(Receipt, TxType)>>();
        let worker = std::thread::Builder::new()
            .name("verai-seal".into())
            .spawn_scoped(scope, move || {
                let mut sealer = Sealer::new(known);
                loop {
                    // In the last stretch of a block of known size, wait actively: a parked
                    // thread takes long to wake on a virtual CPU, and that wake-up would be
                    // on the block's critical path.
                    let near_end = known.is_some_and(|n| sealer.len() + SEAL_BATCH >= n);
                    let next = if near_end {
                        wait_actively(&recv)
                    } else {
                        recv.recv().ok()
                    };
                    let Some(batch) = next else { break };
                    for (r, t) in batch {
                        sealer.push(r, t);
                    }
                }
                sealer.finish()
            });
        let Ok(worker) = worker else {
            // No thread to be had: seal on this one.
            return execute_inline(state, params, modules, txs, mode, known);
        };
        let mut batch = Vec::with_capacity(SEAL_BATCH);
        let mut sent = 0;
        let run = run(state, params, modules, txs, mode, |r, t| {
            batch.push((r, t));
            // Near the end of a block of known size, hand over smaller batches: whatever the
            // sealer still holds when the EVM is done is time the block waits for.
            let near_end = known.is_some_and(|n| sent + SEAL_BATCH >= n);
            if batch.len() == SEAL_BATCH || (near_end && batch.len() == SEAL_BATCH / 8) {
                sent += batch.len();
                // The worker only stops when this sender is dropped, so the send succeeds.
                let _ = send.send(std::mem::replace(
                    &mut batch,
                    Vec::with_capacity(SEAL_BATCH),
                ));
            }
        });
        if !batch.is_empty() {
            let _ = send.send(batch);
        }
        drop(send);
        let sealed = worker
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        Ok(run?.assemble(sealed))
    })
}

/// [`execute_block`] with receipts sealed on the calling thread.
fn execute_inline<R: StateReader>(
    state: &R,
    params: &BlockParams,
    modules: &ModuleSet,
    txs: impl Iterator<Item = RecoveredTx>,
    mode: Mode,
    known: Option<usize>,
) -> Result<ExecutedBlock, ExecutionError> {
    let mut sealer = Sealer::new(known);
    let run = run(state, params, modules, txs, mode, |r, t| sealer.push(r, t))?;
    Ok(run.assemble(sealer.finish()))
}

/// The next batch, waited for by spinning, then by yielding the CPU (other threads, such as
/// other validators on the same machine, may need it), then by parking.
fn wait_actively<T>(recv: &mpsc::Receiver<T>) -> Option<T> {
    for i in 0..ACTIVE_WAIT_ROUNDS {
        match recv.try_recv() {
            Ok(b) => return Some(b),
            Err(mpsc::TryRecvError::Disconnected) => return None,
            Err(mpsc::TryRecvError::Empty) if i < 64 => std::hint::spin_loop(),
            Err(mpsc::TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
    recv.recv().ok()
}

/// Rounds of [`wait_actively`] before parking: a few milliseconds at most.
const ACTIVE_WAIT_ROUNDS: usize = 4096;

/// What the EVM loop produced, before its receipts are sealed.
struct Run {
    transactions: Vec<TxEnvelope>,
    /// Per receipt, everything but the sealed envelope.
    receipts: Vec<StoredReceipt>,
    /// The block's writes, unordered until [`Run::assemble`] sorts them once.
    changes: Writes,
    gas_used: u64,
    rejected: Vec<Rejected>,
}

/// Writes as the EVM loop records them: a hash map, because most transactions overwrite
/// entries of earlier ones (the sender's account, a token's balances).
type Writes = alloy_primitives::map::HashMap<StateKey, Option<Vec<u8>>>;

impl Run {
    fn assemble(self, sealed: Sealed) -> ExecutedBlock {
        let mut receipts = self.receipts;
        for (r, envelope) in receipts.iter_mut().zip(sealed.receipts) {
            r.receipt = envelope;
        }
        ExecutedBlock {
            transactions: self.transactions,
            receipts,
            changeset: self.changes.into_iter().collect(),
            gas_used: self.gas_used,
            logs_bloom: sealed.logs_bloom,
            receipts_root: sealed.receipts_root,
            rejected: self.rejected,
        }
    }
}

/// The EVM loop: runs `txs`, hands each receipt to `seal`, and records the rest.
fn run<R: StateReader>(
    state: &R,
    params: &BlockParams,
    modules: &ModuleSet,
    txs: impl Iterator<Item = RecoveredTx>,
    mode: Mode,
    mut seal: impl FnMut(Receipt, TxType),
) -> Result<Run, ExecutionError> {
    // A per-block cache over the parent state; each transaction's writes are recorded into the
    // changeset as they are committed to it, so no second pass over the block's state is needed.
    let db = CacheDB::new(WrapDatabaseRef(RevmDb(state)));
    let mut evm = Context::mainnet()
        .with_db(db)
        .with_block(params.block_env())
        .with_cfg(params.cfg_env())
        .build_mainnet()
        .with_precompiles(crate::VeraiPrecompiles::new(crate::SPEC, modules.clone()));

    let cap = txs.size_hint().0;
    let mut out = Run {
        transactions: Vec::with_capacity(cap),
        receipts: Vec::with_capacity(cap),
        changes: Writes::default(),
        gas_used: 0,
        rejected: Vec::new(),
    };

    for tx in txs {
        let remaining = params.gas_limit - out.gas_used;
        if tx.gas_limit() > remaining {
            match mode {
                Mode::Build => {
                    out.rejected.push(Rejected {
                        hash: tx.hash,
                        reason: "block gas limit reached".into(),
                        invalid: false,
                    });
                    continue;
                }
                Mode::Verify => {
                    return Err(ExecutionError::GasLimit {
                        used: out.gas_used + tx.gas_limit(),
                        limit: params.gas_limit,
                    });
                }
            }
        }
        let result = match evm.transact(tx_env(&tx)) {
            Ok(r) => {
                record(&mut out.changes, &r.state);
                evm.ctx.journaled_state.database.commit(r.state);
                r.result
            }
            Err(EVMError::Transaction(e)) => {
                let reason = e.to_string();
                match mode {
                    Mode::Build => {
                        out.rejected.push(Rejected {
                            hash: tx.hash,
                            reason,
                            invalid: true,
                        });
                        continue;
                    }
                    Mode::Verify => {
                        return Err(ExecutionError::InvalidTransaction {
                            hash: tx.hash,
                            reason,
                        });
                    }
                }
            }
            Err(EVMError::Database(e)) => return Err(ReadError(format!("{e:?}")).into()),
            Err(e) => return Err(ExecutionError::Evm(e.to_string())),
        };
        let gas_used = result.tx_gas_used();
        out.gas_used += gas_used;
        let success = result.is_success();
        let logs: Vec<Log> = match result {
            ExecutionResult::Success { logs, .. } => logs,
            _ => Vec::new(),
        };
        let contract_address = match (&tx.envelope.kind(), success) {
            (alloy_primitives::TxKind::Create, true) => Some(tx.sender.create(tx.nonce())),
            _ => None,
        };
        let effective_gas_price = tx
            .effective_tip(params.base_fee)
            .map(|tip| tip + u128::from(params.base_fee))
            .unwrap_or_default();
        let ty = tx.envelope.tx_type();
        seal(
            Receipt {
                status: success.into(),
                cumulative_gas_used: out.gas_used,
                logs,
            },
            ty,
        );
        out.receipts.push(StoredReceipt {
            // Replaced by the sealed envelope in `Run::assemble`.
            receipt: ReceiptEnvelope::Eip1559(ReceiptWithBloom::default()),
            tx_hash: tx.hash,
            from: tx.sender,
            to: tx.envelope.to(),
            contract_address,
            gas_used,
            effective_gas_price,
        });
        out.transactions.push(tx.envelope);
    }
    Ok(out)
}

/// Record one transaction's writes. Later transactions overwrite earlier entries.
fn record(changes: &mut Writes, state: &EvmState) {
    for (address, account) in state {
        if !account.is_touched() {
            continue;
        }
        if account.is_selfdestructed() {
            // Since Cancun only a contract created in the same transaction can be destroyed,
            // so its storage is exactly what this transaction wrote.
            changes.insert(StateKey::Account(*address), None);
            for slot in account.storage.keys() {
                changes.insert(StateKey::Storage(*address, *slot), None);
            }
            continue;
        }
        let info = &account.info;
        if account.is_created()
            && info.code_hash != verai_primitives::KECCAK_EMPTY
            && let Some(code) = &info.code
        {
            changes.insert(
                StateKey::Code(info.code_hash),
                Some(code.original_bytes().to_vec()),
            );
        }
        let acc = AccountState {
            nonce: info.nonce,
            balance: info.balance,
            code_hash: info.code_hash,
        };
        let empty = acc.nonce == 0
            && acc.balance.is_zero()
            && acc.code_hash == verai_primitives::KECCAK_EMPTY;
        // EIP-161: touched empty accounts are removed.
        changes.insert(StateKey::Account(*address), (!empty).then(|| acc.encode()));
        for (slot, value) in &account.storage {
            if value.is_changed() {
                let v = value.present_value;
                changes.insert(
                    StateKey::Storage(*address, *slot),
                    (!v.is_zero()).then(|| v.to_be_bytes::<32>().to_vec()),
                );
            }
        }
    }
}
