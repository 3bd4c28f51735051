//! Long-running robustness checks of real node processes, on demand (not in CI):
//!
//! - `soak`: a local testnet of validator processes under a steady load of transfers for
//!   `--minutes` (default 60), one validator killed with SIGKILL and restarted every
//!   `--kill-every-secs`. Every `--sample-secs` it prints each validator's height, resident
//!   memory and open files, and checks that all validators hold the same block at every
//!   height they share (sampled). It fails on any disagreement, on a validator that stops
//!   making progress, or on memory that keeps growing (the last quarter's RSS median more
//!   than `--max-rss-growth` times the second quarter's). It also prints the data
//!   directories' growth per block and the latency of a probe transfer sent every 5 s.
//! - `crash-loop`: a dev node on one data directory killed with SIGKILL `--cycles` times
//!   (default 100) at a random moment while transactions are committed, and started again.
//!   After every restart, every block and receipt the node had reported before the kill
//!   must be there unchanged, and the node must go on committing. It fails on the first
//!   loss or stall and prints restart times.
//!
//! Run: `cargo build --release -p verai && cargo run --release -p verai-bench --bin soak --
//! crash-loop` (or `-- soak --minutes 60`).

use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, TxKind, U256};
use eyre::bail;
use std::{
    collections::BTreeMap,
    path::PathBuf,
    time::{Duration, Instant},
};
use verai_bench::procs::{Testnet, free_base, open_fds, rss_kib, start_dev, stop, wait_ready};
use verai_client::{Client, api::EthApiClient};
use verai_primitives::dev_signers;

