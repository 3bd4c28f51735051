//! The sentinel's admission screen (`verai node --sentinel MODEL`): the node's
//! [`TxScreen`], backed by the fraud model, the account feature store fed finalized blocks,
//! the risk cache and an isolation forest refitted on the chain's recent transactions.
//!
//! Locking: one `RwLock` (parking_lot) over the store, cache and scorer. Admission takes it
//! for reading (concurrent admissions do not wait for each other); the sentinel thread takes
//! it for writing while it applies a finalized block (by chunks of [`APPLY_CHUNK`]
//! transactions), and briefly to install refreshed risks and a refitted forest (both
//! computed under the read lock).
//!
//! Account risk (the fraud model's margin, about 3.5 µs per account; with the contributions
//! that explain it, 1.5 times that, for accounts at or above the flag threshold) is
//! cached. An account a block touches gets its risk right after that block when it has none
//! yet or its cached risk raises alerts; others are refreshed at most every
//! [`RISK_REFRESH`]: a busy account active in every block is scored once per period rather
//! than once per block, which was most of the sentinel's cost on a loaded node. A cached
//! risk lags the account's features by at most that period plus one idle tick of the
//! sentinel thread; transaction features (the anomaly detector's input) are never stale.
//!
//! Gas prices: the store's history holds effective prices, so admission scores the price the
//! transaction would pay at the next block's base fee, not its fee cap.

use alloy_consensus::Transaction as _;
// parking_lot's lock spins briefly before it parks: admission's read sections and the
// sentinel thread's write sections are microseconds long, and parking each waiter cost
// context switches on a busy node. No poisoning: state is updated in whole steps.
use crate::{
    Action, FeatureStore, Model, Policy, RiskCache, Score, Sentinel, TxView,
    anomaly::{ForestParams, IsolationForest},
    chain::block_activity,
    scorer::Party,
    store::{TX_FEATURES, TxFeatures},
};
use alloy_primitives::{Address, U256};
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::{
    collections::BTreeSet,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};
use tracing::{info, warn};
use verai_primitives::{
    Block, RecoveredTx, StoredReceipt,
    sentinel::{AccountReader, ScreenAction, Screening, TxScreen},
};

mod settings;

pub use settings::{ModelRecord, Settings};

/// How far the node acts on verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Score only: no alerts, no holds (counters in `verai_sentinelStatus`).
    Allow,
    /// Alert on flag and hold verdicts; never hold.
    Flag,
    /// Alert, and hold transactions whose verdict is hold.
    Hold,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "allow" => Ok(Self::Allow),
            "flag" => Ok(Self::Flag),
            "hold" => Ok(Self::Hold),
            other => Err(format!(
                "sentinel policy: allow, flag or hold, not {other:?}"
            )),
        }
    }
}

/// An alert's explanation (its `scores`): typed, so it is serialized once, straight to the
/// bytes the node stores, rather than built as a JSON tree first.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Detail<'a> {
    sender_risk: f64,
    recipient_risk: Option<f64>,
    anomaly: Option<f64>,
    verdict: Action,
    reasons: Reasons,
    /// The largest contributions to the parties' fraud margins.
    top: Vec<Top<'a>>,
    /// The transaction features beyond the detector's recent history, most novel first.
    anomaly_features: Vec<Novel>,
    model_hash: &'a str,
    model_record: Option<u64>,
}

/// Which thresholds a verdict crossed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Reasons {
    sender_risk: bool,
    recipient_risk: bool,
    anomaly: bool,
}

/// One feature's contribution to a party's fraud margin.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Top<'a> {
    party: Party,
    feature: &'a str,
    log_odds: f64,
}

/// A transaction feature outside the anomaly detector's history.
#[derive(Serialize)]
struct Novel {
    feature: &'static str,
    value: f64,
    novelty: f64,
}

