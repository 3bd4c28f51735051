//! The interface between the node and its sentinel: what the node asks of an admission
//! screen, and what the screen may read.
//!
//! The node calls a [`TxScreen`] on every transaction it admits (before pooling it), and
//! feeds it every finalized block; the sentinel crate implements it with its fraud model,
//! feature store and anomaly detector. The trait lives here, below both, so that the node
//! builds and tests without the sentinel's models, and the sentinel without the node.

use crate::{Block, RecoveredTx, StoredReceipt};
use alloy_primitives::{Address, U256};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

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

/// Transaction screening at admission.
pub trait TxScreen: Send + Sync + 'static {
    /// Screen a transaction at admission (`now`: seconds; `base_fee`: of the next block, so
    /// the screen can compare the price the transaction would pay with the effective prices
    /// of finalized ones; `sender_balance`: in the state it is admitted against). Called on
    /// the admission path of every transaction: it must take microseconds and must not
    /// block on writers for long.
    fn screen(&self, tx: &RecoveredTx, now: u64, base_fee: u64, sender_balance: U256) -> Screening;
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
    fn balance(&self, a: &Address) -> U256;
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

impl std::str::FromStr for OnExpiry {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "drop" => Ok(Self::Drop),
            "release" => Ok(Self::Release),
            other => Err(format!("on expiry: drop or release, not {other:?}")),
        }
    }
}

/// A node's sentinel: the screen and what the node does with its holds.
#[derive(Clone)]
pub struct SentinelConfig {
    /// The screen.
    pub screen: std::sync::Arc<dyn TxScreen>,
    /// How long a hold lasts.
    pub hold_for: std::time::Duration,
    /// What expiry does.
    pub on_expiry: OnExpiry,
    /// Addresses whose signature releases or drops a held transaction; empty: only expiry
    /// ends holds.
    pub release_keys: Vec<Address>,
}

impl std::fmt::Debug for SentinelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentinelConfig")
            .field("hold_for", &self.hold_for)
            .field("on_expiry", &self.on_expiry)
            .field("release_keys", &self.release_keys)
            .finish_non_exhaustive()
    }
}