#[derive(clap::Parser)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
    /// The verai binary.
    #[arg(long, global = true, default_value_os_t = verai_bench::verai_binary())]
    binary: PathBuf,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// A testnet under load for a long time, validators killed and restarted in turn.
    Soak {
        #[arg(long, default_value_t = 60)]
        minutes: u64,
        #[arg(long, default_value_t = 4)]
        validators: u16,
        /// Transfers per second offered (spread over the dev accounts and the validators).
        #[arg(long, default_value_t = 50)]
        rate: u64,
        #[arg(long, default_value_t = 300)]
        kill_every_secs: u64,
        #[arg(long, default_value_t = 60)]
        sample_secs: u64,
        /// Allowed ratio of late to early resident memory (medians).
        #[arg(long, default_value_t = 1.5)]
        max_rss_growth: f64,
    },
    /// A dev node killed at random moments and restarted, checked for lost data each time.
    CrashLoop {
        #[arg(long, default_value_t = 100)]
        cycles: u32,
        /// Seed of the kill moments.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

const CHAIN_ID: u64 = verai_primitives::DEV_CHAIN_ID;
const SENDERS: u32 = 10;

fn sink() -> Address {
    Address::repeat_byte(0x5a)
}

/// Sender `s`'s transfer with nonce `n`: the same bytes every time, so a resend after a
/// restart is a duplicate rather than a new transaction.
fn transfer(s: &alloy_signer_local::PrivateKeySigner, n: u64) -> alloy_primitives::Bytes {
    verai_bench::sign(
        s,
        CHAIN_ID,
        n,
        TxKind::Call(sink()),
        U256::from(n + 1),
        vec![],
        21_000,
    )
}

/// Sends each sender's next `per_sender` transfers (from its finalized nonce) to `c`;
/// returns how many the node accepted.
async fn offer(
    c: &Client,
    senders: &[alloy_signer_local::PrivateKeySigner],
    per_sender: u64,
) -> u64 {
    let mut accepted = 0;
    for s in senders {
        let Ok(nonce) = c
            .get_transaction_count(s.address(), Some(BlockId::latest()))
            .await
        else {
            return accepted;
        };
        for n in nonce.to::<u64>()..nonce.to::<u64>() + per_sender {
            if c.send_raw_transaction(transfer(s, n)).await.is_ok() {
                accepted += 1;
            }
        }
    }
    accepted
}

async fn height(c: &Client) -> Option<u64> {
    c.block_number().await.ok().map(|n| n.to::<u64>())
}

async fn block_hash(c: &Client, n: u64) -> Option<B256> {
    c.get_block_by_number(BlockNumberOrTag::Number(n), false)
        .await
        .ok()
        .flatten()
        .map(|b| b.header.hash)
}

async fn soak(
    binary: &std::path::Path,
    minutes: u64,
    validators: u16,
    rate: u64,
    kill_every: u64,
    sample_every: u64,
    max_growth: f64,
) -> eyre::Result<()> {
    let mut net = Testnet::start(binary, validators)?;
    let clients: Vec<Client> = net
        .urls
        .iter()
        .map(|u| Client::connect(u))
        .collect::<Result<_, _>>()?;
    for c in &clients {
        wait_ready(c, Duration::from_secs(60)).await?;
    }
    // Accounts 0-8 carry the load; account 9 sends one probe transfer every 5 s, timed from
    // its send to its receipt (finality latency under the load).
    let mut senders = dev_signers(SENDERS);
    let prober = senders
        .pop()
        .ok_or_else(|| eyre::eyre!("no dev accounts"))?;
    let latencies = std::sync::Arc::new(std::sync::Mutex::new(Vec::<f64>::new()));
    let mut disk: Vec<(f64, u64, u64)> = Vec::new(); // (minute, total bytes, min height)
    let n = clients.len();
    let start = Instant::now();
    let end = start + Duration::from_secs(minutes * 60);
    let (mut next_kill, mut next_sample) = (
        start + Duration::from_secs(kill_every),
        start + Duration::from_secs(sample_every),
    );
    let mut down: Option<(usize, Instant)> = None;
    let (mut victim, mut tick, mut offered) = (0usize, 0u64, 0u64);
    let mut rss: Vec<Vec<f64>> = Vec::new();
    let mut last_heights = vec![0u64; n];
    println!(
        "{:>6} {:>28} {:>32} {:>16} {:>10} {:>9} {:>13}",
        "min", "heights", "RSS MiB", "open files", "accepted", "disk MiB", "probe p99 ms"
    );
    while Instant::now() < end {
        tick += 1;
        // Offer the load to one live validator per second, round robin.
        let target = (tick as usize) % n;
        if down.is_none_or(|(k, _)| k != target) {
            let per_sender = rate.div_ceil(u64::from(SENDERS));
            offered += offer(&clients[target], &senders, per_sender).await;
        }
        if tick % 5 == 0 && down.is_none_or(|(k, _)| k != target) {
            tokio::spawn(probe(
                clients[target].clone(),
                prober.clone(),
                latencies.clone(),
            ));
        }
        if let Some((k, at)) = down
            && at.elapsed() >= Duration::from_secs(10)
        {
            net.restart(k)?;
            down = None;
        }
        if Instant::now() >= next_kill && down.is_none() {
            net.kill(victim);
            down = Some((victim, Instant::now()));
            victim = (victim + 1) % n;
            next_kill += Duration::from_secs(kill_every);
        }
        if Instant::now() >= next_sample {
            next_sample += Duration::from_secs(sample_every);
            let mut heights = Vec::new();
            let mut mem = Vec::new();
            let mut fds = Vec::new();
            for (k, c) in clients.iter().enumerate() {
                heights.push(height(c).await);
                let pid = net.pid(k);
                mem.push(pid.and_then(rss_kib).map(|r| r as f64 / 1024.0));
                fds.push(pid.and_then(open_fds));
            }
            let show = |v: &[Option<String>]| {
                v.iter()
                    .map(|x| x.clone().unwrap_or_else(|| "-".into()))
                    .collect::<Vec<_>>()
                    .join("/")
            };
            let bytes = dir_bytes(net.dir());
            let minute = start.elapsed().as_secs_f64() / 60.0;
            if let Some(h) = heights.iter().flatten().min() {
                disk.push((minute, bytes, *h));
            }
            let recent: Vec<f64> = latencies
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .rev()
                .take(12)
                .copied()
                .collect();
            let heights_s: Vec<_> = heights.iter().map(|h| h.map(|h| h.to_string())).collect();
            let mem_s: Vec<_> = mem.iter().map(|m| m.map(|m| format!("{m:.0}"))).collect();
            let fds_s: Vec<_> = fds.iter().map(|f| f.map(|f| f.to_string())).collect();
            println!(
                "{:>6.1} {:>28} {:>32} {:>16} {:>10} {:>9.0} {:>13.0}",
                minute,
                show(&heights_s),
                show(&mem_s),
                show(&fds_s),
                offered,
                bytes as f64 / (1024.0 * 1024.0),
                percentile(recent, 0.99)
            );
            rss.push(mem.iter().flatten().copied().collect());
            check_agreement(&clients, &heights).await?;
            for (k, h) in heights.iter().enumerate() {
                let running = down.is_none_or(|(d, _)| d != k);
                if let Some(h) = h {
                    if running && *h <= last_heights[k] && sample_every >= 30 {
                        bail!("validator {k} made no progress in {sample_every} s (height {h})");
                    }
                    last_heights[k] = *h;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // Memory: the last quarter of samples against the second quarter (after warm-up).
    let q = rss.len() / 4;
    if q >= 1 {
        let early = percentile(rss[q..2 * q].iter().flatten().copied().collect(), 0.5);
        let late = percentile(
            rss[rss.len() - q..].iter().flatten().copied().collect(),
            0.5,
        );
        println!("RSS median: {early:.0} MiB (second quarter) -> {late:.0} MiB (last quarter)");
        if late > early * max_growth {
            bail!(
                "resident memory grew {:.2}x (limit {max_growth}x)",
                late / early
            );
        }
    }
    if let (Some(first), Some(last)) = (disk.first(), disk.last())
        && last.2 > first.2
    {
        println!(
            "disk: {:.1} KiB per block (all {} validators, heights {}..{})",
            (last.1 as f64 - first.1 as f64) / 1024.0 / (last.2 - first.2) as f64,
            n,
            first.2,
            last.2
        );
    }
    let all = latencies.lock().unwrap_or_else(|p| p.into_inner()).clone();
    println!(
        "probe latency (send to receipt, {} probes): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        all.len(),
        percentile(all.clone(), 0.5),
        percentile(all.clone(), 0.99),
        percentile(all, 1.0)
    );
    println!(
        "soak passed: {minutes} min, {offered} transfers accepted, no disagreement; logs in {}",
        net.dir().display()
    );
    Ok(())
}

/// One probe transfer through `c`: milliseconds from its send to the first poll that finds
/// its receipt (pushed to `out`; nothing when the node refuses it or it is not included in
/// 30 s, which the next sample shows as a stall).
async fn probe(
    c: Client,
    s: alloy_signer_local::PrivateKeySigner,
    out: std::sync::Arc<std::sync::Mutex<Vec<f64>>>,
) {
    let Ok(nonce) = c
        .get_transaction_count(s.address(), Some(BlockId::latest()))
        .await
    else {
        return;
    };
    let sent = Instant::now();
    let Ok(hash) = c
        .send_raw_transaction(transfer(&s, nonce.to::<u64>()))
        .await
    else {
        return;
    };
    while sent.elapsed() < Duration::from_secs(30) {
        if let Ok(Some(_)) = c.get_transaction_receipt(hash).await {
            let ms = sent.elapsed().as_secs_f64() * 1000.0;
            out.lock().unwrap_or_else(|p| p.into_inner()).push(ms);
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Bytes of every file under `dir`.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// The `p` quantile of `v` (nearest rank; 0 for no values); `p = 0.5` is the upper median.
fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Every pair of validators holds the same block at 20 heights spread over what they share.
async fn check_agreement(clients: &[Client], heights: &[Option<u64>]) -> eyre::Result<()> {
    let Some(common) = heights.iter().flatten().min().copied() else {
        return Ok(());
    };
    let step = (common / 20).max(1);
    let mut h = common;
    while h >= 1 {
        let mut seen: Option<B256> = None;
        for (k, c) in clients.iter().enumerate() {
            if heights[k].is_none() {
                continue;
            }
            if let Some(hash) = block_hash(c, h).await {
                match seen {
                    None => seen = Some(hash),
                    Some(other) if other != hash => {
                        bail!(
                            "validators disagree at height {h}: {other} vs {hash} (validator {k})"
                        )
                    }
                    _ => {}
                }
            }
        }
        h = h.saturating_sub(step);
        if h == 0 {
            break;
        }
    }
    Ok(())
}

async fn crash_loop(binary: &std::path::Path, cycles: u32, seed: u64) -> eyre::Result<()> {
    // Kept after the run (the data and log to look at when a cycle fails); printed at the end.
    let dir = tempfile::tempdir()?.keep();
    eprintln!("data and log in {}", dir.display());
    let datadir = dir.join("data");
    let log = dir.join("node.log");
    let port = free_base(1);
    let client = Client::connect(&format!("http://127.0.0.1:{port}"))?;
    let senders = dev_signers(SENDERS);
    let mut rng = verai_sentinel::rng::SplitMix64::new(seed);
    // What the node reported before each kill: finalized block hashes and receipts.
    let mut blocks: BTreeMap<u64, B256> = BTreeMap::new();
    let mut receipts: Vec<(B256, u64)> = Vec::new();
    let mut restarts = Vec::new();
    let mut first_block = Vec::new();
    for cycle in 0..cycles {
        let started = Instant::now();
        let mut child = Running(Some(start_dev(binary, &datadir, port, &log)?));
        if let Err(e) = wait_ready(&client, Duration::from_secs(60)).await {
            bail!("cycle {cycle}: {e} (log: {})", log.display());
        }
        restarts.push(started.elapsed().as_secs_f64() * 1000.0);
        // Everything reported before the last kill is still there.
        let Some(head) = height(&client).await else {
            bail!("cycle {cycle}: no height");
        };
        if let Some((&last, _)) = blocks.last_key_value()
            && head < last
        {
            bail!("cycle {cycle}: head {head} is below the {last} reported before the kill");
        }
        for (&n, &hash) in &blocks {
            let now = block_hash(&client, n).await;
            if now != Some(hash) {
                bail!("cycle {cycle}: block {n} was {hash}, now {now:?}");
            }
        }
        for (tx, n) in &receipts {
            let r = client.get_transaction_receipt(*tx).await?;
            if r.as_ref().and_then(|r| r.block_number) != Some(*n) {
                bail!("cycle {cycle}: receipt of {tx} (block {n}) is gone or moved");
            }
        }
        // Load, then a kill at a random moment while blocks are committed.
        let per_sender = 1 + rng.below(5);
        let accepted = offer(&client, &senders, per_sender).await;
        if std::env::var_os("VERAI_SOAK_DEBUG").is_some() {
            eprintln!("cycle {cycle}: head {head}, {accepted} accepted");
        }
        // Every tenth cycle, the node must commit a block before it is killed again (a
        // kill at a random moment alone could always land before the first block after a
        // restart and hide a node that never commits again).
        if cycle % 10 == 9 && accepted > 0 {
            let since = Instant::now();
            loop {
                if height(&client).await.is_some_and(|h| h > head) {
                    first_block.push(since.elapsed().as_secs_f64() * 1000.0);
                    break;
                }
                if since.elapsed() > Duration::from_secs(30) {
                    bail!(
                        "cycle {cycle}: no block committed within 30 s of a restart \
                         (head {head}; log: {})",
                        log.display()
                    );
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        let wait = Duration::from_millis(20 + rng.below(800));
        let until = Instant::now() + wait;
        while Instant::now() < until {
            // Record what the node says is final, right up to the kill.
            if let Some(h) = height(&client).await {
                let from = blocks.last_key_value().map_or(1, |(n, _)| n + 1);
                for n in from..=h {
                    let Ok(Some(b)) = client
                        .get_block_by_number(BlockNumberOrTag::Number(n), false)
                        .await
                    else {
                        break;
                    };
                    blocks.insert(n, b.header.hash);
                    for tx in b.transactions.hashes().take(2) {
                        receipts.push((tx, n));
                    }
                }
            }
        }
        child.kill();
        if (cycle + 1) % 10 == 0 {
            println!(
                "{:>4} cycles: {} blocks and {} receipts checked after every restart",
                cycle + 1,
                blocks.len(),
                receipts.len()
            );
        }
    }
    let pct = |p: f64| percentile(restarts.clone(), p);
    println!(
        "crash loop passed: {cycles} SIGKILLs, 0 lost blocks or receipts ({} blocks, {} receipts); \
         start to first answer p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; first block after a \
         restart (every tenth cycle) median {:.0} ms, max {:.0} ms",
        blocks.len(),
        receipts.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0),
        percentile(first_block.clone(), 0.5),
        percentile(first_block, 1.0)
    );
    Ok(())
}

/// The dev node of a cycle: killed with SIGKILL on every path out of the cycle.
struct Running(Option<std::process::Child>);

impl Running {
    fn kill(&mut self) {
        if let Some(mut c) = self.0.take() {
            stop(&mut c, true);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let a = <Args as clap::Parser>::parse();
    verai_bench::report_errors(match a.command {
        Cmd::Soak {
            minutes,
            validators,
            rate,
            kill_every_secs,
            sample_secs,
            max_rss_growth,
        } => {
            soak(
                &a.binary,
                minutes,
                validators,
                rate,
                kill_every_secs,
                sample_secs,
                max_rss_growth,
            )
            .await
        }
        Cmd::CrashLoop { cycles, seed } => crash_loop(&a.binary, cycles, seed).await,
    })
}
