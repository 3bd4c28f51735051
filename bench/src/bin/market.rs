//! The market's costs (issue 26), each against its peer in the same run:
//!
//! 1. A paid in-block inference of a model with 1 ancestor against one with 1,016 ancestors
//!    (1,000 datasets of distinct contributors under 16 intermediate records; every
//!    ancestor paid through its own stack): gas per call from the receipts, and time, best
//!    of `--runs` executions of a block of `--calls` calls each. Goal: within 5 %.
//! 2. Payments with royalty splits (`pay` to the 1,016-ancestor model's stack, 1,003
//!    accounts) against plain ERC-20 transfers (`contracts/src/VeraiToken.sol`): the same
//!    senders, blocks of 500, `execute_block` best of `--runs`. Goal: at least 0.5x.
//! 3. `verai_listListings` over 10,000 listings on a release `verai node --dev`: a first
//!    page, a page filtered by kind, a deep keyset page, a page by seller; p50 / p95 of
//!    `--samples` requests each over HTTP. Goal: p95 under 10 ms.
//!
//! Parts 1 and 2 run `verai_execution::execute_block` in this process on one state built
//! by the same transactions a node would execute (senders recovered before timing).
//!
//! Run: `cargo build --release -p verai && cargo run --release -p verai-bench --bin market`.

use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use eyre::{WrapErr, bail, eyre};
use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use verai_bench::{Workload, repo_root, sign};
use verai_client::{Client, api::MarketApiClient, types::ListingFilter};
use verai_execution::{BlockParams, ExecutedBlock, MemoryState, Mode, execute_block};
use verai_inference_module::{ADDRESS as INFERENCE, IInference};
use verai_market::{ADDRESS as MARKET, IMarket};
use verai_primitives::{ChainSpec, RecoveredTx, dev_signers};
use verai_provenance::{ADDRESS as REGISTRY, IProvenance, LicenseTerms};

/// The market's costs (see the module docs).
#[derive(clap::Parser)]
struct Args {
    /// Paid inferences per timed block (part 1).
    #[arg(long, default_value_t = 200)]
    calls: usize,
    /// Payments and transfers per side (part 2).
    #[arg(long, default_value_t = 4_000)]
    payments: usize,
    /// Timed runs; the best is reported.
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// Listings on the node (part 3).
    #[arg(long, default_value_t = 10_000)]
    listings: usize,
    /// Timed queries per kind (part 3).
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// The verai binary (part 3).
    #[arg(long, default_value_os_t = verai_bench::verai_binary())]
    verai: PathBuf,
    /// Skip part 3 (no node).
    #[arg(long)]
    no_node: bool,
}

const GAS: u64 = 200_000_000;

fn params(number: u64) -> BlockParams {
    BlockParams {
        chain_id: 1337,
        number,
        timestamp: 1_000 + number,
        beneficiary: Address::ZERO,
        gas_limit: 4_000_000_000,
        base_fee: 1_000_000_000,
        prevrandao: B256::ZERO,
    }
}

/// A chain in this process: its state and the next nonce of each signer.
struct Chain {
    state: MemoryState,
    number: u64,
    nonces: std::collections::HashMap<Address, u64>,
}

impl Chain {
    fn tx(&mut self, key: &PrivateKeySigner, to: Address, value: U256, input: Vec<u8>) -> Bytes {
        let n = self.nonces.entry(key.address()).or_default();
        let raw = sign(key, 1337, *n, TxKind::Call(to), value, input, GAS);
        *n += 1;
        raw
    }

    /// Execute `raw` as the next block and keep its state; every transaction must succeed.
    fn block(&mut self, raw: &[Bytes]) -> eyre::Result<ExecutedBlock> {
        let txs: Vec<RecoveredTx> = raw
            .iter()
            .map(|r| RecoveredTx::decode(r))
            .collect::<Result<_, _>>()?;
        self.number += 1;
        let out = execute_block(
            &self.state,
            &params(self.number),
            &verai_modules::native_modules(),
            txs,
            Mode::Verify,
        )?;
        if let Some(i) = out.receipts.iter().position(|r| !r.receipt.status()) {
            bail!("block {}: transaction {i} failed", self.number);
        }
        self.state.apply(&out.changeset);
        Ok(out)
    }

