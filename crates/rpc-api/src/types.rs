//! Wire types of the `verai_` namespace: what the server sends and the client decodes.

use alloy_primitives::{Address, B256, Bytes, U256};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use verai_provenance::{LineageNode, RecordView, UsageView};

/// One proven storage slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageProofEntry {
    /// The slot.
    pub key: U256,
    /// The 32-byte word, `None` when unset (zero).
    pub value: Option<Bytes>,
    /// Proof of the key's value (or absence) against `stateRoot`.
    pub proof: Bytes,
}

/// `verai_getProof` result: an account and slots proven against a finalized block's state root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofResponse {
    /// Height of the block whose state root the proofs verify against.
    pub block_number: u64,
    /// Its hash.
    pub block_hash: B256,
    /// Its state root.
    pub state_root: B256,
    /// The account.
    pub address: Address,
    /// Encoded account state (72 bytes: nonce, balance, code hash), `None` when absent.
    pub account: Option<Bytes>,
    /// Proof of the account.
    pub account_proof: Bytes,
    /// Proven slots.
    pub storage_proof: Vec<StorageProofEntry>,
}

/// `verai_getCertificate` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateResponse {
    /// Height of the block.
    pub block_number: u64,
    /// Its hash.
    pub block_hash: B256,
    /// The encoded finalization certificate.
    pub certificate: Bytes,
}

/// `verai_getAudit` result: the auditor's report on a contract a finalized block deployed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditDoc {
    /// The contract.
    pub address: Address,
    /// The block that deployed it.
    pub block_number: u64,
    /// Keccak-256 of its code.
    pub code_hash: B256,
    /// Code size in bytes.
    pub code_size: usize,
    /// The auditor's report (risk, findings; `provenance` when the node recorded it).
    pub report: serde_json::Value,
}

/// Most alerts one `verai_getAlerts` page returns.
pub const MAX_ALERTS_PAGE: usize = 1000;
/// Page size when none is asked for.
pub const DEFAULT_ALERTS_PAGE: usize = 100;

/// Filters of `verai_getAlerts`, all optional: alerts concerning `address` (as sender or
/// recipient), raised while the finalized head was in `fromBlock..=toBlock`, at a time (unix
/// seconds) in `fromTime..=toTime`; ids above `cursor` (the previous page's `nextCursor`),
/// at most `limit` (≤ 1000, default 100), oldest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertFilter {
    /// Sender or recipient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// First finalized height at admission.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_block: Option<u64>,
    /// Last finalized height at admission.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_block: Option<u64>,
    /// Earliest admission time (unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_time: Option<u64>,
    /// Latest admission time (unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_time: Option<u64>,
    /// Return alerts with ids above this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<u64>,
    /// Page size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// What the sentinel decided about a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertAction {
    /// Admitted normally (never stored as an alert).
    Allow,
    /// Admitted with an alert.
    Flag,
    /// Admitted held out of this node's proposals, with an alert.
    Hold,
}

/// One stored sentinel alert.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// Id, in storage order.
    pub id: u64,
    /// The transaction.
    pub tx_hash: B256,
    /// Its sender.
    pub from: Address,
    /// Its recipient (`None` for a deployment).
    pub to: Option<Address>,
    /// Value in wei.
    pub value: U256,
    /// Sender nonce.
    pub nonce: u64,
    /// Flag or hold.
    pub action: AlertAction,
    /// When a hold ends (unix seconds).
    pub hold_until: Option<u64>,
    /// Admission time (unix seconds).
    pub time: u64,
    /// The finalized height at admission.
    pub block_number: u64,
    /// The screen's explanation: scores, thresholds crossed, top features, model.
    pub scores: Option<Box<RawValue>>,
}

impl Alert {
    /// The explanation as a JSON tree (`null` when there is none).
    pub fn scores_json(&self) -> serde_json::Value {
        self.scores
            .as_ref()
            .and_then(|s| serde_json::from_str(s.get()).ok())
            .unwrap_or_default()
    }
}

