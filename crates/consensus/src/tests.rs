//! Deterministic-runtime tests: 1 and 4 validators on the simulated network, finality proofs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::{
    Application, Channels, Timeouts, ValidatorConfig, network::channel_quotas, start_validator,
    verify_certificate,
};
use alloy_primitives::B256;
use commonware_cryptography::{Signer as _, ed25519};
use commonware_p2p::simulated::{self, Link, Network, Oracle};
use commonware_runtime::{Clock as _, Runner as _, Supervisor as _, deterministic};
use commonware_utils::{NZUsize, probability};
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};
use verai_primitives::{Block, Header, MAX_BLOCK_BYTES, transactions_root};

/// One applied block: (height, hash, encoded proof).
pub(super) type Applied = (u64, B256, Vec<u8>);

/// Blocks with no transactions; header fields computed simply.
#[derive(Clone)]
pub(super) struct TestApp {
    genesis: Block,
    applied: Arc<Mutex<Vec<Applied>>>,
    /// While set, `propose` has nothing to do: it waits for `wake` (a mempool notification),
    /// or with `decline` set, returns `None` at once.
    idle: Arc<AtomicBool>,
    decline: Arc<AtomicBool>,
    wake: Arc<tokio::sync::Notify>,
    /// Proposes blocks that honest validators reject (wrong gas limit).
    faulty: Arc<AtomicBool>,
}

impl TestApp {
    /// An application whose durable state already holds `applied` (as after a restart).
    pub(super) fn with_applied(applied: Vec<Applied>) -> Self {
        let header = Header {
            number: 0,
            transactions_root: transactions_root(&[]),
            gas_limit: 30_000_000,
            ..Default::default()
        };
        Self {
            genesis: Block::new(header, vec![]),
            applied: Arc::new(Mutex::new(applied)),
            idle: Arc::default(),
            decline: Arc::default(),
            wake: Arc::default(),
            faulty: Arc::default(),
        }
    }

    pub(super) fn applied(&self) -> Vec<Applied> {
        self.applied.lock().unwrap().clone()
    }
}

impl Application for TestApp {
    fn genesis(&self) -> Block {
        self.genesis.clone()
    }

    fn last_applied_height(&self) -> u64 {
        self.applied.lock().unwrap().last().map_or(0, |a| a.0)
    }

    async fn propose(&self, parent: &Block, timestamp_ms: u64) -> Option<Block> {
        loop {
            let woken = self.wake.notified();
            if !self.idle.load(Ordering::Relaxed) {
                break;
            }
            if self.decline.load(Ordering::Relaxed) {
                return None;
            }
            woken.await;
        }
        let faulty = self.faulty.load(Ordering::Relaxed);
        let header = Header {
            parent_hash: parent.hash(),
            number: parent.number() + 1,
            timestamp: (timestamp_ms / 1000).max(parent.header.timestamp),
            transactions_root: transactions_root(&[]),
            gas_limit: parent.header.gas_limit + u64::from(faulty),
            ..Default::default()
        };
        Some(Block::new(header, vec![]))
    }

    async fn verify(&self, parent: &Block, block: &Block) -> bool {
        block.transactions.is_empty()
            && block.header.timestamp >= parent.header.timestamp
            && block.header.gas_limit == parent.header.gas_limit
    }

    async fn finalized(&self, block: Arc<Block>, certificate: Vec<u8>) {
        let mut applied = self.applied.lock().unwrap();
        let expected = applied.last().map_or(1, |a| a.0 + 1);
        assert_eq!(
            block.number(),
            expected,
            "finalized blocks must arrive in order, once"
        );
        applied.push((block.number(), block.hash(), certificate));
    }
}

pub(super) type Sim = Oracle<ed25519::PublicKey, deterministic::Context>;

pub(super) async fn network(context: &deterministic::Context, keys: &[ed25519::PublicKey]) -> Sim {
    let (network, oracle) = Network::new_with_peers(
        context.child("network"),
        simulated::Config {
            max_size: 1024 * 1024,
            max_peers_per_set: NZUsize!(keys.len()),
            disconnect_on_block: true,
            tracked_peer_sets: NZUsize!(1),
        },
        keys.to_vec(),
    )
    .await;
    network.start();
    oracle
}

