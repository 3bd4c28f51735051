//! `verai node`: run a validator (`--dev`: a one-validator local chain with funded accounts;
//! `--config node.toml`: one validator of a network, see `verai testnet`).

use super::node_registrar::{Job, Registrar};
use alloy_signer_local::PrivateKeySigner;
use clap::Args;
use commonware_cryptography::Signer as _;
use commonware_runtime::{Metrics as _, Runner as _, Supervisor as _};
use eyre::{WrapErr, bail};
use serde::Deserialize;
use sha2::Digest as _;
use std::{
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
    time::Duration,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::{info, warn};
use verai_consensus::{PrivateKey, Timeouts};
use verai_mempool::PoolConfig;
use verai_node::{
    ChainConfig, FollowConfig, GenesisFile, NodeConfig, ProducerConfig, ValidatorKeys,
};
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
    /// Least time between two blocks this node builds, in milliseconds (default 40): under
    /// sustained load transactions gather for it, so each block's fixed costs are shared by
    /// more of them; a transaction after an idle spell is proposed at once. 0: build as soon
    /// as one is ready.
    #[arg(long, value_name = "MS")]
    min_block_interval: Option<u64>,
    /// Genesis file of a network (from `verai testnet init`).
    #[arg(long)]
    genesis: Option<PathBuf>,
    /// This validator's ed25519 key file (hex).
    #[arg(long)]
    validator_key: Option<PathBuf>,
    /// Run as a follower (a full node that does not vote) of the network in `--genesis`,
    /// syncing certified blocks from this validator's JSON-RPC URL.
    #[arg(long, value_name = "URL", conflicts_with_all = ["dev", "validator_key"])]
    follow: Option<String>,
    /// Audit the bytecode of every contract finalized blocks deploy, after finalization
    /// (never affecting blocks); reports are served by `verai_getAudit`.
    #[arg(long)]
    audit_deploys: bool,
    #[command(flatten)]
    sentinel: super::node_sentinel::SentinelArgs,
    /// Private key (hex) the node signs its own provenance records with (its sentinel and
    /// auditor models, and each deploy audit). The dev chain has a funded default.
    #[arg(long, env = "VERAI_OPERATOR_KEY", hide_env_values = true)]
    operator_key: Option<String>,
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
    min_block_interval: Option<u64>,
    genesis: Option<PathBuf>,
    validator_key: Option<PathBuf>,
    follow: Option<String>,
    audit_deploys: Option<bool>,
    sentinel: Option<super::node_sentinel::SentinelFile>,
    operator_key: Option<String>,
}

/// `--min-block-interval` default. Measured on the node benchmark (2 cores, 20,000 ERC-20
/// transfers): 3,214-4,051 tx/s with 0, 3,407-5,583 tx/s with 40 ms (median of 5: 4,438);
/// blocks under load were ~20 ms apart, each with two disk syncs and a state commit.
const DEFAULT_MIN_BLOCK_INTERVAL_MS: u64 = 40;

/// Seed of the dev validator's key: fixed, so a dev datadir restarts as the same validator
/// and clients know the dev chain's validator set.
const DEV_VALIDATOR_SEED: u64 = 0x7e7a1;

/// The dev chain's validator key.
pub(crate) fn dev_validator() -> PrivateKey {
    <PrivateKey as commonware_cryptography::Signer>::from_seed(DEV_VALIDATOR_SEED)
}

