//! The incremental per-account feature store: fed finalized blocks, it keeps every account's
//! activity summary and computes the data set's chain-defined features ([`RawFeatures`]) and
//! the per-transaction features of the anomaly detector.
//!
//! Input: [`BlockActivity`] per finalized block, in height order (each block exactly once):
//! its timestamp, its transactions (sender, recipient or created contract, value, gas price)
//! and the ERC-20 `Transfer` logs of its receipts. Whether an address is a contract is given
//! by the feeder (`to_is_contract`, known from state); the store also remembers the contracts
//! it saw created.
//!
//! Feature definitions (same as the public data set; units: ether = wei / 1e18, minutes):
//! - `Sent tnx` / `Received Tnx`: normal transactions sent / received, contract creations
//!   excluded (the data set's `total transactions` = sent + received + created, checked on
//!   all 7,872 rows). A self-transfer counts as both sent and received.
//! - `Number of Created Contracts`: transactions without a recipient sent by the account.
//! - `Avg min between sent tnx`: (last sent − first sent) / number sent, in minutes. The data
//!   set divides by the count, not count − 1 (for accounts that only send,
//!   avg × sent = time span on every such row); likewise for received. 0 with none.
//! - `Time Diff between first and last (Mins)`: last − first normal transaction of the
//!   account (sent, received or creation), in minutes.
//! - `Unique Received From Addresses` / `Unique Sent To Addresses`: distinct counterparties.
//! - `min/max/avg value received`, `min/max/avg val sent`: over received / sent transactions
//!   (zero values included); 0 with none.
//! - `min/max/avg value sent to contract`, `total ether sent contracts`: ambiguous in the data
//!   set. We take the value of the account's contract-creation transactions (the value that
//!   funds the new contract): only 3 of 7,872 rows are non-zero there, which fits creations
//!   carrying value and not ordinary calls to contracts (exchanges and tokens are contracts
//!   and common). Calls with value to existing contracts count as normal sent transactions.
//! - `total Ether sent` / `total ether received`: sums over sent / received transactions.
//! - `total ether balance`: received − sent − sent to contracts, as in the data set (7,871 of
//!   7,872 rows satisfy it); fees are not part of it, so it is not the state balance.
//! - ERC-20 (from `Transfer(from, to, amount)` logs; amounts / 10^decimals, decimals given by
//!   the feeder, 18 when unknown): `Total ERC20 tnxs` = transfers sent + received;
//!   `ERC20 total Ether received/sent` = amount sums (all tokens added, as the data set does);
//!   `ERC20 total Ether sent contract` = amounts sent to contracts; `ERC20 uniq sent addr` /
//!   `ERC20 uniq rec addr` = distinct recipients / senders of tokens; `ERC20 uniq sent
//!   addr.1` = distinct contract recipients (its non-zero rows coincide with those of
//!   `sent contract`); `ERC20 uniq rec contract addr` = distinct token contracts received;
//!   `ERC20 min/max/avg val rec/sent/sent contract` as for ether; `ERC20 uniq sent/rec token
//!   name` = distinct token contracts sent / received (a token's name needs a contract call,
//!   its address identifies it); the four `ERC20 avg time` columns follow the ether timing
//!   definition (`rec 2` = `rec`, undocumented in the data set); the model does not use them.
//!
//! Memory: the counterparty sets grow with each account's distinct counterparties; recent
//! history (per-account send times, gas prices, transaction features) is bounded.

use crate::features::{RawFeatures, raw};
use crate::history::TxHistory;
use alloy_primitives::map::{AddressHashMap, AddressHashSet};
use alloy_primitives::{Address, U256};
use std::collections::VecDeque;

/// A transaction of a finalized block.
#[derive(Debug, Clone)]
pub struct ChainTx {
    /// Sender.
    pub from: Address,
    /// Recipient; `None` for a contract creation.
    pub to: Option<Address>,
    /// Value in wei.
    pub value: U256,
    /// Effective gas price in wei.
    pub gas_price: u128,
    /// Whether the recipient has code (false for creations).
    pub to_is_contract: bool,
    /// The sender's balance before the transaction, in wei (see [`crate::chain`] for how it
    /// is reconstructed from the state after the block).
    pub sender_balance: U256,
}