/// Starts one validator per signer on the simulated network; returns their apps.
async fn start_all(
    context: &deterministic::Context,
    signers: &[ed25519::PrivateKey],
    timeouts: Timeouts,
    state: Vec<Applied>,
    offline: usize,
) -> (Vec<TestApp>, Vec<crate::ConsensusHandle>) {
    let keys: Vec<_> = signers.iter().map(|s| s.public_key()).collect();
    let oracle = network(context, &keys).await;
    for a in &keys {
        for b in &keys {
            if a != b {
                let link = Link {
                    latency: Duration::from_millis(10),
                    jitter: Duration::from_millis(1),
                    success_rate: probability!(1.0),
                };
                oracle.add_link(a.clone(), b.clone(), link).await.unwrap();
            }
        }
    }
    let mut apps = Vec::new();
    let mut handles = Vec::new();
    for (i, signer) in signers.iter().enumerate().take(signers.len() - offline) {
        let control = oracle.control(signer.public_key());
        let mut pairs = Vec::new();
        for (channel, quota) in channel_quotas() {
            pairs.push(control.register(channel, quota).await.unwrap());
        }
        let mut pairs = pairs.into_iter();
        let mut next = || pairs.next().unwrap();
        let channels = Channels {
            votes: next(),
            certificates: next(),
            resolver: next(),
            broadcast: next(),
            backfill: next(),
        };
        let app = TestApp::with_applied(state.clone());
        let config = ValidatorConfig {
            signer: signer.clone(),
            validators: keys.clone(),
            partition_prefix: format!("validator-{i}"),
            blocker: control.clone(),
            peer_provider: oracle.manager(),
            timeouts,
            mailbox_size: NZUsize!(1024),
            max_block_bytes: MAX_BLOCK_BYTES,
        };
        let validator = start_validator(
            context.child("validator").with_attribute("index", i),
            config,
            channels,
            app.clone(),
        )
        .await
        .unwrap();
        apps.push(app);
        handles.push(validator.handle);
    }
    (apps, handles)
}

async fn wait_for(context: &deterministic::Context, apps: &[TestApp], height: u64) {
    while apps.iter().any(|a| a.last_applied_height() < height) {
        context.sleep(Duration::from_millis(5)).await;
    }
}

pub(super) fn signers(n: u64) -> Vec<ed25519::PrivateKey> {
    (0..n).map(ed25519::PrivateKey::from_seed).collect()
}

