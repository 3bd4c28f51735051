//! The pool itself: per-sender nonce queues, a hash index and a notifier of new transactions.

use crate::{PoolError, intrinsic_gas};
use alloy_consensus::Transaction;
use alloy_primitives::{Address, B256, U256};
use std::{
    cmp::Reverse,
    collections::{BTreeMap, BinaryHeap, HashMap},
    sync::{Arc, Mutex, MutexGuard},
};
use tokio::sync::broadcast;
use verai_primitives::{AccountState, MAX_TX_BYTES, RecoveredTx};

/// Pool limits and the chain parameters admission checks against.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// EIP-155 chain id every transaction must be signed for.
    pub chain_id: u64,
    /// Block gas limit: no transaction may ask for more.
    pub block_gas_limit: u64,
    /// Total transactions held.
    pub max_total: usize,
    /// Transactions held per sender.
    pub max_per_sender: usize,
    /// How far above the account nonce a transaction may be.
    pub max_nonce_gap: u64,
    /// Minimum fee increase for a replacement, in percent.
    pub price_bump_percent: u128,
}

impl PoolConfig {
    /// Defaults for a chain.
    pub fn new(chain_id: u64, block_gas_limit: u64) -> Self {
        Self {
            chain_id,
            block_gas_limit,
            max_total: 200_000,
            max_per_sender: 4_096,
            max_nonce_gap: 4_096,
            price_bump_percent: 10,
        }
    }
}

#[derive(Default)]
struct Inner {
    by_hash: HashMap<B256, Arc<RecoveredTx>>,
    by_sender: HashMap<Address, BTreeMap<u64, Arc<RecoveredTx>>>,
    /// Held transactions (a local screening policy keeps them out of blocks) and when the
    /// hold ends (seconds, the caller's clock). Usually empty: `best` checks it per
    /// candidate only when it is not.
    held: HashMap<B256, u64>,
}

impl Inner {
    /// Forget a transaction's hold when it leaves the pool.
    fn unhold(&mut self, hash: &B256) {
        if !self.held.is_empty() {
            self.held.remove(hash);
        }
    }
}

/// A bounded, thread-safe transaction pool.
pub struct Mempool {
    config: PoolConfig,
    inner: Mutex<Inner>,
    added: broadcast::Sender<B256>,
}

impl std::fmt::Debug for Mempool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mempool").field("len", &self.len()).finish()
    }
}

impl Mempool {
    /// An empty pool.
    pub fn new(config: PoolConfig) -> Self {
        let (added, _) = broadcast::channel(4096);
        Self {
            config,
            inner: Mutex::new(Inner::default()),
            added,
        }
    }

    /// The pool's configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent maps (no multi-step updates
        // can be interrupted half-way by our code), so poisoning is safe to ignore.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hashes of admitted transactions, as they arrive (for `newPendingTransactions`).
    pub fn subscribe(&self) -> broadcast::Receiver<B256> {
        self.added.subscribe()
    }

