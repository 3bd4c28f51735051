//! Byzantine tests with the real node (execution, QMDB, pool, gossip, blob exchange) on the
//! deterministic simulated network: a validator proposing invalid blocks, a peer flooding
//! every channel, a validator that is slow rather than dead. Seeded (`VERAI_SIM_SEEDS`,
//! `VERAI_SIM_SEED`, as in `simulation.rs`) and bounded in virtual time.
//!
//! One of the four validators (index 0) is faulty, the largest number a network of four
//! tolerates. Checked in every scenario: the honest nodes agree at every height and never
//! halt (safety), and after their first finalized block no more than [`MAX_STALL`] of virtual
//! time passes without a new finalized height on all of them (liveness). Equivocating votes
//! are tested at the consensus level, in `crates/consensus/src/tests_byzantine.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod sim;
mod support;

use alloy_consensus::{Signed, TxEnvelope};
use alloy_eips::eip2718::{Decodable2718 as _, Encodable2718 as _};
use alloy_primitives::{Address, B256, Bytes, Signature, keccak256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall as _;
use commonware_codec::{Decode as _, DecodeExt as _, Encode as _};
use commonware_consensus::{
    simplex::{
        elector::{Config as _, Elector as _, RoundRobin, RoundRobinElector},
        types::{Notarize, Proposal, Vote},
    },
    types::Round,
};
use commonware_cryptography::{ed25519, sha256::Sha256};
use commonware_p2p::{Recipients, Sender as _};
use commonware_runtime::{Clock as _, IoBuf, Metrics as _, Spawner as _, Supervisor as _};
use commonware_utils::Participant;
use rand::{RngExt as _, SeedableRng as _, rngs::StdRng};
use sim::{
    tamper::{Rewrite, Tamper},
    watch::{Liveness, Logs, until},
    *,
};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use verai_consensus::{ConsensusBlock, Digest, NAMESPACE, Scheme, to_digest, validator_set};
use verai_mempool::PoolConfig;
use verai_node::{NodeNetwork, blobs::MAX_WAITING_ADMISSIONS};
use verai_primitives::{Block, ChainSpec, MAX_BLOCK_BYTES, transactions_root};

type Key = ed25519::PublicKey;

/// The faulty validator.
const FAULTY: usize = 0;
const HONEST: [usize; 3] = [1, 2, 3];

/// Liveness bound, virtual time (consensus [`Timeouts::network`]: leader 1 s, certification
/// 2 s; honest proposers build a block at least every second): the longest time the lowest
/// finalized height of the honest nodes may stand still once it is at least 1. A faulty
/// leader's view costs at most the certification timeout (2 s, when the honest nodes hold a
/// proposal they cannot certify; the leader timeout, 1 s, when they have none), then the next
/// honest proposer waits out its block time from its parent (up to 1 s); the rest is slack
/// for a nullify retry.
///
/// [`Timeouts::network`]: verai_consensus::Timeouts::network
const MAX_STALL: Duration = Duration::from_secs(5);

/// No honest node finalized a block of the faulty one (marked by its beneficiary), nor any of
/// `forged`.
fn assert_none_finalized(net: &Net, mark: Address, forged: &[B256]) {
    for i in HONEST {
        let core = net.core(i).unwrap();
        for h in 1..=core.latest() {
            let block = core.block(h).unwrap().unwrap();
            assert_ne!(
                block.header.beneficiary, mark,
                "node {i} finalized a faulty block at {h}"
            );
            assert!(
                !forged.contains(&block.hash()),
                "node {i} finalized a forged block at {h}"
            );
        }
    }
}

fn envelope(raw: Bytes) -> TxEnvelope {
    TxEnvelope::decode_2718(&mut raw.as_ref()).unwrap()
}

// ---------------------------------------------------------------------------------------
// Invalid blocks
// ---------------------------------------------------------------------------------------

/// Beneficiary of the faulty node's blocks (honest ones use zero): marks them on the wire.
const FORGER: Address = Address::repeat_byte(0xbb);

/// What is wrong with a forged block. Each is the node's own block with one change (and the
/// transactions root recomputed, so that the block still decodes and hashes consistently).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Defect {
    /// Another state root in the header.
    StateRoot,
    /// One more transaction, whose signature's recovery bit is flipped: it recovers to an
    /// account other than the one that signed it (and that account has no funds).
    ForgedSignature,
    /// One more transaction, validly signed, asking for more gas than a block may use.
    OverGasLimit,
    /// Transactions (each within the transaction size limit) past the block size limit.
    Oversized,
}