    /// Execute `blocks` one after the other on a copy of the state (each on the state the
    /// previous one left), `runs` times: the best total time and the gas used.
    fn time_blocks(&self, blocks: &[&[Bytes]], runs: usize) -> eyre::Result<(f64, u64)> {
        let decoded: Vec<Vec<RecoveredTx>> = blocks
            .iter()
            .map(|b| {
                b.iter()
                    .map(|r| RecoveredTx::decode(r))
                    .collect::<Result<_, _>>()
            })
            .collect::<Result<_, _>>()?;
        let mut best = f64::MAX;
        let mut gas = 0;
        for _ in 0..runs {
            let mut state = self.state.clone();
            let owned = decoded.clone();
            let start = Instant::now();
            gas = 0;
            for (i, b) in owned.into_iter().enumerate() {
                let out = execute_block(
                    &state,
                    &params(self.number + 1 + i as u64),
                    &verai_modules::native_modules(),
                    b,
                    Mode::Verify,
                )?;
                if out.receipts.iter().any(|r| !r.receipt.status()) {
                    bail!("timed block {i}: a transaction failed");
                }
                gas += out.gas_used;
                state.apply(&out.changeset);
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        Ok((best, gas))
    }

    /// Execute `raw` on a copy of the state, `runs` times: the best time, and the block.
    fn time(&self, raw: &[Bytes], runs: usize) -> eyre::Result<(f64, ExecutedBlock)> {
        let txs: Vec<RecoveredTx> = raw
            .iter()
            .map(|r| RecoveredTx::decode(r))
            .collect::<Result<_, _>>()?;
        let mut best = f64::MAX;
        let mut last = None;
        for _ in 0..runs {
            let owned = txs.clone();
            let start = Instant::now();
            let out = execute_block(
                &self.state,
                &params(self.number + 1),
                &verai_modules::native_modules(),
                owned,
                Mode::Verify,
            )?;
            best = best.min(start.elapsed().as_secs_f64());
            if let Some(i) = out.receipts.iter().position(|r| !r.receipt.status()) {
                bail!("timed block: transaction {i} failed");
            }
            last = Some(out);
        }
        Ok((best, last.ok_or_else(|| eyre!("no runs"))?))
    }
}

fn register_call(tag: &str, kind: u8, contributors: Vec<Address>, parents: Vec<u64>) -> Vec<u8> {
    let n = contributors.len().max(1) as u16;
    let mut shares: Vec<IProvenance::Contributor> = contributors
        .into_iter()
        .map(|account| IProvenance::Contributor {
            account,
            shareBps: 10_000 / n,
        })
        .collect();
    if let Some(first) = shares.first_mut() {
        first.shareBps += 10_000 - (10_000 / n) * n;
    }
    IProvenance::registerCall {
        kind,
        contentHash: keccak256(tag),
        uri: String::new(),
        license: "MIT".into(),
        contributors: shares,
        parents,
    }
    .abi_encode()
}

fn policy_call(record: u64, upstream: u16) -> Vec<u8> {
    IMarket::setRoyaltyPolicyCall {
        recordId: record,
        policy: IMarket::RoyaltyPolicy {
            ownerBps: 0,
            upstreamBps: upstream,
            allAncestors: true,
        },
    }
    .abi_encode()
}

fn build_call(record: u64) -> Vec<u8> {
    IMarket::buildStackCall { recordId: record }.abi_encode()
}

/// The demand model with a trailing unknown protobuf field (number 1000, varint `tag`):
/// the same graph under a different content hash, so it registers as a second model.
fn model_variant(onnx: &[u8], tag: u8) -> Vec<u8> {
    let mut b = onnx.to_vec();
    b.extend_from_slice(&[0xc0, 0x3e, tag]);
    b
}

fn main() -> std::process::ExitCode {
    verai_bench::report_errors(run(<Args as clap::Parser>::parse()))
}

fn run(a: Args) -> eyre::Result<()> {
    let owner = dev_signers(1).remove(0);
    let w = Workload::new(&repo_root(), 1337, 200, (a.payments / 200).max(1) as u64)?;
    let mut chain = Chain {
        state: MemoryState::genesis(&ChainSpec::dev()),
        number: 0,
        nonces: Default::default(),
    };
    // The workload's set-up (token, funding) is signed by dev account 0 from nonce 0.
    chain.block(&w.setup)?;
    chain.nonces.insert(owner.address(), w.setup.len() as u64);

    // --- Lineage: 1,000 datasets → 16 intermediates → the big model; one dataset → the small.
    eprintln!("building the lineage (1,000 datasets, 16 intermediates, two models)...");
    let contributor = |i: usize| Address::from_word(keccak256(format!("contributor-{i}")));
    let mut txs = Vec::new();
    for i in 0..1_000 {
        let call = register_call(&format!("dataset-{i}"), 0, vec![contributor(i)], vec![]);
        txs.push(chain.tx(&owner, REGISTRY, U256::ZERO, call));
    }
    chain.block(&txs)?;
    let datasets: Vec<u64> = (1..=1_000).collect();
    let txs: Vec<Bytes> = datasets
        .iter()
        .map(|&d| build_call(d))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|c| chain.tx(&owner, MARKET, U256::ZERO, c))
        .collect();
    chain.block(&txs)?;
    let mut txs = Vec::new();
    for (g, group) in datasets.chunks(63).enumerate() {
        let call = register_call(&format!("intermediate-{g}"), 0, vec![], group.to_vec());
        txs.push(chain.tx(&owner, REGISTRY, U256::ZERO, call));
    }
    chain.block(&txs)?;
    let intermediates: Vec<u64> = (1_001..=1_000 + datasets.chunks(63).count() as u64).collect();
    let mut txs = Vec::new();
    for &i in &intermediates {
        txs.push(chain.tx(&owner, MARKET, U256::ZERO, policy_call(i, 9_000)));
        txs.push(chain.tx(&owner, MARKET, U256::ZERO, build_call(i)));
    }
    chain.block(&txs)?;

    let onnx = std::fs::read(repo_root().join("models/demand_forecast.onnx"))
        .wrap_err("reading models/demand_forecast.onnx")?;
    let register_model = |bytes: Vec<u8>, parents: Vec<u64>| {
        IInference::registerModelCall {
            onnx: bytes.into(),
            uri: String::new(),
            license: "MIT".into(),
            parents,
        }
        .abi_encode()
    };
    let big = intermediates.last().copied().unwrap_or_default() + 1;
    let small = big + 1;
    let txs = vec![
        chain.tx(
            &owner,
            INFERENCE,
            U256::ZERO,
            register_model(model_variant(&onnx, 1), intermediates.clone()),
        ),
        chain.tx(
            &owner,
            INFERENCE,
            U256::ZERO,
            register_model(model_variant(&onnx, 2), vec![datasets[0]]),
        ),
    ];
    chain.block(&txs)?;
    let price = U256::from(1_000_000_000_000u64);
    let list = |m: u64| {
        IMarket::listCall {
            recordId: m,
            kind: 1,
            token: Address::ZERO,
            price,
            termsHash: B256::ZERO,
            endpoint: String::new(),
            methods: vec![],
        }
        .abi_encode()
    };
    let mut txs = Vec::new();
    for m in [big, small] {
        txs.push(chain.tx(&owner, MARKET, U256::ZERO, policy_call(m, 5_000)));
    }
    chain.block(&txs)?;
    // The big stack takes one call per 512 accounts; then both are listed per call.
    let mut builds = 0;
    loop {
        let t = chain.tx(&owner, MARKET, U256::ZERO, build_call(big));
        let out = chain.block(&[t])?;
        builds += 1;
        let built = out.receipts.iter().any(|r| {
            r.receipt.logs().iter().any(|l| {
                l.topics().first()
                    == Some(&<IMarket::StackBuilt as alloy_sol_types::SolEvent>::SIGNATURE_HASH)
            })
        });
        if built {
            break;
        }
        if builds > 20 {
            bail!("the big stack did not complete");
        }
    }
    let txs = vec![
        chain.tx(&owner, MARKET, U256::ZERO, list(big)),
        chain.tx(&owner, MARKET, U256::ZERO, list(small)),
    ];
    let listed = chain.block(&txs)?;
    let build_gas: Vec<u64> = listed.receipts.iter().map(|r| r.gas_used).collect();
    let accounts = |m: u64| -> eyre::Result<usize> {
        // The stack's size from its state word.
        let id = stack_id(&chain.state, m)?;
        stack_accounts(&chain.state, id)
    };
    println!(
        "lineage: model {big} has 1,016 ancestors and a stack of {} accounts ({builds} buildStack calls); model {small} has 1 ancestor and {} accounts; listing gas {:?}",
        accounts(big)?,
        accounts(small)?,
        build_gas
    );

    // --- 1. Paid inferences: 1 ancestor against 1,016 ---
    let input: Vec<alloy_primitives::I256> = [1.0f64, 1.1, 1.2, 1.2, 1.3, 1.6, 1.5, 0.0]
        .iter()
        .map(|v| alloy_primitives::I256::try_from((v * 1e6).round() as i64).unwrap_or_default())
        .collect();
    // The senders have sent nothing in this state (their transfers are part 2's): nonces
    // from 0, the same for both models' blocks, each timed from the same state.
    let infer = |m: u64| -> Vec<Bytes> {
        (0..a.calls)
            .map(|i| {
                let key = &w.senders[i % w.senders.len()];
                let call = IInference::inferCall {
                    modelId: m,
                    input: input.clone(),
                }
                .abi_encode();
                let nonce = (i / w.senders.len()) as u64;
                sign(
                    key,
                    1337,
                    nonce,
                    TxKind::Call(INFERENCE),
                    price,
                    call,
                    2_000_000,
                )
            })
            .collect()
    };
    let small_txs = infer(small);
    let big_txs = infer(big);
    let (t_small, out_small) = chain.time(&small_txs, a.runs)?;
    let (t_big, out_big) = chain.time(&big_txs, a.runs)?;
    let gas = |o: &ExecutedBlock| {
        o.receipts.iter().map(|r| r.gas_used).sum::<u64>() as f64 / o.receipts.len() as f64
    };
    let (g_small, g_big) = (gas(&out_small), gas(&out_big));
    println!(
        "1. paid inference, {} calls per block, best of {}:\n   1 ancestor:      {:>9.0} gas/call  {:>7.1} µs/call\n   1,016 ancestors: {:>9.0} gas/call  {:>7.1} µs/call\n   big / small: gas {:.4}x, time {:.3}x (goal: within 5 %)",
        a.calls,
        a.runs,
        g_small,
        t_small * 1e6 / a.calls as f64,
        g_big,
        t_big * 1e6 / a.calls as f64,
        g_big / g_small,
        t_big / t_small
    );

    // --- 2. Payments with royalty splits against ERC-20 transfers ---
    let per_sender = w.transfers.first().map_or(0, Vec::len);
    let mut pays = Vec::new();
    let mut transfers = Vec::new();
    for n in 0..per_sender {
        for (s, key) in w.senders.iter().enumerate() {
            let call = IMarket::payCall { recordId: big }.abi_encode();
            pays.push(sign(
                key,
                1337,
                n as u64,
                TxKind::Call(MARKET),
                U256::from(1_000_003u64),
                call,
                200_000,
            ));
            transfers.push(w.transfers[s][n].clone());
        }
    }
    let pay_blocks: Vec<&[Bytes]> = pays.chunks(500).collect();
    let erc_blocks: Vec<&[Bytes]> = transfers.chunks(500).collect();
    let (t_pay, g_pay) = chain.time_blocks(&pay_blocks, a.runs)?;
    let (t_erc, g_erc) = chain.time_blocks(&erc_blocks, a.runs)?;
    let n = pays.len() as f64;
    println!(
        "2. {} payments split over {} accounts against {} ERC-20 transfers (blocks of 500, best of {} each):\n   royalty payments: {:>8.0} tx/s  ({:.0} gas each)\n   ERC-20 transfers: {:>8.0} tx/s  ({:.0} gas each)\n   payments / transfers: {:.2}x (goal: at least 0.5x)",
        pays.len(),
        accounts(big)?,
        transfers.len(),
        a.runs,
        n / t_pay,
        g_pay as f64 / n,
        n / t_erc,
        g_erc as f64 / n,
        t_erc / t_pay
    );

    if a.no_node {
        return Ok(());
    }
    listings(&a)
}

fn stack_id(state: &MemoryState, record: u64) -> eyre::Result<u64> {
    let v = slot(state, verai_market::layout::stack_of(record));
    Ok(v.to::<u64>())
}

fn stack_accounts(state: &MemoryState, id: u64) -> eyre::Result<usize> {
    let w = slot(state, verai_market::layout::stack_state(id));
    Ok(verai_market::layout::StackState::unpack(w).accounts as usize)
}

fn slot(state: &MemoryState, s: U256) -> U256 {
    state
        .0
        .get(&verai_primitives::StateKey::Storage(MARKET, s))
        .map(|v| U256::from_be_slice(v))
        .unwrap_or_default()
}

/// The node under test, killed on drop (its data directory then removed).
struct Node(Child, #[allow(dead_code)] tempfile::TempDir);
impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Stats {
    p50: f64,
    p95: f64,
}

fn stats(mut ms: Vec<f64>) -> Stats {
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    Stats {
        p50: at(0.5),
        p95: at(0.95),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn listings(a: &Args) -> eyre::Result<()> {
    if !a.verai.exists() {
        bail!(
            "{} is missing: cargo build --release -p verai (or pass --verai)",
            a.verai.display()
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let dir = tempfile::tempdir()?;
    let child = Command::new(&a.verai)
        .args([
            "node",
            "--dev",
            "--metrics-port",
            "0",
            "--no-explorer",
            "--datadir",
        ])
        .arg(dir.path())
        .args(["--rpc-port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .wrap_err("starting verai")?;
    let _node = Node(child, dir);
    let c = Client::connect(&format!("http://127.0.0.1:{port}"))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while c.chain_id().await.is_err() {
        if Instant::now() > deadline {
            bail!("the node did not start");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // 100 sellers (the workload's senders, funded by its set-up), a dataset each, terms once,
    // then `listings / 100` Access listings each at different prices.
    let sellers = 100u64;
    let w = Workload::new(&repo_root(), 1337, sellers, 0)?;
    send_and_wait(&c, &w.setup).await?;
    let owner = dev_signers(1).remove(0);
    let terms = LicenseTerms {
        spdx: "CC-BY-4.0".into(),
        commercialUse: true,
        derivatives: true,
        attribution: true,
        duration: 86_400,
        perpetual: false,
    };
    let hash = verai_provenance::licence::terms_hash(&terms);
    let t = sign(
        &owner,
        1337,
        w.setup.len() as u64,
        TxKind::Call(REGISTRY),
        U256::ZERO,
        IProvenance::registerTermsCall { terms }.abi_encode(),
        1_000_000,
    );
    send_and_wait(&c, &[t]).await?;
    let regs: Vec<Bytes> = w
        .senders
        .iter()
        .enumerate()
        .map(|(i, k)| {
            sign(
                k,
                1337,
                0,
                TxKind::Call(REGISTRY),
                U256::ZERO,
                register_call(&format!("listed-{i}"), 0, vec![], vec![]),
                3_000_000,
            )
        })
        .collect();
    send_and_wait(&c, &regs).await?;
    // Each seller's record id (the block orders the registrations, not this loop).
    let mut records = Vec::with_capacity(w.senders.len());
    for i in 0..w.senders.len() {
        let call = IProvenance::findByHashCall {
            kind: 0,
            contentHash: keccak256(format!("listed-{i}")),
        };
        records.push(c.view(REGISTRY, &call).await?);
    }
    let per = (a.listings as u64).div_ceil(sellers);
    let started = Instant::now();
    for round in 0..per {
        let txs: Vec<Bytes> = w
            .senders
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let call = IMarket::listCall {
                    recordId: records[i],
                    kind: 0,
                    token: Address::ZERO,
                    price: U256::from(1_000 + round),
                    termsHash: hash,
                    endpoint: String::new(),
                    methods: vec![],
                };
                sign(
                    k,
                    1337,
                    1 + round,
                    TxKind::Call(MARKET),
                    U256::ZERO,
                    call.abi_encode(),
                    3_000_000,
                )
            })
            .collect();
        send_and_wait(&c, &txs).await?;
    }
    let count = c.view(MARKET, &IMarket::listingCountCall {}).await?;
    println!(
        "3. {count} listings on the node (loaded in {:.0} s); verai_listListings over HTTP, {} requests each:",
        started.elapsed().as_secs_f64(),
        a.samples
    );
    let queries: Vec<(&str, ListingFilter)> = vec![
        ("first page (20)", ListingFilter::default()),
        (
            "access listings, 100 per page",
            ListingFilter {
                kind: Some("access".into()),
                limit: Some(100),
                ..Default::default()
            },
        ),
        (
            "deep keyset page (after 9,900)",
            ListingFilter {
                after: Some(count.saturating_sub(100)),
                limit: Some(100),
                ..Default::default()
            },
        ),
        (
            "by seller, 100 per page",
            ListingFilter {
                seller: Some(w.senders[57].address()),
                limit: Some(100),
                ..Default::default()
            },
        ),
        (
            "by record, after half",
            ListingFilter {
                record_id: Some(42),
                after: Some(count / 2),
                limit: Some(50),
                ..Default::default()
            },
        ),
    ];
    let mut worst: f64 = 0.0;
    for (name, f) in queries {
        let mut ms = Vec::with_capacity(a.samples);
        let mut got = 0;
        for _ in 0..a.samples {
            let start = Instant::now();
            let page = c.list_listings(Some(f.clone())).await?;
            ms.push(start.elapsed().as_secs_f64() * 1e3);
            got = page.listings.len();
        }
        let s = stats(ms);
        worst = worst.max(s.p95);
        println!(
            "   {name:<34} {got:>4} listings  p50 {:>6.2} ms  p95 {:>6.2} ms",
            s.p50, s.p95
        );
    }
    println!("   worst p95 {worst:.2} ms (goal: under 10 ms)");
    Ok(())
}

async fn send_and_wait(c: &Client, txs: &[Bytes]) -> eyre::Result<()> {
    let mut hashes = Vec::with_capacity(txs.len());
    for chunk in txs.chunks(500) {
        for r in c.send_raw_batch(chunk).await? {
            hashes.push(r.map_err(|e| eyre!("refused: {e}"))?);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    for h in hashes {
        loop {
            if let Some(r) = verai_client::api::EthApiClient::get_transaction_receipt(c, h).await? {
                if !r.status() {
                    bail!("transaction {h} failed");
                }
                break;
            }
            if Instant::now() > deadline {
                bail!("no receipt for {h}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(())
}
