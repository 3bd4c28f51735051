//! The account features: the data set's raw columns and the model's inputs derived from them.
//!
//! [`RAW_FEATURES`] are the data set's chain-defined account columns, in a fixed order; a
//! [`RawFeatures`] array holds one account's values (the feature store computes the same
//! array from chain activity, see [`crate::store`]). [`MODEL_FEATURES`] are what the model
//! sees: the raw columns minus the four ERC-20 timing columns (zero in every row of the
//! data set, so they carry nothing and a live account's values there would be out of
//! distribution), plus ratios that describe the shape of an account's activity rather than
//! its size, which generalize across accounts of different ages and wealth.
//!
//! `NaN` means missing: only the ERC-20 columns of the data set can be missing (see
//! [`crate::dataset`]); the live store never produces `NaN`.

/// The data set's account columns the sentinel reads, in order (names trimmed).
pub const RAW_FEATURES: [&str; 45] = [
    "Avg min between sent tnx",
    "Avg min between received tnx",
    "Time Diff between first and last (Mins)",
    "Sent tnx",
    "Received Tnx",
    "Number of Created Contracts",
    "Unique Received From Addresses",
    "Unique Sent To Addresses",
    "min value received",
    "max value received",
    "avg val received",
    "min val sent",
    "max val sent",
    "avg val sent",
    "min value sent to contract",
    "max val sent to contract",
    "avg value sent to contract",
    "total transactions (including tnx to create contract",
    "total Ether sent",
    "total ether received",
    "total ether sent contracts",
    "total ether balance",
    "Total ERC20 tnxs",
    "ERC20 total Ether received",
    "ERC20 total ether sent",
    "ERC20 total Ether sent contract",
    "ERC20 uniq sent addr",
    "ERC20 uniq rec addr",
    "ERC20 uniq sent addr.1",
    "ERC20 uniq rec contract addr",
    "ERC20 avg time between sent tnx",
    "ERC20 avg time between rec tnx",
    "ERC20 avg time between rec 2 tnx",
    "ERC20 avg time between contract tnx",
    "ERC20 min val rec",
    "ERC20 max val rec",
    "ERC20 avg val rec",
    "ERC20 min val sent",
    "ERC20 max val sent",
    "ERC20 avg val sent",
    "ERC20 min val sent contract",
    "ERC20 max val sent contract",
    "ERC20 avg val sent contract",
    "ERC20 uniq sent token name",
    "ERC20 uniq rec token name",
];

/// One account's raw features, in [`RAW_FEATURES`] order.
pub type RawFeatures = [f64; 45];

/// Index of each raw column in [`RAW_FEATURES`].
pub mod raw {
    #![allow(missing_docs)]
    pub const AVG_MIN_SENT: usize = 0;
    pub const AVG_MIN_RECEIVED: usize = 1;
    pub const TIME_DIFF_MINS: usize = 2;
    pub const SENT_TNX: usize = 3;
    pub const RECEIVED_TNX: usize = 4;
    pub const CREATED_CONTRACTS: usize = 5;
    pub const UNIQ_RECEIVED_FROM: usize = 6;
    pub const UNIQ_SENT_TO: usize = 7;
    pub const MIN_VAL_RECEIVED: usize = 8;
    pub const MAX_VAL_RECEIVED: usize = 9;
    pub const AVG_VAL_RECEIVED: usize = 10;
    pub const MIN_VAL_SENT: usize = 11;
    pub const MAX_VAL_SENT: usize = 12;
    pub const AVG_VAL_SENT: usize = 13;
    pub const MIN_VAL_SENT_CONTRACT: usize = 14;
    pub const MAX_VAL_SENT_CONTRACT: usize = 15;
    pub const AVG_VAL_SENT_CONTRACT: usize = 16;
    pub const TOTAL_TNX: usize = 17;
    pub const TOTAL_ETHER_SENT: usize = 18;
    pub const TOTAL_ETHER_RECEIVED: usize = 19;
    pub const TOTAL_ETHER_SENT_CONTRACTS: usize = 20;
    pub const TOTAL_ETHER_BALANCE: usize = 21;
    pub const ERC20_TOTAL_TNX: usize = 22;
    pub const ERC20_TOTAL_RECEIVED: usize = 23;
    pub const ERC20_TOTAL_SENT: usize = 24;
    pub const ERC20_TOTAL_SENT_CONTRACT: usize = 25;
    pub const ERC20_UNIQ_SENT_ADDR: usize = 26;
    pub const ERC20_UNIQ_REC_ADDR: usize = 27;
    pub const ERC20_UNIQ_SENT_CONTRACT_ADDR: usize = 28;
    pub const ERC20_UNIQ_REC_CONTRACT_ADDR: usize = 29;
    pub const ERC20_AVG_TIME_SENT: usize = 30;
    pub const ERC20_AVG_TIME_REC: usize = 31;
    pub const ERC20_AVG_TIME_REC2: usize = 32;
    pub const ERC20_AVG_TIME_CONTRACT: usize = 33;
    pub const ERC20_MIN_VAL_REC: usize = 34;
    pub const ERC20_MAX_VAL_REC: usize = 35;
    pub const ERC20_AVG_VAL_REC: usize = 36;
    pub const ERC20_MIN_VAL_SENT: usize = 37;
    pub const ERC20_MAX_VAL_SENT: usize = 38;
    pub const ERC20_AVG_VAL_SENT: usize = 39;
    pub const ERC20_MIN_VAL_SENT_CONTRACT: usize = 40;
    pub const ERC20_MAX_VAL_SENT_CONTRACT: usize = 41;
    pub const ERC20_AVG_VAL_SENT_CONTRACT: usize = 42;
    pub const ERC20_UNIQ_SENT_TOKEN: usize = 43;
    pub const ERC20_UNIQ_REC_TOKEN: usize = 44;
}

