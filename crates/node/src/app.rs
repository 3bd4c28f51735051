//! The consensus application: build blocks from the pool, verify proposals by executing them,
//! apply finalized blocks to storage.
//!
//! The block rules themselves (base fee, header fields, what a proposal must satisfy before
//! and after execution) are pure functions in `verai_execution::rules`; this file is the
//! I/O around them: the pool, the speculative state, the storage writes.

use crate::{
    NodeError,
    chain::{Chain, Executed},
};
use futures::future::Either;
use std::{collections::BTreeSet, sync::Arc, time::Duration};
use tracing::{debug, error, info, warn};
use verai_consensus::Application;
use verai_execution::{
    BlockParams, Mode, execute_block,
    rules::{check_executed, check_header, child_params, header},
};
use verai_primitives::{Block, RecoveredTx};
use verai_storage::{IndexedBlock, StateContext};

/// How long a notarized parent may stay unfinalized before an empty child is due (its
/// timestamp has whole seconds, so up to a second more).
const UNFINALIZED_GRACE_MS: u64 = 2_000;

/// [`Application`] over the shared [`Chain`].
pub(crate) struct App<E: StateContext> {
    pub(crate) chain: Arc<Chain<E>>,
}

impl<E: StateContext> Clone for App<E> {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
        }
    }
}