/// One page of alerts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertPage {
    /// The alerts, oldest first.
    pub alerts: Vec<Alert>,
    /// Pass as `cursor` for the next page; `null` when the scan reached the end.
    pub next_cursor: Option<u64>,
}

/// A held transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldTx {
    /// Its hash.
    pub hash: B256,
    /// When the hold ends (unix seconds).
    pub until: u64,
}

/// `verai_sentinelStatus` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentinelStatus {
    /// Transactions screened.
    pub screened: u64,
    /// Alerts raised without a hold.
    pub flagged: u64,
    /// Transactions held.
    pub held: u64,
    /// Holds released by a release key.
    pub released: u64,
    /// Held transactions dropped by a release key.
    pub dropped: u64,
    /// Mean time of one screening, in nanoseconds.
    pub mean_screen_nanos: u64,
    /// Worst time of one screening.
    pub max_screen_nanos: u64,
    /// How long a hold lasts.
    pub hold_seconds: u64,
    /// What expiry does to a hold: `drop` or `release`.
    pub on_expiry: String,
    /// Addresses whose signature ends a hold.
    pub release_keys: Vec<Address>,
    /// The screen's own description: model hash and record, policy, detector state.
    pub screen: serde_json::Value,
}

/// Most ids or entries one list request returns.
pub const MAX_LIST: u64 = 1000;
/// Most records one lineage walk returns.
pub const MAX_WALK: usize = 10_000;

/// Filter of `verai_listRecords`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListFilter {
    /// Records currently owned by this account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Address>,
    /// Records of this kind (`dataset`, `model`, `training-run`, `inference`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Skip this many index entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// At most this many (≤ [`MAX_LIST`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// `verai_listRecords` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordList {
    /// Entries in the index searched (all records when unfiltered).
    pub total: u64,
    /// The records.
    pub records: Vec<RecordView>,
}

/// `verai_getLineage` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lineage {
    /// Where the walk started.
    pub root: RecordView,
    /// `ancestors` or `descendants`.
    pub direction: String,
    /// Records reached, breadth first, with their depth and own edges.
    pub nodes: Vec<LineageNode>,
    /// The root's own edges in this direction.
    pub edges: Vec<u64>,
    /// Whether `limit` cut the walk short.
    pub truncated: bool,
}

/// `verai_getUsage` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageLog {
    /// Uses logged in total.
    pub count: u64,
    /// The requested entries.
    pub entries: Vec<UsageView>,
}

/// `verai_putBlob` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobReceipt {
    /// SHA-256 of the bytes: the blob's name.
    pub hash: B256,
    /// Size in bytes.
    pub size: u64,
}

/// `verai_getPrivateBlob` request: the blob, the record it is the content of, when it was
/// signed (unix seconds), and the EIP-712 signature of those three by the owner or a grantee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrivateBlobRequest {
    /// SHA-256 of the blob.
    pub hash: B256,
    /// The record whose content hash it is.
    pub record_id: u64,
    /// When the request was signed (unix seconds, within 5 minutes of the node's clock).
    pub signed_at: u64,
    /// 65-byte signature.
    pub signature: Bytes,
}

/// Most listings one `verai_listListings` page returns.
pub const MAX_LISTINGS_PAGE: u64 = 100;
/// Most stacks one `verai_getEarnings` call reports.
pub const MAX_EARNINGS_PAGE: u64 = 100;

/// Filters of `verai_listListings`, all optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListingFilter {
    /// `access`, `per-call` or `service`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Listings of this record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<u64>,
    /// Listings by this seller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seller: Option<Address>,
    /// Only listings that still sell (or only those that do not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Listings with ids above this (the previous page's `nextCursor`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    /// Page size (≤ 100, default 20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// A service method and its price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodView {
    /// Name.
    pub name: String,
    /// Price per call.
    pub price: U256,
    /// Calls each client gets free.
    pub free_calls: u32,
}

