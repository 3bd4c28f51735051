//! Screening transactions at admission (the sentinel), off the consensus path.
//!
//! The node does not depend on the sentinel crate: the binary passes a [`TxScreen`] (the
//! fraud model, feature store and anomaly detector live behind it), as it passes the deploy
//! auditor. The node owns what surrounds it:
//! - at admission ([`Chain::admit`]) every transaction is screened before it is pooled; a
//!   `hold` verdict pools it as held (never proposed by this node), `flag` and `hold` queue
//!   an alert. The screen is called without any node lock held; the alert is handed to a
//!   channel, so admission never waits for a disk write.
//! - a thread (`sentinel`) writes queued alerts to the index (`alerts` tables), streams them
//!   to `eth_subscribe("verai_alerts")`, feeds the screen every finalized block (so account
//!   features follow the chain; it is woken by finalization and never delays it), and ends
//!   expired holds.
//! - holds end by [`Screen::release`], authorized by a signature of one of the configured
//!   release keys, or at expiry ([`OnExpiry`]).
//!
//! Consensus never sees any of this: a block that contains a transaction this node holds
//! or would flag is verified and finalized like any other. Holding only changes what this
//! node proposes.

use crate::chain::Chain;
use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, B256, Bytes, Signature};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::{
    ops::ControlFlow,
    sync::{
        Arc, Weak,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};
use tokio::sync::broadcast;
use tracing::{debug, info, warn};
use verai_primitives::{AccountState, Block, KECCAK_EMPTY, RecoveredTx, StateKey, StoredReceipt};
use verai_storage::StateContext;

/// What a screen decided about one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScreenAction {
    /// Admit normally.
    Allow,
    /// Admit and raise an alert.
    Flag,
    /// Admit held (kept out of this node's proposals) and raise an alert.
    Hold,
}

/// A screen's verdict: the action and, for an alert, what to record (scores, top
/// contributing features, model hash: whatever the screen explains itself with).
#[derive(Debug, Clone)]
pub struct Screening {
    /// The action.
    pub action: ScreenAction,
    /// The alert's explanation, as JSON the screen serialized once (stored and streamed as
    /// the alert's `scores` without being parsed again); `None` for `allow` (admission
    /// allocates nothing then).
    pub detail: Option<Box<RawValue>>,
}

impl Screening {
    /// Admit, no alert.
    pub const ALLOW: Self = Self {
        action: ScreenAction::Allow,
        detail: None,
    };
}

/// Transaction screening supplied by the binary.
pub trait TxScreen: Send + Sync + 'static {
    /// Screen a transaction at admission (`now`: seconds; `base_fee`: of the next block, so
    /// the screen can compare the price the transaction would pay with the effective prices
    /// of finalized ones). Called on the admission path of every transaction: it must take
    /// microseconds and must not block on writers for long.
    /// `sender_balance` is the sender's balance in the state the transaction is admitted
    /// against.
    fn screen(
        &self,
        tx: &RecoveredTx,
        now: u64,
        base_fee: u64,
        sender_balance: alloy_primitives::U256,
    ) -> Screening;
    /// A finalized block and its receipts, in height order, each once per process; `state`
    /// reads the latest finalized state (the block's own after-state while following the
    /// tip; a later one while replaying history at start-up). Called on the sentinel thread.
    fn finalized(&self, block: &Block, receipts: &[StoredReceipt], state: &dyn AccountReader);
    /// Called on the sentinel thread at least every 200 ms, with or without new blocks, for
    /// work a screen defers (e.g. coalesced refreshes). Default: nothing.
    fn tick(&self) {}
    /// What the screen is (model hash, policy, detector state), for `verai_sentinelStatus`.
    fn describe(&self) -> serde_json::Value;
}

/// Read access to accounts in the finalized state, for a [`TxScreen`].
pub trait AccountReader {
    /// Whether the address holds code.
    fn has_code(&self, a: &Address) -> bool;
    /// The address's balance in wei (zero for an unknown account).
    fn balance(&self, a: &Address) -> alloy_primitives::U256;
}

/// What happens to a held transaction nobody released in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnExpiry {
    /// Drop it from the pool (the sender may send it again; it is screened again).
    Drop,
    /// Release it: the hold was a delay for review.
    Release,
}

/// The sentinel's node-side settings.
#[derive(Clone)]
pub struct ScreenConfig {
    /// The screen.
    pub screen: Arc<dyn TxScreen>,
    /// How long a hold lasts.
    pub hold_for: Duration,
    /// What expiry does.
    pub on_expiry: OnExpiry,
    /// Addresses whose signature releases or drops a held transaction
    /// ([`release_message`]); empty: only expiry ends holds.
    pub release_keys: Vec<Address>,
}

impl std::fmt::Debug for ScreenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScreenConfig")
            .field("hold_for", &self.hold_for)
            .field("on_expiry", &self.on_expiry)
            .field("release_keys", &self.release_keys)
            .finish_non_exhaustive()
    }
}

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