impl<E: StateContext> App<E> {
    /// When the child of `parent` is due regardless of transactions: with a block time, and
    /// when `parent` is notarized but still not finalized after a grace period. Such a parent
    /// (a crash between its notarization and its finalization, say) can only be finalized
    /// through a child, and an idle producer would otherwise never build one.
    fn due_ms(&self, parent: &Block) -> Option<u64> {
        let at = parent.header.timestamp * 1000;
        let by_block_time = self
            .chain
            .producer()
            .block_time
            .map(|bt| at + bt.as_millis() as u64);
        let unfinalized =
            (parent.number() > self.chain.latest()).then_some(at + UNFINALIZED_GRACE_MS);
        match (by_block_time, unfinalized) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Wait until transactions wait or a block is due, at most the producer's `max_wait`.
    /// Sleeps on the runtime's clock, so simulations run it in virtual time.
    async fn wait_for_work(&self, parent: &Block, now_ms: u64) -> bool {
        let due = self.due_ms(parent);
        if due.is_some_and(|d| now_ms >= d) {
            return true;
        }
        let max_wait = self.chain.producer().max_wait;
        let until_due = due.map(|d| Duration::from_millis(d - now_ms));
        let wait = until_due.map_or(max_wait, |u| u.min(max_wait));
        let deadline = self.chain.clock().current() + wait;
        loop {
            let notified = self.chain.tx_arrived().notified();
            if self.has_ready(parent, now_ms).await {
                return true;
            }
            let sleep = self.chain.clock().sleep_until(deadline);
            futures::pin_mut!(notified, sleep);
            if let Either::Right(_) = futures::future::select(notified, sleep).await {
                return until_due.is_some_and(|u| u <= max_wait);
            }
        }
    }

    fn params(&self, parent: &Block, timestamp_ms: u64) -> BlockParams {
        let chain = &self.chain;
        child_params(
            chain.spec().chain_id,
            parent,
            timestamp_ms / 1000,
            chain.producer().beneficiary,
        )
    }

    /// Whether the pool holds a transaction executable on top of `parent`. Not just "the
    /// pool is not empty": right after a block, its transactions may still be pooled until it
    /// is finalized, and proposing on them would build nothing and cost an idle back-off.
    async fn has_ready(&self, parent: &Block, now_ms: u64) -> bool {
        let chain = &self.chain;
        if chain.pool().is_empty() {
            return false;
        }
        let _guard = chain.commitment().read().await;
        let Some(state) = chain.state_after(parent) else {
            // Cannot tell yet; let `build` decide (it logs why it cannot build).
            return true;
        };
        let params = self.params(parent, now_ms);
        !chain
            .pool()
            .best(params.base_fee, params.gas_limit, 1, |a| state.nonce(a))
            .is_empty()
    }

    async fn build(&self, parent: &Block, timestamp_ms: u64) -> Result<Option<Block>, NodeError> {
        let chain = &self.chain;
        let guard = chain.commitment().read().await;
        let Some(state) = chain.state_after(parent) else {
            debug!(parent = %parent.hash(), "cannot build: parent not executed here");
            return Ok(None);
        };
        let params = self.params(parent, timestamp_ms);
        let txs = chain.pool().best(
            params.base_fee,
            params.gas_limit,
            chain.producer().max_block_txs,
            |a| state.nonce(a),
        );
        if txs.is_empty() && self.due_ms(parent).is_none_or(|d| timestamp_ms < d) {
            return Ok(None);
        }
        let result = execute_block(&state, &params, chain.modules(), txs, Mode::Build)?;
        let invalid: Vec<_> = result
            .rejected
            .iter()
            .filter(|r| r.invalid)
            .map(|r| r.hash)
            .collect();
        if !invalid.is_empty() {
            debug!(
                count = invalid.len(),
                "dropping transactions the EVM refused"
            );
            chain.pool().remove(invalid);
        }
        let pending = guard
            .speculate(
                state.pending.as_ref(),
                params.number,
                result.changeset.clone(),
            )
            .await?;
        let block = Block::new(
            header(&params, parent, &result, pending.root()),
            result.transactions.clone(),
        );
        chain.remember(Executed {
            block: Arc::new(block.clone()),
            state: pending,
            result: Arc::new(result),
        });
        Ok(Some(block))
    }

    async fn check(&self, parent: &Block, block: &Block) -> Result<(), NodeError> {
        let chain = &self.chain;
        let bad =
            |what: &str| NodeError::InvalidBlock(format!("{what} (block {})", block.number()));
        check_header(parent, block, chain.now_ms()).map_err(bad)?;
        let txs = recover_all(chain, &block.transactions)?;
        let guard = chain.commitment().read().await;
        let Some(state) = chain.state_after(parent) else {
            return Err(NodeError::InvalidBlock(format!(
                "parent {} not executed here",
                parent.hash()
            )));
        };
        // The header's base fee was checked against the parent's above.
        let params = BlockParams::from_header(chain.spec().chain_id, &block.header);
        let result = execute_block(&state, &params, chain.modules(), txs, Mode::Verify)?;
        check_executed(block, &result).map_err(bad)?;
        let pending = guard
            .speculate(
                state.pending.as_ref(),
                block.number(),
                result.changeset.clone(),
            )
            .await?;
        if pending.root() != block.header.state_root {
            return Err(bad("wrong state root"));
        }
        chain.remember(Executed {
            block: Arc::new(block.clone()),
            state: pending,
            result: Arc::new(result),
        });
        Ok(())
    }

    /// Apply a finalized block: QMDB (unless a replay finds it there already), then the
    /// index, then the state store, all under the commitment's write lock.
    pub(crate) async fn apply(&self, block: Arc<Block>) -> Result<(), NodeError> {
        let chain = &self.chain;
        let number = block.number();
        let mut guard = chain.commitment().write().await;
        let applied = chain.store().height()?.unwrap_or_default();
        if number <= applied {
            return Ok(());
        }
        if number != applied + 1 {
            return Err(NodeError::Inconsistent(format!(
                "finalized block {number} after {applied}"
            )));
        }
        let committed = guard.height().unwrap_or_default();
        let result = match chain.executed(&block.hash()) {
            Some(e) if committed < number => {
                guard.commit_pending(&e.state).await?;
                e.result
            }
            other => {
                // Not executed here (or a replay): execute on the finalized state.
                let result = match other {
                    Some(e) => e.result,
                    None => {
                        // The finalized head is this block's parent (heights are consecutive).
                        let state = chain.state_after(&chain.head()).ok_or_else(|| {
                            NodeError::Inconsistent("finalized head has no state".into())
                        })?;
                        let params = BlockParams::from_header(chain.spec().chain_id, &block.header);
                        Arc::new(execute_block(
                            &state,
                            &params,
                            chain.modules(),
                            recover_all(chain, &block.transactions)?,
                            Mode::Verify,
                        )?)
                    }
                };
                if committed < number {
                    let root = guard.commit(number, &result.changeset).await?;
                    if root != block.header.state_root {
                        return Err(NodeError::Inconsistent(format!(
                            "finalized block {number} has state root {} but execution here gives {root}",
                            block.header.state_root
                        )));
                    }
                }
                result
            }
        };
        let encoded = block.encode();
        chain.index().index_block(&IndexedBlock {
            number,
            hash: block.hash(),
            block: &encoded,
            receipts: &result.receipts,
            finalized_ms: chain.now_ms(),
        })?;
        chain.store().apply(number, &result.changeset)?;
        drop(guard);

        chain.advance_head(block.clone(), Arc::new(result.receipts.clone()));
        let senders: BTreeSet<_> = result.receipts.iter().map(|r| r.from).collect();
        chain.pool().prune(senders, |a| {
            chain.account(a).map(|acc| acc.nonce).unwrap_or_default()
        });
        chain.announce_finalized(number);
        info!(number, hash = %block.hash(), txs = block.transactions.len(), gas = block.header.gas_used, "finalized");
        Ok(())
    }
}

/// Senders of a block's transactions. A transaction this node pooled was recovered at
/// admission (same hash, so same signature and sender): reuse it instead of recovering again.
fn recover_all<E: StateContext>(
    chain: &Chain<E>,
    txs: &[verai_primitives::TxEnvelope],
) -> Result<Vec<RecoveredTx>, NodeError> {
    txs.iter()
        .map(|t| match chain.pool().get(t.tx_hash()) {
            Some(pooled) => Ok((*pooled).clone()),
            None => {
                RecoveredTx::recover(t.clone()).map_err(|e| NodeError::InvalidBlock(e.to_string()))
            }
        })
        .collect()
}

impl<E: StateContext> Application for App<E> {
    fn genesis(&self) -> Block {
        (**self.chain.genesis()).clone()
    }

