//! The explorer and GraphQL on a large chain: a release `verai node --dev` is fed
//! `--senders × --per-sender` ERC-20 transfers (1,000,000 by default: as many token
//! `Transfer` logs), then a provenance lineage (a chain of depth 10 and a DAG of 200
//! records), and the explorer is timed from this process:
//!
//! - time to first byte of pages (home, block, transaction, busy address, record with the
//!   200-node lineage graph), `--samples` requests each, p50 / p95 / max;
//! - GraphQL `logsPage` over the token's logs: page 1 and page 10,000 (first = 100, the
//!   cursor reached by walking pages of 1,000), p95 of each;
//! - GraphQL `lineage` of depth 10, and the record page that lays out and draws 200 nodes.
//!
//! Goals (issue 29): pages p95 < 100 ms; `logsPage` p95 < 20 ms with page 10,000 within 2x
//! of page 1; lineage of depth 10 < 50 ms; the 200-node lineage SVG page < 300 ms.
//!
//! Run: `cargo build --release -p verai && cargo run --release -p verai-bench --bin explorer`.

use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_sol_types::SolCall;
use eyre::{WrapErr, bail};
use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use verai_bench::{Workload, repo_root, sign};
use verai_client::{Client, api::EthApiClient};
use verai_primitives::dev_signers;
use verai_provenance::{ADDRESS as REGISTRY, IProvenance};

/// The explorer on a large chain (see the module docs).
#[derive(clap::Parser)]
struct Args {
    /// Accounts sending transfers.
    #[arg(long, default_value_t = 1000)]
    senders: u64,
    /// Transfers per sender.
    #[arg(long, default_value_t = 1000)]
    per_sender: u64,
    /// Timed requests per page or query.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Rounds of transfers in flight before waiting (pool bounds).
    #[arg(long, default_value_t = 24)]
    window: usize,
    /// The verai binary.
    #[arg(long, default_value_os_t = verai_bench::verai_binary())]
    verai: PathBuf,
}

/// The node under test; its data directory is removed after it is killed.
struct Node {
    child: Child,
    _datadir: tempfile::TempDir,
}

impl Drop for Node {
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

/// One request; (time to first byte, status, body).
fn get(addr: SocketAddr, path: &str, body: Option<&str>) -> eyre::Result<(Duration, u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let req = match body {
        Some(b) => format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
            b.len()
        ),
        None => format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    };
    let start = Instant::now();
    s.write_all(req.as_bytes())?;
    let mut first = [0u8; 1];
    s.read_exact(&mut first)?;
    let ttfb = start.elapsed();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest)?;
    let text = format!("{}{}", first[0] as char, String::from_utf8_lossy(&rest));
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((ttfb, status, body))
}

fn gql(addr: SocketAddr, query: &str) -> eyre::Result<(Duration, serde_json::Value)> {
    let body = serde_json::json!({ "query": query }).to_string();
    let start = Instant::now();
    let (_, status, text) = get(addr, "/graphql", Some(&body))?;
    let whole = start.elapsed();
    let v: serde_json::Value =
        serde_json::from_str(&text).wrap_err_with(|| format!("GraphQL {status}: {text}"))?;
    if v.get("errors").is_some() {
        bail!("GraphQL errors: {v}");
    }
    Ok((whole, v))
}

struct Stats {
    p50: f64,
    p95: f64,
    max: f64,
}

fn stats(mut ms: Vec<f64>) -> Stats {
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    Stats {
        p50: at(0.5),
        p95: at(0.95),
        max: *ms.last().unwrap_or(&0.0),
    }
}

fn report(what: &str, s: &Stats, goal: &str) {
    println!(
        "{what:<46} p50 {:>7.2} ms  p95 {:>7.2} ms  max {:>7.2} ms   goal {goal}",
        s.p50, s.p95, s.max
    );
}

fn time_page(addr: SocketAddr, path: &str, samples: usize) -> eyre::Result<Stats> {
    let mut ms = Vec::with_capacity(samples);
    for _ in 0..samples {
        let (t, status, _) = get(addr, path, None)?;
        if status != 200 {
            bail!("{path}: HTTP {status}");
        }
        ms.push(t.as_secs_f64() * 1e3);
    }
    Ok(stats(ms))
}

