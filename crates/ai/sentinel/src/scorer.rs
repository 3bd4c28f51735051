//! Admission scoring: the [`Sentinel`] scores a transaction (sender and recipient account
//! risk from the fraud model, transaction anomaly from the isolation forest) and a
//! [`Policy`] turns the [`Score`] into a [`Verdict`]: allow, flag (include and alert) or hold
//! (keep out of blocks until released or expired).
//!
//! Decisions compare raw quantities with thresholds converted once, when the sentinel is
//! built: account risk margins with `logit(threshold)`, anomaly mean path lengths with the
//! path length of the score threshold. Probabilities and scores in [`Score`] are for
//! display. Account risk changes only when an account's activity does, so it is computed as
//! blocks finalize ([`Sentinel::refresh`] into a [`RiskCache`]) and admission
//! ([`Sentinel::judge_cached`]) only looks it up and runs the anomaly forest, stopping as
//! soon as the trees walked prove the transaction no anomaly; scoring
//! allocates nothing (see `benches/score.rs` for latencies). The cache holds margins, and
//! the feature contributions that explain them only for accounts at or above the flag
//! threshold ([`Sentinel::cached_risk`]): those are the accounts whose transactions raise
//! alerts for account risk, and a risky sender sends many.

use crate::anomaly::{IsolationForest, score_of_path};
use crate::compiled::CompiledModel;
use crate::features::{ModelFeatures, N_MODEL, RawFeatures, model_feature_names, model_features};
use crate::model::{Model, logit, probability};
use crate::store::{FeatureStore, TxFeatures, TxView};
use alloy_primitives::Address;
use alloy_primitives::map::AddressHashMap;
use serde::{Deserialize, Serialize};

/// Thresholds of the policy (probabilities and anomaly scores in (0, 1)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Flag when the sender's or recipient's fraud probability is at least this.
    pub flag_risk: f64,
    /// Hold when it is at least this.
    pub hold_risk: f64,
    /// Flag when the transaction's anomaly score is at least this.
    pub flag_anomaly: f64,
    /// Hold when the anomaly score is at least this (`None`: anomalies alone never hold).
    pub hold_anomaly: Option<f64>,
    /// Whether the recipient's risk counts (a transfer to a known scam collector).
    pub check_recipient: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            flag_risk: 0.5,
            hold_risk: 0.95,
            flag_anomaly: 0.7,
            hold_anomaly: None,
            check_recipient: true,
        }
    }
}

/// What to do with a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Admit normally.
    Allow,
    /// Admit and raise an alert.
    Flag,
    /// Keep out of blocks until released or expired; raise an alert.
    Hold,
}

/// The policy's decision and which thresholds were crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The action.
    pub action: Action,
    /// The sender's risk crossed a threshold.
    pub sender_risk: bool,
    /// The recipient's risk crossed a threshold.
    pub recipient_risk: bool,
    /// The anomaly score crossed a threshold.
    pub anomaly: bool,
}

/// Whose feature a contribution is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    /// The transaction's sender.
    Sender,
    /// The transaction's recipient.
    Recipient,
}

/// A feature's contribution to an account's fraud margin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// Whose.
    pub party: Party,
    /// Index into the model's features ([`Sentinel::feature_name`]).
    pub feature: u16,
    /// Added log-odds.
    pub value: f64,
}

/// Number of top contributions reported.
pub const TOP: usize = 3;

/// The scores of one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Sender's fraud margin (log-odds).
    pub sender_margin: f64,
    /// Sender's fraud probability (display).
    pub sender_risk: f64,
    /// Recipient's fraud margin; `None` for a contract creation.
    pub recipient_margin: Option<f64>,
    /// Recipient's fraud probability (display).
    pub recipient_risk: Option<f64>,
    /// Mean isolation path length; `None` without a fitted detector.
    pub anomaly_path: Option<f64>,
    /// Anomaly score in (0, 1] (display).
    pub anomaly: Option<f64>,
    /// The largest positive contributions to the account margins, largest first (fewer than
    /// [`TOP`] when fewer features raise the risk).
    pub top: [Option<Contribution>; TOP],
    /// SHA-256 of the model file.
    pub model_hash: [u8; 32],
}

/// The scorer: a fraud model, an optional anomaly detector and a policy.
#[derive(Debug, Clone)]
pub struct Sentinel {
    model: Model,
    /// The model's trees as walked (the same margins, bit for bit).
    trees: CompiledModel,
    model_hash: [u8; 32],
    forest: Option<IsolationForest>,
    policy: Policy,
    names: Vec<String>,
    flag_margin: f64,
    hold_margin: f64,
    flag_path: f64,
    hold_path: Option<f64>,
}