const DEFECTS: [Defect; 4] = [
    Defect::StateRoot,
    Defect::ForgedSignature,
    Defect::OverGasLimit,
    Defect::Oversized,
];

/// What an honest node logs when it refuses each defect: the first three are refused by
/// `verify` (header and execution checks), the last by the block codec before anything else.
fn refusal(defect: Defect) -> &'static [&'static str] {
    match defect {
        Defect::StateRoot => &["rejecting proposal", "wrong state root"],
        Defect::ForgedSignature => &["rejecting proposal", "lack of funds (0)"],
        Defect::OverGasLimit => &["rejecting proposal", "exceeds the limit"],
        Defect::Oversized => &["failed to decode message", "InvalidLength"],
    }
}

/// The transactions the forger adds, signed once.
struct Extras {
    forged: TxEnvelope,
    over_gas: TxEnvelope,
    big: TxEnvelope,
    big_count: usize,
}

impl Extras {
    fn new() -> Self {
        let accounts = accounts();
        let spec = ChainSpec::dev();
        let to = Some(Address::repeat_byte(0x42));
        let sign = |a: usize, input: Vec<u8>, gas: u64| {
            envelope(support::sign_with(
                &accounts[a],
                spec.chain_id,
                0,
                to,
                1,
                input,
                gas,
            ))
        };
        let TxEnvelope::Eip1559(signed) = sign(6, vec![], 21_000) else {
            unreachable!("sign_with signs EIP-1559 transactions")
        };
        let (tx, sig, _) = signed.into_parts();
        let flipped = Signature::new(sig.r(), sig.s(), !sig.v());
        let big = sign(7, vec![0; 120 * 1024], spec.gas_limit);
        Self {
            forged: TxEnvelope::Eip1559(Signed::new_unhashed(tx, flipped)),
            over_gas: sign(8, vec![], spec.gas_limit + 1),
            big_count: MAX_BLOCK_BYTES / big.encode_2718_len() + 1,
            big,
        }
    }

    fn forge(&self, block: &Block, defect: Defect) -> Block {
        let mut header = block.header.clone();
        let mut txs = block.transactions.clone();
        match defect {
            Defect::StateRoot => header.state_root = keccak256(header.state_root),
            Defect::ForgedSignature => txs.push(self.forged.clone()),
            Defect::OverGasLimit => txs.push(self.over_gas.clone()),
            Defect::Oversized => txs.extend(std::iter::repeat_n(self.big.clone(), self.big_count)),
        }
        header.transactions_root = transactions_root(&txs);
        Block::new(header, txs)
    }
}

/// A notarize vote held back: its recipients and proposal.
type Held = (Recipients<Key>, Proposal<Digest>);
/// Messages to send, each with its recipients.
type Sends = Vec<(Recipients<Key>, IoBuf)>;

/// The faulty validator's wire: its node runs honestly, but each block it proposes is
/// replaced, on the broadcast channel, by a forged twin, and its notarize vote for the block
/// by a (validly signed) vote for the twin. Its other messages are untouched.
struct Forger {
    scheme: Scheme,
    elector: RoundRobinElector<Scheme>,
    me: Participant,
    extras: Extras,
    /// The votes channel, to send votes held until their block went out.
    votes: SimSender,
    /// Our blocks (by digest): the forged twin's digest and encoding.
    forged: HashMap<Digest, (Digest, IoBuf)>,
    /// Our notarize votes sent before their block: waiting for its twin.
    held: HashMap<Digest, Vec<Held>>,
    /// What was forged, in order: the defect and the twin's hash.
    made: Vec<(Defect, B256)>,
}

impl Forger {
    fn notarize(&self, p: &Proposal<Digest>, payload: Digest) -> IoBuf {
        let p = Proposal::new(p.round, p.parent, payload);
        let vote = Vote::Notarize(Notarize::<Scheme, Digest>::sign(&self.scheme, p).unwrap());
        IoBuf::from(vote.encode())
    }