pub fn run(a: NodeArgs) -> eyre::Result<()> {
    init_tracing();
    let (file, base): (FileConfig, PathBuf) = match &a.config {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).wrap_err_with(|| format!("reading {}", p.display()))?;
            let file =
                toml::from_str(&text).wrap_err_with(|| format!("parsing {}", p.display()))?;
            (file, p.parent().map(PathBuf::from).unwrap_or_default())
        }
        None => (FileConfig::default(), PathBuf::new()),
    };
    // Paths in a config file are relative to the file.
    let rel = |p: PathBuf| if p.is_relative() { base.join(p) } else { p };
    let dev = a.dev || file.dev.unwrap_or(false);
    let genesis = a.genesis.or(file.genesis.map(rel));
    let validator_key = a.validator_key.or(file.validator_key.map(&rel));
    let ephemeral = a
        .ephemeral
        .then(|| std::env::temp_dir().join(format!("verai-{}-{}", std::process::id(), nanos())));
    let datadir = match (ephemeral.clone(), a.datadir.or(file.datadir.map(&rel))) {
        (Some(d), _) | (None, Some(d)) => d,
        (None, None) => dirs::data_dir()
            .ok_or_else(|| eyre::eyre!("no user data directory; pass --datadir"))?
            .join(if dev { "verai/dev" } else { "verai/node" }),
    };
    let rpc_addr = SocketAddr::new(
        a.rpc_addr
            .or(file.rpc_addr)
            .unwrap_or(IpAddr::from([127, 0, 0, 1])),
        a.rpc_port.or(file.rpc_port).unwrap_or(8545),
    );
    let p2p_port = a.p2p_port.or(file.p2p_port);
    let metrics_port = a.metrics_port.or(file.metrics_port).unwrap_or(9001);
    let block_time = a.block_time.or(file.block_time).map(Duration::from_secs);
    let min_interval = Duration::from_millis(
        a.min_block_interval
            .or(file.min_block_interval)
            .unwrap_or(DEFAULT_MIN_BLOCK_INTERVAL_MS),
    );
    let registrar: Arc<OnceLock<Registrar>> = Arc::new(OnceLock::new());
    let risk_record: Arc<OnceLock<u64>> = Arc::new(OnceLock::new());
    let audit_on = a.audit_deploys || file.audit_deploys.unwrap_or(false);
    let audit_deploys = audit_on.then(|| {
        let (registrar, risk_record) = (registrar.clone(), risk_record.clone());
        let auditor: verai_node::DeployAuditor = Arc::new(move |code: &[u8]| {
            let mut report = match verai_auditor::audit_bytecode(code) {
                Ok(report) => serde_json::to_value(&report)
                    .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() })),
                Err(e) => return serde_json::json!({ "error": e.to_string() }),
            };
            // The audit is an AI decision: recorded as an inference record of the risk model,
            // content-addressed by the report's bytes (serde_json sorts keys).
            let bytes = serde_json::to_vec(&report).unwrap_or_default();
            let hash: [u8; 32] = sha2::Sha256::digest(&bytes).into();
            let code_hash = alloy_primitives::keccak256(code);
            if let (Some(r), serde_json::Value::Object(m)) = (registrar.get(), &mut report) {
                r.submit(Job::Decision {
                    model: risk_record.clone(),
                    hash,
                    uri: format!("verai-audit:code/{code_hash}"),
                });
                m.insert(
                    "provenance".into(),
                    serde_json::json!({ "kind": "inference", "contentHash": format!("0x{}", hex::encode(hash)) }),
                );
            }
            report
        });
        auditor
    });

    let (sentinel, sentinel_record) =
        match super::node_sentinel::build(a.sentinel, file.sentinel.unwrap_or_default(), rel)? {
            Some((c, r)) => (Some(c), Some(r)),
            None => (None, None),
        };
    let operator_key = a.operator_key.or(file.operator_key);

    if let Some(upstream) = a.follow.or(file.follow) {
        let Some(genesis) = genesis else {
            bail!("a follower needs the network's genesis file (--genesis)");
        };
        return run_follower(FollowerArgs {
            genesis,
            upstream,
            datadir,
            rpc_addr,
            ephemeral,
        });
    }
    let (spec, keys, timeouts, label) = if dev {
        if genesis.is_some() {
            bail!("--dev runs the built-in dev chain: drop --dev to use a genesis file");
        }
        let signer = <PrivateKey as commonware_cryptography::Signer>::from_seed(DEV_VALIDATOR_SEED);
        // The dev chain has no peers: by default its p2p listener takes any free port.
        let p2p_listen = SocketAddr::from(([127, 0, 0, 1], p2p_port.unwrap_or(0)));
        let keys = ValidatorKeys {
            validators: vec![(signer.public_key(), p2p_listen)],
            signer,
            p2p_listen,
        };
        (
            ChainSpec::dev(),
            keys,
            Timeouts::dev(),
            "dev node".to_string(),
        )
    } else {
        let (Some(genesis), Some(key)) = (genesis, validator_key) else {
            bail!(
                "pass --dev for a local dev chain, or a genesis file and a validator key (--config node.toml from `verai testnet init`, or --genesis and --validator-key)"
            );
        };
        network_keys(&genesis, &key, p2p_port)?
    };
    let config = NodeConfig {
        datadir: datadir.clone(),
        pool: PoolConfig::new(spec.chain_id, spec.gas_limit),
        spec,
        rpc_addr,
        keys,
        producer: ProducerConfig {
            block_time,
            min_interval,
            ..Default::default()
        },
        timeouts,
        audit_deploys,
        sentinel,
    };
    let chain_id = config.spec.chain_id;
    std::fs::create_dir_all(&datadir)
        .wrap_err_with(|| format!("creating {}", datadir.display()))?;
    info!(datadir = %datadir.display(), "starting {label}");

    let runtime =
        commonware_runtime::tokio::Config::new().with_storage_directory(datadir.join("consensus"));
    let result = commonware_runtime::tokio::Runner::new(runtime).start(|context| async move {
        let metrics = context.child("metrics");
        let node = verai_node::run(context, config)
            .await
            .wrap_err("starting the node")?;
        println!(
            "verai {label}: chain id {chain_id}, genesis {}, JSON-RPC http://{1} and ws://{1}",
            node.genesis_hash, node.rpc_addr
        );
        if audit_on || sentinel_record.is_some() {
            let operator = match operator_key {
                Some(k) => Some(
                    k.trim()
                        .parse::<PrivateKeySigner>()
                        .wrap_err("--operator-key is not a valid hex private key")?,
                ),
                None if dev => Some(verai_primitives::dev_operator()),
                None => None,
            };
            match operator {
                None => warn!(
                    "no --operator-key: the node's models and audits are not recorded in provenance"
                ),
                Some(signer) => {
                    info!(operator = %signer.address(), "recording the node's AI in provenance");
                    let r =
                        Registrar::spawn(format!("http://{}", node.rpc_addr), signer, chain_id)?;
                    if let Some(rec) = sentinel_record {
                        r.submit(Job::Model {
                            name: "sentinel fraud model",
                            hash: rec.hash,
                            uri: format!("verai-sentinel:model/{}", hex::encode(rec.hash)),
                            data: rec.data_hash.map(|h| {
                                (
                                    h,
                                    format!("verai-sentinel:training-data/{}", hex::encode(h)),
                                )
                            }),
                            license: "CC-BY-4.0".into(),
                            id: rec.id,
                        });
                    }
                    if audit_on {
                        let hash: [u8; 32] =
                            sha2::Sha256::digest(verai_auditor::risk::MODEL_JSON.as_bytes()).into();
                        r.submit(Job::Model {
                            name: "auditor risk model",
                            hash,
                            uri: "verai-auditor:model/risk.json".into(),
                            data: None,
                            license: "Apache-2.0".into(),
                            id: risk_record.clone(),
                        });
                    }
                    let _ = registrar.set(r);
                }
            }
        }
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

struct FollowerArgs {
    genesis: PathBuf,
    upstream: String,
    datadir: PathBuf,
    rpc_addr: SocketAddr,
    ephemeral: Option<PathBuf>,
}

/// Run a follower until Ctrl-C or SIGTERM.
fn run_follower(f: FollowerArgs) -> eyre::Result<()> {
    let bytes =
        std::fs::read(&f.genesis).wrap_err_with(|| format!("reading {}", f.genesis.display()))?;
    let file =
        GenesisFile::parse(&bytes).wrap_err_with(|| format!("in {}", f.genesis.display()))?;
    let spec = file.spec()?;
    let config = FollowConfig {
        chain: ChainConfig {
            datadir: f.datadir.clone(),
            pool: PoolConfig::new(spec.chain_id, spec.gas_limit),
            spec,
            producer: ProducerConfig::default(),
            partition: "verai".into(),
        },
        validators: file.validators()?.into_iter().map(|(k, _)| k).collect(),
        upstream: f.upstream,
        rpc_addr: f.rpc_addr,
        poll: Duration::from_millis(100),
    };
    std::fs::create_dir_all(&f.datadir)
        .wrap_err_with(|| format!("creating {}", f.datadir.display()))?;
    let runtime = commonware_runtime::tokio::Config::new()
        .with_storage_directory(f.datadir.join("consensus"));
    let result = commonware_runtime::tokio::Runner::new(runtime).start(|context| async move {
        let node = verai_node::follow(context, config)
            .await
            .wrap_err("starting the follower")?;
        println!(
            "verai follower: genesis {}, JSON-RPC http://{1} and ws://{1}",
            node.genesis_hash, node.rpc_addr
        );
        wait_for_signal().await;
        info!(height = node.latest(), "shutting down");
        node.shutdown().await;
        Ok::<_, eyre::Report>(())
    });
    if let Some(dir) = f.ephemeral {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

/// The chain spec, keys and timing of a validator of a network described by a genesis file.
fn network_keys(
    genesis: &Path,
    key: &Path,
    p2p_port: Option<u16>,
) -> eyre::Result<(ChainSpec, ValidatorKeys, Timeouts, String)> {
    let bytes =
        std::fs::read(genesis).wrap_err_with(|| format!("reading {}", genesis.display()))?;
    let file = GenesisFile::parse(&bytes).wrap_err_with(|| format!("in {}", genesis.display()))?;
    let signer = read_validator_key(key)?;
    let me = signer.public_key();
    let validators = file.validators()?;
    let Some((index, (_, addr))) = validators.iter().enumerate().find(|(_, (k, _))| *k == me)
    else {
        bail!(
            "the validator key in {} ({me}) is not in the validator set of {}",
            key.display(),
            genesis.display()
        );
    };
    let p2p_listen = SocketAddr::new(addr.ip(), p2p_port.unwrap_or(addr.port()));
    let label = format!("validator {index} of {}", validators.len());
    let keys = ValidatorKeys {
        signer,
        validators,
        p2p_listen,
    };
    Ok((file.spec()?, keys, Timeouts::network(), label))
}

/// Read a validator key file: the 32-byte ed25519 private key in hex.
pub fn read_validator_key(path: &Path) -> eyre::Result<PrivateKey> {
    let text =
        std::fs::read_to_string(path).wrap_err_with(|| format!("reading {}", path.display()))?;
    let raw = alloy_primitives::hex::decode(text.trim())
        .wrap_err_with(|| format!("{} is not a hex key", path.display()))?;
    verai_consensus::private_key_from_bytes(&raw)
        .wrap_err_with(|| format!("{} is not an ed25519 key", path.display()))
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
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

pub(crate) async fn wait_for_signal() {
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