async fn wait_receipts(c: &Client, hashes: &[B256]) -> eyre::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    for h in hashes {
        while c.get_transaction_receipt(*h).await?.is_none() {
            if Instant::now() > deadline {
                bail!("no receipt for {h}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(())
}

/// Send in JSON-RPC batches of 500; the hashes.
async fn send_batched(c: &Client, txs: &[Bytes]) -> eyre::Result<Vec<B256>> {
    let mut out = Vec::with_capacity(txs.len());
    for chunk in txs.chunks(500) {
        for r in c.send_raw_batch(chunk).await? {
            out.push(r.map_err(|e| eyre::eyre!("refused: {e}"))?);
        }
    }
    Ok(out)
}

/// Register records through dev account 1, in nonce order: `parents(i)` of record `first + i`.
async fn register(
    c: &Client,
    nonce: &mut u64,
    count: u64,
    parents: impl Fn(u64) -> Vec<u64>,
) -> eyre::Result<()> {
    let key = dev_signers(2).remove(1);
    let mut txs = Vec::new();
    for i in 0..count {
        let call = IProvenance::registerCall {
            kind: if parents(i).is_empty() { 0 } else { 1 },
            contentHash: alloy_primitives::keccak256(format!("bench-record-{nonce}-{i}")),
            uri: String::new(),
            license: "MIT".into(),
            contributors: vec![],
            parents: parents(i),
        };
        txs.push(sign(
            &key,
            1337,
            *nonce,
            TxKind::Call(REGISTRY),
            U256::ZERO,
            call.abi_encode(),
            3_000_000,
        ));
        *nonce += 1;
    }
    let hashes = send_batched(c, &txs).await?;
    wait_receipts(c, &hashes[hashes.len().saturating_sub(1)..]).await
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    verai_bench::report_errors(run(<Args as clap::Parser>::parse()).await)
}

async fn run(a: Args) -> eyre::Result<()> {
    if !a.verai.exists() {
        bail!(
            "{} is missing: cargo build --release -p verai (or pass --verai)",
            a.verai.display()
        );
    }
    let (rpc_port, explorer_port) = (free_port()?, free_port()?);
    let dir = tempfile::tempdir()?;
    let child = Command::new(&a.verai)
        .args(["node", "--dev", "--metrics-port", "0", "--datadir"])
        .arg(dir.path())
        .args(["--rpc-port", &rpc_port.to_string()])
        .args(["--explorer-port", &explorer_port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .wrap_err("starting verai")?;
    let _node = Node {
        child,
        _datadir: dir,
    };
    let c = Client::connect(&format!("http://127.0.0.1:{rpc_port}"))?;
    let ex = SocketAddr::from(([127, 0, 0, 1], explorer_port));
    let deadline = Instant::now() + Duration::from_secs(60);
    while c.chain_id().await.is_err() {
        if Instant::now() > deadline {
            bail!("the node did not start");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 1. The chain: set-up, then the transfers round by round, `window` rounds in flight.
    let started = Instant::now();
    eprintln!(
        "signing {} transfers of {} senders...",
        a.senders * a.per_sender,
        a.senders
    );
    let w = Workload::new(&repo_root(), 1337, a.senders, a.per_sender)?;
    let setup = send_batched(&c, &w.setup).await?;
    wait_receipts(&c, &setup[setup.len() - 1..]).await?;
    let mut rounds: Vec<Vec<B256>> = Vec::new();
    let loading = Instant::now();
    for n in 0..a.per_sender as usize {
        if n >= a.window {
            wait_receipts(&c, &rounds[n - a.window]).await?;
        }
        let round: Vec<Bytes> = w
            .transfers
            .iter()
            .filter_map(|t| t.get(n).cloned())
            .collect();
        rounds.push(send_batched(&c, &round).await?);
        if n % 100 == 99 {
            eprintln!(
                "{} transfers sent, {:.0} tx/s",
                (n + 1) * w.senders.len(),
                ((n + 1) * w.senders.len()) as f64 / loading.elapsed().as_secs_f64()
            );
        }
    }
    for r in &rounds[rounds.len().saturating_sub(a.window)..] {
        wait_receipts(&c, r).await?;
    }
    let head = c.block_number().await?.to::<u64>();
    println!(
        "chain: {} transfers ({} token logs) in {} blocks, loaded in {:.0} s",
        w.len(),
        w.len(),
        head,
        started.elapsed().as_secs_f64()
    );

    // 2. Lineage: a chain of depth 10, then a DAG of 200 records.
    let first = 1u64;
    let mut nonce = 0u64;
    register(&c, &mut nonce, 11, |i| {
        if i == 0 { vec![] } else { vec![first + i - 1] }
    })
    .await?;
    let chain_tip = first + 10;
    let dag_first = chain_tip + 1;
    register(&c, &mut nonce, 200, |i| match i {
        0..=3 => vec![],
        _ => {
            let mut p = vec![dag_first + i - 1, dag_first + i / 2];
            p.dedup();
            p
        }
    })
    .await?;
    let dag_tip = dag_first + 199;

    // 3. Pages.
    println!("explorer, {} samples each (time to first byte):", a.samples);
    let busy_block = head / 2;
    let block = c
        .get_block_by_number(alloy_eips::BlockNumberOrTag::Number(busy_block), false)
        .await?
        .ok_or_else(|| eyre::eyre!("no block {busy_block}"))?;
    let tx = block
        .transactions
        .hashes()
        .next()
        .ok_or_else(|| eyre::eyre!("block {busy_block} is empty"))?;
    let sender: Address = w.senders[0].address();
    let mut worst_page = 0f64;
    for (what, path) in [
        ("home", "/".to_string()),
        ("block (busy)", format!("/block/{busy_block}")),
        ("transaction", format!("/tx/{tx}")),
        ("address (1,000 transfers)", format!("/address/{sender}")),
        (
            "token contract (1,000,000 transfers)",
            format!("/address/{}", w.token),
        ),
        ("record, lineage of 10", format!("/record/{chain_tip}")),
    ] {
        let s = time_page(ex, &path, a.samples)?;
        worst_page = worst_page.max(s.p95);
        report(what, &s, "p95 < 100 ms");
    }

    // 4. GraphQL keyset pages over the token's logs.
    let filter = format!("{{ addresses: [\"{}\"] }}", w.token);
    let page = |after: &str| {
        format!(
            "{{ logsPage(filter: {filter}, first: 100, after: {after}) {{ logs {{ index data transaction {{ hash }} }} nextCursor }} }}"
        )
    };
    let mut first_ms = Vec::new();
    for _ in 0..a.samples {
        first_ms.push(gql(ex, &page("null"))?.0.as_secs_f64() * 1e3);
    }
    // The cursor of page 10,000 (logs 999,901..1,000,000 with pages of 100).
    let target = (w.len() as u64 / 100).min(10_000);
    let mut cursor = serde_json::Value::Null;
    let mut skipped = 0u64;
    while skipped + 1000 <= (target - 1) * 100 {
        let q = format!(
            "{{ logsPage(filter: {filter}, first: 1000, after: {cursor}) {{ nextCursor }} }}"
        );
        cursor = gql(ex, &q)?.1["data"]["logsPage"]["nextCursor"].clone();
        skipped += 1000;
    }
    let rest = (target - 1) * 100 - skipped;
    if rest > 0 {
        let q = format!(
            "{{ logsPage(filter: {filter}, first: {rest}, after: {cursor}) {{ nextCursor }} }}"
        );
        cursor = gql(ex, &q)?.1["data"]["logsPage"]["nextCursor"].clone();
    }
    let mut deep_ms = Vec::new();
    let mut deep_len = 0;
    for _ in 0..a.samples {
        let (t, v) = gql(ex, &page(&cursor.to_string()))?;
        deep_len = v["data"]["logsPage"]["logs"].as_array().map_or(0, Vec::len);
        deep_ms.push(t.as_secs_f64() * 1e3);
    }
    let (p1, pn) = (stats(first_ms), stats(deep_ms));
    report("GraphQL logsPage, page 1 (100 logs)", &p1, "p95 < 20 ms");
    report(
        &format!("GraphQL logsPage, page {target} ({deep_len} logs)"),
        &pn,
        "p95 < 20 ms, within 2x of page 1",
    );
    println!(
        "  page {target} / page 1 at p95: {:.2}x",
        pn.p95 / p1.p95.max(1e-9)
    );

    // 5. Lineage.
    let mut ms = Vec::new();
    for _ in 0..a.samples {
        let q =
            format!("{{ lineage(id: {chain_tip}, depth: 10) {{ nodes {{ id kind depth }} }} }}");
        let (t, v) = gql(ex, &q)?;
        let n = v["data"]["lineage"]["nodes"].as_array().map_or(0, Vec::len);
        if n != 10 {
            bail!("lineage of depth 10 returned {n} records");
        }
        ms.push(t.as_secs_f64() * 1e3);
    }
    report("GraphQL lineage, depth 10", &stats(ms), "< 50 ms");
    let mut ms = Vec::new();
    let mut nodes = 0;
    for _ in 0..a.samples.min(50) {
        let start = Instant::now();
        let (_, status, body) = get(ex, &format!("/record/{dag_tip}"), None)?;
        if status != 200 {
            bail!("record page: HTTP {status}");
        }
        nodes = body.matches("class=\"node\"").count();
        ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    report(
        &format!("record page, lineage SVG of {nodes} nodes (whole page)"),
        &stats(ms),
        "< 300 ms",
    );
    println!("worst page p95: {worst_page:.2} ms");
    Ok(())
}