    fn leads(&self, round: Round) -> bool {
        self.elector.elect(round, ()) == self.me
    }

    fn on_block(&mut self, to: Recipients<Key>, msg: IoBuf) -> Sends {
        let Ok(block) = ConsensusBlock::decode_cfg(msg.clone(), &MAX_BLOCK_BYTES) else {
            return vec![(to, msg)];
        };
        let block = block.block();
        if block.header.beneficiary != FORGER {
            return vec![(to, msg)]; // someone else's block, forwarded
        }
        let digest = to_digest(block.hash());
        if !self.forged.contains_key(&digest) {
            let defect = DEFECTS[self.made.len() % DEFECTS.len()];
            let twin = self.extras.forge(block, defect);
            self.made.push((defect, twin.hash()));
            let encoded = IoBuf::from(ConsensusBlock::new(twin.clone()).encode());
            self.forged
                .insert(digest, (to_digest(twin.hash()), encoded));
            for (to, proposal) in self.held.remove(&digest).unwrap_or_default() {
                let vote = self.notarize(&proposal, to_digest(twin.hash()));
                self.votes.send(to, vote, true);
            }
        }
        vec![(to, self.forged[&digest].1.clone())]
    }

    fn on_vote(&mut self, to: Recipients<Key>, msg: IoBuf) -> Sends {
        let Ok(Vote::Notarize(n)) = Vote::<Scheme, Digest>::decode(msg.clone()) else {
            return vec![(to, msg)];
        };
        let p = n.proposal;
        if let Some((twin, _)) = self.forged.get(&p.payload) {
            return vec![(to, self.notarize(&p, *twin))];
        }
        if self.leads(p.round) {
            // Our proposal, whose block has not gone out yet.
            self.held.entry(p.payload).or_default().push((to, p));
            return Vec::new();
        }
        vec![(to, msg)]
    }
}

/// Start the faulty validator's node with its wire forging its proposals.
async fn start_forger(net: &mut Net, context: &Ctx) -> Arc<Mutex<Forger>> {
    let keys = net.keys.clone();
    let participants = validator_set(&keys).unwrap();
    let me = Participant::from_usize(participants.position(&keys[FAULTY]).unwrap());
    let elector: RoundRobinElector<Scheme> = RoundRobin::<Sha256>::default().build(&participants);
    let signer = net.nodes[FAULTY].signer.clone();
    let scheme = Scheme::signer(NAMESPACE, participants, signer).unwrap();
    let network = net.register(FAULTY).await;
    let forger = Arc::new(Mutex::new(Forger {
        scheme,
        elector,
        me,
        extras: Extras::new(),
        votes: network.channels.votes.0.clone(),
        forged: HashMap::new(),
        held: HashMap::new(),
        made: Vec::new(),
    }));
    let rewrite = |f: fn(&mut Forger, Recipients<Key>, IoBuf) -> Sends| {
        let forger = forger.clone();
        let r: Rewrite = Arc::new(move |to, msg| f(&mut forger.lock().unwrap(), to, msg));
        Some(r)
    };
    let c = network.channels;
    let honest = Tamper::honest;
    let network = NodeNetwork {
        channels: verai_consensus::Channels {
            votes: (
                Tamper {
                    inner: c.votes.0,
                    rewrite: rewrite(Forger::on_vote),
                },
                c.votes.1,
            ),
            certificates: (honest(c.certificates.0), c.certificates.1),
            resolver: (honest(c.resolver.0), c.resolver.1),
            broadcast: (
                Tamper {
                    inner: c.broadcast.0,
                    rewrite: rewrite(Forger::on_block),
                },
                c.broadcast.1,
            ),
            backfill: (honest(c.backfill.0), c.backfill.1),
        },
        hello: (honest(network.hello.0), network.hello.1),
        txs: (honest(network.txs.0), network.txs.1),
        blobs: (honest(network.blobs.0), network.blobs.1),
        blocker: network.blocker,
        peer_provider: network.peer_provider,
    };
    let mut config = net.config(FAULTY);
    config.chain.producer.beneficiary = FORGER;
    // Propose as soon as it leads: with the honest block time (1 s, the leader timeout), the
    // leader of the view right after a block times out before its block is due, and the
    // faulty node, leading one view in four, could lead only such views.
    config.chain.producer.block_time = Some(Duration::from_millis(1));
    net.start_with(context, FAULTY, config, network);
    forger
}