/// An ERC-20 `Transfer` log of a finalized block's receipts.
#[derive(Debug, Clone)]
pub struct TokenTransfer {
    /// Token contract (the log's address).
    pub token: Address,
    /// `from` topic.
    pub from: Address,
    /// `to` topic.
    pub to: Address,
    /// Amount in the token's smallest unit.
    pub amount: U256,
    /// The token's decimals (18 when unknown).
    pub decimals: u8,
    /// Whether `to` has code.
    pub to_is_contract: bool,
}

/// What the store needs of one finalized block.
#[derive(Debug, Clone, Default)]
pub struct BlockActivity {
    /// Block number.
    pub number: u64,
    /// Block timestamp (seconds).
    pub timestamp: u64,
    /// Transactions in block order.
    pub txs: Vec<ChainTx>,
    /// ERC-20 transfers in log order.
    pub transfers: Vec<TokenTransfer>,
}

/// Count, sum, min, max and first/last time of a value series.
#[derive(Debug, Clone, Copy, Default)]
struct Series {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    first: u64,
    last: u64,
}

impl Series {
    fn add(&mut self, v: f64, t: u64) {
        if self.count == 0 {
            (self.min, self.max, self.first) = (v, v, t);
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.count += 1;
        self.sum += v;
        self.last = t;
    }
    fn avg(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
    /// (last − first) / count, in minutes; the data set's "avg min between".
    fn avg_gap_minutes(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            (self.last - self.first) as f64 / 60.0 / self.count as f64
        }
    }
}

/// How many recent send times are kept per account (for velocity).
const RECENT_SENDS: usize = 32;

/// One account's activity summary.
#[derive(Debug, Clone, Default)]
pub struct AccountState {
    sent: Series,
    received: Series,
    created: Series,
    first_seen: Option<u64>,
    last_seen: u64,
    sent_to: AddressHashSet,
    received_from: AddressHashSet,
    erc20_sent: Series,
    erc20_received: Series,
    erc20_sent_contract: Series,
    erc20_sent_to: AddressHashSet,
    erc20_received_from: AddressHashSet,
    erc20_sent_to_contracts: AddressHashSet,
    erc20_tokens_sent: AddressHashSet,
    erc20_tokens_received: AddressHashSet,
    recent_sends: VecDeque<u64>,
}

fn ether(v: U256, decimals: u8) -> f64 {
    f64::from(v) / 10f64.powi(i32::from(decimals))
}

impl AccountState {
    fn touch(&mut self, t: u64) {
        self.first_seen.get_or_insert(t);
        self.last_seen = t;
    }