    fn last_applied_height(&self) -> u64 {
        self.chain.latest()
    }

    async fn propose(&self, parent: &Block, timestamp_ms: u64) -> Option<Block> {
        if self.chain.halted() || !self.wait_for_work(parent, timestamp_ms).await {
            return None;
        }
        // Under load, let transactions gather until the minimum interval since this node's
        // last block has passed (at once after an idle spell).
        if let Some(at) = self.chain.next_build_at() {
            self.chain.clock().sleep_until(at).await;
        }
        match self.build(parent, timestamp_ms).await {
            Ok(Some(b)) => {
                self.chain.note_built();
                Some(b)
            }
            Ok(None) => None,
            Err(e) => {
                error!(%e, "building a block failed");
                None
            }
        }
    }

    async fn verify(&self, parent: &Block, block: &Block) -> bool {
        if self.chain.executed(&block.hash()).is_some() {
            return true;
        }
        match self.check(parent, block).await {
            Ok(()) => true,
            Err(e) => {
                warn!(%e, "rejecting proposal");
                false
            }
        }
    }

    fn has_state_after(&self, block: &Block) -> bool {
        self.chain.state_after(block).is_some()
    }

    async fn finalized(&self, block: Arc<Block>, _certificate: Vec<u8>) {
        if self.chain.halted() {
            return;
        }
        if let Err(e) = self.apply(block).await {
            error!(%e, "cannot apply a finalized block: halting block application");
            self.chain.halt();
        }
    }
}
