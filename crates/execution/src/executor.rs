//! The block executor: runs transactions in order and returns receipts and the changeset.

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
use verai_primitives::{
    AccountState, Changeset, RecoveredTx, StateKey, StoredReceipt, logs_bloom, receipts_root,
};

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

/// Execute `txs` in order on top of `state`.
///
/// In [`Mode::Build`] a transaction that does not fit the remaining gas or that the EVM
/// refuses is skipped; in [`Mode::Verify`] either makes the block invalid.
pub fn execute_block<R: StateReader>(
    state: &R,
    params: &BlockParams,
    txs: impl IntoIterator<Item = RecoveredTx>,
    mode: Mode,
) -> Result<ExecutedBlock, ExecutionError> {
    // A per-block cache over the parent state; each transaction's writes are recorded into the
    // changeset as they are committed to it, so no second pass over the block's state is needed.
    let db = CacheDB::new(WrapDatabaseRef(RevmDb(state)));
    let mut evm = Context::mainnet()
        .with_db(db)
        .with_block(params.block_env())
        .with_cfg(params.cfg_env())
        .build_mainnet()
        .with_precompiles(crate::VeraiPrecompiles::new(crate::SPEC));

    let mut out = ExecutedBlock {
        transactions: Vec::new(),
        receipts: Vec::new(),
        changeset: Changeset::new(),
        gas_used: 0,
        logs_bloom: Bloom::ZERO,
        receipts_root: B256::ZERO,
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
                record(&mut out.changeset, &r.state);
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
        let receipt = ReceiptWithBloom::from(Receipt {
            status: success.into(),
            cumulative_gas_used: out.gas_used,
            logs,
        });
        let receipt = match tx.envelope.tx_type() {
            TxType::Legacy => ReceiptEnvelope::Legacy(receipt),
            TxType::Eip2930 => ReceiptEnvelope::Eip2930(receipt),
            TxType::Eip1559 => ReceiptEnvelope::Eip1559(receipt),
            TxType::Eip4844 => ReceiptEnvelope::Eip4844(receipt),
            TxType::Eip7702 => ReceiptEnvelope::Eip7702(receipt),
        };
        out.receipts.push(StoredReceipt {
            receipt,
            tx_hash: tx.hash,
            from: tx.sender,
            to: tx.envelope.to(),
            contract_address,
            gas_used,
            effective_gas_price,
        });
        out.transactions.push(tx.envelope);
    }

    out.receipts_root = receipts_root(out.receipts.iter().map(|r| &r.receipt));
    out.logs_bloom = logs_bloom(out.receipts.iter().map(|r| &r.receipt));
    Ok(out)
}

/// Record one transaction's writes. Later transactions overwrite earlier entries.
fn record(changes: &mut Changeset, state: &EvmState) {
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
