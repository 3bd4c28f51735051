//! A phishing scenario against a dev node running the sentinel, and what the sentinel made
//! of it.
//!
//! 1. **Normal users**, in rounds (each round's transactions finalized before the next, so
//!    the node's feature store and anomaly detector learn from them): dev accounts send
//!    log-uniform amounts (0.001 to 2 ether) to each other, to new addresses, and new
//!    addresses that were funded send on to others.
//! 2. **Phishing collector**: fresh "victim" addresses are funded by a dev account (normal
//!    transfers), each then sends about 90 % of its balance to one fresh collector address;
//!    once those are final, the collector sweeps everything to a fresh cash-out address.
//!
//! Then it reads the node's alerts, matches them to the transactions it sent and reports
//! the false-positive rate on normal traffic, what happened to the victims' transfers and
//! whether the sweep was alerted (and held) before inclusion. The keys of new addresses
//! come from the seed, so a run is reproducible up to block boundaries.

use crate::{
    Sender, WorkloadError,
    sender::{MAX_FEE, TRANSFER_GAS},
};
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use serde::Serialize;
use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};
use verai_client::{
    Client,
    api::{EthApiClient, SentinelApiClient},
    types::{Alert, AlertAction, AlertFilter},
};
use verai_primitives::{DEV_CHAIN_ID, dev_signers};

/// The scenario's size.
#[derive(Debug, Clone)]
pub struct Params {
    /// Normal transactions.
    pub normal: usize,
    /// Normal transactions per round (a round is finalized before the next starts).
    pub round: usize,
    /// Victims paying the phishing collector.
    pub victims: usize,
    /// Seed of amounts, choices and new keys.
    pub seed: u64,
}

const ETHER: u128 = 1_000_000_000_000_000_000;
/// How long a round may take to settle.
const SETTLE: Duration = Duration::from_secs(60);

/// Which part of the simulation a transaction belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Normal,
    Victim,
    Sweep,
}

/// Normal traffic as the sentinel saw it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NormalOutcome {
    /// Sent.
    pub sent: usize,
    /// Alerted (false positives).
    pub alerted: usize,
    /// Held.
    pub held: usize,
    /// Share alerted.
    pub false_positive_rate: f64,
}

/// The victims' payments as the sentinel saw them.
#[derive(Debug, Clone, Serialize)]
pub struct VictimOutcome {
    /// Sent.
    pub sent: usize,
    /// Alerted.
    pub alerted: usize,
    /// Held.
    pub held: usize,
}

/// The collector's sweep.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepOutcome {
    /// Whether a sweep was sent (not when every payment to the collector was held).
    pub sent: bool,
    /// The collector.
    pub from: Address,
    /// Why none was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The sweep.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx: Option<B256>,
    /// The cash-out address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Address>,
    /// What it moved, in wei.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<U256>,
    /// Whether the sweep raised an alert.
    pub alerted: bool,
    /// The alert's action.
    pub action: Option<AlertAction>,
    /// The finalized height when it was alerted.
    pub alert_block_number: Option<u64>,
    /// The alert's explanation.
    pub scores: Option<Box<serde_json::value::RawValue>>,
    /// Whether it is held out of blocks.
    pub held: bool,
    /// The block it was included in.
    pub included_in_block: Option<u64>,
    /// Whether the alert came before inclusion.
    pub alerted_before_inclusion: bool,
}

/// What the scenario found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Rounds of normal traffic.
    pub rounds: usize,
    /// Normal traffic.
    pub normal: NormalOutcome,
    /// The victims' payments.
    pub victims: VictimOutcome,
    /// The sweep.
    pub sweep: SweepOutcome,
}

struct Sim {
    sender: Sender,
    rng: u64,
    sent: Vec<(B256, Kind)>,
    /// Senders with a held transaction: their later nonces cannot be included.
    stuck: HashSet<Address>,
}

fn key(seed: u64, label: &str, i: usize) -> PrivateKeySigner {
    let h = keccak256(format!("verai-sentinel-simulate:{seed}:{label}:{i}"));
    // A keccak output is a valid secp256k1 key but for a 2^-128 chance: retry then.
    PrivateKeySigner::from_bytes(&h).unwrap_or_else(|_| key(seed, label, i + 1_000_000))
}

