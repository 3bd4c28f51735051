//! The node's shared chain state: storage handles, the pool, executed-but-unfinalized blocks.
//!
//! Locking: `commitment` is an async read-write lock. Finalization takes it for writing
//! across the QMDB commit, the index write and the state-store write, so that a reader
//! holding it for reading (execution on a parent, proofs) sees the three at the same height.

use crate::{NodeError, blobs::BlobFetchError};
use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, B256};
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard, OnceLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};
use tokio::sync::{Notify, RwLock, broadcast};
use verai_execution::{ExecutedBlock, ReadError, StateReader};
use verai_mempool::{Mempool, PoolError};
use verai_primitives::{
    AccountState, Block, ChainSpec, RecoveredTx, StateKey, StoredReceipt, decode_receipts,
};
use verai_storage::{Commitment, Index, PendingState, StateContext, StateStore};

/// A block this node executed (proposed or verified) that is not finalized yet.
#[derive(Clone)]
pub(crate) struct Executed {
    pub block: Arc<Block>,
    pub state: PendingState,
    pub result: Arc<ExecutedBlock>,
}

/// Settings of block production.
#[derive(Debug, Clone)]
pub struct ProducerConfig {
    /// Produce a block (empty if need be) at least this often; `None`: only when
    /// transactions wait.
    pub block_time: Option<Duration>,
    /// How long `propose` waits for transactions before giving up the view. Longer than the
    /// leader timeout on purpose: consensus cancels the wait when the view times out and asks
    /// again in the next one, and a transaction arriving meanwhile is proposed at once.
    pub max_wait: Duration,
    /// Receiver of priority fees.
    pub beneficiary: Address,
    /// Most transactions per block.
    pub max_block_txs: usize,
    /// Least time between two blocks this node builds: under sustained load, transactions
    /// gather for this long, so a block's fixed costs (disk syncs, votes, a state commit)
    /// are paid for more transactions. Zero: build as soon as a transaction is ready.
    pub min_interval: Duration,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        Self {
            block_time: None,
            max_wait: Duration::from_secs(60),
            beneficiary: Address::ZERO,
            max_block_txs: 10_000,
            min_interval: Duration::ZERO,
        }
    }
}

/// Everything the application, RPC and start-up share.
pub struct Chain<E: StateContext> {
    pub(crate) spec: ChainSpec,
    pub(crate) genesis: Arc<Block>,
    pub(crate) producer: ProducerConfig,
    pub(crate) commitment: RwLock<Commitment<E>>,
    pub(crate) store: StateStore,
    pub(crate) index: Index,
    pub(crate) pool: Mempool,
    pub(crate) executed: Mutex<HashMap<B256, Executed>>,
    pub(crate) latest: AtomicU64,
    pub(crate) head: Mutex<Arc<Block>>,
    pub(crate) blocks: broadcast::Sender<u64>,
    pub(crate) tx_arrived: Notify,
    /// When this node last built a block (runtime clock), for [`ProducerConfig::min_interval`].
    pub(crate) last_built: Mutex<Option<std::time::SystemTime>>,
    pub(crate) halted: AtomicBool,
    pub(crate) cache: Mutex<BlockCache>,
    /// The runtime context, for its clock (deterministic in simulations).
    pub(crate) clock: E,
    /// Transactions accepted from clients, waiting to be gossiped to peers.
    pub(crate) outbox: Mutex<Vec<alloy_primitives::Bytes>>,
    pub(crate) outbox_ready: Notify,
    /// The sentinel, when this node screens admissions (set once at start-up).
    pub(crate) screen: OnceLock<Arc<crate::screen::Screen>>,
    /// The blob exchange with peers (validators; set once at start-up).
    pub(crate) blobs: OnceLock<Arc<crate::blobs::BlobExchange>>,
}

/// A finalized block with its receipts.
pub(crate) type BlockWithReceipts = (Arc<Block>, Arc<Vec<StoredReceipt>>);