/// An alert waiting for the sentinel thread; stored and served as an [`AlertDoc`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Pending {
    tx_hash: B256,
    from: Address,
    to: Option<Address>,
    value: alloy_primitives::U256,
    nonce: u64,
    action: ScreenAction,
    hold_until: Option<u64>,
    time: u64,
    block_number: u64,
    /// The screen's explanation ([`Screening::detail`]).
    scores: Option<Box<RawValue>>,
}

/// A stored alert, as `verai_getAlerts` and the `verai_alerts` stream serve it: its id and
/// the alert's fields.
#[derive(Serialize)]
struct AlertDoc<'a> {
    id: u64,
    #[serde(flatten)]
    alert: &'a Pending,
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
pub(crate) struct Screen {
    config: ScreenConfig,
    events: mpsc::Sender<Event>,
    alerts: broadcast::Sender<serde_json::Value>,
    counters: Counters,
}

impl Screen {
    /// Screen a transaction about to be admitted; returns the hold deadline (seconds) for a
    /// hold and the alert to raise once it is pooled.
    pub(crate) fn screen(
        &self,
        tx: &RecoveredTx,
        now: u64,
        base_fee: u64,
        block: u64,
        sender_balance: alloy_primitives::U256,
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
        let pending = Pending {
            tx_hash: tx.hash,
            from: tx.sender,
            to: tx.envelope.to(),
            value: tx.envelope.value(),
            nonce: tx.nonce(),
            action: s.action,
            hold_until,
            time: now,
            block_number: block,
            scores: s.detail,
        };
        (hold_until, Some(Box::new(pending)))
    }