impl Sim {
    fn client(&self) -> &Client {
        &self.sender.client
    }

    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Log-uniform wei amount between 0.001 and 2 ether.
    fn amount(&mut self) -> U256 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        let ether = 0.001 * 2000f64.powf(u);
        U256::from((ether * 1e6) as u128) * U256::from(ETHER / 1_000_000)
    }

    async fn send(
        &mut self,
        from: &PrivateKeySigner,
        to: Address,
        value: U256,
        kind: Kind,
    ) -> Result<B256, WorkloadError> {
        let hash = self.sender.transfer(from, to, value).await?;
        self.sent.push((hash, kind));
        Ok(hash)
    }

    async fn held(&self) -> Result<HashSet<B256>, WorkloadError> {
        Ok(self
            .client()
            .get_held()
            .await?
            .into_iter()
            .map(|h| h.hash)
            .collect())
    }

    /// Wait until every hash has a receipt or is held, then until the sentinel has applied
    /// the highest block seen.
    async fn settle(&mut self, hashes: &[(B256, Address)]) -> Result<u64, WorkloadError> {
        let deadline = Instant::now() + SETTLE;
        let mut highest = 0u64;
        let mut open: Vec<(B256, Address)> = hashes.to_vec();
        while !open.is_empty() {
            let held = self.held().await.unwrap_or_default();
            let mut still = Vec::new();
            for (h, from) in open {
                if let Some(r) = self.client().get_transaction_receipt(h).await? {
                    highest = highest.max(r.block_number.unwrap_or_default());
                } else if held.contains(&h) {
                    self.stuck.insert(from);
                } else {
                    still.push((h, from));
                }
            }
            open = still;
            if !open.is_empty() {
                if Instant::now() > deadline {
                    return Err(WorkloadError::Stalled(open.len(), SETTLE.as_secs()));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // The sentinel applies a finalized block on its own thread: wait until it has.
        while highest > 0 && Instant::now() <= deadline {
            let s = self.client().sentinel_status().await?;
            if s.screen["height"].as_u64().unwrap_or(0) >= highest {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(highest)
    }

    /// Every alert raised since `started` (unix seconds).
    async fn alerts(&self, started: u64) -> Result<Vec<Alert>, WorkloadError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .client()
                .get_alerts(Some(AlertFilter {
                    from_time: Some(started),
                    cursor,
                    limit: Some(1000),
                    ..Default::default()
                }))
                .await?;
            all.extend(page.alerts);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(all),
            }
        }
    }

    /// The alerts matched to what the simulation sent.
    async fn tally(&self, started: u64) -> Result<(NormalOutcome, VictimOutcome), WorkloadError> {
        let kinds: HashMap<B256, Kind> = self.sent.iter().copied().collect();
        let mut alerted: HashMap<Kind, usize> = HashMap::new();
        let mut held: HashMap<Kind, usize> = HashMap::new();
        for a in self.alerts(started).await? {
            if let Some(k) = kinds.get(&a.tx_hash) {
                *alerted.entry(*k).or_default() += 1;
                if a.action == AlertAction::Hold {
                    *held.entry(*k).or_default() += 1;
                }
            }
        }
        let count = |k: Kind| self.sent.iter().filter(|(_, x)| *x == k).count();
        let get = |m: &HashMap<Kind, usize>, k| m.get(&k).copied().unwrap_or(0);
        let normal = count(Kind::Normal);
        let fp = get(&alerted, Kind::Normal);
        Ok((
            NormalOutcome {
                sent: normal,
                alerted: fp,
                held: get(&held, Kind::Normal),
                false_positive_rate: if normal == 0 {
                    0.0
                } else {
                    fp as f64 / normal as f64
                },
            },
            VictimOutcome {
                sent: count(Kind::Victim),
                alerted: get(&alerted, Kind::Victim),
                held: get(&held, Kind::Victim),
            },
        ))
    }
}

/// Run the scenario against the dev node `client` serves (it must run the sentinel).
pub async fn run(client: Client, p: &Params) -> Result<Report, WorkloadError> {
    let sender = Sender::new(client).await?;
    if sender.chain_id() != DEV_CHAIN_ID {
        return Err(WorkloadError::Unsuitable(format!(
            "the scenario drives the dev chain (chain id {DEV_CHAIN_ID}); this node is on {}",
            sender.chain_id()
        )));
    }
    if sender.client.sentinel_status().await.is_err() {
        return Err(WorkloadError::Unsuitable(
            "the node must run the sentinel (verai node --dev --sentinel MODEL)".into(),
        ));
    }
    let mut sim = Sim {
        sender,
        rng: p.seed,
        sent: Vec::new(),
        stuck: HashSet::new(),
    };
    let dev = dev_signers(10);
    let users: Vec<PrivateKeySigner> = dev[1..9].to_vec();
    let funder = dev[9].clone();
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());

    // 1. Normal users.
    let mut fresh: Vec<PrivateKeySigner> = Vec::new();
    let mut funded: Vec<PrivateKeySigner> = Vec::new();
    let mut done = 0usize;
    let mut rounds = 0usize;
    while done < p.normal {
        let mut batch = Vec::new();
        let mut senders_this_round = HashSet::new();
        for _ in 0..p.round.min(p.normal - done) {
            let pick = sim.below(10);
            let from = if pick < 2 && !funded.is_empty() {
                funded[sim.below(funded.len())].clone()
            } else {
                users[sim.below(users.len())].clone()
            };
            let is_new = funded.iter().any(|f| f.address() == from.address());
            // A fresh account sends once per round (its balance was checked as final).
            if sim.stuck.contains(&from.address())
                || !senders_this_round.insert(from.address()) && is_new
            {
                continue;
            }
            let r = sim.below(10);
            let to = if r < 6 {
                users[sim.below(users.len())].address()
            } else if r < 8 || funded.is_empty() {
                let k = key(p.seed, "user", fresh.len());
                let addr = k.address();
                fresh.push(k);
                addr
            } else {
                funded[sim.below(funded.len())].address()
            };
            let value = if is_new {
                // A new user spends part of what it holds.
                let b = sim.sender.balance(from.address()).await?;
                b / U256::from(4 + sim.below(4))
            } else {
                sim.amount()
            };
            let h = sim.send(&from, to, value, Kind::Normal).await?;
            batch.push((h, from.address()));
            done += 1;
        }
        sim.settle(&batch).await?;
        // Fresh addresses that received something become users.
        for k in fresh.drain(..) {
            if !sim.sender.balance(k.address()).await?.is_zero() {
                funded.push(k);
            }
        }
        rounds += 1;
    }

    // 2. The phishing collector.
    let collector = key(p.seed, "collector", 0);
    let cashout = key(p.seed, "cashout", 0).address();
    let victims: Vec<PrivateKeySigner> = (0..p.victims).map(|i| key(p.seed, "victim", i)).collect();
    let mut batch = Vec::new();
    for v in &victims {
        let value = U256::from(1 + sim.below(3)) * U256::from(ETHER);
        let h = sim.send(&funder, v.address(), value, Kind::Normal).await?;
        batch.push((h, funder.address()));
    }
    sim.settle(&batch).await?;
    let reserve = U256::from(u128::from(TRANSFER_GAS) * MAX_FEE);
    let mut batch = Vec::new();
    for v in &victims {
        let b = sim.sender.balance(v.address()).await?;
        if b <= reserve {
            // Its funding was held by the sentinel (counted among normal holds): nothing to pay.
            continue;
        }
        let value = b * U256::from(9) / U256::from(10);
        let h = sim
            .send(v, collector.address(), value, Kind::Victim)
            .await?;
        batch.push((h, v.address()));
    }
    sim.settle(&batch).await?;
    let pot = sim.sender.balance(collector.address()).await?;
    let sweep_value = pot.saturating_sub(reserve);
    if sweep_value.is_zero() {
        return without_sweep(&sim, started, rounds, collector.address()).await;
    }
    let sweep = sim
        .send(&collector, cashout, sweep_value, Kind::Sweep)
        .await?;
    // The sweep's alert (if any) is raised at admission; give the writer a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut sweep_alert = None;
    while Instant::now() < deadline && sweep_alert.is_none() {
        let page = sim
            .client()
            .get_alerts(Some(AlertFilter {
                address: Some(collector.address()),
                limit: Some(1000),
                ..Default::default()
            }))
            .await?;
        sweep_alert = page.alerts.into_iter().find(|a| a.tx_hash == sweep);
        if sweep_alert.is_none() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let sweep_held = sim.held().await?.contains(&sweep);
    // Let a sweep that is not held land, to report its block.
    let mut included = None;
    if !sweep_held {
        sim.settle(&[(sweep, collector.address())]).await?;
        included = sim
            .client()
            .get_transaction_receipt(sweep)
            .await?
            .and_then(|r| r.block_number);
    }
    let (normal, victims) = sim.tally(started).await?;
    let alert_block = sweep_alert.as_ref().map(|a| a.block_number);
    Ok(Report {
        rounds,
        normal,
        victims,
        sweep: SweepOutcome {
            sent: true,
            from: collector.address(),
            reason: None,
            tx: Some(sweep),
            to: Some(cashout),
            value: Some(sweep_value),
            held: sweep_held,
            included_in_block: included,
            alerted_before_inclusion: alert_block.is_some_and(|a| included.is_none_or(|b| a < b)),
            alerted: sweep_alert.is_some(),
            action: sweep_alert.as_ref().map(|a| a.action),
            alert_block_number: alert_block,
            scores: sweep_alert.and_then(|a| a.scores),
        },
    })
}

/// The report when the collector received nothing (every victim's payment held): no sweep.
async fn without_sweep(
    sim: &Sim,
    started: u64,
    rounds: usize,
    collector: Address,
) -> Result<Report, WorkloadError> {
    // Alerts are stored a little after admission (in batches): wait until every victim's
    // payment the pool holds has its alert, or 5 s.
    let victims: HashSet<B256> = sim
        .sent
        .iter()
        .filter(|(_, k)| *k == Kind::Victim)
        .map(|(h, _)| *h)
        .collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    let (normal, victim) = loop {
        let in_pool = sim.held().await?.intersection(&victims).count();
        let t = sim.tally(started).await?;
        if t.1.held >= in_pool || Instant::now() > deadline {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    Ok(Report {
        rounds,
        normal,
        victims: victim,
        sweep: SweepOutcome {
            sent: false,
            from: collector,
            reason: Some("the collector received nothing: every victim's payment was held".into()),
            tx: None,
            to: None,
            value: None,
            alerted: false,
            action: None,
            alert_block_number: None,
            scores: None,
            held: false,
            included_in_block: None,
            alerted_before_inclusion: false,
        },
    })
}
