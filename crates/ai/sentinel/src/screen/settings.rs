//! The sentinel's settings as a node takes them (flags and a `[sentinel]` config table),
//! turned into the node's [`SentinelConfig`].
//!
//! Off unless a model is given: the crate embeds no model (train one with `verai sentinel
//! train`; the data set is not redistributable with the binary). The default mode is `flag`,
//! which never changes what is included; `hold` must be asked for.

use super::{Mode, ModelScreen, Refit};
use crate::{Model, ModelError, Policy, anomaly::ForestParams};
use alloy_primitives::Address;
use serde::Deserialize;
use std::{
    path::PathBuf,
    sync::{Arc, OnceLock},
    time::Duration,
};
use tracing::info;
use verai_primitives::sentinel::{OnExpiry, SentinelConfig};

/// Every setting, all optional; [`Settings::or`] layers flags over a file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The fraud model file (`verai sentinel train`); none: the sentinel is off.
    pub model: Option<PathBuf>,
    /// allow, flag (default) or hold.
    pub policy: Option<Mode>,
    /// Flag when the sender's or recipient's fraud probability reaches this.
    pub flag_risk: Option<f64>,
    /// Hold when it reaches this.
    pub hold_risk: Option<f64>,
    /// Flag when the transaction's anomaly score reaches this.
    pub flag_anomaly: Option<f64>,
    /// Hold when the anomaly score reaches this (default: anomalies alone never hold).
    pub hold_anomaly: Option<f64>,
    /// Count the recipient's risk (default true).
    pub check_recipient: Option<bool>,
    /// How long a hold lasts, in seconds (default 600).
    pub hold_secs: Option<u64>,
    /// What an expired hold does (default drop).
    pub on_expiry: Option<OnExpiry>,
    /// Addresses whose signature may release or drop held transactions.
    #[serde(default)]
    pub release_keys: Vec<Address>,
    /// Refit the anomaly detector every this many blocks with transactions (default 10).
    pub refit_blocks: Option<u64>,
    /// Fit the anomaly detector once this many finalized transactions are known (default
    /// 64), sent by at least 4 accounts.
    pub min_history: Option<usize>,
}

/// What the node records in provenance about its sentinel model.
#[derive(Debug, Clone)]
pub struct ModelRecord {
    /// SHA-256 of the model file.
    pub hash: [u8; 32],
    /// SHA-256 of the training data (from the model's metadata), when well-formed.
    pub data_hash: Option<[u8; 32]>,
    /// The model's record id, once registered (shown by `verai_sentinelStatus`).
    pub id: Arc<OnceLock<u64>>,
}

impl Settings {
    /// Each setting of `self`, else of `other` (release keys: both).
    pub fn or(self, other: Settings) -> Settings {
        let mut release_keys = self.release_keys;
        release_keys.extend(other.release_keys);
        Settings {
            model: self.model.or(other.model),
            policy: self.policy.or(other.policy),
            flag_risk: self.flag_risk.or(other.flag_risk),
            hold_risk: self.hold_risk.or(other.hold_risk),
            flag_anomaly: self.flag_anomaly.or(other.flag_anomaly),
            hold_anomaly: self.hold_anomaly.or(other.hold_anomaly),
            check_recipient: self.check_recipient.or(other.check_recipient),
            hold_secs: self.hold_secs.or(other.hold_secs),
            on_expiry: self.on_expiry.or(other.on_expiry),
            release_keys,
            refit_blocks: self.refit_blocks.or(other.refit_blocks),
            min_history: self.min_history.or(other.min_history),
        }
    }

    /// Load the model and build the node's sentinel; `None` when no model is set.
    pub fn build(self) -> Result<Option<(SentinelConfig, ModelRecord)>, ModelError> {
        let Some(path) = self.model else {
            return Ok(None);
        };
        let (model, hash) = Model::load(&path)?;
        let record = ModelRecord {
            hash,
            data_hash: hex::decode(&model.metadata.training_data_sha256)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok()),
            id: Arc::new(OnceLock::new()),
        };
        let d = Policy::default();
        let policy = Policy {
            flag_risk: self.flag_risk.unwrap_or(d.flag_risk),
            hold_risk: self.hold_risk.unwrap_or(d.hold_risk),
            flag_anomaly: self.flag_anomaly.unwrap_or(d.flag_anomaly),
            hold_anomaly: self.hold_anomaly.or(d.hold_anomaly),
            check_recipient: self.check_recipient.unwrap_or(d.check_recipient),
        };
        let mode = self.policy.unwrap_or(Mode::Flag);
        let refit = Refit {
            params: ForestParams::default(),
            every_blocks: self.refit_blocks.unwrap_or(10).max(1),
            min_history: self.min_history.unwrap_or(64).max(2),
        };
        info!(model = %path.display(), sha256 = %hex::encode(hash), ?mode, ?policy, "sentinel on");
        let screen = ModelScreen::new(model, hash, policy, mode, refit, record.id.clone())?;
        Ok(Some((
            SentinelConfig {
                screen: Arc::new(screen),
                hold_for: Duration::from_secs(self.hold_secs.unwrap_or(600).max(1)),
                on_expiry: self.on_expiry.unwrap_or(OnExpiry::Drop),
                release_keys: self.release_keys,
            },
            record,
        )))
    }
}