impl Sentinel {
    /// Builds a scorer; converts the policy's thresholds once.
    pub fn new(
        model: Model,
        model_hash: [u8; 32],
        forest: Option<IsolationForest>,
        policy: Policy,
    ) -> Result<Self, crate::ModelError> {
        let unit = |p: f64| p > 0.0 && p < 1.0;
        if !(unit(policy.flag_risk) && unit(policy.hold_risk) && unit(policy.flag_anomaly))
            || policy.hold_anomaly.is_some_and(|p| !unit(p))
        {
            return Err(crate::ModelError::Param(
                "policy thresholds must be in (0, 1)".into(),
            ));
        }
        let (flag_path, hold_path) = match &forest {
            Some(f) => (
                f.path_threshold(policy.flag_anomaly),
                policy.hold_anomaly.map(|p| f.path_threshold(p)),
            ),
            None => (f64::NEG_INFINITY, None),
        };
        Ok(Self {
            flag_margin: logit(policy.flag_risk),
            hold_margin: logit(policy.hold_risk),
            flag_path,
            hold_path,
            names: model_feature_names(),
            trees: CompiledModel::new(&model),
            model,
            model_hash,
            forest,
            policy,
        })
    }

    /// The fraud model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The anomaly detector, once fitted.
    pub fn forest(&self) -> Option<&IsolationForest> {
        self.forest.as_ref()
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Replaces the anomaly detector (after a scheduled refit).
    pub fn set_forest(&mut self, forest: IsolationForest) {
        self.flag_path = forest.path_threshold(self.policy.flag_anomaly);
        self.hold_path = self.policy.hold_anomaly.map(|p| forest.path_threshold(p));
        self.forest = Some(forest);
    }

    /// A model feature's name.
    pub fn feature_name(&self, index: u16) -> &str {
        self.names
            .get(usize::from(index))
            .map_or("?", String::as_str)
    }

    /// An account's fraud margin and its largest positive contributions.
    pub fn account_risk(&self, features: &RawFeatures) -> AccountRisk {
        let mut c = [0f64; N_MODEL];
        let margin = self
            .trees
            .margin_with_contributions(&model_features(features), &mut c);
        let mut top = [None; TOP];
        collect_top(&mut top, &c, Party::Sender);
        AccountRisk {
            margin,
            top: top.map(|t| t.map(|c| (c.feature, c.value))),
        }
    }

    /// An account's fraud margin alone (no contributions: about 70 % of the cost). Cached
    /// risks are these; [`Sentinel::explain`] adds the contributions when one is needed.
    pub fn account_margin(&self, features: &RawFeatures) -> AccountRisk {
        AccountRisk {
            margin: self.trees.margin(&model_features(features)),
            top: [None; TOP],
        }
    }

    /// The risk the cache keeps for an account: its margin, with its contributions only
    /// when the margin reaches the flag threshold (the walk with contributions, about 1.5
    /// times a margin's, is paid once per refresh for the accounts that raise alerts, not
    /// once per alert, and not for the others).
    pub fn cached_risk(&self, features: &RawFeatures) -> AccountRisk {
        self.cached_risk_hinted(features, false)
    }

    /// [`Self::cached_risk`], walking the trees once with the contributions when the account
    /// is `likely_risky` (its previous risk reached the threshold, as most risky accounts'
    /// next one does): one walk with contributions instead of a margin and then one. The
    /// same result either way (the margin is summed in the same order; contributions are
    /// dropped below the threshold).
    pub fn cached_risk_hinted(&self, features: &RawFeatures, likely_risky: bool) -> AccountRisk {
        if likely_risky {
            let mut r = self.account_risk(features);
            if !self.flags_risk(&r) {
                r.top = [None; TOP];
            }
            return r;
        }
        let r = self.account_margin(features);
        if self.flags_risk(&r) {
            self.account_risk(features)
        } else {
            r
        }
    }

    /// Whether an account's risk reaches the flag threshold.
    pub fn flags_risk(&self, r: &AccountRisk) -> bool {
        r.margin >= self.flag_margin
    }

    /// Fills a cached score's top contributions from both accounts' current features (a
    /// cached score carries only those of accounts at or above the flag threshold). The
    /// margins stay those that decided; they may be one refresh older than the features.
    pub fn explain(&self, store: &FeatureStore, tx: &TxView, score: &mut Score) {
        let s = self.account_risk(&store.features(&tx.from));
        let r = tx.to.map(|to| self.account_risk(&store.features(&to)));
        score.top = parties_top(&s, r.as_ref());
    }

    /// Recomputes the cached risk of every account the store touched since the last call
    /// (call after each [`FeatureStore::apply_block`]). Returns how many were recomputed.
    pub fn refresh(&self, store: &mut FeatureStore, cache: &mut RiskCache) -> usize {
        let dirty = store.take_dirty_features();
        let n = dirty.len();
        let risks = self.risks(&dirty, cache);
        cache.install(self, risks);
        n
    }

    /// The risks of accounts from their features, touching no cache: the tree walks of
    /// [`refresh`](Self::refresh), for a caller that runs them without holding a writer's
    /// lock and then [`RiskCache::install`]s the result. `cache` holds the accounts' previous
    /// risks, which only choose how the trees are walked ([`Self::cached_risk_hinted`]).
    pub fn risks(
        &self,
        accounts: &[(Address, RawFeatures)],
        cache: &RiskCache,
    ) -> Vec<(Address, AccountRisk)> {
        accounts
            .iter()
            .map(|(a, f)| {
                let risky = cache.get(a).is_some_and(|r| self.flags_risk(r));
                (*a, self.cached_risk_hinted(f, risky))
            })
            .collect()
    }

    /// Scores a transaction from its features and its parties' account features
    /// (`recipient` is `None` for a contract creation).
    pub fn score(
        &self,
        tx: &TxFeatures,
        sender: &RawFeatures,
        recipient: Option<&RawFeatures>,
    ) -> Score {
        let s = self.account_risk(sender);
        let r = recipient.map(|r| self.account_risk(r));
        self.assemble(tx, &s, r.as_ref())
    }

    /// Scores a transaction against the store's current state, computing both accounts'
    /// risk from their features.
    pub fn score_in(&self, store: &FeatureStore, tx: &TxView) -> Score {
        let sender = store.features(&tx.from);
        let recipient = tx.to.map(|to| store.features(&to));
        self.score(&store.tx_features(tx), &sender, recipient.as_ref())
    }

    /// Scores a transaction with account margins from the cache (kept by [`Self::refresh`]);
    /// an account missing from it is computed from the store (an unseen one is free).
    /// Two look-ups, the transaction features and the whole forest: the exact score that
    /// admission ([`Self::judge_cached`]) computes only for an alert.
    /// The score's top contributions are those of the accounts at or above the flag
    /// threshold ([`Self::explain`] gives both parties').
    pub fn score_cached(&self, store: &FeatureStore, cache: &RiskCache, tx: &TxView) -> Score {
        let (s, r) = self.cached_risks(store, cache, tx);
        self.assemble(&store.tx_features(tx), &s, r.as_ref())
    }

    /// Admission's decision: the verdict and score of [`Self::score_cached`] and
    /// [`Self::verdict`], or `None` when the verdict is allow. When neither account is
    /// risky and the forest proves the transaction no anomaly after part of its trees
    /// (typical traffic), the exact anomaly path is not computed: an allowed transaction's
    /// score is thrown away. Decides exactly as `score_cached` and `verdict` do (tested).
    pub fn judge_cached(
        &self,
        store: &FeatureStore,
        cache: &RiskCache,
        tx: &TxView,
    ) -> Option<(Score, Verdict)> {
        let (s, r) = self.cached_risks(store, cache, tx);
        let accounts_only = self.assemble_with_path(None, &s, r.as_ref());
        let path = match (self.forest.as_ref(), self.verdict(&accounts_only).action) {
            (None, _) => None,
            // An alert on account risk reports the exact anomaly score too.
            (Some(f), Action::Flag | Action::Hold) => Some(f.mean_path(&store.tx_features(tx))),
            // Allow so far: the anomaly decides, and a path above both thresholds allows.
            (Some(f), Action::Allow) => {
                let floor = self
                    .hold_path
                    .map_or(self.flag_path, |h| h.max(self.flag_path));
                Some(f.mean_path_unless_above(&store.tx_features(tx), floor)?)
            }
        };
        let score = self.assemble_with_path(path, &s, r.as_ref());
        let verdict = self.verdict(&score);
        (verdict.action != Action::Allow).then_some((score, verdict))
    }

    /// Both parties' margins from the cache (computed from the store when missing).
    fn cached_risks(
        &self,
        store: &FeatureStore,
        cache: &RiskCache,
        tx: &TxView,
    ) -> (AccountRisk, Option<AccountRisk>) {
        let risk = |a: &Address| match cache.get(a) {
            Some(r) if cache.model_hash == Some(self.model_hash) => *r,
            _ if store.account(a).is_none() && cache.model_hash == Some(self.model_hash) => cache
                .unseen
                .unwrap_or_else(|| self.cached_risk(&[0f64; 45])),
            _ => self.cached_risk(&store.features(a)),
        };
        (risk(&tx.from), tx.to.as_ref().map(risk))
    }

    fn assemble(&self, tx: &TxFeatures, s: &AccountRisk, r: Option<&AccountRisk>) -> Score {
        let path = self.forest.as_ref().map(|f| f.mean_path(tx));
        self.assemble_with_path(path, s, r)
    }

    fn assemble_with_path(
        &self,
        anomaly_path: Option<f64>,
        s: &AccountRisk,
        r: Option<&AccountRisk>,
    ) -> Score {
        let top = parties_top(s, r);
        Score {
            sender_margin: s.margin,
            sender_risk: probability(s.margin),
            recipient_margin: r.map(|r| r.margin),
            recipient_risk: r.map(|r| probability(r.margin)),
            anomaly_path,
            anomaly: self
                .forest
                .as_ref()
                .zip(anomaly_path)
                .map(|(f, p)| score_of_path(p, f.c_psi)),
            top,
            model_hash: self.model_hash,
        }
    }

    /// The policy's verdict on a score.
    pub fn verdict(&self, s: &Score) -> Verdict {
        let recipient = if self.policy.check_recipient {
            s.recipient_margin.unwrap_or(f64::NEG_INFINITY)
        } else {
            f64::NEG_INFINITY
        };
        let path = s.anomaly_path.unwrap_or(f64::INFINITY);
        let hold = s.sender_margin >= self.hold_margin
            || recipient >= self.hold_margin
            || self.hold_path.is_some_and(|h| path <= h);
        let sender_risk = s.sender_margin >= self.flag_margin;
        let recipient_risk = recipient >= self.flag_margin;
        let anomaly = path <= self.flag_path;
        let action = if hold {
            Action::Hold
        } else if sender_risk || recipient_risk || anomaly {
            Action::Flag
        } else {
            Action::Allow
        };
        Verdict {
            action,
            sender_risk,
            recipient_risk,
            anomaly,
        }
    }
}

/// One account's fraud margin and its largest positive feature contributions
/// (`(model feature index, added log-odds)`, largest first).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AccountRisk {
    /// Fraud margin (log-odds).
    pub margin: f64,
    /// Largest positive contributions.
    pub top: [Option<(u16, f64)>; TOP],
}

