//! The sentinel's host in the node: screening at admission, alerts, holds.
//!
//! The node does not depend on the sentinel crate: the binary passes a
//! [`SentinelConfig`] whose [`TxScreen`] holds the fraud model, feature store and anomaly
//! detector. The node owns what surrounds it:
//! - at admission ([`Chain::admit`]) every transaction is screened before it is pooled; a
//!   `hold` verdict pools it as held (never proposed by this node), `flag` and `hold` queue
//!   an alert. The screen is called without any node lock held; the alert is handed to a
//!   channel, so admission never waits for a disk write.
//! - a thread (`sentinel`) writes queued alerts to the index ([`alerts`]), streams them to
//!   `eth_subscribe("verai_alerts")`, feeds the screen every finalized block (it follows
//!   the chain's finalized channel, so account features follow the chain without ever
//!   delaying finalization), and ends expired holds.
//! - holds end by [`NodeSentinel::release`], authorized by a signature of one of the
//!   configured release keys, or at expiry ([`OnExpiry`]).
//!
//! Consensus never sees any of this: a block that contains a transaction this node holds
//! or would flag is verified and finalized like any other. Holding only changes what this
//! node proposes.

mod alerts;

pub(crate) use alerts::{AlertQuery, query};

use crate::chain::{Admission, AdmissionScreen, Chain};
use alerts::Pending;
use alloy_primitives::{Address, B256, Bytes, Signature, U256};
use std::{
    sync::{
        Arc, Weak,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};
use tokio::sync::{broadcast, broadcast::error::RecvError};
use tracing::{info, warn};
use verai_primitives::{
    AccountState, KECCAK_EMPTY, RecoveredTx, StateKey,
    sentinel::{AccountReader, OnExpiry, ScreenAction, SentinelConfig, TxScreen},
};
use verai_rpc::types::SentinelStatus;
use verai_storage::StateContext;

/// The message a release key signs (EIP-191 `personal_sign`) to end a hold: it names the
/// chain, the transaction and the decision, so a signature cannot be replayed on another
/// chain, transaction or decision. Releasing twice is harmless (the second finds no hold).
pub fn release_message(chain_id: u64, tx: &B256, drop: bool) -> String {
    let what = if drop { "drop" } else { "release" };
    format!("verai_releaseHeld:{chain_id}:{tx}:{what}")
}

/// Why a release was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// The signature is not 65 bytes or does not recover.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// It recovers to an address that is not a release key.
    #[error("{0} is not a release key of this node")]
    NotAuthorized(Address),
}

enum Event {
    Alert(Box<Pending>),
    Finalized,
}

/// Counters of the admission path.
#[derive(Default)]
struct Counters {
    screened: AtomicU64,
    flagged: AtomicU64,
    held: AtomicU64,
    released: AtomicU64,
    dropped: AtomicU64,
    nanos: AtomicU64,
    max_nanos: AtomicU64,
}

/// The node's sentinel: the screen, the alert queue and stream, the counters.
pub(crate) struct NodeSentinel {
    config: SentinelConfig,
    events: mpsc::Sender<Event>,
    alerts: broadcast::Sender<serde_json::Value>,
    counters: Arc<Counters>,
}

impl AdmissionScreen for NodeSentinel {
    fn admit(
        &self,
        tx: &RecoveredTx,
        now: u64,
        base_fee: u64,
        block: u64,
        balance: U256,
    ) -> Admission {
        let (hold_until, alert) = self.screen(tx, now, base_fee, block, balance);
        let on_pooled = alert.map(|p| {
            let (events, counters) = (self.events.clone(), self.counters.clone());
            Box::new(move || {
                let counter = match p.action {
                    ScreenAction::Hold => &counters.held,
                    _ => &counters.flagged,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                let _ = events.send(Event::Alert(p));
            }) as Box<dyn FnOnce() + Send>
        });
        Admission {
            hold_until,
            on_pooled,
        }
    }
}

impl NodeSentinel {
    /// Screen a transaction about to be admitted; returns the hold deadline (seconds) for a
    /// hold and the alert to raise once it is pooled.
    fn screen(
        &self,
        tx: &RecoveredTx,
        now: u64,
        base_fee: u64,
        block: u64,
        sender_balance: U256,
    ) -> (Option<u64>, Option<Box<Pending>>) {
        let start = Instant::now();
        let s = self.config.screen.screen(tx, now, base_fee, sender_balance);
        let nanos = start.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64;
        let c = &self.counters;
        c.screened.fetch_add(1, Ordering::Relaxed);
        c.nanos.fetch_add(nanos, Ordering::Relaxed);
        c.max_nanos.fetch_max(nanos, Ordering::Relaxed);
        let hold_until = match s.action {
            ScreenAction::Allow => return (None, None),
            ScreenAction::Flag => None,
            ScreenAction::Hold => Some(now.saturating_add(self.config.hold_for.as_secs().max(1))),
        };
        let pending = Pending::new(tx, s.action, hold_until, now, block, s.detail);
        (hold_until, Some(Box::new(pending)))
    }