/// Raw columns that the data set may leave empty (the ERC-20 block).
pub fn is_optional_raw(index: usize) -> bool {
    index >= raw::ERC20_TOTAL_TNX
}

/// The raw columns that are never empty in the data set.
pub const REQUIRED_RAW: std::ops::Range<usize> = 0..raw::ERC20_TOTAL_TNX;

/// Raw columns left out of the model (constant zero in the data set).
const DROPPED_RAW: [usize; 4] = [
    raw::ERC20_AVG_TIME_SENT,
    raw::ERC20_AVG_TIME_REC,
    raw::ERC20_AVG_TIME_REC2,
    raw::ERC20_AVG_TIME_CONTRACT,
];

/// Derived features, appended after the kept raw columns, with their definitions.
pub const DERIVED_FEATURES: [&str; 8] = [
    // sent / (sent + received); 0 for an account with neither.
    "sent share",
    // received transactions per distinct sender; 0 with none.
    "received per counterparty",
    // sent transactions per distinct recipient; 0 with none.
    "sent per counterparty",
    // balance / total received; 0 when nothing was received.
    "balance share of received",
    // total sent (incl. to contracts) / total received; 0 when nothing was received.
    "out over in",
    // total transactions per day of activity (+1 day so a one-off account stays finite).
    "transactions per day",
    // ERC-20 transfers / (ERC-20 transfers + normal transactions); missing with ERC-20 missing.
    "erc20 share",
    // average received value / largest received value; 0 when nothing was received.
    "avg over max received",
];

/// Number of model inputs.
pub const N_MODEL: usize = RAW_FEATURES.len() - DROPPED_RAW.len() + DERIVED_FEATURES.len();

/// The model's input names, in order.
pub fn model_feature_names() -> Vec<String> {
    (0..RAW_FEATURES.len())
        .filter(|i| !DROPPED_RAW.contains(i))
        .map(|i| RAW_FEATURES[i].to_string())
        .chain(DERIVED_FEATURES.iter().map(|s| s.to_string()))
        .collect()
}

/// Model inputs for one account.
pub type ModelFeatures = [f64; N_MODEL];

fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 { num / den } else { 0.0 }
}

