//! Node throughput: signed ERC-20 transfers from many senders over JSON-RPC, to `verai node
//! --dev` and to `anvil` in the same run with the same client code; transactions per second
//! from the first submission until the last receipt.
//!
//! Usage: `cargo run --release -p verai-bench --bin throughput -- [--senders 200]
//! [--per-sender 100] [--concurrency 32] [--window W] [--only verai|anvil]` (see
//! bench/README.md). `--window W` paces every client: at most W unconfirmed transactions per
//! sender (the next round waits for the receipts of the round W back), for both nodes.
//!
//! `--sentinel MODEL` measures the sentinel's cost instead: the same workload against
//! `verai node --dev` without and with `--sentinel MODEL` (default policy: flag), alternating
//! `--repeat N` times (`--sentinel-policy allow|flag|hold` passes the node a policy), and
//! prints the median of each, the cost of each pair (an off run and the on run after it),
//! their median with its 90 % sign-test confidence interval (goal: at most 5 %), and the
//! node's own screening time from `verai_sentinelStatus`.

use alloy_primitives::{B256, Bytes, U256};
use eyre::{WrapErr, bail};
use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use verai_bench::{Workload, balance_of_call, cpu_seconds, joined, median_interval, recipient};
use verai_client::{
    Client,
    api::{EthApiClient, SentinelApiClient},
};

/// Node throughput against anvil: the same signed ERC-20 transfers sent to each.
#[derive(clap::Parser)]
struct Args {
    /// Accounts sending transfers.
    #[arg(long, default_value_t = 200)]
    senders: u64,
    /// Transfers per sender.
    #[arg(long, default_value_t = 100)]
    per_sender: u64,
    /// Concurrent client tasks.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Measure only this peer (`verai`, `anvil`, `verai+sentinel`).
    #[arg(long)]
    only: Option<String>,
    /// The verai binary.
    #[arg(long, default_value_os_t = verai_bench::verai_binary())]
    verai: PathBuf,
    /// The anvil binary.
    #[arg(long, default_value_os_t = repo_root().join("tests/e2e/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"))]
    anvil: PathBuf,
    /// Anvil's `--block-time` (default: a block per transaction).
    #[arg(long)]
    anvil_block_time: Option<String>,
    /// At most this many unconfirmed transactions per sender (0: no pacing).
    #[arg(long, default_value_t = 0)]
    window: usize,
    /// Also measure verai with this sentinel model.
    #[arg(long)]
    sentinel: Option<PathBuf>,
    /// The sentinel's policy (`--sentinel-policy` of `verai node`).
    #[arg(long)]
    sentinel_policy: Option<String>,
    /// Repeat the measurement this many times, interleaving the peers.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    repeat: u64,
}

use verai_bench::repo_root;

fn parse_args() -> eyre::Result<Args> {
    Ok(<Args as clap::Parser>::parse())
}

