//! Deterministic simulations of a 4-validator Verai network: the real node (execution,
//! QMDB, redb index, pool, gossip, genesis handshake) on Commonware's deterministic runtime
//! and simulated p2p network, seeded and bounded in virtual time.
//!
//! Each scenario runs over `VERAI_SIM_SEEDS` seeds (default: a few, to fit CI; set it to
//! thousands on demand), or over the one seed in `VERAI_SIM_SEED` to replay a failure. A
//! failing run prints its seed and the command that replays it.
//!
//! Invariants checked after every run:
//! - safety: at every height, all nodes that have it hold the same block (hash, so the same
//!   state root) and no node halted on a state-root mismatch;
//! - every accepted transaction is in exactly one finalized block;
//! - liveness where the scenario allows it: all nodes reach the target height.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use alloy_primitives::{Address, B256};
use alloy_signer_local::PrivateKeySigner;
use commonware_cryptography::{Signer as _, ed25519};
use commonware_p2p::simulated::{self, Link, Network, Oracle};
use commonware_runtime::{
    Clock as _, Handle, Runner as _, Spawner as _, Supervisor as _, deterministic,
};
use commonware_utils::{NZUsize, probability};
use rand::{RngExt as _, SeedableRng as _, rngs::StdRng};
use std::{
    collections::{BTreeMap, HashSet},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};
use verai_consensus::{
    Channels, Timeouts,
    network::{channel_quotas, node_channel_quotas},
};
use verai_mempool::PoolConfig;
use verai_node::{ChainConfig, Core, CoreConfig, NodeNetwork, ProducerConfig, start_core};
use verai_primitives::{ChainSpec, dev_signers};

const N: usize = 4;
type Ctx = deterministic::Context;
type Sim = Oracle<ed25519::PublicKey, Ctx>;

/// Where a running node's task publishes its core once started.
type Slot = Arc<Mutex<Option<Core<Ctx>>>>;

/// One simulated validator: its key, storage, and (while running) its task and core.
struct Node {
    signer: ed25519::PrivateKey,
    datadir: PathBuf,
    partition: String,
    running: Option<(Handle<()>, Slot)>,
}

/// A simulated network of [`N`] validators.
struct Net {
    oracle: Sim,
    nodes: Vec<Node>,
    keys: Vec<ed25519::PublicKey>,
    accounts: Vec<PrivateKeySigner>,
    nonces: Vec<u64>,
    accepted: Vec<B256>,
    /// Which node each accepted transaction was submitted to.
    submitted_to: Vec<usize>,
    /// Accepted by a node that crashed before including it: it may be lost with that
    /// node's memory-only pool (as in any Ethereum client) if it was not gossiped yet.
    at_risk: HashSet<B256>,
    rng: StdRng,
}

/// A link with `success_pct` percent of messages delivered.
fn link(latency_ms: u64, jitter_ms: u64, success_pct: u64) -> Link {
    Link {
        latency: Duration::from_millis(latency_ms),
        jitter: Duration::from_millis(jitter_ms),
        success_rate: probability!(success_pct, 100u64),
    }
}