/// When the anomaly detector is (re)fitted: after `every_blocks` blocks with transactions,
/// once at least a [`REFIT_NEW_SHARE`]th of the rows the current forest was fitted on have
/// been added to the history since; and at once, whatever the blocks, when the new rows
/// outnumber the forest's (the history at least doubled).
#[derive(Debug, Clone)]
pub struct Refit {
    /// Forest parameters (seeded: the same history gives the same forest).
    pub params: ForestParams,
    /// Refit after at least this many finalized blocks with transactions.
    pub every_blocks: u64,
    /// Fit only once the history holds this many transactions.
    pub min_history: usize,
}

/// The first fit waits until this many accounts have sent finalized transactions. A history
/// from one or two senders (a new chain's set-up: one deployer funding every account) is
/// no baseline: every later sender differs from it in fan-in, timing or counterparties, and
/// a forest fitted on it flagged about 900 of the throughput bench's first (benign)
/// transfers. Until then, transactions are judged on account risk alone.
pub const MIN_SENDERS: usize = 4;

/// A refit waits until the new rows are at least this share (1/N) of the current forest's.
/// A schedule in blocks alone refitted every ~1,000 transactions on a loaded node (4 fits a
/// second, each ~8 ms over the full history) although a forest barely changes when an
/// eighth of its rows are new; a young forest (small history) still refits every few blocks,
/// so the detector learns a new chain, or a new regime on a quiet one, as fast as before.
pub const REFIT_NEW_SHARE: usize = 4;

/// Where the forest stands against its refit schedule.
#[derive(Debug, Default)]
struct FitClock {
    /// Blocks with transactions since the last fit.
    blocks: u64,
    /// The history's count of rows added ([`crate::history::TxHistory::added`])
    /// when the last fit was due: the rows new since are the count now minus this.
    fitted_at: u64,
    /// Fits so far.
    fits: u64,
    /// Rows the current forest was fitted on.
    forest_rows: usize,
}

impl Refit {
    /// Whether to refit now, with `history` rows to fit on, sent by `senders` accounts, the
    /// history having added `added` rows so far.
    fn due(&self, c: &FitClock, added: u64, history: usize, senders: usize) -> bool {
        let rows = usize::try_from(added.saturating_sub(c.fitted_at)).unwrap_or(usize::MAX);
        // A forest fitted on a few dozen rows (a new chain's set-up) judges the traffic that
        // follows against almost nothing, and a loaded node finalizes thousands of
        // transactions during `every_blocks`. When the history doubles, the refit does not
        // wait; fits stay geometric in number. The paced throughput bench's alerts per run
        // (all false: its traffic is benign) fell from about 2,000 to about 1,100.
        let doubled = rows >= c.forest_rows;
        let due = c.fits == 0
            || ((c.blocks >= self.every_blocks || doubled)
                && rows.saturating_mul(REFIT_NEW_SHARE) >= c.forest_rows);
        due && history >= self.min_history && senders >= MIN_SENDERS
    }
}

/// Transactions (or token transfers) of a finalized block applied per write lock: an
/// admission that arrives meanwhile waits for at most one chunk (tens of µs). With 64, the
/// node's mean screening time was 15-17 µs against 12-15 µs with 16 (four runs each,
/// alternating).
const APPLY_CHUNK: usize = 16;

/// Longest the sentinel thread polls for the write lock before it queues for it.
const WRITE_POLL: Duration = Duration::from_millis(5);

/// Longest an account's cached risk waits for a refresh after its features change.
pub const RISK_REFRESH: Duration = Duration::from_millis(500);

struct State {
    store: FeatureStore,
    cache: RiskCache,
    sentinel: Sentinel,
    fit: FitClock,
    /// Accounts whose features changed since their cached risk was computed.
    stale: BTreeSet<Address>,
    /// Accounts whose risk is recomputed right after the block that touched them, not after
    /// [`RISK_REFRESH`]:
    /// - those with no cached risk yet: admission computes it on every transaction until
    ///   the cache has it (a loaded node's new senders missed the cache for up to half a
    ///   second, and those misses were a third of admission's time in the throughput bench);
    /// - those whose cached risk reaches the flag threshold: each of their transactions
    ///   raises an alert, which should rest on current features. The throughput bench's
    ///   freshly funded senders score 0.52 until their first sends are final, then fall
    ///   below 0.5; on risks up to half a second old, one run raised 2,449 alerts for
    ///   them, against 714 with this.
    urgent: BTreeSet<Address>,
    /// When stale risks were last refreshed.
    refreshed: Option<Instant>,
}

