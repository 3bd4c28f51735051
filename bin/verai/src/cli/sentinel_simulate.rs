//! `verai sentinel simulate`: drive a dev node running the sentinel with labelled traffic
//! and report what the sentinel made of it.
//!
//! 1. **Normal users**, in rounds (each round's transactions finalized before the next, so
//!    the node's feature store and anomaly detector learn from them): dev accounts send
//!    log-uniform amounts (0.001 to 2 ether) to each other, to new addresses, and new
//!    addresses that were funded send on to others.
//! 2. **Phishing collector**: fresh "victim" addresses are funded by a dev account (normal
//!    transfers), each then sends about 90 % of its balance to one fresh collector address;
//!    once those are final, the collector sweeps everything to a fresh cash-out address.
//!
//! Then it reads the node's alerts, matches them to the transactions it sent and prints the
//! false-positive rate on normal traffic, what happened to the victims' transfers and
//! whether the sweep was alerted (and held) before inclusion. The sender keys of new
//! addresses come from `--seed`, so a run is reproducible up to block boundaries.

use super::client::{RpcArgs, call, chain_id, connect};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use clap::Args;
use eyre::{WrapErr, bail};
use jsonrpsee::{http_client::HttpClient, rpc_params};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use verai_primitives::{DEV_CHAIN_ID, dev_signers};

/// `verai sentinel simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    /// Normal transactions.
    #[arg(long, default_value_t = 200)]
    normal: usize,
    /// Normal transactions per round (a round is finalized before the next starts).
    #[arg(long, default_value_t = 10)]
    round: usize,
    /// Victims paying the phishing collector.
    #[arg(long, default_value_t = 20)]
    victims: usize,
    /// Seed of amounts, choices and new keys.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

const GAS: u64 = 21_000;
const MAX_FEE: u128 = 10_000_000_000;
const TIP: u128 = 1_000_000_000;
const ETHER: u128 = 1_000_000_000_000_000_000;

/// Which part of the simulation a transaction belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Normal,
    Victim,
    Sweep,
}

struct Sim {
    client: HttpClient,
    rpc: String,
    chain: u64,
    rng: u64,
    nonces: HashMap<Address, u64>,
    sent: Vec<(B256, Kind)>,
    /// Senders with a held transaction: their later nonces cannot be included.
    stuck: HashSet<Address>,
}

impl Sim {
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

    async fn nonce(&mut self, a: Address) -> eyre::Result<u64> {
        if let Some(n) = self.nonces.get(&a) {
            return Ok(*n);
        }
        let n: alloy_primitives::U64 = call(
            &self.client,
            &self.rpc,
            "eth_getTransactionCount",
            rpc_params![a, "pending"],
        )
        .await?;
        Ok(n.to::<u64>())
    }

    async fn balance(&self, a: Address) -> eyre::Result<U256> {
        call(
            &self.client,
            &self.rpc,
            "eth_getBalance",
            rpc_params![a, "latest"],
        )
        .await
    }

    async fn send(
        &mut self,
        from: &PrivateKeySigner,
        to: Address,
        value: U256,
        kind: Kind,
    ) -> eyre::Result<B256> {
        let nonce = self.nonce(from.address()).await?;
        let tx = TxEip1559 {
            chain_id: self.chain,
            nonce,
            gas_limit: GAS,
            max_fee_per_gas: MAX_FEE,
            max_priority_fee_per_gas: TIP,
            to: TxKind::Call(to),
            value,
            ..Default::default()
        };
        let sig = from.sign_hash_sync(&tx.signature_hash())?;
        let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
        let raw = format!("0x{}", hex::encode(raw));
        let hash: B256 = call(
            &self.client,
            &self.rpc,
            "eth_sendRawTransaction",
            rpc_params![raw],
        )
        .await?;
        self.nonces.insert(from.address(), nonce + 1);
        self.sent.push((hash, kind));
        Ok(hash)
    }