impl Net {
    async fn new(context: &Ctx, dir: &std::path::Path, seed: u64, links: Link) -> Self {
        let signers: Vec<_> = (0..N as u64)
            .map(|i| ed25519::PrivateKey::from_seed(1000 + i))
            .collect();
        let keys: Vec<_> = signers.iter().map(|s| s.public_key()).collect();
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: 8 * 1024 * 1024,
                max_peers_per_set: NZUsize!(N),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
            keys.clone(),
        )
        .await;
        network.start();
        let net = Self {
            oracle,
            nodes: signers
                .into_iter()
                .enumerate()
                .map(|(i, signer)| Node {
                    signer,
                    datadir: dir.join(format!("node-{i}")),
                    partition: format!("node-{i}"),
                    running: None,
                })
                .collect(),
            keys,
            accounts: accounts(),
            nonces: vec![0; 10],
            accepted: Vec::new(),
            submitted_to: Vec::new(),
            at_risk: HashSet::new(),
            rng: StdRng::seed_from_u64(seed),
        };
        net.set_links(
            &(0..N).collect::<Vec<_>>(),
            &(0..N).collect::<Vec<_>>(),
            Some(links),
        )
        .await;
        net
    }

    /// Set (or with `None`, cut) the links from every node of `from` to every node of `to`.
    async fn set_links(&self, from: &[usize], to: &[usize], link: Option<Link>) {
        for &a in from {
            for &b in to {
                if a == b {
                    continue;
                }
                let (ka, kb) = (self.keys[a].clone(), self.keys[b].clone());
                let _ = self.oracle.remove_link(ka.clone(), kb.clone()).await;
                if let Some(l) = &link {
                    self.oracle.add_link(ka, kb, l.clone()).await.unwrap();
                }
            }
        }
    }

    /// Start node `i` (again, after a crash: same key, partition and data directory).
    async fn start(&mut self, context: &Ctx, i: usize) {
        let control = self.oracle.control(self.keys[i].clone());
        let mut pairs = Vec::new();
        for (channel, quota) in channel_quotas().into_iter().chain(node_channel_quotas()) {
            pairs.push(control.register(channel, quota).await.unwrap());
        }
        let mut pairs = pairs.into_iter();
        let mut next = || pairs.next().unwrap();
        let network = NodeNetwork {
            channels: Channels {
                votes: next(),
                certificates: next(),
                resolver: next(),
                broadcast: next(),
                backfill: next(),
            },
            hello: next(),
            txs: next(),
            blocker: control.clone(),
            peer_provider: self.oracle.manager(),
        };
        let spec = ChainSpec::dev();
        let config = CoreConfig {
            chain: ChainConfig {
                datadir: self.nodes[i].datadir.clone(),
                pool: PoolConfig::new(spec.chain_id, spec.gas_limit),
                spec,
                producer: ProducerConfig {
                    // Empty blocks keep heights moving so that liveness is visible.
                    block_time: Some(Duration::from_secs(1)),
                    ..Default::default()
                },
                partition: self.nodes[i].partition.clone(),
            },
            signer: self.nodes[i].signer.clone(),
            validators: self.keys.clone(),
            timeouts: Timeouts::network(),
        };
        let slot: Slot = Arc::new(Mutex::new(None));
        let handle = context.child("node").with_attribute("index", i).spawn({
            let slot = slot.clone();
            move |ctx| async move {
                let core = start_core(ctx, config, network).await.expect("node starts");
                *slot.lock().unwrap() = Some(core);
                futures::future::pending::<()>().await;
            }
        });
        self.nodes[i].running = Some((handle, slot));
    }

    /// Kill node `i` at once: its tasks stop wherever they are.
    fn crash(&mut self, i: usize) {
        let finalized: HashSet<B256> = self
            .running()
            .into_iter()
            .flat_map(|j| included(&self.core(j).unwrap()))
            .collect();
        for (hash, node) in self.accepted.iter().zip(&self.submitted_to) {
            if *node == i && !finalized.contains(hash) {
                self.at_risk.insert(*hash);
            }
        }
        if let Some((handle, slot)) = self.nodes[i].running.take() {
            handle.abort();
            slot.lock().unwrap().take();
        }
    }

    fn core(&self, i: usize) -> Option<Core<Ctx>> {
        let (_, slot) = self.nodes[i].running.as_ref()?;
        slot.lock().unwrap().clone()
    }

    fn running(&self) -> Vec<usize> {
        (0..N).filter(|&i| self.core(i).is_some()).collect()
    }

    /// Submit `count` transfers, each to a random running node among `to`.
    fn submit(&mut self, count: usize, to: &[usize]) {
        let live: Vec<usize> = to
            .iter()
            .copied()
            .filter(|&i| self.core(i).is_some())
            .collect();
        assert!(!live.is_empty(), "no running node to submit to");
        for _ in 0..count {
            let a = self.rng.random_range(0..self.accounts.len());
            let node = live[self.rng.random_range(0..live.len())];
            let raw = support::sign_with(
                &self.accounts[a],
                1337,
                self.nonces[a],
                Some(Address::repeat_byte(0x42)),
                1,
                vec![],
                21_000,
            );
            if let Ok(hash) = self.core(node).unwrap().submit_raw(&raw) {
                self.nonces[a] += 1;
                self.accepted.push(hash);
                self.submitted_to.push(node);
            }
        }
    }

    fn min_height(&self, among: &[usize]) -> u64 {
        among
            .iter()
            .filter_map(|&i| self.core(i).map(|c| c.latest()))
            .min()
            .unwrap_or(0)
    }

    /// Wait (virtual time) until every node of `among` reaches `height`; false on timeout.
    async fn wait_height(
        &self,
        context: &Ctx,
        among: &[usize],
        height: u64,
        limit: Duration,
    ) -> bool {
        let deadline = context.current() + limit;
        while context.current() < deadline {
            if among
                .iter()
                .all(|&i| self.core(i).is_some_and(|c| c.latest() >= height))
            {
                return true;
            }
            context.sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// Wait until every accepted transaction is finalized on every node of `among`.
    async fn wait_included(&self, context: &Ctx, among: &[usize], limit: Duration) -> bool {
        let deadline = context.current() + limit;
        while context.current() < deadline {
            if among.iter().all(|&i| {
                self.core(i).is_some_and(|c| {
                    let inc: HashSet<B256> = included(&c).into_iter().collect();
                    self.accepted
                        .iter()
                        .all(|t| inc.contains(t) || self.at_risk.contains(t))
                })
            }) {
                return true;
            }
            context.sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Safety: same block at every height on every running node, no halted node, and every
    /// finalized transaction accepted exactly once.
    fn check_safety(&self) {
        let mut by_height: BTreeMap<u64, B256> = BTreeMap::new();
        for i in self.running() {
            let core = self.core(i).unwrap();
            assert!(!core.halted(), "node {i} halted on a finalized block");
            for h in 0..=core.latest() {
                let block = core
                    .block(h)
                    .unwrap()
                    .expect("finalized block in the index");
                let hash = block.hash();
                let seen = by_height.entry(h).or_insert(hash);
                assert_eq!(*seen, hash, "node {i} disagrees at height {h}");
            }
            let txs = included(&core);
            let unique: HashSet<_> = txs.iter().collect();
            assert_eq!(
                unique.len(),
                txs.len(),
                "a transaction is finalized twice on node {i}"
            );
            let accepted: HashSet<_> = self.accepted.iter().collect();
            for t in &txs {
                assert!(
                    accepted.contains(t),
                    "node {i} finalized a transaction never accepted"
                );
            }
        }
    }

    /// Every accepted transaction is finalized, except those lost with a crashed pool.
    fn check_all_included(&self) {
        for i in self.running() {
            let included: HashSet<_> = included(&self.core(i).unwrap()).into_iter().collect();
            let missing: Vec<_> = self
                .accepted
                .iter()
                .filter(|t| !included.contains(*t) && !self.at_risk.contains(*t))
                .collect();
            assert!(
                missing.is_empty(),
                "node {i} is missing accepted transactions {missing:?}"
            );
        }
    }

    /// Stop every node and drop their handles (no runtime context may outlive the run).
    fn stop_all(&mut self) {
        for i in 0..N {
            self.crash(i);
        }
    }
}

fn accounts() -> Vec<PrivateKeySigner> {
    static ACCOUNTS: std::sync::OnceLock<Vec<PrivateKeySigner>> = std::sync::OnceLock::new();
    ACCOUNTS.get_or_init(|| dev_signers(10)).clone()
}

/// Hashes of every transaction finalized on `core`, in order.
fn included(core: &Core<Ctx>) -> Vec<B256> {
    (1..=core.latest())
        .flat_map(|h| {
            core.block(h)
                .unwrap()
                .map(|b| {
                    b.transactions
                        .iter()
                        .map(|t| *t.tx_hash())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .collect()
}

/// Run `scenario` for each seed of the environment; print a failing seed with its replay.
fn for_seeds(name: &str, default_seeds: u64, scenario: fn(u64)) {
    let seeds: Vec<u64> = match std::env::var("VERAI_SIM_SEED") {
        Ok(s) => vec![s.parse().expect("VERAI_SIM_SEED is a number")],
        Err(_) => {
            let n = std::env::var("VERAI_SIM_SEEDS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(default_seeds);
            (0..n).collect()
        }
    };
    for seed in seeds {
        let result = std::panic::catch_unwind(|| scenario(seed));
        if let Err(e) = result {
            eprintln!(
                "scenario {name} FAILED with seed {seed}; replay: VERAI_SIM_SEED={seed} cargo nextest run -p verai-node --test simulation {name}"
            );
            std::panic::resume_unwind(e);
        }
    }
}

/// Run `f` on a fresh deterministic runtime seeded with `seed`, bounded in virtual time.
fn simulate<F, Fut>(seed: u64, f: F)
where
    F: FnOnce(Ctx, PathBuf) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let config = deterministic::Config::new()
        .with_seed(seed)
        .with_timeout(Some(Duration::from_secs(600)));
    deterministic::Runner::new(config).start(|context| f(context, path));
}

fn all() -> Vec<usize> {
    (0..N).collect()
}

#[test]
fn healthy_network_agrees_at_every_height() {
    for_seeds("healthy_network_agrees_at_every_height", 3, |seed| {
        simulate(seed, |context, dir| async move {
            let mut net = Net::new(&context, &dir, seed, link(10, 3, 100)).await;
            for i in 0..N {
                net.start(&context, i).await;
            }
            assert!(
                net.wait_height(&context, &all(), 1, Duration::from_secs(30))
                    .await
            );
            for _ in 0..5 {
                net.submit(20, &all());
                context.sleep(Duration::from_millis(300)).await;
            }
            assert!(
                net.wait_included(&context, &all(), Duration::from_secs(60))
                    .await,
                "transactions not finalized"
            );
            net.check_safety();
            net.check_all_included();
            net.stop_all();
        });
    });
}

#[test]
fn one_crashed_validator_does_not_stop_the_others() {
    for_seeds(
        "one_crashed_validator_does_not_stop_the_others",
        3,
        |seed| {
            simulate(seed, |context, dir| async move {
                let mut net = Net::new(&context, &dir, seed, link(10, 3, 100)).await;
                for i in 0..N {
                    net.start(&context, i).await;
                }
                assert!(
                    net.wait_height(&context, &all(), 2, Duration::from_secs(30))
                        .await
                );
                let victim = (seed % N as u64) as usize;
                net.crash(victim);
                let rest: Vec<usize> = all().into_iter().filter(|&i| i != victim).collect();
                let h = net.min_height(&rest);
                net.submit(30, &rest);
                assert!(
                    net.wait_height(&context, &rest, h + 5, Duration::from_secs(60))
                        .await,
                    "three validators stopped finalizing"
                );
                assert!(
                    net.wait_included(&context, &rest, Duration::from_secs(60))
                        .await
                );
                net.check_safety();
                net.check_all_included();
                net.stop_all();
            });
        },
    );
}

#[test]
fn crashed_validator_restarts_from_storage_and_catches_up() {
    for_seeds(
        "crashed_validator_restarts_from_storage_and_catches_up",
        2,
        |seed| {
            simulate(seed, |context, dir| async move {
                let mut net = Net::new(&context, &dir, seed, link(10, 3, 100)).await;
                for i in 0..N {
                    net.start(&context, i).await;
                }
                net.submit(20, &all());
                assert!(
                    net.wait_height(&context, &all(), 3, Duration::from_secs(30))
                        .await
                );
                // Crash in the middle of work: transactions are in flight.
                let victim = (seed % N as u64) as usize;
                net.submit(20, &all());
                let jitter = net.rng.random_range(0..200);
                context.sleep(Duration::from_millis(jitter)).await;
                net.crash(victim);
                let rest: Vec<usize> = all().into_iter().filter(|&i| i != victim).collect();
                net.submit(20, &rest);
                let h = net.min_height(&rest) + 8;
                assert!(
                    net.wait_height(&context, &rest, h, Duration::from_secs(60))
                        .await
                );
                net.start(&context, victim).await;
                assert!(
                    net.wait_height(&context, &all(), h + 2, Duration::from_secs(120))
                        .await,
                    "restarted validator did not catch up"
                );
                assert!(
                    net.wait_included(&context, &all(), Duration::from_secs(60))
                        .await
                );
                net.check_safety();
                net.check_all_included();
                net.stop_all();
            });
        },
    );
}

#[test]
fn partition_two_two_halts_safely_and_heals() {
    for_seeds("partition_two_two_halts_safely_and_heals", 2, |seed| {
        simulate(seed, |context, dir| async move {
            let healthy = link(10, 3, 100);
            let mut net = Net::new(&context, &dir, seed, healthy.clone()).await;
            for i in 0..N {
                net.start(&context, i).await;
            }
            assert!(
                net.wait_height(&context, &all(), 2, Duration::from_secs(30))
                    .await
            );
            let (left, right) = ([0, 1], [2, 3]);
            net.set_links(&left, &right, None).await;
            net.set_links(&right, &left, None).await;
            // Let in-flight views settle, then nothing may finalize on either side.
            context.sleep(Duration::from_secs(3)).await;
            let before: Vec<u64> = all()
                .iter()
                .map(|&i| net.core(i).unwrap().latest())
                .collect();
            net.submit(10, &left);
            net.submit(10, &right);
            context.sleep(Duration::from_secs(20)).await;
            let during: Vec<u64> = all()
                .iter()
                .map(|&i| net.core(i).unwrap().latest())
                .collect();
            assert_eq!(before, during, "a minority side finalized a block");
            net.check_safety();
            net.set_links(&left, &right, Some(healthy.clone())).await;
            net.set_links(&right, &left, Some(healthy)).await;
            let top = *during.iter().max().unwrap();
            assert!(
                net.wait_height(&context, &all(), top + 3, Duration::from_secs(120))
                    .await,
                "no progress after healing"
            );
            assert!(
                net.wait_included(&context, &all(), Duration::from_secs(60))
                    .await
            );
            net.check_safety();
            net.check_all_included();
            net.stop_all();
        });
    });
}

#[test]
fn slow_lossy_links_stay_safe_and_live() {
    for_seeds("slow_lossy_links_stay_safe_and_live", 2, |seed| {
        simulate(seed, |context, dir| async move {
            // 80-200 ms links that drop a fifth of the messages.
            let mut net = Net::new(&context, &dir, seed, link(140, 60, 80)).await;
            for i in 0..N {
                net.start(&context, i).await;
            }
            assert!(
                net.wait_height(&context, &all(), 1, Duration::from_secs(120))
                    .await,
                "lossy network did not start"
            );
            for _ in 0..4 {
                net.submit(10, &all());
                context.sleep(Duration::from_secs(1)).await;
            }
            assert!(
                net.wait_included(&context, &all(), Duration::from_secs(240))
                    .await,
                "lossy network did not finalize the transactions"
            );
            net.check_safety();
            net.check_all_included();
            net.stop_all();
        });
    });
}

#[test]
fn whole_network_power_loss_recovers_from_storage() {
    for_seeds(
        "whole_network_power_loss_recovers_from_storage",
        1,
        |seed| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().to_path_buf();
            let config = deterministic::Config::new()
                .with_seed(seed)
                .with_timeout(Some(Duration::from_secs(600)));
            // Run, then crash every node at once (unsynced writes resolved by the runtime).
            let (before, checkpoint) = deterministic::Runner::new(config).start_and_recover({
                let path = path.clone();
                |context| async move {
                    let mut net = Net::new(&context, &path, seed, link(10, 3, 100)).await;
                    for i in 0..N {
                        net.start(&context, i).await;
                    }
                    net.submit(40, &all());
                    assert!(
                        net.wait_included(&context, &all(), Duration::from_secs(60))
                            .await
                    );
                    net.check_safety();
                    let blocks: Vec<B256> = {
                        let core = net.core(0).unwrap();
                        (0..=core.latest())
                            .map(|h| core.block(h).unwrap().unwrap().hash())
                            .collect()
                    };
                    let accepted = net.accepted.clone();
                    net.stop_all();
                    (blocks, accepted)
                }
            });
            deterministic::Runner::from(checkpoint).start(|context| async move {
                let mut net = Net::new(&context, &path, seed + 1, link(10, 3, 100)).await;
                net.accepted = before.1.clone();
                // Dev accounts continue from their stored nonces.
                for i in 0..N {
                    net.start(&context, i).await;
                }
                let target = before.0.len() as u64 + 2;
                assert!(
                    net.wait_height(&context, &all(), target, Duration::from_secs(120))
                        .await,
                    "network did not resume after the crash"
                );
                let core = net.core(0).unwrap();
                for (h, hash) in before.0.iter().enumerate() {
                    assert_eq!(
                        core.block(h as u64).unwrap().unwrap().hash(),
                        *hash,
                        "history changed"
                    );
                }
                for (a, s) in net.accounts.iter().enumerate() {
                    net.nonces[a] = core.account(&s.address()).unwrap().nonce;
                }
                drop(core);
                net.submit(10, &all());
                assert!(
                    net.wait_included(&context, &all(), Duration::from_secs(60))
                        .await
                );
                net.check_safety();
                net.check_all_included();
                net.stop_all();
            });
            drop(dir);
        },
    );
}

/// In-block inference on four validators: two models registered, then inferences on each
/// through random nodes. Every validator runs every model inside block execution; the
/// blocks (and so the state roots and receipts) must be identical everywhere.
#[test]
fn inference_is_identical_on_every_validator() {
    use alloy_sol_types::SolCall as _;
    use verai_inference_module::{ADDRESS, IInference};
    for_seeds("inference_is_identical_on_every_validator", 2, |seed| {
        let repo = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
            .join("../..");
        let models: Vec<Vec<u8>> = ["models/demand_forecast.onnx", "models/cnn_small.onnx"]
            .iter()
            .map(|m| std::fs::read(repo.join(m)).unwrap())
            .collect();
        simulate(seed, |context, dir| async move {
            let mut net = Net::new(&context, &dir, seed, link(10, 3, 100)).await;
            for i in 0..N {
                net.start(&context, i).await;
            }
            assert!(
                net.wait_height(&context, &all(), 1, Duration::from_secs(30))
                    .await
            );
            let send = |net: &mut Net, account: usize, node: usize, input: Vec<u8>| {
                let raw = support::sign_with(
                    &net.accounts[account],
                    1337,
                    net.nonces[account],
                    Some(ADDRESS),
                    0,
                    input,
                    8_000_000,
                );
                let hash = net.core(node).unwrap().submit_raw(&raw).unwrap();
                net.nonces[account] += 1;
                net.accepted.push(hash);
                net.submitted_to.push(node);
            };
            for (i, onnx) in models.iter().enumerate() {
                let call = IInference::registerModelCall {
                    onnx: onnx.clone().into(),
                    uri: String::new(),
                    license: "MIT".into(),
                    parents: vec![],
                };
                send(&mut net, i, i, call.abi_encode());
            }
            assert!(
                net.wait_included(&context, &all(), Duration::from_secs(60))
                    .await
            );
            // Models 1 and 2 (provenance ids, in submission order per sender): 8 and 256
            // inputs.
            for k in 0..12u32 {
                let (model, len) = if k % 2 == 0 { (1u64, 8) } else { (2, 256) };
                let x: Vec<u8> = (0..len)
                    .flat_map(|j| ((j as f32 * 0.37 + k as f32).sin()).to_le_bytes())
                    .collect();
                let call = IInference::inferRawCall {
                    modelId: model,
                    input: x.into(),
                };
                let node = net.rng.random_range(0..N);
                send(&mut net, 2 + (k as usize % 6), node, call.abi_encode());
            }
            assert!(
                net.wait_included(&context, &all(), Duration::from_secs(60))
                    .await,
                "inferences not finalized"
            );
            net.check_safety();
            // Every transaction succeeded, on every node alike.
            let core = net.core(0).unwrap();
            let statuses: Vec<bool> = (1..=core.latest())
                .flat_map(|h| core.receipt_statuses(h).unwrap().unwrap())
                .collect();
            assert_eq!(statuses.len(), 14);
            assert!(statuses.iter().all(|s| *s), "{statuses:?}");
            net.stop_all();
        });
    });
}