/// The screen.
pub struct ModelScreen {
    state: RwLock<State>,
    mode: Mode,
    refit: Refit,
    model_hash: String,
    record: Arc<OnceLock<u64>>,
}

impl ModelScreen {
    /// A screen over a loaded model.
    pub fn new(
        model: Model,
        model_hash: [u8; 32],
        policy: Policy,
        mode: Mode,
        refit: Refit,
        record: Arc<OnceLock<u64>>,
    ) -> Result<Self, crate::ModelError> {
        let sentinel = Sentinel::new(model, model_hash, None, policy)?;
        Ok(Self {
            state: RwLock::new(State {
                store: FeatureStore::new(),
                cache: RiskCache::new(),
                sentinel,
                fit: FitClock::default(),
                stale: BTreeSet::new(),
                urgent: BTreeSet::new(),
                refreshed: None,
            }),
            mode,
            refit,
            model_hash: format!("0x{}", hex::encode(model_hash)),
            record,
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read()
    }

    /// The write lock, polled for while admissions hold the lock rather than queued for at
    /// once. A queued writer makes parking_lot hold back every new reader until it has had
    /// its turn, and on a busy node the parked writer may wait a while to be scheduled:
    /// admissions waited with it. The sentinel thread's own latency does not matter; after
    /// [`WRITE_POLL`] it queues, so readers cannot starve it.
    fn write(&self) -> RwLockWriteGuard<'_, State> {
        let started = Instant::now();
        loop {
            if let Some(g) = self.state.try_write() {
                return g;
            }
            if started.elapsed() >= WRITE_POLL {
                return self.state.write();
            }
            std::thread::yield_now();
        }
    }

    /// The alert's explanation, serialized once (see [`Detail`]).
    fn detail(
        &self,
        s: &State,
        view: &TxView,
        score: &Score,
        v: &crate::Verdict,
    ) -> Option<Box<RawValue>> {
        // The transaction features beyond the detector's recent history, most novel first.
        let mut novel = Vec::new();
        if let Some(forest) = s.sentinel.forest() {
            let x = s.store.tx_features(view);
            let why = forest.novelty(&x);
            let mut order: Vec<usize> = (0..why.len()).filter(|&f| why[f] > 0.0).collect();
            order.sort_by(|&a, &b| why[b].total_cmp(&why[a]));
            novel = order
                .into_iter()
                .take(3)
                .map(|f| Novel {
                    feature: TX_FEATURES[f],
                    value: x[f],
                    novelty: why[f],
                })
                .collect();
        }
        let top = score
            .top
            .iter()
            .flatten()
            .map(|c| Top {
                party: c.party,
                feature: s.sentinel.feature_name(c.feature),
                log_odds: c.value,
            })
            .collect();
        let detail = Detail {
            sender_risk: score.sender_risk,
            recipient_risk: score.recipient_risk,
            anomaly: score.anomaly,
            verdict: v.action,
            reasons: Reasons {
                sender_risk: v.sender_risk,
                recipient_risk: v.recipient_risk,
                anomaly: v.anomaly,
            },
            top,
            anomaly_features: novel,
            model_hash: &self.model_hash,
            model_record: self.record.get().copied(),
        };
        serde_json::value::to_raw_value(&detail)
            .inspect_err(|e| warn!(%e, "cannot serialize a sentinel alert"))
            .ok()
    }

    /// Compute the risk of the urgent accounts, and recompute that of the stale ones if
    /// [`RISK_REFRESH`] has passed since the last time: the accounts taken under the write
    /// lock, features read and trees walked under the read lock, risks installed under the
    /// write lock.
    fn refresh_due(&self) {
        let period = |s: &State| {
            !s.stale.is_empty() && s.refreshed.is_none_or(|t| t.elapsed() >= RISK_REFRESH)
        };
        // Checked under the read lock first: this runs after every event of the sentinel
        // thread, and a write lock each time would stall admission for nothing.
        {
            let s = self.read();
            if s.urgent.is_empty() && !period(&s) {
                return;
            }
        }
        let accounts = {
            let mut s = self.write();
            let mut accounts = std::mem::take(&mut s.urgent);
            if period(&s) {
                s.refreshed = Some(Instant::now());
                accounts.append(&mut s.stale);
            }
            accounts
        };
        if accounts.is_empty() {
            return;
        }
        // Features and margins under the read lock: admission goes on meanwhile. An account a
        // block touches in between is marked again and refreshed next time.
        let risks = {
            let s = self.read();
            let features: Vec<_> = accounts
                .into_iter()
                .map(|a| (a, s.store.features(&a)))
                .collect();
            s.sentinel.risks(&features, &s.cache)
        };
        let mut s = self.write();
        let State {
            cache, sentinel, ..
        } = &mut *s;
        cache.install(sentinel, risks);
    }

    /// Fit a forest on a copy of the history, outside the lock, then install it.
    fn refit(&self, history: Vec<TxFeatures>) {
        let started = Instant::now();
        match IsolationForest::fit(&history, &self.refit.params) {
            Ok(forest) => {
                let mut s = self.write();
                s.sentinel.set_forest(forest);
                s.fit.fits += 1;
                s.fit.forest_rows = history.len();
                info!(
                    rows = history.len(),
                    fits = s.fit.fits,
                    ms = started.elapsed().as_secs_f64() * 1e3,
                    "sentinel anomaly detector refitted"
                );
            }
            Err(e) => warn!(%e, "sentinel anomaly detector not refitted"),
        }
    }
}

impl TxScreen for ModelScreen {
    fn screen(&self, tx: &RecoveredTx, now: u64, base_fee: u64, sender_balance: U256) -> Screening {
        let s = self.read();
        let to = tx.envelope.to();
        let gas_price = tx
            .effective_tip(base_fee)
            .map_or(tx.max_fee_per_gas(), |tip| tip + u128::from(base_fee));
        let view = TxView {
            from: tx.sender,
            to,
            value: tx.envelope.value(),
            gas_price,
            to_is_contract: to.is_some_and(|a| s.store.is_contract(&a)),
            timestamp: now,
            sender_balance,
        };
        let Some((mut score, verdict)) = s.sentinel.judge_cached(&s.store, &s.cache, &view) else {
            return Screening::ALLOW;
        };
        let action = match (verdict.action, self.mode) {
            (Action::Allow, _) | (_, Mode::Allow) => return Screening::ALLOW,
            (Action::Flag, _) | (Action::Hold, Mode::Flag) => ScreenAction::Flag,
            (Action::Hold, Mode::Hold) => ScreenAction::Hold,
        };
        // A risky account's cached risk carries the contributions that explain an alert for
        // account risk; they are computed here only when the cache has none (an account
        // whose contributions are all negative). An alert for the anomaly alone is
        // explained by its `anomalyFeatures`.
        if (verdict.sender_risk || verdict.recipient_risk) && score.top.iter().all(Option::is_none)
        {
            s.sentinel.explain(&s.store, &view, &mut score);
        }
        Screening {
            action,
            detail: self.detail(&s, &view, &score, &verdict),
        }
    }

