//! `verai node --sentinel MODEL ...`: the sentinel's flags, as `verai_sentinel::screen`
//! settings (the `[sentinel]` table of a config file deserializes to the same settings).

use alloy_primitives::Address;
use clap::Args;
use std::path::PathBuf;
use verai_node::sentinel::OnExpiry;
use verai_sentinel::screen::{Mode, Settings};

/// Sentinel options of `verai node`.
#[derive(Debug, Args, Default)]
pub struct SentinelArgs {
    /// Screen every transaction at admission with this fraud model (from `verai sentinel
    /// train`); alerts are served by `verai_getAlerts` and the `verai_alerts` stream.
    #[arg(long, value_name = "MODEL.json")]
    sentinel: Option<PathBuf>,
    /// `allow`: score only; `flag`: alert; `hold`: alert and hold hold-verdicts out of this
    /// node's blocks (default flag).
    #[arg(long)]
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
    sentinel_on_expiry: Option<OnExpiry>,
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

impl SentinelArgs {
    /// The flags as settings.
    pub fn settings(self) -> Settings {
        Settings {
            model: self.sentinel,
            policy: self.sentinel_policy,
            flag_risk: self.sentinel_flag_risk,
            hold_risk: self.sentinel_hold_risk,
            flag_anomaly: self.sentinel_flag_anomaly,
            hold_anomaly: self.sentinel_hold_anomaly,
            check_recipient: self.sentinel_ignore_recipient.then_some(false),
            hold_secs: self.sentinel_hold_secs,
            on_expiry: self.sentinel_on_expiry,
            release_keys: self.sentinel_release_keys,
            refit_blocks: self.sentinel_refit_blocks,
            min_history: self.sentinel_min_history,
        }
    }
}