    /// Number of pooled transactions.
    pub fn len(&self) -> usize {
        self.lock().by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A pooled transaction by hash.
    pub fn get(&self, hash: &B256) -> Option<Arc<RecoveredTx>> {
        self.lock().by_hash.get(hash).cloned()
    }

    /// Check a transaction against the pool rules and the sender's `account` in the state it
    /// will run on, at the current `base_fee`, and admit it.
    pub fn add(
        &self,
        tx: RecoveredTx,
        account: &AccountState,
        base_fee: u64,
    ) -> Result<B256, PoolError> {
        self.add_held(tx, account, base_fee, None)
    }

    /// [`Self::add`], holding the transaction until `hold_until` (seconds) when given: a held
    /// transaction stays pooled (its nonce counts for `pending_nonce`) but [`Self::best`]
    /// never returns it or its sender's later nonces, until [`Self::release`] or the caller
    /// acts on [`Self::take_expired`]. Holding is a local policy: it never makes a block
    /// that contains the transaction invalid.
    pub fn add_held(
        &self,
        tx: RecoveredTx,
        account: &AccountState,
        base_fee: u64,
        hold_until: Option<u64>,
    ) -> Result<B256, PoolError> {
        let c = &self.config;
        if tx.chain_id() != Some(c.chain_id) {
            return Err(PoolError::WrongChainId {
                expected: c.chain_id,
                got: tx.chain_id(),
            });
        }
        if tx.encoded_len > MAX_TX_BYTES {
            return Err(PoolError::Oversized {
                size: tx.encoded_len,
                limit: MAX_TX_BYTES,
            });
        }
        if tx.gas_limit() > c.block_gas_limit {
            return Err(PoolError::GasLimitExceeded {
                gas: tx.gas_limit(),
                limit: c.block_gas_limit,
            });
        }
        let want = intrinsic_gas(&tx);
        if tx.gas_limit() < want {
            return Err(PoolError::IntrinsicGasTooLow {
                have: tx.gas_limit(),
                want,
            });
        }
        let fee_cap = tx.max_fee_per_gas();
        let tip_cap = tx.envelope.max_priority_fee_per_gas();
        if tip_cap.is_some_and(|t| t > fee_cap) {
            return Err(PoolError::TipAboveFeeCap);
        }
        if fee_cap < u128::from(base_fee) {
            return Err(PoolError::FeeCapTooLow {
                fee: fee_cap,
                base_fee,
            });
        }
        let nonce = tx.nonce();
        if nonce < account.nonce {
            return Err(PoolError::NonceTooLow {
                state: account.nonce,
                tx: nonce,
            });
        }
        if nonce - account.nonce > c.max_nonce_gap {
            return Err(PoolError::NonceTooHigh {
                state: account.nonce,
                tx: nonce,
            });
        }
        let cost = U256::from(tx.gas_limit()) * U256::from(fee_cap) + tx.envelope.value();
        if account.balance < cost {
            return Err(PoolError::InsufficientFunds {
                balance: account.balance,
                cost,
            });
        }

        let hash = tx.hash;
        let sender = tx.sender;
        let mut inner = self.lock();
        if inner.by_hash.contains_key(&hash) {
            return Err(PoolError::AlreadyKnown);
        }
        let total = inner.by_hash.len();
        let queue = inner.by_sender.entry(sender).or_default();
        let replaced = match queue.get(&nonce) {
            Some(old) => {
                let bump = |old: u128| old + old * c.price_bump_percent / 100;
                let old_tip = old
                    .envelope
                    .max_priority_fee_per_gas()
                    .unwrap_or(old.max_fee_per_gas());
                let new_tip = tip_cap.unwrap_or(fee_cap);
                if fee_cap < bump(old.max_fee_per_gas()) || new_tip < bump(old_tip) {
                    return Err(PoolError::ReplacementUnderpriced);
                }
                Some(old.hash)
            }
            None => {
                if queue.len() >= c.max_per_sender || total >= c.max_total {
                    if queue.is_empty() {
                        inner.by_sender.remove(&sender);
                    }
                    return Err(PoolError::PoolFull);
                }
                None
            }
        };
        let tx = Arc::new(tx);
        queue.insert(nonce, tx.clone());
        if let Some(old) = replaced {
            inner.by_hash.remove(&old);
            inner.unhold(&old);
        }
        inner.by_hash.insert(hash, tx);
        if let Some(until) = hold_until {
            inner.held.insert(hash, until);
        }
        drop(inner);
        let _ = self.added.send(hash);
        Ok(hash)
    }

    /// The best transactions for a block: for every sender the run of consecutive nonces
    /// starting at `nonce_of(sender)` (the nonce in the parent state), interleaved by
    /// effective tip at `base_fee`, highest first, until `gas_limit` or `max_count`.
    pub fn best(
        &self,
        base_fee: u64,
        gas_limit: u64,
        max_count: usize,
        nonce_of: impl Fn(&Address) -> u64,
    ) -> Vec<RecoveredTx> {
        let inner = self.lock();
        let held = |h: &B256| !inner.held.is_empty() && inner.held.contains_key(h);
        // Heap of (tip, Reverse(hash)) per sender head; the hash breaks ties reproducibly.
        let mut heap = BinaryHeap::new();
        let mut cursors: HashMap<Address, u64> = HashMap::new();
        for (sender, queue) in &inner.by_sender {
            let next = nonce_of(sender);
            if let Some(tx) = queue.get(&next)
                && !held(&tx.hash)
                && let Some(tip) = tx.effective_tip(base_fee)
            {
                heap.push((tip, Reverse(tx.hash), *sender));
                cursors.insert(*sender, next);
            }
        }
        let mut out = Vec::new();
        let mut gas_left = gas_limit;
        while let Some((_, _, sender)) = heap.pop() {
            if out.len() >= max_count {
                break;
            }
            let Some(queue) = inner.by_sender.get(&sender) else {
                continue;
            };
            let Some(nonce) = cursors.get(&sender).copied() else {
                continue;
            };
            let Some(tx) = queue.get(&nonce) else {
                continue;
            };
            if tx.gas_limit() > gas_left {
                // This sender's later nonces cannot run without this one.
                continue;
            }
            gas_left -= tx.gas_limit();
            out.push((**tx).clone());
            if let Some(next) = queue.get(&(nonce + 1))
                && !held(&next.hash)
                && let Some(tip) = next.effective_tip(base_fee)
            {
                heap.push((tip, Reverse(next.hash), sender));
                cursors.insert(sender, nonce + 1);
            }
        }
        out
    }

    /// Drop transactions by hash (for example ones the executor refused).
    pub fn remove(&self, hashes: impl IntoIterator<Item = B256>) {
        let mut inner = self.lock();
        for hash in hashes {
            inner.unhold(&hash);
            if let Some(tx) = inner.by_hash.remove(&hash)
                && let Some(queue) = inner.by_sender.get_mut(&tx.sender)
            {
                queue.remove(&tx.nonce());
                if queue.is_empty() {
                    inner.by_sender.remove(&tx.sender);
                }
            }
        }
    }

    /// After a block is finalized: drop every transaction of `senders` whose nonce is below
    /// the sender's new nonce (included, or made invalid by an included one).
    pub fn prune(
        &self,
        senders: impl IntoIterator<Item = Address>,
        nonce_of: impl Fn(&Address) -> u64,
    ) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        for sender in senders {
            let Some(queue) = inner.by_sender.get_mut(&sender) else {
                continue;
            };
            let next = nonce_of(&sender);
            let keep = queue.split_off(&next);
            for tx in queue.values() {
                inner.by_hash.remove(&tx.hash);
                if !inner.held.is_empty() {
                    inner.held.remove(&tx.hash);
                }
            }
            if keep.is_empty() {
                inner.by_sender.remove(&sender);
            } else {
                *queue = keep;
            }
        }
    }

