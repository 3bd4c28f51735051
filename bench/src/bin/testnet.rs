//! Finality latency and sustained throughput of a local testnet: N `verai node --config`
//! processes (from `verai testnet init`) on this machine, load from this client process.
//!
//! 1. Set-up (not timed): deploy the benchmark token and fund the senders through node 0.
//! 2. Latency: transfers paced at `--rate` tx/s for `--latency-secs`, sent round-robin to
//!    every node's RPC. A watcher polls node 0 for new finalized blocks; a transaction's
//!    latency is from just before its `eth_sendRawTransaction` to the first poll that sees
//!    it in a finalized block (so it includes up to one poll interval, 2 ms).
//! 3. Throughput: the remaining transfers as fast as `--concurrency` clients send them, to
//!    all nodes, one per request or in JSON-RPC batches of `--batch` (as viem's and ethers'
//!    batching transports send them); transactions per second from the first send to the
//!    last inclusion seen, and each process's CPU time per transaction.
//!
//! Run: `cargo build --release -p verai && cargo run --release -p verai-bench --bin testnet`.

use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{B256, Bytes, U256};
use eyre::{WrapErr, bail};
use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use verai_bench::procs::{Testnet, wait_ready};
use verai_bench::{Workload, balance_of_call, cpu_seconds, joined, recipient};
use verai_client::{Client, api::EthApiClient};

/// Finality latency and sustained throughput of a local testnet of validator processes.
#[derive(clap::Parser)]
struct Args {
    /// Validators.
    #[arg(long, default_value_t = 4)]
    validators: u16,
    /// Accounts sending transfers.
    #[arg(long, default_value_t = 400)]
    senders: u64,
    /// Transfers per sender.
    #[arg(long, default_value_t = 50)]
    per_sender: u64,
    /// Transactions per second in the latency phase.
    #[arg(long, default_value_t = 500)]
    rate: u64,
    /// Seconds of the latency phase.
    #[arg(long, default_value_t = 10)]
    latency_secs: u64,
    /// Concurrent clients in the throughput phase.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Transactions per JSON-RPC batch (1: one per request).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1000))]
    batch: u64,
    /// The verai binary.
    #[arg(long, default_value_os_t = verai_bench::verai_binary())]
    binary: PathBuf,
}

use verai_bench::repo_root;

fn parse_args() -> eyre::Result<Args> {
    Ok(<Args as clap::Parser>::parse())
}

fn client(url: &str) -> eyre::Result<Client> {
    Ok(Client::connect(url)?)
}

/// When each transaction was first seen finalized on node 0, and each block's transaction
/// count in order (for the block-size figure).
#[derive(Default)]
struct Sightings {
    at: HashMap<B256, Instant>,
    blocks: Vec<(Instant, usize)>,
}
type Seen = Arc<Mutex<Sightings>>;