    /// Queue the alert of an admitted transaction.
    pub(crate) fn raise(&self, p: Box<Pending>) {
        let counter = match p.action {
            ScreenAction::Hold => &self.counters.held,
            _ => &self.counters.flagged,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let _ = self.events.send(Event::Alert(p));
    }

    /// Wake the thread after a block is finalized.
    pub(crate) fn wake(&self) {
        let _ = self.events.send(Event::Finalized);
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

    pub(crate) fn note_release(&self, drop: bool) {
        let c = if drop {
            &self.counters.dropped
        } else {
            &self.counters.released
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Counters, mean and worst screening time, and the screen's own description.
    pub(crate) fn status(&self) -> serde_json::Value {
        let c = &self.counters;
        let screened = c.screened.load(Ordering::Relaxed);
        let nanos = c.nanos.load(Ordering::Relaxed);
        serde_json::json!({
            "screened": screened,
            "flagged": c.flagged.load(Ordering::Relaxed),
            "held": c.held.load(Ordering::Relaxed),
            "released": c.released.load(Ordering::Relaxed),
            "dropped": c.dropped.load(Ordering::Relaxed),
            "meanScreenNanos": nanos.checked_div(screened).unwrap_or(0),
            "maxScreenNanos": c.max_nanos.load(Ordering::Relaxed),
            "holdSeconds": self.config.hold_for.as_secs(),
            "onExpiry": self.config.on_expiry,
            "releaseKeys": self.config.release_keys,
            "screen": self.config.screen.describe(),
        })
    }
}

/// Seconds since the epoch on the chain's clock (virtual in simulations).
pub(crate) fn now_secs<E: StateContext>(chain: &Chain<E>) -> u64 {
    chain
        .clock
        .current()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Install the sentinel on a chain and start its thread. The screen first sees every
/// finalized block from 1 to the current height (its feature store lives in memory).
pub(crate) fn spawn<E: StateContext>(chain: &Arc<Chain<E>>, config: ScreenConfig) {
    let (events, rx) = mpsc::channel();
    let (alerts, _) = broadcast::channel(1024);
    let screen = Arc::new(Screen {
        config,
        events,
        alerts,
        counters: Counters::default(),
    });
    if chain.screen.set(screen.clone()).is_err() {
        warn!("the sentinel is already installed");
        return;
    }
    let weak: Weak<Chain<E>> = Arc::downgrade(chain);
    let spawned = std::thread::Builder::new()
        .name("sentinel".into())
        .spawn(move || run(weak, screen, rx));
    if let Err(e) = spawned {
        warn!(%e, "cannot start the sentinel thread");
    }
}

/// Longest stored alerts wait to be synced to disk.
const ALERT_SYNC: Duration = Duration::from_millis(500);

fn run<E: StateContext>(weak: Weak<Chain<E>>, screen: Arc<Screen>, rx: mpsc::Receiver<Event>) {
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
        let mut alerts = Vec::new();
        if let Ok(Event::Alert(p)) = event {
            alerts.push(*p);
            std::thread::sleep(ALERT_BATCH_WINDOW);
        }
        while alerts.len() < MAX_ALERT_BATCH {
            match rx.try_recv() {
                Ok(Event::Alert(p)) => alerts.push(*p),
                Ok(Event::Finalized) => {}
                Err(_) => break,
            }
        }
        if !alerts.is_empty() {
            store_alerts(&chain, &screen, alerts);
            unsynced.get_or_insert_with(Instant::now);
        }
        if unsynced.is_some_and(|since| since.elapsed() >= ALERT_SYNC) {
            match chain.index.sync() {
                Ok(()) => unsynced = None,
                Err(e) => warn!(%e, "cannot sync sentinel alerts"),
            }
        }
        let latest = chain.latest();
        if latest > done {
            let started = Instant::now();
            for n in done + 1..=latest {
                feed_block(&chain, &screen, n);
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
        screen.config.screen.tick();
        expire(&chain, &screen);
    }
}

fn feed_block<E: StateContext>(chain: &Chain<E>, screen: &Screen, number: u64) {
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
        .store
        .snapshot()
        .inspect_err(|e| warn!(%e, number, "sentinel cannot read the state"))
        .ok();
    screen
        .config
        .screen
        .finalized(&block, &receipts, &ChainAccounts(state));
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
    fn balance(&self, a: &Address) -> alloy_primitives::U256 {
        self.account(a).map(|acc| acc.balance).unwrap_or_default()
    }
}

fn expire<E: StateContext>(chain: &Chain<E>, screen: &Screen) {
    let expired = chain.pool.take_expired(now_secs(chain));
    if expired.is_empty() {
        return;
    }
    let drop = screen.config.on_expiry == OnExpiry::Drop;
    info!(count = expired.len(), drop, "holds expired");
    if drop {
        chain.pool.remove(expired.iter().copied());
    } else {
        chain.tx_arrived.notify_waiters();
    }
    for _ in &expired {
        screen.note_release(drop);
    }
}

/// How long the first alert of a batch waits for others before the batch is stored (and
/// streamed): the latency an alert gains for not costing one index commit each.
const ALERT_BATCH_WINDOW: Duration = Duration::from_millis(50);

/// Most alerts stored in one index transaction.
const MAX_ALERT_BATCH: usize = 1024;

fn store_alerts<E: StateContext>(chain: &Chain<E>, screen: &Screen, batch: Vec<Pending>) {
    // Each alert is serialized once, with its id, as it is stored; the stream gets a parsed
    // copy only when someone subscribes.
    let entries = batch
        .iter()
        .map(|p| {
            let mut addresses = vec![p.from];
            addresses.extend(p.to.filter(|t| *t != p.from));
            (addresses, move |id: u64| {
                serde_json::to_vec(&AlertDoc { id, alert: p }).unwrap_or_default()
            })
        })
        .collect();
    let results = match chain.index.put_alerts(entries) {
        Ok(r) => r,
        Err(e) => {
            warn!(%e, count = batch.len(), "cannot store sentinel alerts");
            return;
        }
    };
    let streamed = screen.alerts.receiver_count() > 0;
    for (p, result) in batch.iter().zip(results) {
        match result {
            Ok(id) => {
                debug!(id, tx = %p.tx_hash, action = ?p.action, "sentinel alert");
                if streamed {
                    match serde_json::to_value(AlertDoc { id, alert: p }) {
                        Ok(doc) => {
                            let _ = screen.alerts.send(doc);
                        }
                        Err(e) => warn!(%e, tx = %p.tx_hash, "cannot stream a sentinel alert"),
                    }
                }
            }
            Err(e) => warn!(%e, tx = %p.tx_hash, "cannot store a sentinel alert"),
        }
    }
}

/// Filters of `verai_getAlerts`, applied to stored alerts in id order.
#[derive(Debug, Clone, Default)]
pub(crate) struct AlertQuery {
    pub address: Option<Address>,
    pub from_block: Option<u64>,
    pub to_block: Option<u64>,
    pub from_time: Option<u64>,
    pub to_time: Option<u64>,
    pub after: u64,
    pub limit: usize,
}

/// Stored alerts matching `q` (at most `q.limit`) and the cursor to continue from, `None`
/// when the scan reached the end.
pub(crate) fn query<E: StateContext>(
    chain: &Chain<E>,
    q: &AlertQuery,
) -> Result<(Vec<serde_json::Value>, Option<u64>), crate::NodeError> {
    let mut out = Vec::new();
    let mut last = q.after;
    let mut stopped = false;
    let mut bad = None;
    let visited = chain
        .index
        .scan_alerts(q.address.as_ref(), q.after, |id, bytes| {
            last = id;
            let doc: serde_json::Value = match serde_json::from_slice(bytes) {
                Ok(d) => d,
                Err(e) => {
                    bad = Some(format!("alert {id}: {e}"));
                    return ControlFlow::Break(());
                }
            };
            let n = |k: &str| doc[k].as_u64().unwrap_or(0);
            let (block, time) = (n("blockNumber"), n("time"));
            let keep = q.from_block.is_none_or(|f| block >= f)
                && q.to_block.is_none_or(|t| block <= t)
                && q.from_time.is_none_or(|f| time >= f)
                && q.to_time.is_none_or(|t| time <= t);
            if keep {
                out.push(doc);
            }
            if out.len() >= q.limit {
                stopped = true;
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
    if let Some(e) = bad {
        return Err(crate::NodeError::Inconsistent(e));
    }
    let more = stopped || visited >= verai_storage::MAX_ALERT_SCAN;
    Ok((out, more.then_some(last)))
}