/// Decoded recent blocks and receipts, so that receipt polling does not decode every time.
#[derive(Default)]
pub(crate) struct BlockCache {
    entries: HashMap<u64, BlockWithReceipts>,
}

const CACHE_BLOCKS: u64 = 256;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Our critical sections do not leave the maps half-updated, so a poisoned lock is usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<E: StateContext> Chain<E> {
    /// Admit a transaction from a client: into the pool, then queued for gossip.
    pub(crate) fn submit_local(&self, tx: RecoveredTx) -> Result<B256, PoolError> {
        use alloy_eips::eip2718::Encodable2718 as _;
        let raw = tx.envelope.encoded_2718();
        let hash = self.admit(tx)?;
        lock(&self.outbox).push(raw.into());
        self.outbox_ready.notify_one();
        Ok(hash)
    }

    /// Blobs `tx` names (a provenance record's `blob:` URI) that this node lacks.
    pub(crate) fn missing_blobs(&self, tx: &RecoveredTx) -> Vec<B256> {
        let refs = verai_provenance::refs::blob_refs(tx.envelope.to(), tx.envelope.input());
        match self.blobs.get() {
            Some(ex) => refs
                .into_iter()
                .filter(|h| !ex.store().contains(&h.0))
                .collect(),
            None => refs,
        }
    }

    /// Make sure the blobs `tx` names are here, fetching them from peers (see
    /// [`crate::blobs`]); a node without a blob exchange (a follower) checks nothing here.
    pub(crate) async fn fetch_blobs(&self, tx: &RecoveredTx) -> Result<(), BlobFetchError> {
        let Some(ex) = self.blobs.get() else {
            return Ok(());
        };
        let missing = self.missing_blobs(tx);
        if missing.is_empty() {
            return Ok(());
        }
        ex.ensure(&self.clock, &missing).await
    }

    /// Admit a transaction into the pool against the finalized state and wake the producer.
    /// With the sentinel on, the transaction is screened first (no node lock held): a hold
    /// pools it held, and an alert is queued once it is pooled (a refused transaction raises
    /// none).
    pub(crate) fn admit(&self, tx: RecoveredTx) -> Result<B256, PoolError> {
        let account = self.account(&tx.sender).unwrap_or_default();
        let base_fee = crate::app::next_base_fee(&self.head().header);
        let Some(screen) = self.screen.get() else {
            let hash = self.pool.add(tx, &account, base_fee)?;
            self.tx_arrived.notify_waiters();
            return Ok(hash);
        };
        let (hold_until, alert) = screen.screen(
            &tx,
            crate::screen::now_secs(self),
            base_fee,
            self.latest(),
            account.balance,
        );
        let hash = self.pool.add_held(tx, &account, base_fee, hold_until)?;
        if let Some(alert) = alert {
            screen.raise(alert);
        }
        if hold_until.is_none() {
            self.tx_arrived.notify_waiters();
        }
        Ok(hash)
    }

    pub(crate) fn latest(&self) -> u64 {
        self.latest.load(Ordering::Acquire)
    }

    pub(crate) fn head(&self) -> Arc<Block> {
        lock(&self.head).clone()
    }

    /// When this node may build its next block ([`ProducerConfig::min_interval`] after its
    /// last one); `None` when it may build now.
    pub(crate) fn next_build_at(&self) -> Option<std::time::SystemTime> {
        let min = self.producer.min_interval;
        let at = (*lock(&self.last_built))? + min;
        (!min.is_zero() && at > self.clock.current()).then_some(at)
    }

    /// Record that this node just built a block.
    pub(crate) fn note_built(&self) {
        *lock(&self.last_built) = Some(self.clock.current());
    }

    pub(crate) fn executed(&self, hash: &B256) -> Option<Executed> {
        lock(&self.executed).get(hash).cloned()
    }

    pub(crate) fn remember(&self, e: Executed) {
        lock(&self.executed).insert(e.block.hash(), e);
    }

    /// Forget executed blocks at or below the finalized height (they are final or orphaned).
    pub(crate) fn forget_up_to(&self, height: u64) {
        lock(&self.executed).retain(|_, e| e.block.number() > height);
    }

    pub(crate) fn account(&self, address: &Address) -> Result<AccountState, NodeError> {
        match self.store.get(&StateKey::Account(*address))? {
            Some(raw) => Ok(AccountState::decode(&raw)?),
            None => Ok(AccountState::default()),
        }
    }

    /// A finalized block and its receipts, from the cache or the index.
    pub(crate) fn block_and_receipts(
        &self,
        number: u64,
    ) -> Result<Option<BlockWithReceipts>, NodeError> {
        if let Some(e) = lock(&self.cache).entries.get(&number) {
            return Ok(Some(e.clone()));
        }
        let (Some(b), Some(r)) = (
            self.index.block_by_number(number)?,
            self.index.receipts(number)?,
        ) else {
            return Ok(None);
        };
        let entry = (Arc::new(Block::decode(&b)?), Arc::new(decode_receipts(&r)?));
        self.cache_block(number, entry.0.clone(), entry.1.clone());
        Ok(Some(entry))
    }

    pub(crate) fn cache_block(
        &self,
        number: u64,
        block: Arc<Block>,
        receipts: Arc<Vec<StoredReceipt>>,
    ) {
        let mut c = lock(&self.cache);
        c.entries.insert(number, (block, receipts));
        let latest = self.latest().max(number);
        c.entries.retain(|n, _| *n + CACHE_BLOCKS > latest);
    }

    /// The state after `parent`: the finalized store if `parent` is the finalized head,
    /// otherwise the store with the parent's pending chain on top. `None` if this node has
    /// not executed `parent`.
    pub(crate) fn state_after(self: &Arc<Self>, parent: &Block) -> Option<ParentState<E>> {
        if parent.number() == self.latest() && parent.hash() == self.head().hash() {
            return Some(ParentState {
                chain: self.clone(),
                pending: None,
                tip: parent.number(),
                tip_hash: parent.hash(),
            });
        }
        let e = self.executed(&parent.hash())?;
        Some(ParentState {
            chain: self.clone(),
            pending: Some(e.state),
            tip: parent.number(),
            tip_hash: parent.hash(),
        })
    }
}