/// Account risks kept up to date as blocks finalize ([`Sentinel::refresh`]), so admission
/// does not walk the trees. Tied to one model: a different model's sentinel clears it.
#[derive(Debug, Default)]
pub struct RiskCache {
    map: AddressHashMap<AccountRisk>,
    model_hash: Option<[u8; 32]>,
    unseen: Option<AccountRisk>,
}

impl RiskCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keep `risks` computed by `sentinel` ([`Sentinel::risks`]); a cache of another model
    /// is cleared first.
    pub fn install(&mut self, sentinel: &Sentinel, risks: Vec<(Address, AccountRisk)>) {
        if self.model_hash != Some(sentinel.model_hash) {
            self.map.clear();
            self.model_hash = Some(sentinel.model_hash);
            self.unseen = Some(sentinel.cached_risk(&[0f64; 45]));
        }
        self.map.extend(risks);
    }

    /// An account's cached risk.
    pub fn get(&self, a: &Address) -> Option<&AccountRisk> {
        self.map.get(a)
    }

    /// Whether an account a block touched should have its risk recomputed right after the
    /// block rather than at the next periodic refresh: it has no cached risk (admission
    /// would compute it on every transaction meanwhile), or its cached risk reaches the
    /// flag threshold (each of its transactions raises an alert, which should rest on
    /// current features).
    pub fn refresh_now(&self, sentinel: &Sentinel, a: &Address) -> bool {
        self.get(a).is_none_or(|r| sentinel.flags_risk(r))
    }

    /// Number of cached accounts.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The largest contributions of both parties (the recipient's only if there is one).