    fn finalized(&self, block: &Block, receipts: &[StoredReceipt], state: &dyn AccountReader) {
        let Some(activity) =
            block_activity(block, receipts, |a| state.has_code(a), |a| state.balance(a))
        else {
            warn!(
                number = block.number(),
                "sentinel: receipts do not match the block"
            );
            return;
        };
        // Admission reads this state on every transaction: the write lock covers only the
        // store's update; the copy of the history for a refit runs under the read lock.
        // The block goes in by chunks, each under its own write lock, so that admission
        // (which reads the store) waits for at most one chunk, not a whole block; a
        // transaction scored in between sees the block partly applied.
        {
            let mut s = self.write();
            for a in receipts.iter().filter_map(|r| r.contract_address) {
                s.store.note_contract(a);
            }
        }
        for txs in activity.txs.chunks(APPLY_CHUNK) {
            self.write().store.apply_txs(txs, activity.timestamp);
        }
        for transfers in activity.transfers.chunks(APPLY_CHUNK) {
            self.write()
                .store
                .apply_transfers(transfers, activity.timestamp);
        }
        let refit_due = {
            let mut s = self.write();
            s.store.finish_block(&activity);
            let touched = s.store.take_dirty();
            let State {
                cache,
                sentinel,
                stale,
                urgent,
                ..
            } = &mut *s;
            for a in touched {
                if cache.refresh_now(sentinel, &a) {
                    urgent.insert(a);
                } else {
                    stale.insert(a);
                }
            }
            if !activity.txs.is_empty() {
                s.fit.blocks += 1;
            }
            let added = s.store.tx_history().added();
            let due = self
                .refit
                .due(&s.fit, added, s.store.tx_history().len(), s.store.senders());
            if due {
                s.fit.blocks = 0;
                s.fit.fitted_at = added;
            }
            due
        };
        self.refresh_due();
        let history = refit_due.then(|| self.read().store.tx_history().iter().copied().collect());
        if let Some(h) = history {
            self.refit(h);
        }
    }