#[test]
fn invalid_blocks_are_never_finalized_and_the_chain_goes_on() {
    for_seeds(
        "invalid_blocks_are_never_finalized_and_the_chain_goes_on",
        2,
        |seed| {
            simulate(seed, |context, dir| async move {
                let (logs, _guard) = Logs::capture();
                // Room on the wire for a block past the size limit: the node must refuse it,
                // not the transport.
                let max = u32::try_from(MAX_BLOCK_BYTES).unwrap() + 16 * 1024 * 1024;
                let mut net =
                    Net::with_max_message(&context, &dir, seed, link(10, 3, 100), max).await;
                let forger = start_forger(&mut net, &context).await;
                for i in HONEST {
                    net.start(&context, i).await;
                }
                let mut liveness = Liveness::new(&context, &HONEST);
                // Until every defect was proposed twice (the faulty node leads one view in
                // four); then client transactions, which must still be finalized.
                let done = until(&context, Duration::from_secs(180), || {
                    liveness.sample(&context, &net);
                    forger.lock().unwrap().made.len() >= 2 * DEFECTS.len()
                })
                .await;
                assert!(
                    done,
                    "seed {seed}: the faulty node did not propose 8 blocks"
                );
                net.submit(20, &HONEST).await;
                let h = net.min_height(&HONEST);
                let live = until(&context, Duration::from_secs(60), || {
                    liveness.sample(&context, &net) >= h + 4
                })
                .await;
                assert!(live, "seed {seed}: no progress after the forged blocks");
                assert!(
                    net.wait_included(&context, &HONEST, Duration::from_secs(60))
                        .await
                );
                liveness.check(seed, MAX_STALL);

                let made = forger.lock().unwrap().made.clone();
                eprintln!(
                    "seed {seed}: forged {:?}; honest at height {}, longest stall {:?}, {} txs included",
                    made.iter().map(|m| m.0).collect::<Vec<_>>(),
                    net.min_height(&HONEST),
                    liveness.longest,
                    net.accepted.len()
                );
                for defect in DEFECTS {
                    assert!(made.iter().filter(|m| m.0 == defect).count() >= 2);
                    // Refused by the honest nodes, for that reason.
                    assert!(
                        logs.count(refusal(defect)) >= 2,
                        "seed {seed}: no refusal of {defect:?} logged"
                    );
                }
                let forged: Vec<B256> = made.iter().map(|m| m.1).collect();
                assert_none_finalized(&net, FORGER, &forged);
                for i in HONEST {
                    for hash in &forged {
                        let handle = net.core(i).unwrap().consensus;
                        assert_eq!(handle.finalized_by_hash(*hash).await, None);
                    }
                }
                // The faulty node itself follows the honest chain (safety covers it too).
                net.check_safety();
                net.check_all_included();
                net.stop_all();
            });
        },
    );
}

// ---------------------------------------------------------------------------------------
// Flooding
// ---------------------------------------------------------------------------------------

/// How long the flood lasts (virtual time).
const FLOOD: Duration = Duration::from_secs(12);
/// The flooder sends a burst every tick (see [`flood`] for the rates).
const TICK: Duration = Duration::from_millis(10);

/// Dev accounts the flooder holds the keys of.
const FLOODER_ACCOUNTS: [usize; 3] = [5, 6, 7];

/// Pool limits of the honest nodes in the flood test, small so that the flood reaches them.
/// (`ChainSpec::dev` derives keys from a mnemonic: slow, call it once.)
fn small_pool() -> PoolConfig {
    let spec = ChainSpec::dev();
    PoolConfig {
        max_total: 256,
        max_per_sender: 64,
        ..PoolConfig::new(spec.chain_id, spec.gas_limit)
    }
}

