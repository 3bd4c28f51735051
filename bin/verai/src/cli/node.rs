//! `verai node`: run a validator (`--dev`: a one-validator local chain with funded accounts;
//! `--config node.toml`: one validator of a network, see `verai testnet`) or a follower.

use super::{node_file::FileConfig, node_sentinel::SentinelArgs};
use clap::Args;
use eyre::{WrapErr, bail};
use sha2::Digest as _;
use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    sync::{Arc, OnceLock},
    time::Duration,
};
use tracing::info;
use verai_consensus::Timeouts;
use verai_mempool::PoolConfig;
use verai_node::{
    ChainConfig, DeployAudits, FollowConfig, NodeConfig, OwnModel, ProducerConfig,
    process::{Role, dev_validator, network_spec, network_validator, run_until_signal},
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
    /// Port of the explorer and GraphQL (`/graphql`), on the RPC address (default 8546).
    #[arg(long)]
    explorer_port: Option<u16>,
    /// Do not serve the explorer.
    #[arg(long)]
    no_explorer: bool,
    /// File holding a 32-byte hex secret (as the engine API's `jwt.hex`): requests with
    /// `Authorization: Bearer <HS256 JWT>` signed by it are not held to the blob quota.
    #[arg(long, value_name = "FILE")]
    rpc_jwt_secret: Option<PathBuf>,
    /// Blob bytes a client without a token may store per hour, in MiB (default 64).
    #[arg(long, value_name = "MIB")]
    blob_quota_mb: Option<u64>,
    /// Most the blob store holds, in MiB (default 10240).
    #[arg(long, value_name = "MIB")]
    blob_store_mb: Option<u64>,
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
    sentinel: SentinelArgs,
    /// Private key (hex) the node signs its own provenance records with (its sentinel and
    /// auditor models, and each deploy audit). The dev chain has a funded default.
    #[arg(long, env = "VERAI_OPERATOR_KEY", hide_env_values = true)]
    operator_key: Option<String>,
}

/// `--min-block-interval` default. Measured on the node benchmark (2 cores, 20,000 ERC-20
/// transfers): 3,214-4,051 tx/s with 0, 3,407-5,583 tx/s with 40 ms (median of 5: 4,438);
/// blocks under load were ~20 ms apart, each with two disk syncs and a state commit.
const DEFAULT_MIN_BLOCK_INTERVAL_MS: u64 = 40;