#[test]
fn one_validator_finalizes_fast_with_valid_proofs() {
    let runner = deterministic::Runner::timed(Duration::from_secs(60));
    runner.start(|context| async move {
        let signers = signers(1);
        let keys: Vec<_> = signers.iter().map(|s| s.public_key()).collect();
        let start = context.current();
        let (apps, handles) = start_all(&context, &signers, Timeouts::dev(), Vec::new(), 0).await;
        wait_for(&context, &apps, 20).await;
        let elapsed = context.current().duration_since(start).unwrap();
        // Virtual time: each view must finalize well under 100 ms.
        eprintln!("1 validator: 20 blocks in {elapsed:?} of virtual time");
        assert!(
            elapsed < Duration::from_millis(20 * 100),
            "took {elapsed:?}"
        );

        let applied = apps[0].applied();
        for (height, hash, proof) in &applied {
            let v = verify_certificate(&keys, *hash, *height, proof).expect("valid proof");
            assert_eq!(
                v.finalized_height, *height,
                "one validator finalizes every block directly"
            );
            // The handle serves the same proof (for RPC).
            let served = handles[0].certificate(*height).await.expect("stored");
            verify_certificate(&keys, *hash, *height, &served).unwrap();
            let block = handles[0].finalized_block(*height).await.unwrap();
            assert_eq!(block.hash(), *hash);
        }

        // Forged or damaged proofs are rejected.
        let (height, hash, proof) = applied[5].clone();
        assert!(verify_certificate(&keys, hash, height, &proof[..proof.len() - 1]).is_err());
        assert!(verify_certificate(&keys, hash, height, &[]).is_err());
        assert!(verify_certificate(&keys, hash, height + 1, &proof).is_err());
        assert!(verify_certificate(&keys, B256::repeat_byte(7), height, &proof).is_err());
        let other = [ed25519::PrivateKey::from_seed(99).public_key()];
        assert!(verify_certificate(&other, hash, height, &proof).is_err());
        let mut flipped = proof.clone();
        let last = flipped.len() - 200; // inside the signature/header area
        flipped[last] ^= 1;
        assert!(verify_certificate(&keys, hash, height, &flipped).is_err());
        // An indirect proof: block h proven by the finalization of h + 1 and the header link.
        let (h1, hash1, proof1) = applied[6].clone();
        let scheme =
            crate::Scheme::verifier(crate::NAMESPACE, crate::validator_set(&keys).unwrap());
        let mut indirect = crate::FinalityProof::decode(&proof1, &scheme).unwrap();
        let header_h = crate::FinalityProof::decode(&proof, &scheme)
            .unwrap()
            .headers[0]
            .clone();
        indirect.headers.insert(0, header_h);
        let v =
            verify_certificate(&keys, hash, height, &indirect.encode()).expect("indirect proof");
        assert_eq!((v.finalized_height, v.finalized_hash), (h1, hash1));
        // A broken link (skipping a height) is rejected.
        let (_, _, proof2) = applied[7].clone();
        let mut broken = crate::FinalityProof::decode(&proof2, &scheme).unwrap();
        broken.headers.insert(0, indirect.headers[0].clone());
        assert!(verify_certificate(&keys, hash, height, &broken.encode()).is_err());
        // A valid proof for another height does not prove this block.
        let (_, _, other_proof) = applied[6].clone();
        assert!(verify_certificate(&keys, hash, height, &other_proof).is_err());
    });
}

#[test]
fn four_validators_agree_on_every_height() {
    let runner = deterministic::Runner::timed(Duration::from_secs(120));
    runner.start(|context| async move {
        let signers = signers(4);
        let keys: Vec<_> = signers.iter().map(|s| s.public_key()).collect();
        let (apps, _handles) =
            start_all(&context, &signers, Timeouts::network(), Vec::new(), 0).await;
        let start = context.current();
        wait_for(&context, &apps, 12).await;
        let elapsed = context.current().duration_since(start).unwrap();
        eprintln!("4 validators (10 ms links): 12 blocks in {elapsed:?} of virtual time");
        let reference = apps[0].applied();
        for app in &apps[1..] {
            let applied = app.applied();
            for (a, b) in reference.iter().zip(applied.iter()).take(12) {
                assert_eq!((a.0, a.1), (b.0, b.1), "validators disagree");
            }
        }
        for (height, hash, proof) in reference.iter().take(12) {
            verify_certificate(&keys, *hash, *height, proof).expect("valid proof");
            // Three of four signatures are a quorum; fewer validators do not verify it.
            assert!(verify_certificate(&keys[..3], *hash, *height, proof).is_err());
        }
    });
}

#[test]
fn restart_resumes_without_duplicates_and_refills_from_the_archive() {
    let signers = signers(1);
    let keys: Vec<_> = signers.iter().map(|s| s.public_key()).collect();
    let runner = deterministic::Runner::timed(Duration::from_secs(60));
    let (applied, checkpoint) = runner.start_and_recover({
        let signers = signers.clone();
        |context| async move {
            let (apps, _) = start_all(&context, &signers, Timeouts::dev(), Vec::new(), 0).await;
            wait_for(&context, &apps, 10).await;
            apps[0].applied()
        }
    });
    assert!(applied.len() >= 10);

    // The application lost its last blocks (its state is at height 5): the engine must
    // re-deliver 6.. from marshal's archive, in order, then continue with new blocks.
    let kept: Vec<Applied> = applied.iter().take(5).cloned().collect();
    let runner = deterministic::Runner::from(checkpoint);
    runner.start(|context| async move {
        let (apps, _) = start_all(&context, &signers, Timeouts::dev(), kept, 0).await;
        let target = applied.len() as u64 + 5;
        wait_for(&context, &apps, target).await;
        let after = apps[0].applied();
        for (i, (height, hash, proof)) in after.iter().enumerate() {
            assert_eq!(*height, i as u64 + 1);
            if let Some(before) = applied.get(i) {
                assert_eq!(*hash, before.1, "restart changed a finalized block");
            }
            verify_certificate(&keys, *hash, *height, proof).expect("valid proof");
        }
    });
}