    /// The data set's features of this account (see the module docs for each definition).
    pub fn features(&self) -> RawFeatures {
        let mut r = [0f64; 45];
        let (s, rc, c) = (&self.sent, &self.received, &self.created);
        r[raw::AVG_MIN_SENT] = s.avg_gap_minutes();
        r[raw::AVG_MIN_RECEIVED] = rc.avg_gap_minutes();
        r[raw::TIME_DIFF_MINS] = match self.first_seen {
            Some(f) => (self.last_seen - f) as f64 / 60.0,
            None => 0.0,
        };
        r[raw::SENT_TNX] = s.count as f64;
        r[raw::RECEIVED_TNX] = rc.count as f64;
        r[raw::CREATED_CONTRACTS] = c.count as f64;
        r[raw::UNIQ_RECEIVED_FROM] = self.received_from.len() as f64;
        r[raw::UNIQ_SENT_TO] = self.sent_to.len() as f64;
        (
            r[raw::MIN_VAL_RECEIVED],
            r[raw::MAX_VAL_RECEIVED],
            r[raw::AVG_VAL_RECEIVED],
        ) = (rc.min, rc.max, rc.avg());
        (
            r[raw::MIN_VAL_SENT],
            r[raw::MAX_VAL_SENT],
            r[raw::AVG_VAL_SENT],
        ) = (s.min, s.max, s.avg());
        (
            r[raw::MIN_VAL_SENT_CONTRACT],
            r[raw::MAX_VAL_SENT_CONTRACT],
            r[raw::AVG_VAL_SENT_CONTRACT],
        ) = (c.min, c.max, c.avg());
        r[raw::TOTAL_TNX] = (s.count + rc.count + c.count) as f64;
        r[raw::TOTAL_ETHER_SENT] = s.sum;
        r[raw::TOTAL_ETHER_RECEIVED] = rc.sum;
        r[raw::TOTAL_ETHER_SENT_CONTRACTS] = c.sum;
        r[raw::TOTAL_ETHER_BALANCE] = rc.sum - s.sum - c.sum;
        let (es, er, ec) = (
            &self.erc20_sent,
            &self.erc20_received,
            &self.erc20_sent_contract,
        );
        r[raw::ERC20_TOTAL_TNX] = (es.count + er.count) as f64;
        r[raw::ERC20_TOTAL_RECEIVED] = er.sum;
        r[raw::ERC20_TOTAL_SENT] = es.sum;
        r[raw::ERC20_TOTAL_SENT_CONTRACT] = ec.sum;
        r[raw::ERC20_UNIQ_SENT_ADDR] = self.erc20_sent_to.len() as f64;
        r[raw::ERC20_UNIQ_REC_ADDR] = self.erc20_received_from.len() as f64;
        r[raw::ERC20_UNIQ_SENT_CONTRACT_ADDR] = self.erc20_sent_to_contracts.len() as f64;
        r[raw::ERC20_UNIQ_REC_CONTRACT_ADDR] = self.erc20_tokens_received.len() as f64;
        r[raw::ERC20_AVG_TIME_SENT] = es.avg_gap_minutes();
        r[raw::ERC20_AVG_TIME_REC] = er.avg_gap_minutes();
        r[raw::ERC20_AVG_TIME_REC2] = er.avg_gap_minutes();
        r[raw::ERC20_AVG_TIME_CONTRACT] = ec.avg_gap_minutes();
        (
            r[raw::ERC20_MIN_VAL_REC],
            r[raw::ERC20_MAX_VAL_REC],
            r[raw::ERC20_AVG_VAL_REC],
        ) = (er.min, er.max, er.avg());
        (
            r[raw::ERC20_MIN_VAL_SENT],
            r[raw::ERC20_MAX_VAL_SENT],
            r[raw::ERC20_AVG_VAL_SENT],
        ) = (es.min, es.max, es.avg());
        (
            r[raw::ERC20_MIN_VAL_SENT_CONTRACT],
            r[raw::ERC20_MAX_VAL_SENT_CONTRACT],
            r[raw::ERC20_AVG_VAL_SENT_CONTRACT],
        ) = (ec.min, ec.max, ec.avg());
        r[raw::ERC20_UNIQ_SENT_TOKEN] = self.erc20_tokens_sent.len() as f64;
        r[raw::ERC20_UNIQ_REC_TOKEN] = self.erc20_tokens_received.len() as f64;
        r
    }
}

/// A transaction as seen at admission (or at finalization, for the anomaly history).
#[derive(Debug, Clone, Copy)]
pub struct TxView {
    /// Sender.
    pub from: Address,
    /// Recipient; `None` for a creation.
    pub to: Option<Address>,
    /// Value in wei.
    pub value: U256,
    /// Gas price (legacy) or fee cap (EIP-1559) in wei.
    pub gas_price: u128,
    /// Whether the recipient has code.
    pub to_is_contract: bool,
    /// Time of the observation (seconds; the admission time or the block's timestamp).
    pub timestamp: u64,
    /// The sender's balance before the transaction, in wei (at admission: in the state the
    /// transaction is admitted against).
    pub sender_balance: U256,
}

pub use crate::features::{N_TX, TX_FEATURES, TxFeatures};

/// `log2(x)` from the float's bits, piecewise linear between powers of two: exact integer
/// and float operations only, so it is bit-identical everywhere (unlike `ln`). `x >= 1`.
pub fn log2_bits(x: f64) -> f64 {
    if x.is_nan() || x < 1.0 || x.is_infinite() {
        return 0.0;
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mantissa = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    exp as f64 + (mantissa - 1.0)
}

/// How many recent gas prices set the median.
const GAS_WINDOW: usize = 1024;

/// The feature store.
#[derive(Debug, Default)]
pub struct FeatureStore {
    accounts: AddressHashMap<AccountState>,
    contracts: AddressHashSet,
    gas_prices: VecDeque<u128>,
    gas_median: u128,
    history: TxHistory,
    senders: usize,
    height: Option<u64>,
    dirty: AddressHashSet,
}

impl FeatureStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last applied block number.
    pub fn height(&self) -> Option<u64> {
        self.height
    }

    /// An account's summary, if it was ever active.
    pub fn account(&self, a: &Address) -> Option<&AccountState> {
        self.accounts.get(a)
    }

    /// An account's data set features (all zero for an unseen account).
    pub fn features(&self, a: &Address) -> RawFeatures {
        self.accounts
            .get(a)
            .map_or([0f64; 45], AccountState::features)
    }

    /// Whether the address was seen as a contract (created here or called as one).
    pub fn is_contract(&self, a: &Address) -> bool {
        self.contracts.contains(a)
    }

    /// Median gas price of recent finalized transactions (0 before any).
    pub fn gas_median(&self) -> u128 {
        self.gas_median
    }

    /// How many accounts sent at least one finalized transaction.
    pub fn senders(&self) -> usize {
        self.senders
    }

    /// Features of recent finalized transactions (oldest second first; a sample of busy
    /// seconds, see [`crate::history`]), for fitting the detector.
    pub fn tx_history(&self) -> &TxHistory {
        &self.history
    }

    /// A transaction's anomaly features against the sender's history as it stands.
    pub fn tx_features(&self, tx: &TxView) -> TxFeatures {
        let sender = self.accounts.get(&tx.from);
        let value = ether(tx.value, 18);
        let avg_sent = sender.map_or(0.0, |s| s.sent.avg());
        let (recent, since_last) = match sender {
            Some(s) if !s.recent_sends.is_empty() => {
                let hour_ago = tx.timestamp.saturating_sub(3600);
                // Sorted (see `apply_tx`): a binary search, not a scan of up to
                // `RECENT_SENDS` on every admission.
                let recent =
                    s.recent_sends.len() - s.recent_sends.partition_point(|&t| t < hour_ago);
                let last = s.recent_sends.back().copied().unwrap_or(tx.timestamp);
                (
                    recent,
                    log2_bits(1.0 + tx.timestamp.saturating_sub(last) as f64),
                )
            }
            _ => (0, 0.0),
        };
        let new_counterparty = match (tx.to, sender) {
            (Some(to), Some(s)) => !s.sent_to.contains(&to),
            _ => true,
        };
        let contract = tx.to.is_none() || tx.to_is_contract;
        let fan_in = sender.map_or(0, |s| s.received_from.len());
        let balance = ether(tx.sender_balance, 18);
        let share = if balance > 0.0 {
            (value / balance).min(1.0)
        } else {
            0.0
        };
        [
            log2_bits(1.0 + value) - log2_bits(1.0 + avg_sent),
            recent as f64,
            since_last,
            f64::from(u8::from(new_counterparty)),
            log2_bits(1.0 + tx.gas_price as f64) - log2_bits(1.0 + self.gas_median as f64),
            f64::from(u8::from(contract)),
            log2_bits(1.0 + fan_in as f64),
            share,
            log2_bits(1.0 + fan_in as f64) * share,
        ]
    }

    /// Applies a finalized block. Blocks must come in height order, each once.
    pub fn apply_block(&mut self, block: &BlockActivity) {
        self.apply_txs(&block.txs, block.timestamp);
        self.apply_transfers(&block.transfers, block.timestamp);
        self.finish_block(block);
    }

    /// [`Self::apply_block`] in steps, for a caller that releases a lock between them: the
    /// block's transactions (in order, possibly in several calls), then its transfers, then
    /// [`Self::finish_block`]. The result is the same as one `apply_block`.
    pub fn apply_txs(&mut self, txs: &[ChainTx], t: u64) {
        for tx in txs {
            let view = TxView {
                from: tx.from,
                to: tx.to,
                value: tx.value,
                gas_price: tx.gas_price,
                to_is_contract: tx.to_is_contract,
                timestamp: t,
                sender_balance: tx.sender_balance,
            };
            let f = self.tx_features(&view);
            self.history.push(t, f);
            self.apply_tx(tx, t);
        }
    }

    /// The token transfers of a block being applied (see [`Self::apply_txs`]).
    pub fn apply_transfers(&mut self, transfers: &[TokenTransfer], t: u64) {
        for tr in transfers {
            self.apply_transfer(tr, t);
        }
    }

    /// Ends the application of `block` (see [`Self::apply_txs`]): the gas price median and
    /// the height.
    pub fn finish_block(&mut self, block: &BlockActivity) {
        if !block.txs.is_empty() {
            let mut sorted: Vec<u128> = self.gas_prices.iter().copied().collect();
            sorted.sort_unstable();
            self.gas_median = sorted[sorted.len() / 2];
        }
        self.height = Some(block.number);
    }

    fn apply_tx(&mut self, tx: &ChainTx, t: u64) {
        if self.gas_prices.len() == GAS_WINDOW {
            self.gas_prices.pop_front();
        }
        self.gas_prices.push_back(tx.gas_price);
        let value = ether(tx.value, 18);
        self.dirty.insert(tx.from);
        if let Some(to) = tx.to {
            self.dirty.insert(to);
        }
        let sender = self.accounts.entry(tx.from).or_default();
        sender.touch(t);
        // Every send is recorded there: empty only before an account's first.
        self.senders += usize::from(sender.recent_sends.is_empty());
        if sender.recent_sends.len() == RECENT_SENDS {
            sender.recent_sends.pop_front();
        }
        // Kept sorted for `tx_features`' binary search: block timestamps never decrease on a
        // valid chain (a block before its parent's time is rejected), and a caller feeding
        // one out of order only has its send counted at its predecessor's time.
        let t_sorted = sender.recent_sends.back().map_or(t, |&last| t.max(last));
        sender.recent_sends.push_back(t_sorted);
        match tx.to {
            None => sender.created.add(value, t),
            Some(to) => {
                sender.sent.add(value, t);
                sender.sent_to.insert(to);
                if tx.to_is_contract {
                    self.contracts.insert(to);
                }
                let recipient = self.accounts.entry(to).or_default();
                recipient.touch(t);
                recipient.received.add(value, t);
                recipient.received_from.insert(tx.from);
            }
        }
    }

    fn apply_transfer(&mut self, tr: &TokenTransfer, t: u64) {
        let amount = ether(tr.amount, tr.decimals);
        let to_contract = tr.to_is_contract || self.contracts.contains(&tr.to);
        self.dirty.insert(tr.from);
        self.dirty.insert(tr.to);
        let sender = self.accounts.entry(tr.from).or_default();
        sender.erc20_sent.add(amount, t);
        sender.erc20_sent_to.insert(tr.to);
        sender.erc20_tokens_sent.insert(tr.token);
        if to_contract {
            sender.erc20_sent_contract.add(amount, t);
            sender.erc20_sent_to_contracts.insert(tr.to);
        }
        let recipient = self.accounts.entry(tr.to).or_default();
        recipient.erc20_received.add(amount, t);
        recipient.erc20_received_from.insert(tr.from);
        recipient.erc20_tokens_received.insert(tr.token);
    }

    /// The accounts whose features changed since the last call, sorted.
    pub fn take_dirty(&mut self) -> Vec<Address> {
        let mut v: Vec<Address> = self.dirty.drain().collect();
        v.sort_unstable();
        v
    }

    /// [`take_dirty`](Self::take_dirty) with each account's current features: what
    /// [`Sentinel::risks`](crate::Sentinel::risks) scores.
    pub fn take_dirty_features(&mut self) -> Vec<(Address, RawFeatures)> {
        self.take_dirty()
            .into_iter()
            .map(|a| (a, self.features(&a)))
            .collect()
    }

    /// Records a contract created by a finalized creation (its address comes from the
    /// receipt), so later transfers to it count as sent to a contract.
    pub fn note_contract(&mut self, a: Address) {
        self.contracts.insert(a);
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