pub fn run(a: NodeArgs) -> eyre::Result<()> {
    super::init_tracing();
    let (file, base): (FileConfig, PathBuf) = match &a.config {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).wrap_err_with(|| format!("reading {}", p.display()))?;
            let file =
                FileConfig::parse(&text).wrap_err_with(|| format!("parsing {}", p.display()))?;
            (file, p.parent().map(PathBuf::from).unwrap_or_default())
        }
        None => (FileConfig::default(), PathBuf::new()),
    };
    // Paths in a config file are relative to the file.
    let rel = |p: PathBuf| if p.is_relative() { base.join(p) } else { p };
    let dev = a.dev || file.dev.unwrap_or(false);
    let genesis = a.genesis.or(file.genesis.map(rel));
    let validator_key = a.validator_key.or(file.validator_key.map(rel));
    let ephemeral = a.ephemeral.then(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        std::env::temp_dir().join(format!("verai-{}-{nanos}", std::process::id()))
    });
    let datadir = match (ephemeral.clone(), a.datadir.or(file.datadir.map(rel))) {
        (Some(d), _) | (None, Some(d)) => d,
        (None, None) => dirs::data_dir()
            .ok_or_else(|| eyre::eyre!("no user data directory; pass --datadir"))?
            .join(if dev { "verai/dev" } else { "verai/node" }),
    };
    let rpc_ip = a
        .rpc_addr
        .or(file.rpc_addr)
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let rpc_addr = SocketAddr::new(rpc_ip, a.rpc_port.or(file.rpc_port).unwrap_or(8545));
    let metrics = match a.metrics_port.or(file.metrics_port).unwrap_or(9001) {
        0 => None,
        port => Some(SocketAddr::new(rpc_ip, port)),
    };
    let explorer_port = a.explorer_port.or(file.explorer_port).unwrap_or(8546);
    let explorer_addr =
        (!a.no_explorer && explorer_port != 0).then(|| SocketAddr::new(rpc_ip, explorer_port));
    let rpc_access = verai_node::access::AccessOptions {
        jwt_secret: match a.rpc_jwt_secret.or(file.rpc_jwt_secret.map(rel)) {
            Some(path) => Some(
                verai_node::access::parse_secret(
                    &std::fs::read_to_string(&path)
                        .wrap_err_with(|| format!("reading {}", path.display()))?,
                )
                .map_err(|e| eyre::eyre!("{}: {e}", path.display()))?,
            ),
            None => None,
        },
        write_limits: verai_node::access::WriteLimits {
            bytes_per_hour: a.blob_quota_mb.or(file.blob_quota_mb).unwrap_or(64) << 20,
            ..Default::default()
        },
    };
    let blob_capacity = a.blob_store_mb.or(file.blob_store_mb).unwrap_or(10_240) << 20;
    let mut file_sentinel = file.sentinel.unwrap_or_default();
    file_sentinel.model = file_sentinel.model.map(rel);
    let (role, banner) = if let Some(upstream) = a.follow.or(file.follow) {
        let Some(genesis) = genesis else {
            bail!("a follower needs the network's genesis file (--genesis)");
        };
        let (spec, file) = network_spec(&genesis)?;
        let banner = format!("verai follower: chain id {}", spec.chain_id);
        let role = Role::Follower(FollowConfig {
            chain: chain_config(
                datadir.clone(),
                spec,
                ProducerConfig::default(),
                blob_capacity,
            ),
            validators: file.validators()?.into_iter().map(|(k, _)| k).collect(),
            upstream,
            rpc_addr,
            rpc_access,
            explorer_addr,
            poll: Duration::from_millis(100),
        });
        (role, banner)
    } else {
        let (spec, keys, timeouts, label) = if dev {
            if genesis.is_some() {
                bail!("--dev runs the built-in dev chain: drop --dev to use a genesis file");
            }
            let keys = dev_validator(a.p2p_port.or(file.p2p_port).unwrap_or(0));
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
            network_validator(&genesis, &key, a.p2p_port.or(file.p2p_port))?
        };
        info!(datadir = %datadir.display(), "starting {label}");
        let banner = format!("verai {label}: chain id {}", spec.chain_id);
        let (sentinel, sentinel_model) = match a.sentinel.settings().or(file_sentinel).build()? {
            Some((config, record)) => (
                Some(config),
                Some(OwnModel {
                    name: "sentinel fraud model",
                    hash: record.hash,
                    uri: format!("verai-sentinel:model/{}", hex::encode(record.hash)),
                    data: record.data_hash.map(|h| {
                        (
                            h,
                            format!("verai-sentinel:training-data/{}", hex::encode(h)),
                        )
                    }),
                    license: "CC-BY-4.0".into(),
                    id: record.id,
                }),
            ),
            None => (None, None),
        };
        let operator = match a.operator_key.or(file.operator_key) {
            Some(k) => Some(
                k.trim()
                    .parse()
                    .wrap_err("--operator-key is not a valid hex private key")?,
            ),
            None if dev => Some(verai_primitives::dev_operator()),
            None => None,
        };
        let chain = chain_config(
            datadir.clone(),
            spec,
            ProducerConfig {
                block_time: a.block_time.or(file.block_time).map(Duration::from_secs),
                min_interval: Duration::from_millis(
                    a.min_block_interval
                        .or(file.min_block_interval)
                        .unwrap_or(DEFAULT_MIN_BLOCK_INTERVAL_MS),
                ),
                ..Default::default()
            },
            blob_capacity,
        );
        let role = Role::Validator(Box::new(NodeConfig {
            datadir: chain.datadir,
            spec: chain.spec,
            modules: chain.modules,
            rpc_addr,
            rpc_access,
            blob_capacity,
            explorer_addr,
            keys,
            producer: chain.producer,
            timeouts,
            pool: chain.pool,
            audit_deploys: (a.audit_deploys || file.audit_deploys.unwrap_or(false))
                .then(deploy_audits),
            sentinel,
            sentinel_model,
            operator,
        }));
        (role, banner)
    };
    let result = run_until_signal(&datadir, role, metrics, move |s| {
        println!(
            "{banner}, genesis {}, JSON-RPC http://{1} and ws://{1}",
            s.genesis_hash, s.rpc_addr
        );
        if let Some(e) = s.explorer_addr {
            println!("explorer http://{e}/ (GraphQL at http://{e}/graphql)");
        }
    });
    if let Some(dir) = ephemeral {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(result?)
}

fn chain_config(
    datadir: PathBuf,
    spec: ChainSpec,
    producer: ProducerConfig,
    blob_capacity: u64,
) -> ChainConfig {
    ChainConfig {
        datadir,
        pool: PoolConfig::new(spec.chain_id, spec.gas_limit),
        spec,
        modules: verai_modules::native_modules(),
        producer,
        partition: "verai".into(),
        blob_capacity,
    }
}

/// The auditor on deployed bytecode, and its risk model to record in provenance.
fn deploy_audits() -> DeployAudits {
    DeployAudits {
        auditor: Arc::new(|code: &[u8]| match verai_auditor::audit_bytecode(code) {
            Ok(report) => serde_json::to_value(&report)
                .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() })),
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        }),
        model: OwnModel {
            name: "auditor risk model",
            hash: sha2::Sha256::digest(verai_auditor::risk::MODEL_JSON.as_bytes()).into(),
            uri: "verai-auditor:model/risk.json".into(),
            data: None,
            license: "Apache-2.0".into(),
            id: Arc::new(OnceLock::new()),
        },
    }
}