#[test]
fn three_of_four_validators_make_progress() {
    let runner = deterministic::Runner::timed(Duration::from_secs(120));
    runner.start(|context| async move {
        let signers = signers(4);
        // The fourth validator never starts: its leader views time out and are skipped.
        let (apps, _) = start_all(&context, &signers, Timeouts::network(), Vec::new(), 1).await;
        let start = context.current();
        wait_for(&context, &apps, 10).await;
        let elapsed = context.current().duration_since(start).unwrap();
        eprintln!("3 of 4 validators: 10 blocks in {elapsed:?} of virtual time");
        let reference = apps[0].applied();
        for app in &apps[1..] {
            for (a, b) in reference.iter().zip(app.applied().iter()).take(10) {
                assert_eq!((a.0, a.1), (b.0, b.1), "validators disagree");
            }
        }
    });
}

/// One validator with nothing to propose: no blocks while idle, and a block soon after work
/// arrives. Returns the virtual time from wake-up to the first new block.
fn idle_then_resume(decline: bool) -> Duration {
    let runner = deterministic::Runner::timed(Duration::from_secs(60));
    runner.start(|context| async move {
        let (apps, _) = start_all(&context, &signers(1), Timeouts::dev(), Vec::new(), 0).await;
        let app = &apps[0];
        wait_for(&context, &apps, 3).await;
        app.decline.store(decline, Ordering::Relaxed);
        app.idle.store(true, Ordering::Relaxed);
        context.sleep(Duration::from_millis(100)).await;
        let before = app.last_applied_height();
        context.sleep(Duration::from_secs(5)).await;
        assert_eq!(app.last_applied_height(), before, "no blocks while idle");
        app.idle.store(false, Ordering::Relaxed);
        app.wake.notify_waiters();
        let start = context.current();
        wait_for(&context, &apps, before + 1).await;
        let first = context.current().duration_since(start).unwrap();
        wait_for(&context, &apps, before + 5).await;
        first
    })
}

#[test]
fn idle_application_waiting_in_propose_resumes_at_once() {
    let first = idle_then_resume(false);
    eprintln!("propose waits for work: first block {first:?} after wake-up");
    assert!(first < Duration::from_millis(100), "took {first:?}");
}

#[test]
fn idle_application_declining_resumes_within_the_leader_timeout() {
    let first = idle_then_resume(true);
    eprintln!("propose declines: first block {first:?} after wake-up");
    assert!(
        first <= Timeouts::dev().leader + Duration::from_millis(500),
        "took {first:?}"
    );
}

#[test]
fn blocks_failing_verification_are_never_finalized() {
    let runner = deterministic::Runner::timed(Duration::from_secs(120));
    runner.start(|context| async move {
        let signers = signers(4);
        let (apps, handles) =
            start_all(&context, &signers, Timeouts::network(), Vec::new(), 0).await;
        // One validator proposes blocks the others reject (wrong gas limit).
        apps[0].faulty.store(true, Ordering::Relaxed);
        wait_for(&context, &apps, 12).await;
        let reference = apps[1].applied();
        for app in &apps {
            for (a, b) in reference.iter().zip(app.applied().iter()).take(12) {
                assert_eq!((a.0, a.1), (b.0, b.1), "validators disagree");
            }
        }
        let genesis_gas = apps[1].genesis.header.gas_limit;
        for height in 1..=12 {
            let block = handles[1].finalized_block(height).await.unwrap();
            assert_eq!(
                block.header.gas_limit, genesis_gas,
                "an invalid block was finalized"
            );
        }
    });
}