    /// New alerts as they are stored.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<serde_json::Value> {
        self.alerts.subscribe()
    }

    /// Check a release request's signature against the release keys.
    pub(crate) fn authorize(
        &self,
        chain_id: u64,
        tx: &B256,
        drop: bool,
        signature: &Bytes,
    ) -> Result<Address, ReleaseError> {
        let sig = Signature::try_from(signature.as_ref())
            .map_err(|e| ReleaseError::BadSignature(e.to_string()))?;
        let signer = sig
            .recover_address_from_msg(release_message(chain_id, tx, drop))
            .map_err(|e| ReleaseError::BadSignature(e.to_string()))?;
        if self.config.release_keys.contains(&signer) {
            Ok(signer)
        } else {
            Err(ReleaseError::NotAuthorized(signer))
        }
    }

    /// End a hold on `tx` after checking the release signature: `drop` removes it from the
    /// pool, otherwise it is proposed again. Returns whether it was held.
    pub(crate) fn release<E: StateContext>(
        &self,
        chain: &Chain<E>,
        tx: B256,
        drop: bool,
        signature: &Bytes,
    ) -> Result<bool, ReleaseError> {
        let by = self.authorize(chain.spec().chain_id, &tx, drop, signature)?;
        let held = chain.pool().release(&tx);
        if drop && held {
            chain.pool().remove([tx]);
        } else if !drop {
            chain.notify_tx();
        }
        if held {
            self.note_release(drop);
            info!(%tx, %by, drop, "hold ended by a release key");
        }
        Ok(held)
    }