    /// Wait until every hash has a receipt or is held; returns the highest block seen.
    async fn settle(&mut self, hashes: &[(B256, Address)]) -> eyre::Result<u64> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut highest = 0u64;
        let mut open: Vec<(B256, Address)> = hashes.to_vec();
        while !open.is_empty() {
            let held: Vec<Value> = call(&self.client, &self.rpc, "verai_getHeld", rpc_params![])
                .await
                .unwrap_or_default();
            let held: HashSet<String> = held
                .iter()
                .filter_map(|h| h["hash"].as_str().map(str::to_lowercase))
                .collect();
            let mut still = Vec::new();
            for (h, from) in open {
                let r: Value = call(
                    &self.client,
                    &self.rpc,
                    "eth_getTransactionReceipt",
                    rpc_params![h],
                )
                .await?;
                if let Some(n) = r["blockNumber"].as_str() {
                    highest = highest.max(u64::from_str_radix(n.trim_start_matches("0x"), 16)?);
                } else if held.contains(&format!("{h:#x}")) {
                    self.stuck.insert(from);
                } else {
                    still.push((h, from));
                }
            }
            open = still;
            if !open.is_empty() {
                if Instant::now() > deadline {
                    bail!(
                        "{} transactions neither included nor held after 60 s",
                        open.len()
                    );
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // The sentinel applies a finalized block on its own thread: wait until it has.
        while highest > 0 && Instant::now() <= deadline {
            let s: Value = call(
                &self.client,
                &self.rpc,
                "verai_sentinelStatus",
                rpc_params![],
            )
            .await?;
            if s["screen"]["height"].as_u64().unwrap_or(0) >= highest {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(highest)
    }
}

fn key(seed: u64, label: &str, i: usize) -> eyre::Result<PrivateKeySigner> {
    let h = keccak256(format!("verai-sentinel-simulate:{seed}:{label}:{i}"));
    PrivateKeySigner::from_bytes(&h).wrap_err("deriving a simulation key")
}

pub async fn run(a: SimulateArgs) -> eyre::Result<()> {
    let client = connect(&a.rpc.rpc)?;
    let chain = chain_id(&client, &a.rpc.rpc).await?;
    if chain != DEV_CHAIN_ID {
        bail!("simulate drives the dev chain (chain id {DEV_CHAIN_ID}); this node is on {chain}");
    }
    let _: Value = call(&client, &a.rpc.rpc, "verai_sentinelStatus", rpc_params![])
        .await
        .wrap_err("the node must run the sentinel (verai node --dev --sentinel MODEL)")?;
    let mut sim = Sim {
        client,
        rpc: a.rpc.rpc.clone(),
        chain,
        rng: a.seed,
        nonces: HashMap::new(),
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
    let mut round_no = 0usize;
    while done < a.normal {
        let mut batch = Vec::new();
        let mut senders_this_round = HashSet::new();
        for _ in 0..a.round.min(a.normal - done) {
            let pick = sim.below(10);
            let from = if pick < 2 && !funded.is_empty() {
                funded[sim.below(funded.len())].clone()
            } else {
                users[sim.below(users.len())].clone()
            };
            // A fresh account sends once per round (its balance was checked as final).
            if sim.stuck.contains(&from.address())
                || !senders_this_round.insert(from.address())
                    && funded.iter().any(|f| f.address() == from.address())
            {
                continue;
            }
            let r = sim.below(10);
            let to = if r < 6 {
                users[sim.below(users.len())].address()
            } else if r < 8 || funded.is_empty() {
                let k = key(a.seed, "user", fresh.len())?;
                let addr = k.address();
                fresh.push(k);
                addr
            } else {
                funded[sim.below(funded.len())].address()
            };
            let value = if funded.iter().any(|f| f.address() == from.address()) {
                // A new user spends part of what it holds.
                let b = sim.balance(from.address()).await?;
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
            if !sim.balance(k.address()).await?.is_zero() {
                funded.push(k);
            }
        }
        round_no += 1;
    }

    // 2. The phishing collector.
    let collector = key(a.seed, "collector", 0)?;
    let cashout = key(a.seed, "cashout", 0)?.address();
    let victims: Vec<PrivateKeySigner> = (0..a.victims)
        .map(|i| key(a.seed, "victim", i))
        .collect::<eyre::Result<_>>()?;
    let mut batch = Vec::new();
    for v in &victims {
        let value = U256::from(1 + sim.below(3)) * U256::from(ETHER);
        let h = sim.send(&funder, v.address(), value, Kind::Normal).await?;
        batch.push((h, funder.address()));
    }
    sim.settle(&batch).await?;
    let reserve = U256::from(u128::from(GAS) * MAX_FEE);
    let mut batch = Vec::new();
    for v in &victims {
        let b = sim.balance(v.address()).await?;
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
    let pot = sim.balance(collector.address()).await?;
    let sweep_value = pot.saturating_sub(reserve);
    if sweep_value.is_zero() {
        // Every payment to the collector was held: there is nothing to sweep, and the fraud
        // stopped one step earlier. Reported as such (no sweep sent).
        return report_without_sweep(&a, &sim, started, round_no, collector.address()).await;
    }
    let sweep = sim
        .send(&collector, cashout, sweep_value, Kind::Sweep)
        .await?;
    // The sweep's alert (if any) is raised at admission; give the writer a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut sweep_alert = Value::Null;
    while Instant::now() < deadline {
        let page: Value = call(
            &sim.client,
            &sim.rpc,
            "verai_getAlerts",
            rpc_params![json!({ "address": collector.address(), "limit": 1000 })],
        )
        .await?;
        if let Some(al) = page["alerts"].as_array().and_then(|v| {
            v.iter()
                .find(|x| x["txHash"].as_str() == Some(&format!("{sweep:#x}")))
        }) {
            sweep_alert = al.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let held: Vec<Value> = call(&sim.client, &sim.rpc, "verai_getHeld", rpc_params![]).await?;
    let sweep_held = held
        .iter()
        .any(|h| h["hash"].as_str() == Some(&format!("{sweep:#x}")));
    // Let a non-held sweep land, to report its block.
    let mut sweep_block = None;
    if !sweep_held {
        sim.settle(&[(sweep, collector.address())]).await?;
        let r: Value = call(
            &sim.client,
            &sim.rpc,
            "eth_getTransactionReceipt",
            rpc_params![sweep],
        )
        .await?;
        sweep_block = r["blockNumber"]
            .as_str()
            .and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok());
    }

    // 3. Match the node's alerts to what was sent.
    let t = tally(&sim, started).await?;
    let sweep_alert_block = sweep_alert["blockNumber"].as_u64();
    let report = json!({
        "rounds": round_no,
        "normal": t.normal_json(),
        "victims": t.victims_json(),
        "sweep": {
            "sent": true,
            "tx": sweep,
            "from": collector.address(),
            "to": cashout,
            "value": sweep_value,
            "alerted": !sweep_alert.is_null(),
            "action": sweep_alert["action"],
            "held": sweep_held,
            "alertBlockNumber": sweep_alert_block,
            "includedInBlock": sweep_block,
            "alertedBeforeInclusion": sweep_alert_block.is_some() && sweep_block.is_none_or(|b| sweep_alert_block.is_some_and(|a| a < b)),
            "scores": sweep_alert["scores"],
        },
    });
    if a.rpc.json {
        println!("{report}");
    } else {
        t.print_normal();
        println!(
            "victims' payments to the collector: {} sent, {} alerted",
            t.victims, t.victims_alerted
        );
        if sweep_alert.is_null() {
            println!("sweep {sweep:#x}: NOT alerted");
        } else {
            println!(
                "sweep {sweep:#x}: {}",
                super::sentinel_alerts::line(&sweep_alert)
            );
        }
        match (sweep_held, sweep_block) {
            (true, _) => println!("sweep is held out of blocks"),
            (false, Some(b)) => println!("sweep included in block {b}"),
            (false, None) => println!("sweep not included yet"),
        }
    }
    Ok(())
}

/// The node's alerts matched to what the simulation sent.
struct Tally {
    normal: usize,
    fp: usize,
    normal_held: usize,
    victims: usize,
    victims_alerted: usize,
    victims_held: usize,
}

impl Tally {
    fn normal_json(&self) -> Value {
        json!({ "sent": self.normal, "alerted": self.fp, "held": self.normal_held, "falsePositiveRate": self.rate() })
    }

    /// Share of normal transactions alerted.
    fn rate(&self) -> f64 {
        if self.normal == 0 {
            0.0
        } else {
            self.fp as f64 / self.normal as f64
        }
    }

    fn print_normal(&self) {
        println!(
            "normal traffic: {} transactions, {} alerted: false-positive rate {:.2} %",
            self.normal,
            self.fp,
            self.rate() * 100.0
        );
    }

    fn victims_json(&self) -> Value {
        json!({ "sent": self.victims, "alerted": self.victims_alerted, "held": self.victims_held })
    }
}

async fn tally(sim: &Sim, started: u64) -> eyre::Result<Tally> {
    let kinds: HashMap<String, Kind> = sim
        .sent
        .iter()
        .map(|(h, k)| (format!("{h:#x}"), *k))
        .collect();
    let mut alerted: HashMap<Kind, usize> = HashMap::new();
    let mut held_by_kind: HashMap<Kind, usize> = HashMap::new();
    let mut cursor: Option<u64> = None;
    loop {
        let page: Value = call(
            &sim.client,
            &sim.rpc,
            "verai_getAlerts",
            rpc_params![json!({ "fromTime": started, "cursor": cursor, "limit": 1000 })],
        )
        .await?;
        for al in page["alerts"].as_array().into_iter().flatten() {
            if let Some(k) = al["txHash"].as_str().and_then(|h| kinds.get(h)) {
                *alerted.entry(*k).or_default() += 1;
                if al["action"] == "hold" {
                    *held_by_kind.entry(*k).or_default() += 1;
                }
            }
        }
        match page["nextCursor"].as_u64() {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let count = |k: Kind| sim.sent.iter().filter(|(_, x)| *x == k).count();
    let normal = count(Kind::Normal);
    let fp = alerted.get(&Kind::Normal).copied().unwrap_or(0);
    Ok(Tally {
        normal,
        fp,
        normal_held: held_by_kind.get(&Kind::Normal).copied().unwrap_or(0),
        victims: count(Kind::Victim),
        victims_alerted: alerted.get(&Kind::Victim).copied().unwrap_or(0),
        victims_held: held_by_kind.get(&Kind::Victim).copied().unwrap_or(0),
    })
}

/// The report when the collector received nothing (every victim's payment held): no sweep.
async fn report_without_sweep(
    a: &SimulateArgs,
    sim: &Sim,
    started: u64,
    rounds: usize,
    collector: Address,
) -> eyre::Result<()> {
    // Alerts are stored a little after admission (in batches): wait until every victim's
    // payment the pool holds has its alert, or 5 s.
    let victims: HashSet<String> = sim
        .sent
        .iter()
        .filter(|(_, k)| *k == Kind::Victim)
        .map(|(h, _)| format!("{h:#x}"))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    let t = loop {
        let held: Vec<Value> = call(&sim.client, &sim.rpc, "verai_getHeld", rpc_params![]).await?;
        let in_pool = held
            .iter()
            .filter_map(|h| h["hash"].as_str())
            .filter(|h| victims.contains(&h.to_lowercase()))
            .count();
        let t = tally(sim, started).await?;
        if t.victims_held >= in_pool || Instant::now() > deadline {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let report = json!({
        "rounds": rounds,
        "normal": t.normal_json(),
        "victims": t.victims_json(),
        "sweep": { "sent": false, "from": collector, "reason": "the collector received nothing: every victim's payment was held" },
    });
    if a.rpc.json {
        println!("{report}");
    } else {
        t.print_normal();
        println!(
            "victims' payments to the collector: {} sent, {} alerted, {} held: no sweep (the collector received nothing)",
            t.victims, t.victims_alerted, t.victims_held
        );
    }
    Ok(())
}