/// What the flooder sends, signed and encoded once (signing is slow in debug builds).
struct Payloads {
    /// Gossip batches of transfers from accounts without funds: each transaction costs the
    /// receiver a signature recovery, then is refused.
    unfunded: Vec<IoBuf>,
    /// Gossip batches of provenance records naming blobs nobody has, from accounts without
    /// funds: each one waits for its blob (in a task of its own) until no peer has it.
    blob_records: Vec<IoBuf>,
    /// Gossip batches of transfers from funded accounts (the flooder's own, [`FLOODER_ACCOUNTS`])
    /// with nonces far ahead: valid, pooled, never executable; twice the per-sender limit of
    /// each account, and more than the pool's total limit together.
    future: Vec<IoBuf>,
    /// Well-formed blocks on no chain, for the broadcast channel.
    blocks: Vec<IoBuf>,
}

fn gossip(txs: &[Bytes]) -> IoBuf {
    let mut out = Vec::new();
    alloy_rlp::encode_list::<_, Bytes>(txs, &mut out);
    IoBuf::from(out)
}

impl Payloads {
    fn new() -> Self {
        let spec = ChainSpec::dev();
        let to = Some(Address::repeat_byte(0x42));
        let stranger =
            |i: u64| PrivateKeySigner::from_bytes(&keccak256(format!("stranger {i}"))).unwrap();
        let unfunded: Vec<Bytes> = (0..32)
            .map(|i| support::sign_with(&stranger(i), spec.chain_id, 0, to, 1, vec![], 21_000))
            .collect();
        let blob_records: Vec<Bytes> = (0..64u64)
            .map(|i| {
                let hash = keccak256(format!("missing blob {i}"));
                let call = verai_provenance::IProvenance::registerCall {
                    kind: 0,
                    contentHash: hash,
                    uri: format!("blob:{hash}"),
                    license: "MIT".into(),
                    contributors: vec![],
                    parents: vec![],
                };
                support::sign_with(
                    &stranger(100 + i),
                    spec.chain_id,
                    0,
                    Some(verai_provenance::ADDRESS),
                    0,
                    call.abi_encode(),
                    500_000,
                )
            })
            .collect();
        let accounts = accounts();
        let future: Vec<Bytes> = (1_000..1_128)
            .flat_map(|nonce| FLOODER_ACCOUNTS.map(|a| (a, nonce)))
            .map(|(a, nonce)| {
                support::sign_with(&accounts[a], spec.chain_id, nonce, to, 1, vec![], 21_000)
            })
            .collect();
        let blocks = (0..64u64)
            .map(|i| {
                let header = alloy_consensus::Header {
                    number: 1 + i,
                    parent_hash: keccak256(format!("no parent {i}")),
                    transactions_root: transactions_root(&[]),
                    ..Default::default()
                };
                IoBuf::from(ConsensusBlock::new(Block::new(header, vec![])).encode())
            })
            .collect();
        Self {
            unfunded: unfunded.chunks(2).map(gossip).collect(),
            blob_records: blob_records.chunks(8).map(gossip).collect(),
            future: future.chunks(8).map(gossip).collect(),
            blocks,
        }
    }
}

fn garbage(rng: &mut StdRng, len: usize) -> IoBuf {
    let mut bytes = vec![0u8; len];
    rng.fill(&mut bytes[..]);
    IoBuf::from(bytes)
}