/// Computes the model's inputs from raw account features. Pure arithmetic (no `exp`, `ln`),
/// so results are bit-identical on every IEEE-754 machine.
pub fn model_features(r: &RawFeatures) -> ModelFeatures {
    let mut out = [0f64; N_MODEL];
    let mut k = 0;
    for (i, v) in r.iter().enumerate() {
        if !DROPPED_RAW.contains(&i) {
            out[k] = *v;
            k += 1;
        }
    }
    let sent = r[raw::SENT_TNX];
    let received = r[raw::RECEIVED_TNX];
    let total_in = r[raw::TOTAL_ETHER_RECEIVED];
    let total_out = r[raw::TOTAL_ETHER_SENT] + r[raw::TOTAL_ETHER_SENT_CONTRACTS];
    let erc20 = r[raw::ERC20_TOTAL_TNX];
    let total = r[raw::TOTAL_TNX];
    let derived = [
        ratio(sent, sent + received),
        ratio(received, r[raw::UNIQ_RECEIVED_FROM]),
        ratio(sent, r[raw::UNIQ_SENT_TO]),
        ratio(r[raw::TOTAL_ETHER_BALANCE], total_in),
        ratio(total_out, total_in),
        total / (r[raw::TIME_DIFF_MINS] / 1440.0 + 1.0),
        if erc20.is_nan() {
            f64::NAN
        } else {
            ratio(erc20, erc20 + total)
        },
        ratio(r[raw::AVG_VAL_RECEIVED], r[raw::MAX_VAL_RECEIVED]),
    ];
    out[k..].copy_from_slice(&derived);
    out
}

/// Number of per-transaction anomaly features.
pub const N_TX: usize = 9;

/// Names of the per-transaction features, in order.
pub const TX_FEATURES: [&str; N_TX] = [
    // log2(1 + value) − log2(1 + sender's average sent value), ether
    "value vs sender history",
    // sends by the sender in the hour before (kept: the last 32)
    "sends in last hour",
    // log2(1 + seconds since the sender's previous send); 0 for a first send
    "log2 seconds since last send",
    // 1 when the sender never sent to this recipient (or creates a contract)
    "new counterparty",
    // log2(1 + gas price) − log2(1 + median gas price of recent finalized transactions)
    "gas price vs recent median",
    // 1 for a call to a contract or a creation
    "contract interaction",
    // log2(1 + distinct addresses the sender received from): fan-in, the shape of a
    // collector (phishing, drainers) that many new addresses pay
    "sender fan-in",
    // value / the sender's balance before the transaction, in [0, 1] (0 for an empty
    // balance): how much of what it holds moves out at once. A sweep or a drain moves ~1;
    // an exchange or a user with savings moves a small part.
    "share of balance moved",
    // (sender fan-in) × (share of balance moved): a collector that many addresses paid
    // moving what it holds out at once; high only when both are
    "sweep after fan-in",
];

/// Per-transaction features.
pub type TxFeatures = [f64; N_TX];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_counts_agree() {
        assert_eq!(model_feature_names().len(), N_MODEL);
        assert_eq!(
            RAW_FEATURES[raw::ERC20_UNIQ_REC_TOKEN],
            "ERC20 uniq rec token name"
        );
        assert_eq!(
            RAW_FEATURES[raw::TOTAL_ETHER_BALANCE],
            "total ether balance"
        );
        assert!(!model_feature_names().iter().any(|n| n.contains("avg time")));
    }

    #[test]
    fn derived_features_follow_definitions() {
        let mut r = [0f64; 45];
        r[raw::SENT_TNX] = 3.0;
        r[raw::RECEIVED_TNX] = 1.0;
        r[raw::UNIQ_SENT_TO] = 3.0;
        r[raw::TOTAL_ETHER_RECEIVED] = 10.0;
        r[raw::TOTAL_ETHER_SENT] = 9.0;
        r[raw::TOTAL_ETHER_BALANCE] = 1.0;
        r[raw::TOTAL_TNX] = 4.0;
        r[raw::TIME_DIFF_MINS] = 1440.0;
        r[raw::ERC20_TOTAL_TNX] = f64::NAN;
        let m = model_features(&r);
        let d = &m[N_MODEL - DERIVED_FEATURES.len()..];
        assert_eq!(d[0], 0.75);
        assert_eq!(d[1], 0.0); // no distinct senders recorded
        assert_eq!(d[2], 1.0);
        assert_eq!(d[3], 0.1);
        assert_eq!(d[4], 0.9);
        assert_eq!(d[5], 2.0);
        assert!(d[6].is_nan());
        assert_eq!(m[raw::SENT_TNX], 3.0);
    }
}