    fn tick(&self) {
        self.refresh_due();
    }

    fn describe(&self) -> serde_json::Value {
        let s = self.read();
        serde_json::json!({
            "modelHash": self.model_hash,
            "modelRecord": self.record.get(),
            "mode": self.mode,
            "policy": s.sentinel.policy(),
            "height": s.store.height(),
            "accountsCached": s.cache.len(),
            "accountsStale": s.stale.len(),
            "accountsUrgent": s.urgent.len(),
            "history": s.store.tx_history().len(),
            "senders": s.store.senders(),
            "forest": (s.fit.fits > 0).then(|| serde_json::json!({
                "fits": s.fit.fits,
                "rows": s.fit.forest_rows,
                "trees": self.refit.params.trees,
                "everyBlocks": self.refit.every_blocks,
            })),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refits_wait_for_blocks_and_a_share_of_new_rows() {
        let refit = Refit {
            params: ForestParams::default(),
            every_blocks: 10,
            min_history: 64,
        };
        // Rows new since the last fit, as `added` with the clock's `fitted_at` at 0.
        let clock = |blocks, rows: u64, fits, forest_rows| {
            (
                FitClock {
                    blocks,
                    fitted_at: 0,
                    fits,
                    forest_rows,
                },
                rows,
            )
        };
        let due =
            |(c, rows): (FitClock, u64), history, senders| refit.due(&c, rows, history, senders);
        // The first fit waits for enough history, from enough senders.
        assert!(!due(clock(1, 10, 0, 0), 63, MIN_SENDERS));
        assert!(due(clock(1, 10, 0, 0), 64, MIN_SENDERS));
        assert!(!due(clock(5, 401, 0, 0), 401, MIN_SENDERS - 1));
        // A young forest refits every 10 blocks.
        assert!(!due(clock(9, 100, 1, 200), 300, MIN_SENDERS));
        assert!(due(clock(10, 50, 1, 200), 250, MIN_SENDERS));
        // Or as soon as the history has doubled since its fit.
        assert!(!due(clock(1, 88, 1, 89), 177, MIN_SENDERS));
        assert!(due(clock(1, 89, 1, 89), 178, MIN_SENDERS));
        assert!(due(clock(1, 8_192, 5, 8_192), 8_192, MIN_SENDERS));
        // A full one waits for a quarter of its rows to be new, however many blocks pass.
        assert!(!due(clock(500, 2_047, 5, 8_192), 8_192, MIN_SENDERS));
        assert!(due(clock(10, 2_048, 5, 8_192), 8_192, MIN_SENDERS));
    }
}