/// Poll node 0 for new blocks and record when each transaction appears.
async fn watch(c: Client, seen: Seen, stop: Arc<std::sync::atomic::AtomicBool>) {
    let mut next = 1u64;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let latest = match c.block_number().await {
            Ok(n) => n.to::<u64>(),
            Err(_) => continue,
        };
        while next <= latest {
            let block = match c
                .get_block_by_number(BlockNumberOrTag::Number(next), false)
                .await
            {
                Ok(Some(b)) => b,
                _ => break,
            };
            let now = Instant::now();
            let mut s = seen.lock().unwrap_or_else(|p| p.into_inner());
            let txs: Vec<B256> = block.transactions.hashes().collect();
            s.blocks.push((now, txs.len()));
            for h in txs {
                s.at.entry(h).or_insert(now);
            }
            next += 1;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn wait_seen(seen: &Seen, hashes: &[B256], timeout: Duration) -> eyre::Result<Instant> {
    let deadline = Instant::now() + timeout;
    loop {
        {
            let s = seen.lock().unwrap_or_else(|p| p.into_inner());
            let missing = hashes.iter().filter(|h| !s.at.contains_key(*h)).count();
            if missing == 0 {
                return Ok(hashes
                    .iter()
                    .filter_map(|h| s.at.get(h))
                    .max()
                    .copied()
                    .unwrap_or_else(Instant::now));
            }
            if Instant::now() > deadline {
                bail!(
                    "{missing} of {} transactions not finalized within {timeout:?}",
                    hashes.len()
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Send transactions in one request: a JSON-RPC batch when there are several.
async fn send_all(c: &Client, txs: &[Bytes]) -> eyre::Result<Vec<B256>> {
    if let [tx] = txs {
        return Ok(vec![c.send_raw_transaction(tx.clone()).await?]);
    }
    c.send_raw_batch(txs)
        .await?
        .into_iter()
        .map(|r| r.map_err(|e| eyre::eyre!("a transaction in a batch: {e}")))
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    verai_bench::report_errors(run().await)
}

async fn run() -> eyre::Result<()> {
    let a = parse_args()?;
    let w = Workload::new(&repo_root(), 1337, a.senders, a.per_sender)?;
    // Round-robin over senders, rounds in nonce order: any prefix is sendable.
    let order: Vec<Bytes> = (0..a.per_sender as usize)
        .flat_map(|n| w.transfers.iter().filter_map(move |s| s.get(n).cloned()))
        .collect();
    let latency_count = ((a.rate * a.latency_secs) as usize).min(order.len() / 2);
    println!(
        "testnet: {} validator processes on 127.0.0.1 ({}), load from one client process",
        a.validators,
        a.binary.display()
    );
    println!(
        "workload: {} ERC-20 transfers from {} senders; latency phase {} txs at {} tx/s; throughput phase {} txs with {} concurrent clients, {}",
        order.len(),
        a.senders,
        latency_count,
        a.rate,
        order.len() - latency_count,
        a.concurrency,
        if a.batch == 1 {
            "one transaction per request".to_string()
        } else {
            format!("JSON-RPC batches of {}", a.batch)
        }
    );
    let net = Testnet::start(&a.binary, a.validators)?;
    let clients: Vec<Client> = net
        .urls
        .iter()
        .map(|u| client(u))
        .collect::<Result<_, _>>()?;
    for c in &clients {
        wait_ready(c, Duration::from_secs(60)).await?;
    }
    let seen: Seen = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = tokio::spawn(watch(client(&net.urls[0])?, seen.clone(), stop.clone()));

    // Set-up through node 0.
    let mut setup = Vec::new();
    for tx in &w.setup {
        let h = clients[0]
            .send_raw_transaction(tx.clone())
            .await
            .wrap_err("set-up transaction")?;
        setup.push(h);
    }
    wait_seen(&seen, &setup, Duration::from_secs(300)).await?;

    // Latency: paced sends, each in its own task so a slow reply does not delay the pace.
    let interval = Duration::from_secs_f64(1.0 / a.rate as f64);
    let begin = Instant::now();
    let mut tasks = Vec::new();
    for (i, tx) in order[..latency_count].iter().enumerate() {
        let at = begin + interval.mul_f64(i as f64);
        tokio::time::sleep_until(at.into()).await;
        let c = clients[i % clients.len()].clone();
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let h = c.send_raw_transaction(tx).await?;
            Ok::<_, eyre::Report>((h, sent))
        }));
    }
    let mut sent = Vec::new();
    for t in tasks {
        sent.push(t.await??);
    }
    let hashes: Vec<B256> = sent.iter().map(|(h, _)| *h).collect();
    wait_seen(&seen, &hashes, Duration::from_secs(120)).await?;
    let mut latencies: Vec<Duration> = {
        let s = seen.lock().unwrap_or_else(|p| p.into_inner());
        sent.iter()
            .map(|(h, t)| s.at[h].duration_since(*t))
            .collect()
    };
    latencies.sort();
    let p50 = percentile(&latencies, 0.5);
    let p99 = percentile(&latencies, 0.99);
    println!(
        "finality latency at {} tx/s ({} txs, submission to finalized on node 0): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (goal: p50 under 300 ms)",
        a.rate,
        latencies.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );

    // Throughput: the rest as fast as the clients go.
    let rest = &order[latency_count..];
    // The validators' CPU seconds, then this client's.
    let pids: Vec<u32> = (0..net.urls.len()).filter_map(|k| net.pid(k)).collect();
    let cpu = || -> Vec<f64> {
        pids.iter()
            .chain([std::process::id()].iter())
            .map(|p| cpu_seconds(*p).unwrap_or(f64::NAN))
            .collect()
    };
    let cpu_start = cpu();
    let begin = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..a.concurrency {
        let mine: Vec<Bytes> = rest
            .iter()
            .skip(t)
            .step_by(a.concurrency)
            .cloned()
            .collect();
        let c = clients[t % clients.len()].clone();
        let batch = a.batch;
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(mine.len());
            for chunk in mine.chunks(batch as usize) {
                out.extend(send_all(&c, chunk).await?);
            }
            Ok::<_, eyre::Report>(out)
        }));
    }
    let mut hashes = Vec::new();
    for t in tasks {
        hashes.extend(t.await??);
    }
    let submitted = begin.elapsed();
    let last = wait_seen(&seen, &hashes, Duration::from_secs(300)).await?;
    let seconds = last.duration_since(begin).as_secs_f64();
    let cpu_used: Vec<f64> = cpu()
        .iter()
        .zip(&cpu_start)
        .map(|(e, s)| (e - s) * 1e6 / hashes.len() as f64)
        .collect();
    let blocks = {
        let s = seen.lock().unwrap_or_else(|p| p.into_inner());
        s.blocks
            .iter()
            .filter(|(t, n)| *t > begin && *t <= last && *n > 0)
            .count()
    };
    println!(
        "sustained throughput: {:.0} tx/s ({} txs finalized in {:.2} s, {blocks} blocks of {:.0} txs on average; submission took {:.2} s) (goal: at least 5,000 tx/s)",
        hashes.len() as f64 / seconds,
        hashes.len(),
        seconds,
        hashes.len() as f64 / blocks.max(1) as f64,
        submitted.as_secs_f64()
    );
    // On a saturated machine throughput is what the CPU time per transaction allows.
    let (client_cpu, node_cpu) = cpu_used.split_last().unwrap_or((&f64::NAN, &[]));
    println!(
        "CPU time per transaction in the throughput phase (/proc/PID/stat, 10 ms ticks): validators {} µs, all validators {:.0} µs, client {:.0} µs",
        joined(node_cpu, 0),
        node_cpu.iter().sum::<f64>(),
        client_cpu
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = watcher.await;

    // Every transfer moved one token unit to the recipient, on every validator.
    let call = alloy_rpc_types_eth::TransactionRequest {
        to: Some(w.token.into()),
        input: Bytes::from(balance_of_call(recipient())).into(),
        ..Default::default()
    };
    for (k, c) in clients.iter().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let raw = EthApiClient::call(c, call.clone(), None).await?;
            let got = U256::from_be_slice(&raw);
            if got == U256::from(order.len()) {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "validator {k}: recipient holds {got} tokens, expected {}",
                    order.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    println!(
        "check: every validator's state holds all {} transfers",
        order.len()
    );
    drop(net);
    Ok(())
}
