//! `verai node`: run a validator (`--dev`: a one-validator local chain with funded accounts).

use clap::Args;
use commonware_cryptography::Signer as _;
use commonware_runtime::{Metrics as _, Runner as _, Supervisor as _};
use eyre::{WrapErr, bail};
use serde::Deserialize;
use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    time::Duration,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::{info, warn};
use verai_consensus::{PrivateKey, Timeouts};
use verai_mempool::PoolConfig;
use verai_node::{NodeConfig, ProducerConfig, ValidatorKeys};
use verai_primitives::ChainSpec;

/// Arguments of `verai node`.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Run a local one-validator dev chain: chain id 1337, the standard test mnemonic's ten
    /// accounts funded.
    #[arg(long)]
    dev: bool,
    /// TOML file with any of the options below (flags win).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory (default: the user's data directory, `verai/dev`).
    #[arg(long)]
    datadir: Option<PathBuf>,
    /// Keep everything in a temporary directory deleted at exit.
    #[arg(long, conflicts_with = "datadir")]
    ephemeral: bool,
    /// JSON-RPC listen address.
    #[arg(long)]
    rpc_addr: Option<IpAddr>,
    /// JSON-RPC port (HTTP and WebSocket).
    #[arg(long)]
    rpc_port: Option<u16>,
    /// Consensus p2p port (on 127.0.0.1 for the dev chain).
    #[arg(long)]
    p2p_port: Option<u16>,
    /// Prometheus metrics port (0 disables).
    #[arg(long)]
    metrics_port: Option<u16>,
    /// Produce a block at least every this many seconds, even when empty (default: only
    /// when transactions wait).
    #[arg(long)]
    block_time: Option<u64>,
}

/// The same options from a TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    dev: Option<bool>,
    datadir: Option<PathBuf>,
    rpc_addr: Option<IpAddr>,
    rpc_port: Option<u16>,
    p2p_port: Option<u16>,
    metrics_port: Option<u16>,
    block_time: Option<u64>,
}

/// Seed of the dev validator's key: fixed, so a dev datadir restarts as the same validator.
const DEV_VALIDATOR_SEED: u64 = 0x7e7a1;

/// The dev validator's public key: the validator set of the dev chain.
pub fn dev_validator_key() -> verai_consensus::PublicKey {
    commonware_cryptography::Signer::public_key(
        &<PrivateKey as commonware_cryptography::Signer>::from_seed(DEV_VALIDATOR_SEED),
    )
}

pub fn run(a: NodeArgs) -> eyre::Result<()> {
    init_tracing();
    let file: FileConfig = match &a.config {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).wrap_err_with(|| format!("reading {}", p.display()))?;
            toml::from_str(&text).wrap_err_with(|| format!("parsing {}", p.display()))?
        }
        None => FileConfig::default(),
    };
    if !(a.dev || file.dev.unwrap_or(false)) {
        bail!(
            "only the dev chain is available yet: run `verai node --dev` (multi-validator networks come with `verai testnet`)"
        );
    }
    let ephemeral = a
        .ephemeral
        .then(|| std::env::temp_dir().join(format!("verai-{}-{}", std::process::id(), nanos())));
    let datadir = match (ephemeral.clone(), a.datadir.or(file.datadir)) {
        (Some(d), _) | (None, Some(d)) => d,
        (None, None) => dirs::data_dir()
            .ok_or_else(|| eyre::eyre!("no user data directory; pass --datadir"))?
            .join("verai/dev"),
    };
    let rpc_addr = SocketAddr::new(
        a.rpc_addr
            .or(file.rpc_addr)
            .unwrap_or(IpAddr::from([127, 0, 0, 1])),
        a.rpc_port.or(file.rpc_port).unwrap_or(8545),
    );
    // The dev chain has no peers: by default its p2p listener takes any free port.
    let p2p_listen = SocketAddr::from(([127, 0, 0, 1], a.p2p_port.or(file.p2p_port).unwrap_or(0)));
    let metrics_port = a.metrics_port.or(file.metrics_port).unwrap_or(9001);
    let block_time = a.block_time.or(file.block_time).map(Duration::from_secs);

    let signer = <PrivateKey as commonware_cryptography::Signer>::from_seed(DEV_VALIDATOR_SEED);
    let spec = ChainSpec::dev();
    let config = NodeConfig {
        datadir: datadir.clone(),
        pool: PoolConfig::new(spec.chain_id, spec.gas_limit),
        spec,
        rpc_addr,
        keys: ValidatorKeys {
            validators: vec![(signer.public_key(), p2p_listen)],
            signer,
            p2p_listen,
        },
        producer: ProducerConfig {
            block_time,
            ..Default::default()
        },
        timeouts: Timeouts::dev(),
    };
    std::fs::create_dir_all(&datadir)
        .wrap_err_with(|| format!("creating {}", datadir.display()))?;
    info!(datadir = %datadir.display(), "starting dev node");

    let runtime =
        commonware_runtime::tokio::Config::new().with_storage_directory(datadir.join("consensus"));
    let result = commonware_runtime::tokio::Runner::new(runtime).start(|context| async move {
        let metrics = context.child("metrics");
        let node = verai_node::run(context, config)
            .await
            .wrap_err("starting the node")?;
        println!(
            "verai dev node: chain id 1337, JSON-RPC http://{0} and ws://{0}",
            node.rpc_addr
        );
        if metrics_port != 0 {
            let addr = SocketAddr::new(rpc_addr.ip(), metrics_port);
            match tokio::net::TcpListener::bind(addr).await {
                Ok(listener) => {
                    info!(%addr, "Prometheus metrics at /metrics");
                    tokio::spawn(serve_metrics(listener, move || metrics.encode()));
                }
                Err(e) => warn!(%addr, %e, "metrics endpoint disabled"),
            }
        }
        wait_for_signal().await;
        info!("shutting down");
        node.shutdown().await?;
        Ok::<_, eyre::Report>(())
    });
    if let Some(dir) = ephemeral {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A minimal HTTP endpoint: `GET /metrics` returns the runtime's Prometheus text.
async fn serve_metrics(
    listener: tokio::net::TcpListener,
    encode: impl Fn() -> String + Send + Sync + 'static,
) {
    let encode = std::sync::Arc::new(encode);
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let encode = encode.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let n = match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await
            {
                Ok(Ok(n)) => n,
                _ => return,
            };
            let head = String::from_utf8_lossy(&buf[..n]);
            let (status, body) = if head.starts_with("GET /metrics ") {
                ("200 OK", encode())
            } else {
                ("404 Not Found", "not found\n".to_string())
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(resp.as_bytes()).await;
        });
    }
}