/// A synchronous view of the state after some block, for execution.
pub(crate) struct ParentState<E: StateContext> {
    pub chain: Arc<Chain<E>>,
    pub pending: Option<PendingState>,
    pub tip: u64,
    pub tip_hash: B256,
}

impl<E: StateContext> ParentState<E> {
    pub(crate) fn nonce(&self, address: &Address) -> u64 {
        match self.get(&StateKey::Account(*address)) {
            Ok(Some(raw)) => AccountState::decode(&raw)
                .map(|a| a.nonce)
                .unwrap_or_default(),
            _ => 0,
        }
    }
}

impl<E: StateContext> StateReader for ParentState<E> {
    fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, ReadError> {
        if let Some(p) = &self.pending
            && let Some(v) = p.overlay_get(key)
        {
            return Ok(v);
        }
        self.chain
            .store
            .get(key)
            .map_err(|e| ReadError(e.to_string()))
    }

    fn block_hash(&self, number: u64) -> Result<Option<B256>, ReadError> {
        // BLOCKHASH sees the 256 most recent ancestors.
        if number > self.tip || self.tip - number > 256 {
            return Ok(None);
        }
        if number <= self.chain.latest() {
            return self
                .chain
                .index
                .block_hash(number)
                .map_err(|e| ReadError(e.to_string()));
        }
        // Walk the unfinalized ancestors by parent hash: another fork may hold the same height.
        let executed = lock(&self.chain.executed);
        let mut hash = self.tip_hash;
        while let Some(e) = executed.get(&hash) {
            if e.block.number() == number {
                return Ok(Some(hash));
            }
            hash = e.block.parent_hash();
        }
        Ok(None)
    }
}