struct Peer {
    name: &'static str,
    child: Child,
    url: String,
    /// The node's data directory, removed after the node is killed (a killed node cannot
    /// remove an `--ephemeral` one itself: every run left ~55 MB behind).
    _datadir: Option<tempfile::TempDir>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> eyre::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn start(name: &'static str, a: &Args) -> eyre::Result<Peer> {
    let port = free_port()?;
    let mut datadir = None;
    let mut cmd = match name {
        "verai" | "verai+sentinel" => {
            let dir = tempfile::Builder::new().prefix("verai-bench-").tempdir()?;
            let mut c = Command::new(&a.verai);
            c.args(["node", "--dev", "--datadir"])
                .arg(dir.path())
                .args(["--metrics-port", "0", "--rpc-port", &port.to_string()]);
            datadir = Some(dir);
            if name == "verai+sentinel" {
                let model = a
                    .sentinel
                    .as_ref()
                    .ok_or_else(|| eyre::eyre!("verai+sentinel needs --sentinel MODEL"))?;
                c.arg("--sentinel").arg(model);
                if let Some(p) = &a.sentinel_policy {
                    c.args(["--sentinel-policy", p]);
                }
            }
            c.env("RUST_LOG", "warn");
            c
        }
        _ => {
            let mut c = Command::new(&a.anvil);
            c.args([
                "--chain-id",
                "1337",
                "--silent",
                "--port",
                &port.to_string(),
            ]);
            c
        }
    };
    let exe = if name == "anvil" { &a.anvil } else { &a.verai };
    if !exe.exists() {
        bail!(
            "{name} not found at {} (build with `cargo build --release -p verai`; anvil comes with `npm ci --prefix tests/e2e`)",
            exe.display()
        );
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .wrap_err_with(|| format!("starting {name}"))?;
    Ok(Peer {
        name,
        child,
        url: format!("http://127.0.0.1:{port}"),
        _datadir: datadir,
    })
}

fn client(url: &str) -> eyre::Result<Client> {
    Ok(Client::connect(url)?)
}

async fn wait_ready(c: &Client) -> eyre::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if c.chain_id().await.is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("node did not answer within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `eth_getTransactionReceipt` requests sent so far: each is node CPU, and a slower node is
/// polled more often per transaction.
static RECEIPT_POLLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

async fn wait_receipts(c: &Client, hashes: &[B256], timeout: Duration) -> eyre::Result<()> {
    let deadline = Instant::now() + timeout;
    for h in hashes {
        loop {
            RECEIPT_POLLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Some(r) = c.get_transaction_receipt(*h).await? {
                if !r.status() {
                    bail!("transaction {h} failed: {r:?}");
                }
                break;
            }
            if Instant::now() > deadline {
                let tx = c.get_transaction_by_hash(*h).await?;
                let latest = alloy_eips::BlockNumberOrTag::Latest;
                let block = c.get_block_by_number(latest, false).await?;
                let head = block
                    .as_ref()
                    .map(|b| (b.header.number, b.header.base_fee_per_gas));
                bail!(
                    "no receipt for {h} within {timeout:?}; the node has it as {tx:?}; latest block and base fee {head:?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(())
}

async fn send_all(c: &Client, txs: &[Bytes]) -> eyre::Result<Vec<B256>> {
    let mut out = Vec::with_capacity(txs.len());
    for tx in txs {
        out.push(
            c.send_raw_transaction(tx.clone())
                .await
                .wrap_err("sending a transaction")?,
        );
    }
    Ok(out)
}

struct Outcome {
    tps: f64,
    seconds: f64,
    submit_seconds: f64,
    /// Receipt requests per timed transaction.
    polls_per_tx: f64,
    /// Blocks the timed transactions went into (from the block number before and after).
    blocks: u64,
}

async fn block_number(c: &Client) -> eyre::Result<u64> {
    Ok(c.block_number().await?.to::<u64>())
}

async fn measure(
    peer: &Peer,
    w: &Workload,
    concurrency: usize,
    window: usize,
) -> eyre::Result<Outcome> {
    let c = client(&peer.url)?;
    wait_ready(&c).await?;
    // Set-up (not timed): deploy the token and fund the senders.
    let hashes = send_all(&c, &w.setup).await?;
    wait_receipts(&c, &hashes[hashes.len() - 1..], Duration::from_secs(300)).await?;

    let first_block = block_number(&c).await?;
    let start = Instant::now();
    let polls_start = RECEIPT_POLLS.load(std::sync::atomic::Ordering::Relaxed);
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let mine: Vec<Vec<Bytes>> = w
            .transfers
            .iter()
            .skip(t)
            .step_by(concurrency)
            .cloned()
            .collect();
        let c = client(&peer.url)?;
        tasks.push(tokio::spawn(async move {
            let rounds = mine.iter().map(Vec::len).max().unwrap_or(0);
            let mut last = Vec::new();
            let mut sent: Vec<Vec<B256>> = Vec::with_capacity(rounds);
            for n in 0..rounds {
                // Pacing: at most `window` unconfirmed transactions per sender.
                if window > 0 && n >= window {
                    wait_receipts(&c, &sent[n - window], Duration::from_secs(120)).await?;
                }
                let mut round = Vec::new();
                for sender in &mine {
                    if let Some(tx) = sender.get(n) {
                        let h = c.send_raw_transaction(tx.clone()).await?;
                        round.push(h);
                        if n + 1 == sender.len() {
                            last.push(h);
                        }
                    }
                }
                sent.push(round);
            }
            Ok::<_, eyre::Report>(last)
        }));
    }
    let mut last = Vec::new();
    for t in tasks {
        last.extend(t.await??);
    }
    let submit_seconds = start.elapsed().as_secs_f64();
    wait_receipts(&c, &last, Duration::from_secs(120)).await?;
    let seconds = start.elapsed().as_secs_f64();
    let polls = RECEIPT_POLLS.load(std::sync::atomic::Ordering::Relaxed) - polls_start;
    let blocks = block_number(&c).await?.saturating_sub(first_block);

    // Every transfer moved one token unit to the recipient.
    let call = alloy_rpc_types_eth::TransactionRequest {
        to: Some(w.token.into()),
        input: Bytes::from(balance_of_call(recipient())).into(),
        ..Default::default()
    };
    let raw = EthApiClient::call(&c, call, None).await?;
    let got = U256::from_be_slice(&raw);
    if got != U256::from(w.len()) {
        bail!(
            "{}: recipient holds {got} tokens, expected {}",
            peer.name,
            w.len()
        );
    }
    Ok(Outcome {
        tps: w.len() as f64 / seconds,
        seconds,
        submit_seconds,
        polls_per_tx: polls as f64 / w.len() as f64,
        blocks,
    })
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    verai_bench::report_errors(run().await)
}

async fn run() -> eyre::Result<()> {
    let a = parse_args()?;
    let w = Workload::new(&repo_root(), 1337, a.senders, a.per_sender)?;
    println!(
        "workload: {} ERC-20 transfers from {} senders ({} each), {} concurrent HTTP clients, {}; set-up of {} txs not timed",
        w.len(),
        a.senders,
        a.per_sender,
        a.concurrency,
        if a.window == 0 {
            "no pacing".to_string()
        } else {
            format!("at most {} unconfirmed per sender", a.window)
        },
        w.setup.len()
    );
    if a.sentinel.is_some() {
        return sentinel_cost(&a, &w).await;
    }
    let names: Vec<&'static str> = match a.only.as_deref() {
        Some("verai") => vec!["verai"],
        Some("anvil") => vec!["anvil"],
        Some(o) => bail!("--only takes verai or anvil, not {o}"),
        None => vec!["verai", "anvil"],
    };
    let mut results = Vec::new();
    for name in names {
        let peer = start(name, &a)?;
        let o = measure(&peer, &w, a.concurrency, a.window)
            .await
            .wrap_err_with(|| format!("measuring {name}"))?;
        println!(
            "{name:>6}: {:>8.0} tx/s  ({} txs, {:.2} s until the last receipt, submission took {:.2} s)",
            o.tps,
            w.len(),
            o.seconds,
            o.submit_seconds
        );
        results.push((name, o.tps));
        drop(peer);
    }
    if let [(_, v), (_, an)] = results.as_slice() {
        println!("ratio verai/anvil: {:.2}x (goal: at least 2x)", v / an);
    }
    Ok(())
}

/// Throughput without and with the sentinel, alternating, medians compared; and the node's
/// CPU time per transaction, which on a saturated machine is what throughput pays for.
async fn sentinel_cost(a: &Args, w: &Workload) -> eyre::Result<()> {
    let mut off = Vec::new();
    let mut on = Vec::new();
    let mut cpu_off = Vec::new();
    let mut cpu_on = Vec::new();
    for i in 0..a.repeat {
        for name in ["verai", "verai+sentinel"] {
            let peer = start(name, a)?;
            let pid = peer.child.id();
            let cpu_start = cpu_seconds(pid);
            let o = measure(&peer, w, a.concurrency, a.window)
                .await
                .wrap_err_with(|| format!("measuring {name}"))?;
            // Set-up transactions included: 2 % of the workload.
            let cpu_per_tx = cpu_start
                .zip(cpu_seconds(pid))
                .map(|(s, e)| (e - s) / (w.len() + w.setup.len()) as f64 * 1e6);
            let mut screen = String::new();
            if name == "verai+sentinel" {
                let s = client(&peer.url)?.sentinel_status().await?;
                screen = format!(
                    ", node screened {} txs, mean {:.1} µs, max {:.1} µs, alerts {}",
                    s.screened,
                    s.mean_screen_nanos as f64 / 1e3,
                    s.max_screen_nanos as f64 / 1e3,
                    s.flagged
                );
                on.push(o.tps);
                cpu_on.extend(cpu_per_tx);
            } else {
                off.push(o.tps);
                cpu_off.extend(cpu_per_tx);
            }
            let cpu = cpu_per_tx.map_or(String::new(), |c| format!(", node CPU {c:.0} µs/tx"));
            println!(
                "run {}: {name:>15}: {:>8.0} tx/s ({:.2} s until the last receipt, {} blocks, {:.2} receipt polls/tx){cpu}{screen}",
                i + 1,
                o.tps,
                o.seconds,
                o.blocks,
                o.polls_per_tx
            );
        }
    }
    // Sorts `v` (the per-pair costs are printed sorted); the mean of the middle two for an
    // even count.
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        match v.len() {
            0 => f64::NAN,
            n if n.is_multiple_of(2) => (v[n / 2 - 1] + v[n / 2]) / 2.0,
            n => v[n / 2],
        }
    };
    // Each pair ran back to back, so its ratio cancels the slow drifts of a shared VM that
    // the two medians each carry; both estimates are printed.
    let mut pairs: Vec<f64> = off
        .iter()
        .zip(&on)
        .map(|(f, n)| (f - n) / f * 100.0)
        .collect();
    let pair_cost = median(&mut pairs);
    let (off, on) = (median(&mut off), median(&mut on));
    let cost = (off - on) / off * 100.0;
    println!(
        "median of {}: sentinel off {off:.0} tx/s, on {on:.0} tx/s: cost {cost:.1} %",
        a.repeat
    );
    // The sign test's interval: how far a batch this size can be trusted on a noisy VM.
    let interval = median_interval(&pairs, 0.90).map_or(
        " (a confidence interval needs 5 pairs or more)".to_string(),
        |(lo, hi, c)| {
            format!(
                " ({:.0} % confidence interval {lo:.1} .. {hi:.1} %)",
                c * 100.0
            )
        },
    );
    println!(
        "per pair (an off run, then an on run), sorted: cost {} %; median {pair_cost:.1} %{interval} \
         (goal: at most 5 %: {})",
        joined(&pairs, 1),
        if pair_cost <= 5.0 { "met" } else { "NOT met" }
    );
    let (c_off, c_on) = (median(&mut cpu_off), median(&mut cpu_on));
    println!(
        "median node CPU per transaction: off {c_off:.0} µs, on {c_on:.0} µs: +{:.1} %",
        (c_on - c_off) / c_off * 100.0
    );
    Ok(())
}