/// Flood every channel but the consensus votes and certificates (garbage there gets a peer
/// blocked at once, see the end of the test) from the faulty validator's identity, for
/// [`FLOOD`]. Per honest node and second: mempool gossip, 100 undecodable messages, 20
/// batches of unfunded transfers (2 each) and 5 of far-ahead transfers (8 each, 384 in
/// all), and to
/// `records_to` only, 10 batches of 8 records naming missing blobs (80 a second, each waiting
/// up to 5 s: 400 would wait at once without the bound of 256); blob exchange, 50 requests
/// for unknown blobs and 50 unasked 64 KiB answers (its whole quota); block broadcast, 100
/// well-formed blocks on no chain and 100 undecodable; resolver and backfill, 100 undecodable
/// each; genesis handshake, 100 questions. The senders carry the production per-peer quotas
/// (what a receiving node's p2p layer admits from one peer), so nothing above them goes out.
/// (Transaction rates stay far below the gossip quota, 2,000 messages a second: every
/// transaction costs a signature recovery, in wall-clock time, unoptimized in debug builds.)
async fn flood(context: Ctx, network: SimNetwork, records_to: Key, seed: u64) {
    let payloads = Payloads::new();
    let mut rng = StdRng::seed_from_u64(seed);
    let NodeNetwork {
        channels,
        mut hello,
        mut txs,
        mut blobs,
        ..
    } = network;
    let (mut broadcast, mut resolver, mut backfill) =
        (channels.broadcast, channels.resolver, channels.backfill);
    let end = context.current() + FLOOD;
    let mut tick = 0usize;
    while context.current() < end {
        let all = || Recipients::All;
        // The `tick / every`-th payload of `v`, cycling.
        let cycle = |v: &[IoBuf], every: usize| v[(tick / every) % v.len()].clone();
        txs.0.send(all(), garbage(&mut rng, 200), false);
        if tick.is_multiple_of(5) {
            txs.0.send(all(), cycle(&payloads.unfunded, 5), false);
        }
        if tick.is_multiple_of(20) {
            txs.0.send(all(), cycle(&payloads.future, 20), false);
        }
        if tick.is_multiple_of(10) {
            let to = Recipients::One(records_to.clone());
            txs.0.send(to, cycle(&payloads.blob_records, 10), false);
        }
        if tick.is_multiple_of(2) {
            let mut request = vec![0u8];
            request.extend(rng.random::<[u8; 32]>());
            blobs.0.send(all(), IoBuf::from(request), false);
            let mut answer = vec![1u8];
            answer.extend(rng.random::<[u8; 32]>());
            answer.extend(vec![7u8; 64 * 1024]);
            blobs.0.send(all(), IoBuf::from(answer), false);
        }
        broadcast.0.send(all(), cycle(&payloads.blocks, 1), false);
        broadcast.0.send(all(), garbage(&mut rng, 300), false);
        resolver.0.send(all(), garbage(&mut rng, 100), false);
        backfill.0.send(all(), garbage(&mut rng, 100), false);
        let mut ask = vec![0u8];
        ask.extend(rng.random::<[u8; 32]>());
        hello.0.send(all(), IoBuf::from(ask), false);
        tick += 1;
        context.sleep(TICK).await;
    }
    // Keep the receivers (dropping them closes the channels, which is not what a flooder does).
    drop((hello, txs, blobs, broadcast, resolver, backfill));
}

