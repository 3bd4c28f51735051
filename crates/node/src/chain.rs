//! The node's shared chain state: storage handles, the pool, executed-but-unfinalized blocks,
//! the finalized head and the channel that announces it.
//!
//! Locking: `commitment` is an async read-write lock. Finalization takes it for writing
//! across the QMDB commit, the index write and the state-store write, so that a reader
//! holding it for reading (execution on a parent, proofs) sees the three at the same height.
//!
//! The chain knows no service: those that follow finalized blocks (the sentinel, deploy
//! audits) subscribe to [`Chain::subscribe_finalized`]; the one hook on the admission path
//! is an [`AdmissionScreen`] (the sentinel installs one).

use crate::{
    NodeError,
    net::blobs::{BlobExchange, BlobFetchError},
};
use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, B256, Bytes, U256};
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard, OnceLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, SystemTime},
};
use tokio::sync::{Notify, RwLock, broadcast};
use verai_execution::{ExecutedBlock, ModuleSet, ReadError, StateReader, rules::next_base_fee};
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

/// What admission does with a transaction, as an [`AdmissionScreen`] decides.
pub(crate) struct Admission {
    /// Pool it held (kept out of this node's proposals) until this time (seconds).
    pub hold_until: Option<u64>,
    /// Run once it is pooled (an alert to raise); a refused transaction raises nothing.
    pub on_pooled: Option<Box<dyn FnOnce() + Send>>,
}

/// A screen on the admission path (the sentinel): called for every transaction before it is
/// pooled, with no node lock held.
pub(crate) trait AdmissionScreen: Send + Sync + 'static {
    /// Screen `tx` at `now` (seconds), against the next block's `base_fee` and the
    /// finalized height `block`, the sender holding `balance`.
    fn admit(
        &self,
        tx: &RecoveredTx,
        now: u64,
        base_fee: u64,
        block: u64,
        balance: U256,
    ) -> Admission;
}

/// Everything the application, RPC and start-up share.
pub(crate) struct Chain<E: StateContext> {
    spec: ChainSpec,
    genesis: Arc<Block>,
    producer: ProducerConfig,
    modules: ModuleSet,
    commitment: RwLock<Commitment<E>>,
    store: StateStore,
    index: Index,
    pool: Mempool,
    executed: Mutex<HashMap<B256, Executed>>,
    latest: AtomicU64,
    head: Mutex<Arc<Block>>,
    finalized: broadcast::Sender<u64>,
    tx_arrived: Notify,
    /// When this node last built a block (runtime clock), for [`ProducerConfig::min_interval`].
    last_built: Mutex<Option<SystemTime>>,
    halted: AtomicBool,
    cache: Mutex<BlockCache>,
    /// The runtime context, for its clock (deterministic in simulations).
    clock: E,
    /// Transactions accepted from clients, waiting to be gossiped to peers.
    outbox: Mutex<Vec<Bytes>>,
    outbox_ready: Notify,
    /// The sentinel's screen, when this node screens admissions (set once at start-up).
    admission: OnceLock<Arc<dyn AdmissionScreen>>,
    /// The blob exchange with peers (validators; set once at start-up).
    blobs: OnceLock<Arc<BlobExchange>>,
}

/// What [`Chain::new`] takes: the storage opened, its finalized head, the settings.
pub(crate) struct ChainParts<E: StateContext> {
    pub spec: ChainSpec,
    pub genesis: Block,
    pub head: Block,
    pub producer: ProducerConfig,
    pub modules: ModuleSet,
    pub commitment: Commitment<E>,
    pub store: StateStore,
    pub index: Index,
    pub pool: Mempool,
    pub clock: E,
}

/// A finalized block with its receipts.
pub(crate) type BlockWithReceipts = (Arc<Block>, Arc<Vec<StoredReceipt>>);

/// Decoded recent blocks and receipts, so that receipt polling does not decode every time.
#[derive(Default)]
struct BlockCache {
    /// The blocks of the tip window (the last [`CACHE_BLOCKS`]).
    entries: HashMap<u64, BlockWithReceipts>,
    /// Older blocks read recently (an explorer page, a log page), least recent first: a
    /// block decoded once is not decoded again for the next request that needs it.
    older: std::collections::VecDeque<(u64, BlockWithReceipts)>,
}