/// Licence terms as registered in the provenance registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TermsView {
    /// Their hash.
    pub hash: B256,
    /// SPDX id.
    pub spdx: String,
    /// Commercial use allowed.
    pub commercial_use: bool,
    /// Derivative works allowed.
    pub derivatives: bool,
    /// Attribution required.
    pub attribution: bool,
    /// Grant length in seconds (0 when perpetual).
    pub duration: u64,
    /// Grants never expire.
    pub perpetual: bool,
}

/// One listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListingView {
    /// Id.
    pub id: u64,
    /// The provenance record sold.
    pub record_id: u64,
    /// `access`, `per-call` or `service`.
    pub kind: String,
    /// Seller.
    pub seller: Address,
    /// Payment token (zero: native).
    pub token: Address,
    /// Per access or per call.
    pub price: U256,
    /// Licence terms (Access listings).
    pub terms: Option<TermsView>,
    /// Service endpoint.
    pub endpoint: Option<String>,
    /// Service methods.
    pub methods: Vec<MethodView>,
    /// Whether it still sells.
    pub active: bool,
    /// When it was listed (unix seconds).
    pub created_at: u64,
    /// Payments through it.
    pub sales: u64,
    /// Their total.
    pub revenue: U256,
    /// Mean rating weighted by what each rater paid (`null` before the first rating).
    pub rating: Option<f64>,
    /// Total weight of the ratings (what the raters paid).
    pub rating_weight: U256,
}

/// A page of listings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListingPage {
    /// The listings, in id order.
    pub listings: Vec<ListingView>,
    /// Pass as `after` for the next page; `null` on the last one.
    pub next_cursor: Option<u64>,
}

/// One account's standing in one royalty stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackEarning {
    /// The stack.
    pub stack_id: u64,
    /// The record it splits.
    pub record_id: u64,
    /// The account's weight out of 10^27.
    pub weight: U256,
    /// The stack's cumulative revenue.
    pub revenue: U256,
    /// floor(revenue × weight / 10^27): claimable in total so far.
    pub entitled: U256,
    /// Claimed.
    pub claimed: U256,
    /// Claimable now.
    pub claimable: U256,
    /// The account's credit by largest remainder over the whole stack (sums to the revenue
    /// exactly; at most one unit above `entitled`: the carry paid when it adds up).
    pub credited: U256,
}

/// `verai_getEarnings` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EarningsReport {
    /// The account.
    pub account: Address,
    /// The token (zero: native).
    pub token: Address,
    /// Height of the state read.
    pub block_number: u64,
    /// How many stacks the account is in.
    pub total_stacks: u64,
    /// Claimable now over the reported stacks.
    pub claimable: U256,
    /// Claimed over the reported stacks.
    pub claimed: U256,
    /// Credited over the reported stacks.
    pub credited: U256,
    /// Per stack.
    pub stacks: Vec<StackEarning>,
}

/// Filter of `verai_getGrants`: exactly one of the two.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantFilter {
    /// Grants held by this account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Address>,
    /// Grants on this record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<u64>,
}

/// One licence grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantView {
    /// The record.
    pub record_id: u64,
    /// The grantee.
    pub account: Address,
    /// The listing bought.
    pub listing_id: u64,
    /// Its licence terms.
    pub terms_hash: B256,
    /// Expiry (unix seconds; `null` when perpetual).
    pub expiry: Option<u64>,
    /// Valid at the finalized head.
    pub valid: bool,
}

/// A record's royalty stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackView {
    /// The stack.
    pub stack_id: u64,
    /// The record.
    pub record_id: u64,
    /// Royalty policy: basis points to the owner.
    pub owner_bps: u16,
    /// Basis points to the parents.
    pub upstream_bps: u16,
    /// Whether parents' parts follow their own stacks.
    pub all_ancestors: bool,
    /// Accounts and weights (out of 10^27), by account.
    pub shares: Vec<(Address, U256)>,
    /// Cumulative revenue in the native token.
    pub revenue: U256,
}