/// Tasks running (on every node together) whose name ends with `task`, from the runtime's
/// metrics.
fn running_tasks(context: &Ctx, task: &str) -> usize {
    context
        .encode()
        .lines()
        .filter(|l| l.starts_with("runtime_tasks_running{") && l.contains(&format!("{task}\"")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<usize>().ok())
        .sum()
}

#[test]
fn a_flooding_peer_neither_stalls_the_chain_nor_grows_memory() {
    for_seeds(
        "a_flooding_peer_neither_stalls_the_chain_nor_grows_memory",
        1,
        |seed| {
            simulate(seed, |context, dir| async move {
                let mut net = Net::new(&context, &dir, seed, link(10, 3, 100)).await;
                let pool = small_pool();
                net.pool = pool.clone();
                for i in HONEST {
                    net.start(&context, i).await;
                }
                assert!(
                    net.wait_height(&context, &HONEST, 1, Duration::from_secs(30))
                        .await
                );
                let flooder = net.register(FAULTY).await;
                let votes = flooder.channels.votes.0.clone();
                let records_to = net.keys[HONEST[0]].clone();
                context
                    .child("flooder")
                    .spawn(move |ctx| flood(ctx, flooder, records_to, seed));

                let mut liveness = Liveness::new(&context, &HONEST);
                let start = net.min_height(&HONEST);
                let (mut peak_pool, mut peak_waiting) = (0, 0);
                let (mut seconds, mut samples) = (0, 0usize);
                while seconds < FLOOD.as_secs() {
                    // Client transactions keep arriving at the honest nodes.
                    net.submit(5, &HONEST).await;
                    until(&context, Duration::from_secs(1), || {
                        liveness.sample(&context, &net);
                        for i in HONEST {
                            let pooled = net.core(i).unwrap().pool_len();
                            assert!(pooled <= pool.max_total, "node {i} pool: {pooled}");
                            peak_pool = peak_pool.max(pooled);
                        }
                        // Every fourth sample (reading the metrics takes milliseconds). Only
                        // node 1 gets records naming blobs: all such tasks are its own.
                        samples += 1;
                        if !samples.is_multiple_of(4) {
                            return false;
                        }
                        let waiting = running_tasks(&context, "blob_admit");
                        assert!(
                            waiting <= MAX_WAITING_ADMISSIONS,
                            "{waiting} admissions waiting"
                        );
                        peak_waiting = peak_waiting.max(waiting);
                        false
                    })
                    .await;
                    seconds += 1;
                }
                let flooded = net.min_height(&HONEST);
                eprintln!(
                    "seed {seed}: flood: heights {start}..{flooded}, longest stall {:?}, peak pool {peak_pool}, peak waiting admissions {peak_waiting}",
                    liveness.longest
                );
                liveness.check(seed, MAX_STALL);
                assert!(
                    flooded >= start + 8,
                    "seed {seed}: {start}..{flooded} under flood"
                );
                // The flood pressed on the bounds: without them, memory would grow.
                assert!(peak_waiting > MAX_WAITING_ADMISSIONS / 2, "{peak_waiting}");
                let flooded_pool = FLOODER_ACCOUNTS.len() * pool.max_per_sender;
                assert!(peak_pool >= flooded_pool, "{peak_pool}");
                // Unasked blob answers (50 a second of 64 KiB) are never stored.
                for i in HONEST {
                    assert_eq!(net.core(i).unwrap().blobs().unwrap().used(), 0, "node {i}");
                }
                assert!(
                    net.wait_included(&context, &HONEST, Duration::from_secs(60))
                        .await,
                    "client transactions not finalized after the flood"
                );

                // Garbage on the votes channel is a provable fault: every honest node blocks
                // the sender.
                let mut votes = votes;
                votes.send(Recipients::All, IoBuf::from(vec![0xff; 64]), true);
                context.sleep(Duration::from_secs(1)).await;
                let blocked = net.oracle.blocked().await.unwrap();
                for i in HONEST {
                    let pair = (net.keys[i].clone(), net.keys[FAULTY].clone());
                    assert!(
                        blocked.contains(&pair),
                        "node {i} did not block: {blocked:?}"
                    );
                }
                net.check_safety();
                net.check_all_included();
                net.stop_all();
            });
        },
    );
}

// ---------------------------------------------------------------------------------------
// A slow validator
// ---------------------------------------------------------------------------------------

#[test]
fn a_slow_validator_neither_stalls_nor_forks_the_chain() {
    for_seeds(
        "a_slow_validator_neither_stalls_nor_forks_the_chain",
        2,
        |seed| {
            simulate(seed, |context, dir| async move {
                let mut net = Net::new(&context, &dir, seed, link(10, 3, 100)).await;
                // Every message to or from validator 0 takes 2.5 to 3.5 s: three leader
                // timeouts. It is alive and takes part, always late.
                let slow = link(3_000, 500, 100);
                net.set_links(&[FAULTY], &HONEST, Some(slow.clone())).await;
                net.set_links(&HONEST, &[FAULTY], Some(slow)).await;
                for i in 0..N {
                    net.start(&context, i).await;
                }
                let mut liveness = Liveness::new(&context, &HONEST);
                for _ in 0..10 {
                    let running = net.running();
                    if !running.is_empty() {
                        net.submit(5, &running).await;
                    }
                    until(&context, Duration::from_secs(3), || {
                        liveness.sample(&context, &net);
                        false
                    })
                    .await;
                }
                let top = net.min_height(&HONEST);
                eprintln!(
                    "seed {seed}: slow validator: honest at {top} after 30 s, slow one at {:?}, longest stall {:?}",
                    net.core(FAULTY).map(|c| c.latest()),
                    liveness.longest
                );
                liveness.check(seed, MAX_STALL);
                assert!(top >= 10, "seed {seed}: only {top} heights in 30 s");
                // The slow validator follows the same chain, a few seconds behind.
                assert!(
                    net.wait_height(&context, &[FAULTY], top, Duration::from_secs(30))
                        .await,
                    "the slow validator did not follow"
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