    /// The nonce after the run of consecutive pooled transactions starting at `state_nonce`
    /// (for `eth_getTransactionCount(addr, "pending")`).
    pub fn pending_nonce(&self, sender: &Address, state_nonce: u64) -> u64 {
        let inner = self.lock();
        let mut n = state_nonce;
        if let Some(queue) = inner.by_sender.get(sender) {
            while queue.contains_key(&n) {
                n += 1;
            }
        }
        n
    }

    /// Whether a pooled transaction is held.
    pub fn is_held(&self, hash: &B256) -> bool {
        self.lock().held.contains_key(hash)
    }

    /// Held transactions and when their holds end, sorted by hash.
    pub fn held(&self) -> Vec<(B256, u64)> {
        let mut v: Vec<(B256, u64)> = self.lock().held.iter().map(|(h, t)| (*h, *t)).collect();
        v.sort_unstable();
        v
    }

    /// End a hold: the transaction becomes a candidate for blocks again. Returns whether it
    /// was held.
    pub fn release(&self, hash: &B256) -> bool {
        self.lock().held.remove(hash).is_some()
    }

    /// The held transactions whose hold ended at or before `now` (seconds), no longer marked
    /// held; the caller drops or keeps them.
    pub fn take_expired(&self, now: u64) -> Vec<B256> {
        let mut inner = self.lock();
        if inner.held.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<B256> = inner
            .held
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(h, _)| *h)
            .collect();
        out.sort_unstable();
        for h in &out {
            inner.held.remove(h);
        }
        out
    }

    /// Snapshot of pooled transactions (for `txpool`-style inspection and tests).
    pub fn all(&self) -> Vec<Arc<RecoveredTx>> {
        self.lock().by_hash.values().cloned().collect()
    }
}
