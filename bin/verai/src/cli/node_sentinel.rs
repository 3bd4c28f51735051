//! `verai node --sentinel MODEL ...`: the sentinel's flags and `[sentinel]` config table,
//! turned into the node's [`ScreenConfig`].
//!
//! Off unless a model is given: the crate embeds no model (train one with `verai sentinel
//! train`; the data set is not redistributable with the binary). The default mode is `flag`,
//! which never changes what is included; `hold` must be asked for.

use super::sentinel_screen::{Mode, ModelScreen, Refit};
use alloy_primitives::Address;
use clap::Args;
use eyre::{WrapErr, bail};
use serde::Deserialize;
use std::{
    path::PathBuf,
    sync::{Arc, OnceLock},
    time::Duration,
};
use tracing::info;
use verai_node::{OnExpiry, ScreenConfig};
use verai_sentinel::{Model, Policy, anomaly::ForestParams};

/// Sentinel options of `verai node`.
#[derive(Debug, Args, Default)]
pub struct SentinelArgs {
    /// Screen every transaction at admission with this fraud model (from `verai sentinel
    /// train`); alerts are served by `verai_getAlerts` and `eth_subscribe("verai_alerts")`.
    #[arg(long, value_name = "MODEL.json")]
    sentinel: Option<PathBuf>,
    /// `allow`: score only; `flag`: alert; `hold`: alert and hold hold-verdicts out of this
    /// node's blocks (default flag).
    #[arg(long, value_enum)]
    sentinel_policy: Option<Mode>,
    /// Flag when the sender's or recipient's fraud probability reaches this.
    #[arg(long)]
    sentinel_flag_risk: Option<f64>,
    /// Hold when it reaches this.
    #[arg(long)]
    sentinel_hold_risk: Option<f64>,
    /// Flag when the transaction's anomaly score reaches this.
    #[arg(long)]
    sentinel_flag_anomaly: Option<f64>,
    /// Hold when the anomaly score reaches this (default: anomalies alone never hold).
    #[arg(long)]
    sentinel_hold_anomaly: Option<f64>,
    /// Do not count the recipient's risk.
    #[arg(long)]
    sentinel_ignore_recipient: bool,
    /// How long a hold lasts, in seconds (default 600).
    #[arg(long)]
    sentinel_hold_secs: Option<u64>,
    /// What an expired hold does: `drop` (default) or `release`.
    #[arg(long)]
    sentinel_on_expiry: Option<String>,
    /// An address whose signature may release or drop held transactions (repeatable).
    #[arg(long = "sentinel-release-key", value_name = "ADDRESS")]
    sentinel_release_keys: Vec<Address>,
    /// Refit the anomaly detector every this many blocks with transactions (default 10).
    #[arg(long)]
    sentinel_refit_blocks: Option<u64>,
    /// Fit the anomaly detector once this many finalized transactions are known (default 64),
    /// sent by at least 4 accounts.
    #[arg(long)]
    sentinel_min_history: Option<usize>,
}

/// The `[sentinel]` table of a node config file (paths relative to the file).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentinelFile {
    model: Option<PathBuf>,
    policy: Option<Mode>,
    flag_risk: Option<f64>,
    hold_risk: Option<f64>,
    flag_anomaly: Option<f64>,
    hold_anomaly: Option<f64>,
    check_recipient: Option<bool>,
    hold_secs: Option<u64>,
    on_expiry: Option<OnExpiry>,
    #[serde(default)]
    release_keys: Vec<Address>,
    refit_blocks: Option<u64>,
    min_history: Option<usize>,
}

/// What the node records in provenance about its sentinel model.
#[derive(Debug, Clone)]
pub struct SentinelRecord {
    /// SHA-256 of the model file.
    pub hash: [u8; 32],
    /// SHA-256 of the training data (from the model's metadata), when well-formed.
    pub data_hash: Option<[u8; 32]>,
    /// The model's record id, once registered (shown by `verai_sentinelStatus`).
    pub id: Arc<OnceLock<u64>>,
}

/// Flags win over the file; `None` when no model is configured.
pub fn build(
    a: SentinelArgs,
    f: SentinelFile,
    rel: impl Fn(PathBuf) -> PathBuf,
) -> eyre::Result<Option<(ScreenConfig, SentinelRecord)>> {
    let Some(path) = a.sentinel.or(f.model.map(rel)) else {
        return Ok(None);
    };
    let (model, hash) = Model::load(&path)
        .wrap_err_with(|| format!("loading the sentinel model {}", path.display()))?;
    let record = SentinelRecord {
        hash,
        data_hash: hex::decode(&model.metadata.training_data_sha256)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok()),
        id: Arc::new(OnceLock::new()),
    };
    let d = Policy::default();
    let policy = Policy {
        flag_risk: a.sentinel_flag_risk.or(f.flag_risk).unwrap_or(d.flag_risk),
        hold_risk: a.sentinel_hold_risk.or(f.hold_risk).unwrap_or(d.hold_risk),
        flag_anomaly: a
            .sentinel_flag_anomaly
            .or(f.flag_anomaly)
            .unwrap_or(d.flag_anomaly),
        hold_anomaly: a
            .sentinel_hold_anomaly
            .or(f.hold_anomaly)
            .or(d.hold_anomaly),
        check_recipient: !a.sentinel_ignore_recipient
            && f.check_recipient.unwrap_or(d.check_recipient),
    };
    let on_expiry = match a.sentinel_on_expiry.as_deref() {
        Some("drop") => OnExpiry::Drop,
        Some("release") => OnExpiry::Release,
        Some(other) => bail!("--sentinel-on-expiry must be drop or release, not {other:?}"),
        None => f.on_expiry.unwrap_or(OnExpiry::Drop),
    };
    let mode = a.sentinel_policy.or(f.policy).unwrap_or(Mode::Flag);
    let refit = Refit {
        params: ForestParams::default(),
        every_blocks: a
            .sentinel_refit_blocks
            .or(f.refit_blocks)
            .unwrap_or(10)
            .max(1),
        min_history: a
            .sentinel_min_history
            .or(f.min_history)
            .unwrap_or(64)
            .max(2),
    };
    let mut release_keys = a.sentinel_release_keys;
    release_keys.extend(f.release_keys);
    let hold_for = Duration::from_secs(a.sentinel_hold_secs.or(f.hold_secs).unwrap_or(600).max(1));
    info!(model = %path.display(), sha256 = %hex::encode(hash), ?mode, ?policy, "sentinel on");
    let screen = ModelScreen::new(model, hash, policy, mode, refit, record.id.clone())
        .wrap_err("the sentinel policy")?;
    Ok(Some((
        ScreenConfig {
            screen: Arc::new(screen),
            hold_for,
            on_expiry,
            release_keys,
        },
        record,
    )))
}
