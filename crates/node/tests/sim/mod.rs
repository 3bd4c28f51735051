//! The simulated 4-validator network shared by the simulation tests: the real node on
//! Commonware's deterministic runtime and simulated p2p network, seeded and bounded in
//! virtual time, with crash, restart, partition and invariant checks.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod tamper;
pub mod watch;

use super::support;
use alloy_primitives::{Address, B256};
use alloy_signer_local::PrivateKeySigner;
use commonware_cryptography::{Signer as _, ed25519};
use commonware_p2p::{
    Blocker, Provider, Receiver, Sender,
    simulated::{self, Link, Network, Oracle},
};
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

pub const N: usize = 4;
pub type Ctx = deterministic::Context;
pub type Sim = Oracle<ed25519::PublicKey, Ctx>;
pub type SimSender = simulated::Sender<ed25519::PublicKey, Ctx>;
pub type SimReceiver = simulated::Receiver<ed25519::PublicKey>;
/// A node's channels on the simulated network, as registered for it.
pub type SimNetwork = NodeNetwork<
    SimSender,
    SimReceiver,
    simulated::Control<ed25519::PublicKey, Ctx>,
    simulated::Manager<ed25519::PublicKey, Ctx>,
>;

/// Largest message on the simulated network, unless a scenario needs more.
pub const MAX_MESSAGE: u32 = 8 * 1024 * 1024;

/// Where a running node's task publishes its core once started.
pub type Slot = Arc<Mutex<Option<Core<Ctx>>>>;

/// One simulated validator: its key, storage, and (while running) its task and core.
pub struct Node {
    pub signer: ed25519::PrivateKey,
    pub datadir: PathBuf,
    pub partition: String,
    pub running: Option<(Handle<()>, Slot)>,
}

/// A simulated network of [`N`] validators.
pub struct Net {
    pub oracle: Sim,
    pub nodes: Vec<Node>,
    pub keys: Vec<ed25519::PublicKey>,
    pub accounts: Vec<PrivateKeySigner>,
    pub nonces: Vec<u64>,
    pub accepted: Vec<B256>,
    /// Which node each accepted transaction was submitted to.
    pub submitted_to: Vec<usize>,
    /// Accepted by a node that crashed before including it: it may be lost with that
    /// node's memory-only pool (as in any Ethereum client) if it was not gossiped yet.
    pub at_risk: HashSet<B256>,
    pub rng: StdRng,
    /// Pool settings of the nodes started from now on.
    pub pool: PoolConfig,
}

/// A link with `success_pct` percent of messages delivered.
pub fn link(latency_ms: u64, jitter_ms: u64, success_pct: u64) -> Link {
    Link {
        latency: Duration::from_millis(latency_ms),
        jitter: Duration::from_millis(jitter_ms),
        success_rate: probability!(success_pct, 100u64),
    }
}

impl Net {
    pub async fn new(context: &Ctx, dir: &std::path::Path, seed: u64, links: Link) -> Self {
        Self::with_max_message(context, dir, seed, links, MAX_MESSAGE).await
    }