fn parties_top(s: &AccountRisk, r: Option<&AccountRisk>) -> [Option<Contribution>; TOP] {
    let mut top = [None; TOP];
    merge_top(&mut top, s, Party::Sender);
    if let Some(r) = r {
        merge_top(&mut top, r, Party::Recipient);
    }
    top
}

fn merge_top(top: &mut [Option<Contribution>; TOP], r: &AccountRisk, party: Party) {
    for (feature, value) in r.top.iter().flatten() {
        insert_top(
            top,
            Contribution {
                party,
                feature: *feature,
                value: *value,
            },
        );
    }
}

/// Collects the positive contributions of one account into a top list.
fn collect_top(top: &mut [Option<Contribution>; TOP], c: &ModelFeatures, party: Party) {
    for (i, &v) in c.iter().enumerate() {
        if v > 0.0 {
            insert_top(
                top,
                Contribution {
                    party,
                    feature: i as u16,
                    value: v,
                },
            );
        }
    }
}

/// Inserts into a list sorted largest first, dropping what falls off the end.
fn insert_top(top: &mut [Option<Contribution>; TOP], mut item: Contribution) {
    for slot in top.iter_mut() {
        match slot {
            Some(cur) if cur.value >= item.value => {}
            Some(cur) => std::mem::swap(cur, &mut item),
            None => {
                *slot = Some(item);
                break;
            }
        }
    }
}

#[cfg(test)]
#[path = "scorer_tests.rs"]
mod tests;