const CACHE_BLOCKS: u64 = 256;
/// Older blocks kept after a read.
const CACHE_OLDER: usize = 32;
/// Transactions the older blocks may hold together (a bound on their memory).
const CACHE_OLDER_TXS: usize = 100_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Our critical sections do not leave the maps half-updated, so a poisoned lock is usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<E: StateContext> Chain<E> {
    pub(crate) fn new(p: ChainParts<E>) -> Self {
        let (finalized, _) = broadcast::channel(1024);
        Self {
            spec: p.spec,
            genesis: Arc::new(p.genesis),
            producer: p.producer,
            modules: p.modules,
            commitment: RwLock::new(p.commitment),
            store: p.store,
            index: p.index,
            pool: p.pool,
            executed: Mutex::new(HashMap::new()),
            latest: AtomicU64::new(p.head.number()),
            head: Mutex::new(Arc::new(p.head)),
            finalized,
            tx_arrived: Notify::new(),
            last_built: Mutex::new(None),
            halted: AtomicBool::new(false),
            cache: Mutex::new(BlockCache::default()),
            clock: p.clock,
            outbox: Mutex::new(Vec::new()),
            outbox_ready: Notify::new(),
            admission: OnceLock::new(),
            blobs: OnceLock::new(),
        }
    }

    pub(crate) fn spec(&self) -> &ChainSpec {
        &self.spec
    }
    pub(crate) fn genesis(&self) -> &Arc<Block> {
        &self.genesis
    }
    pub(crate) fn producer(&self) -> &ProducerConfig {
        &self.producer
    }
    pub(crate) fn modules(&self) -> &ModuleSet {
        &self.modules
    }
    pub(crate) fn commitment(&self) -> &RwLock<Commitment<E>> {
        &self.commitment
    }
    pub(crate) fn store(&self) -> &StateStore {
        &self.store
    }
    pub(crate) fn index(&self) -> &Index {
        &self.index
    }
    pub(crate) fn pool(&self) -> &Mempool {
        &self.pool
    }
    /// The runtime context (its clock is virtual in simulations).
    pub(crate) fn clock(&self) -> &E {
        &self.clock
    }

    /// Seconds since the epoch on the chain's clock.
    pub(crate) fn now_secs(&self) -> u64 {
        self.now_ms() / 1000
    }

    /// Milliseconds since the epoch on the chain's clock.
    pub(crate) fn now_ms(&self) -> u64 {
        self.clock
            .current()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    /// Install the admission screen; false if one is installed already.
    pub(crate) fn set_admission(&self, screen: Arc<dyn AdmissionScreen>) -> bool {
        self.admission.set(screen).is_ok()
    }

    /// Install the blob exchange; false if one is installed already.
    pub(crate) fn set_blobs(&self, exchange: Arc<BlobExchange>) -> bool {
        self.blobs.set(exchange).is_ok()
    }

    /// The blob exchange, on a validator.
    pub(crate) fn blob_exchange(&self) -> Option<&Arc<BlobExchange>> {
        self.blobs.get()
    }

    /// Heights of newly finalized blocks, in order, as they are applied.
    pub(crate) fn subscribe_finalized(&self) -> broadcast::Receiver<u64> {
        self.finalized.subscribe()
    }

    /// Woken when transactions may be ready for a block.
    pub(crate) fn tx_arrived(&self) -> &Notify {
        &self.tx_arrived
    }

    /// Wake the producer: transactions may be ready.
    pub(crate) fn notify_tx(&self) {
        self.tx_arrived.notify_waiters();
    }

    /// Woken when client transactions wait to be gossiped.
    pub(crate) fn outbox_ready(&self) -> &Notify {
        &self.outbox_ready
    }

    /// The client transactions waiting to be gossiped, emptied.
    pub(crate) fn take_outbox(&self) -> Vec<Bytes> {
        std::mem::take(&mut *lock(&self.outbox))
    }

    /// True once a finalized block failed to apply (the node stops applying blocks).
    pub(crate) fn halted(&self) -> bool {
        self.halted.load(Ordering::Acquire)
    }

    /// Stop applying finalized blocks (after one failed to apply).
    pub(crate) fn halt(&self) {
        self.halted.store(true, Ordering::Release);
    }

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
    /// [`crate::net::blobs`]); a node without a blob exchange (a follower) checks nothing.
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
    /// With an admission screen, the transaction is screened first (no node lock held): a
    /// hold pools it held, and an alert is raised once it is pooled.
    pub(crate) fn admit(&self, tx: RecoveredTx) -> Result<B256, PoolError> {
        let account = self.account(&tx.sender).unwrap_or_default();
        let base_fee = next_base_fee(&self.head().header);
        let Some(screen) = self.admission.get() else {
            let hash = self.pool.add(tx, &account, base_fee)?;
            self.notify_tx();
            return Ok(hash);
        };
        let a = screen.admit(
            &tx,
            self.now_secs(),
            base_fee,
            self.latest(),
            account.balance,
        );
        let hash = self.pool.add_held(tx, &account, base_fee, a.hold_until)?;
        if let Some(raise) = a.on_pooled {
            raise();
        }
        if a.hold_until.is_none() {
            self.notify_tx();
        }
        Ok(hash)
    }

    pub(crate) fn latest(&self) -> u64 {
        self.latest.load(Ordering::Acquire)
    }

    pub(crate) fn head(&self) -> Arc<Block> {
        lock(&self.head).clone()
    }

    /// Record `block` (applied to storage) as the finalized head: cache it and forget
    /// executed blocks at or below it (they are final or orphaned).
    pub(crate) fn advance_head(&self, block: Arc<Block>, receipts: Arc<Vec<StoredReceipt>>) {
        let number = block.number();
        self.cache_block(number, block.clone(), receipts);
        *lock(&self.head) = block;
        self.latest.store(number, Ordering::Release);
        lock(&self.executed).retain(|_, e| e.block.number() > number);
    }

    /// Tell subscribers that block `number` is final and applied.
    pub(crate) fn announce_finalized(&self, number: u64) {
        let _ = self.finalized.send(number);
    }

    /// When this node may build its next block ([`ProducerConfig::min_interval`] after its
    /// last one); `None` when it may build now.
    pub(crate) fn next_build_at(&self) -> Option<SystemTime> {
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
        {
            let mut c = lock(&self.cache);
            if let Some(e) = c.entries.get(&number) {
                return Ok(Some(e.clone()));
            }
            if let Some(i) = c.older.iter().position(|(n, _)| *n == number)
                && let Some(hit) = c.older.remove(i)
            {
                let e = hit.1.clone();
                c.older.push_back(hit);
                return Ok(Some(e));
            }
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

    fn cache_block(&self, number: u64, block: Arc<Block>, receipts: Arc<Vec<StoredReceipt>>) {
        let mut c = lock(&self.cache);
        let latest = self.latest().max(number);
        if number + CACHE_BLOCKS > latest {
            c.entries.insert(number, (block, receipts));
            c.entries.retain(|n, _| *n + CACHE_BLOCKS > latest);
            return;
        }
        c.older.push_back((number, (block, receipts)));
        let txs = |c: &BlockCache| -> usize {
            c.older.iter().map(|(_, (b, _))| b.transactions.len()).sum()
        };
        while c.older.len() > CACHE_OLDER || (c.older.len() > 1 && txs(&c) > CACHE_OLDER_TXS) {
            c.older.pop_front();
        }
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

    /// The latest finalized state, for RPC and services.
    pub(crate) fn finalized_state(self: &Arc<Self>) -> FinalizedState<E> {
        FinalizedState(self.clone())
    }
}

/// The latest finalized state (the state store).
pub(crate) struct FinalizedState<E: StateContext>(Arc<Chain<E>>);

impl<E: StateContext> StateReader for FinalizedState<E> {
    fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, ReadError> {
        self.0.store.get(key).map_err(|e| ReadError(e.to_string()))
    }
    fn block_hash(&self, number: u64) -> Result<Option<B256>, ReadError> {
        self.0
            .index
            .block_hash(number)
            .map_err(|e| ReadError(e.to_string()))
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