    fn note_release(&self, drop: bool) {
        let c = if drop {
            &self.counters.dropped
        } else {
            &self.counters.released
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Counters, mean and worst screening time, and the screen's own description.
    pub(crate) fn status(&self) -> SentinelStatus {
        let c = &self.counters;
        let screened = c.screened.load(Ordering::Relaxed);
        let nanos = c.nanos.load(Ordering::Relaxed);
        SentinelStatus {
            screened,
            flagged: c.flagged.load(Ordering::Relaxed),
            held: c.held.load(Ordering::Relaxed),
            released: c.released.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            mean_screen_nanos: nanos.checked_div(screened).unwrap_or(0),
            max_screen_nanos: c.max_nanos.load(Ordering::Relaxed),
            hold_seconds: self.config.hold_for.as_secs(),
            on_expiry: match self.config.on_expiry {
                OnExpiry::Drop => "drop",
                OnExpiry::Release => "release",
            }
            .into(),
            release_keys: self.config.release_keys.clone(),
            screen: self.config.screen.describe(),
        }
    }
}

/// Install the sentinel on a chain and start its thread. The screen first sees every
/// finalized block from 1 to the current height (its feature store lives in memory).
pub(crate) fn spawn<E: StateContext>(
    chain: &Arc<Chain<E>>,
    config: SentinelConfig,
) -> Option<Arc<NodeSentinel>> {
    let (events, rx) = mpsc::channel();
    let (alerts, _) = broadcast::channel(1024);
    let sentinel = Arc::new(NodeSentinel {
        config,
        events: events.clone(),
        alerts,
        counters: Arc::default(),
    });
    if !chain.set_admission(sentinel.clone()) {
        warn!("the sentinel is already installed");
        return None;
    }
    // Finalized heights reach the sentinel thread through its own queue, so that it waits
    // on one channel for alerts and blocks alike.
    let mut finalized = chain.subscribe_finalized();
    let forward = std::thread::Builder::new()
        .name("sentinel-follow".into())
        .spawn(move || {
            loop {
                match finalized.blocking_recv() {
                    Ok(_) | Err(RecvError::Lagged(_)) => {
                        if events.send(Event::Finalized).is_err() {
                            return;
                        }
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
    let weak: Weak<Chain<E>> = Arc::downgrade(chain);
    let thread = sentinel.clone();
    let main = std::thread::Builder::new()
        .name("sentinel".into())
        .spawn(move || run(weak, thread, rx));
    if let Err(e) = forward.and(main) {
        warn!(%e, "cannot start the sentinel threads");
    }
    Some(sentinel)
}

/// Longest stored alerts wait to be synced to disk.
const ALERT_SYNC: Duration = Duration::from_millis(500);

fn run<E: StateContext>(
    weak: Weak<Chain<E>>,
    sentinel: Arc<NodeSentinel>,
    rx: mpsc::Receiver<Event>,
) {
    let mut done = 0u64;
    let mut replayed = false;
    // Alerts are committed without a sync (`Index::put_alerts`): when the first batch not yet
    // synced was stored. `Index::sync` after `ALERT_SYNC` makes them durable (the alerts have
    // their own database: block commits do not sync them).
    let mut unsynced: Option<Instant> = None;
    loop {
        let event = rx.recv_timeout(Duration::from_millis(200));
        let Some(chain) = weak.upgrade() else {
            return;
        };
        // Alerts go to the index in batches: every alert queued within ALERT_BATCH_WINDOW of
        // an alert that woke the thread shares one index transaction. The thread sleeps
        // through the window rather than waiting on the queue: a waiting receiver is woken
        // by every send, which under load was a context switch per alert on a busy core.
        let mut batch = Vec::new();
        if let Ok(Event::Alert(p)) = event {
            batch.push(*p);
            std::thread::sleep(alerts::BATCH_WINDOW);
        }
        while batch.len() < alerts::MAX_BATCH {
            match rx.try_recv() {
                Ok(Event::Alert(p)) => batch.push(*p),
                Ok(Event::Finalized) => {}
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            alerts::store(&chain, &sentinel.alerts, batch);
            unsynced.get_or_insert_with(Instant::now);
        }
        if unsynced.is_some_and(|since| since.elapsed() >= ALERT_SYNC) {
            match chain.index().sync() {
                Ok(()) => unsynced = None,
                Err(e) => warn!(%e, "cannot sync sentinel alerts"),
            }
        }
        let latest = chain.latest();
        if latest > done {
            let started = Instant::now();
            for n in done + 1..=latest {
                feed_block(&chain, &*sentinel.config.screen, n);
            }
            if !replayed && latest > 1 {
                info!(
                    blocks = latest,
                    ms = started.elapsed().as_millis() as u64,
                    "sentinel replayed the chain"
                );
            }
            done = latest;
        }
        replayed = true;
        sentinel.config.screen.tick();
        expire(&chain, &sentinel);
    }
}

fn feed_block<E: StateContext>(chain: &Chain<E>, screen: &dyn TxScreen, number: u64) {
    let (block, receipts) = match chain.block_and_receipts(number) {
        Ok(Some(b)) => b,
        Ok(None) => return,
        Err(e) => {
            warn!(%e, number, "sentinel cannot read a finalized block");
            return;
        }
    };
    // One read transaction for the block's look-ups (a few hundred under load).
    let state = chain
        .store()
        .snapshot()
        .inspect_err(|e| warn!(%e, number, "sentinel cannot read the state"))
        .ok();
    screen.finalized(&block, &receipts, &ChainAccounts(state));
}

/// Accounts of one finalized state; an unreadable state or account reads as empty.
struct ChainAccounts(Option<verai_storage::StateSnapshot>);

impl ChainAccounts {
    fn account(&self, a: &Address) -> Option<AccountState> {
        let raw = self.0.as_ref()?.get(&StateKey::Account(*a)).ok()??;
        AccountState::decode(&raw).ok()
    }
}

impl AccountReader for ChainAccounts {
    fn has_code(&self, a: &Address) -> bool {
        self.account(a)
            .is_some_and(|acc| acc.code_hash != KECCAK_EMPTY)
    }
    fn balance(&self, a: &Address) -> U256 {
        self.account(a).map(|acc| acc.balance).unwrap_or_default()
    }
}

fn expire<E: StateContext>(chain: &Chain<E>, sentinel: &NodeSentinel) {
    let expired = chain.pool().take_expired(chain.now_secs());
    if expired.is_empty() {
        return;
    }
    let drop = sentinel.config.on_expiry == OnExpiry::Drop;
    info!(count = expired.len(), drop, "holds expired");
    if drop {
        chain.pool().remove(expired.iter().copied());
    } else {
        chain.notify_tx();
    }
    for _ in &expired {
        sentinel.note_release(drop);
    }
}