    /// [`Net::new`] whose network carries messages up to `max_size` bytes.
    pub async fn with_max_message(
        context: &Ctx,
        dir: &std::path::Path,
        seed: u64,
        links: Link,
        max_size: u32,
    ) -> Self {
        let signers: Vec<_> = (0..N as u64)
            .map(|i| ed25519::PrivateKey::from_seed(1000 + i))
            .collect();
        let keys: Vec<_> = signers.iter().map(|s| s.public_key()).collect();
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size,
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
            pool: {
                let spec = ChainSpec::dev();
                PoolConfig::new(spec.chain_id, spec.gas_limit)
            },
        };
        net.set_links(
            &(0..N).collect::<Vec<_>>(),
            &(0..N).collect::<Vec<_>>(),
            Some(links),
        )
        .await;
        net
    }

    /// A network with every node started and at `height` or above (30 s of virtual time).
    pub async fn started(
        context: &Ctx,
        dir: &std::path::Path,
        seed: u64,
        links: Link,
        height: u64,
    ) -> Self {
        let mut net = Self::new(context, dir, seed, links).await;
        for i in 0..N {
            net.start(context, i).await;
        }
        assert!(
            net.wait_height(context, &all(), height, Duration::from_secs(30))
                .await,
            "the network did not reach height {height}"
        );
        net
    }

    /// Set (or with `None`, cut) the links from every node of `from` to every node of `to`.
    pub async fn set_links(&self, from: &[usize], to: &[usize], link: Option<Link>) {
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
    pub async fn start(&mut self, context: &Ctx, i: usize) {
        let network = self.register(i).await;
        let config = self.config(i);
        self.start_with(context, i, config, network);
    }

    /// Register node `i`'s channels (consensus and node protocols) on the network.
    pub async fn register(&self, i: usize) -> SimNetwork {
        let control = self.oracle.control(self.keys[i].clone());
        let mut pairs = Vec::new();
        for (channel, quota) in channel_quotas().into_iter().chain(node_channel_quotas()) {
            pairs.push(control.register(channel, quota).await.unwrap());
        }
        let mut pairs = pairs.into_iter();
        let mut next = || pairs.next().unwrap();
        NodeNetwork {
            channels: Channels {
                votes: next(),
                certificates: next(),
                resolver: next(),
                broadcast: next(),
                backfill: next(),
            },
            hello: next(),
            txs: next(),
            blobs: next(),
            blocker: control.clone(),
            peer_provider: self.oracle.manager(),
        }
    }

    /// Node `i`'s configuration.
    pub fn config(&self, i: usize) -> CoreConfig {
        let spec = ChainSpec::dev();
        CoreConfig {
            chain: ChainConfig {
                modules: verai_modules::native_modules(),
                datadir: self.nodes[i].datadir.clone(),
                pool: self.pool.clone(),
                spec,
                producer: ProducerConfig {
                    // Empty blocks keep heights moving so that liveness is visible.
                    block_time: Some(Duration::from_secs(1)),
                    ..Default::default()
                },
                partition: self.nodes[i].partition.clone(),
                blob_capacity: verai_provenance::blob::DEFAULT_CAPACITY,
            },
            signer: self.nodes[i].signer.clone(),
            validators: self.keys.clone(),
            timeouts: Timeouts::network(),
        }
    }

    /// Start node `i` with `config` on `network` (registered by [`Net::register`], possibly
    /// wrapped).
    pub fn start_with<S, R, B, P>(
        &mut self,
        context: &Ctx,
        i: usize,
        config: CoreConfig,
        network: NodeNetwork<S, R, B, P>,
    ) where
        S: Sender<PublicKey = ed25519::PublicKey>,
        R: Receiver<PublicKey = ed25519::PublicKey>,
        B: Blocker<PublicKey = ed25519::PublicKey>,
        P: Provider<PublicKey = ed25519::PublicKey>,
    {
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
    pub fn crash(&mut self, i: usize) {
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

    pub fn core(&self, i: usize) -> Option<Core<Ctx>> {
        let (_, slot) = self.nodes[i].running.as_ref()?;
        slot.lock().unwrap().clone()
    }

    pub fn running(&self) -> Vec<usize> {
        (0..N).filter(|&i| self.core(i).is_some()).collect()
    }

    /// Submit `count` transfers, each to a random running node among `to`.
    pub async fn submit(&mut self, count: usize, to: &[usize]) {
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
            if let Ok(hash) = self.core(node).unwrap().submit_raw(&raw).await {
                self.nonces[a] += 1;
                self.accepted.push(hash);
                self.submitted_to.push(node);
            }
        }
    }

    pub fn min_height(&self, among: &[usize]) -> u64 {
        among
            .iter()
            .filter_map(|&i| self.core(i).map(|c| c.latest()))
            .min()
            .unwrap_or(0)
    }

    /// Wait (virtual time) until every node of `among` reaches `height`; false on timeout.
    pub async fn wait_height(
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
    pub async fn wait_included(&self, context: &Ctx, among: &[usize], limit: Duration) -> bool {
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
    pub fn check_safety(&self) {
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
    pub fn check_all_included(&self) {
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
    pub fn stop_all(&mut self) {
        for i in 0..N {
            self.crash(i);
        }
    }
}

pub fn accounts() -> Vec<PrivateKeySigner> {
    static ACCOUNTS: std::sync::OnceLock<Vec<PrivateKeySigner>> = std::sync::OnceLock::new();
    ACCOUNTS.get_or_init(|| dev_signers(10)).clone()
}

/// Hashes of every transaction finalized on `core`, in order.
pub fn included(core: &Core<Ctx>) -> Vec<B256> {
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
pub fn for_seeds(name: &str, default_seeds: u64, scenario: fn(u64)) {
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
                "scenario {name} FAILED with seed {seed}; replay: VERAI_SIM_SEED={seed} cargo nextest run -p verai-node {name}"
            );
            std::panic::resume_unwind(e);
        }
    }
}

/// Run `f` on a fresh deterministic runtime seeded with `seed`, bounded in virtual time.
pub fn simulate<F, Fut>(seed: u64, f: F)
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

pub fn all() -> Vec<usize> {
    (0..N).collect()
}
