//! A node process: the runtime, the node (validator or follower), the metrics endpoint, and
//! a clean shutdown on Ctrl-C or SIGTERM.

use crate::{FollowConfig, NodeConfig, NodeError, follow, run};
use commonware_runtime::{Metrics as _, Runner as _, Supervisor as _};
use std::{net::SocketAddr, path::Path};
use tracing::{info, warn};
use verai_consensus::{GenesisFile, PrivateKey, Signer as _, Timeouts};
use verai_primitives::ChainSpec;

/// What runs.
#[derive(Debug)]
pub enum Role {
    /// A validator.
    Validator(Box<NodeConfig>),
    /// A follower.
    Follower(FollowConfig),
}

/// A running node, as the process reports it once started.
#[derive(Debug, Clone)]
pub struct Started {
    /// The genesis block hash.
    pub genesis_hash: alloy_primitives::B256,
    /// Where JSON-RPC listens (HTTP and WebSocket).
    pub rpc_addr: SocketAddr,
    /// Where metrics are served, if they are.
    pub metrics_addr: Option<SocketAddr>,
    /// Where the explorer is served, if it is.
    pub explorer_addr: Option<SocketAddr>,
}

/// Run a node in a runtime whose storage lives in `datadir/consensus` until Ctrl-C or
/// SIGTERM; `on_start` sees it once it serves. `metrics`: where to serve Prometheus text.
pub fn run_until_signal(
    datadir: &Path,
    role: Role,
    metrics: Option<SocketAddr>,
    on_start: impl FnOnce(&Started) + Send + 'static,
) -> Result<(), NodeError> {
    std::fs::create_dir_all(datadir)?;
    let runtime =
        commonware_runtime::tokio::Config::new().with_storage_directory(datadir.join("consensus"));
    commonware_runtime::tokio::Runner::new(runtime).start(|context| async move {
        let encoder = context.child("metrics");
        let metrics_addr = match metrics {
            Some(addr) => match tokio::net::TcpListener::bind(addr).await {
                Ok(listener) => {
                    info!(%addr, "Prometheus metrics at /metrics");
                    tokio::spawn(super::metrics::serve(listener, move || encoder.encode()));
                    Some(addr)
                }
                Err(e) => {
                    warn!(%addr, %e, "metrics endpoint disabled");
                    None
                }
            },
            None => None,
        };
        match role {
            Role::Validator(config) => {
                let node = run(context, *config).await?;
                on_start(&Started {
                    genesis_hash: node.genesis_hash,
                    rpc_addr: node.rpc_addr,
                    metrics_addr,
                    explorer_addr: node.explorer_addr,
                });
                wait_for_signal().await;
                info!("shutting down");
                node.shutdown().await
            }
            Role::Follower(config) => {
                let node = follow(context, config).await?;
                on_start(&Started {
                    genesis_hash: node.genesis_hash,
                    rpc_addr: node.rpc_addr,
                    metrics_addr,
                    explorer_addr: node.explorer_addr,
                });
                wait_for_signal().await;
                info!(height = node.latest(), "shutting down");
                node.shutdown().await;
                Ok(())
            }
        }
    })
}

/// Until Ctrl-C or SIGTERM.
pub async fn wait_for_signal() {
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

/// A network's chain spec from its genesis file.
pub fn network_spec(genesis: &Path) -> Result<(ChainSpec, GenesisFile), NodeError> {
    let bytes = std::fs::read(genesis)
        .map_err(|e| NodeError::Config(format!("reading {}: {e}", genesis.display())))?;
    let file = GenesisFile::parse(&bytes)
        .map_err(|e| NodeError::Config(format!("{}: {e}", genesis.display())))?;
    Ok((file.spec()?, file))
}

/// The chain spec, keys, timing and a label of a validator of the network described by a
/// genesis file, whose key is in `key`; `p2p_port` overrides the file's port.
pub fn network_validator(
    genesis: &Path,
    key: &Path,
    p2p_port: Option<u16>,
) -> Result<(ChainSpec, crate::ValidatorKeys, Timeouts, String), NodeError> {
    let (spec, file) = network_spec(genesis)?;
    let signer = read_validator_key(key)?;
    let me = signer.public_key();
    let validators = file.validators()?;
    let Some((index, (_, addr))) = validators.iter().enumerate().find(|(_, (k, _))| *k == me)
    else {
        return Err(NodeError::Config(format!(
            "the validator key in {} ({me}) is not in the validator set of {}",
            key.display(),
            genesis.display()
        )));
    };
    let p2p_listen = SocketAddr::new(addr.ip(), p2p_port.unwrap_or(addr.port()));
    let label = format!("validator {index} of {}", validators.len());
    let keys = crate::ValidatorKeys {
        signer,
        validators,
        p2p_listen,
    };
    Ok((spec, keys, Timeouts::network(), label))
}

/// The dev chain's one validator, its p2p on `127.0.0.1:p2p_port` (0: any free port).
pub fn dev_validator(p2p_port: u16) -> crate::ValidatorKeys {
    let signer = verai_consensus::dev_validator();
    let p2p_listen = SocketAddr::from(([127, 0, 0, 1], p2p_port));
    crate::ValidatorKeys {
        validators: vec![(signer.public_key(), p2p_listen)],
        signer,
        p2p_listen,
    }
}

/// Read a validator key file: the 32-byte ed25519 private key in hex.
pub fn read_validator_key(path: &Path) -> Result<PrivateKey, NodeError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| NodeError::Config(format!("reading {}: {e}", path.display())))?;
    let raw = alloy_primitives::hex::decode(text.trim())
        .map_err(|_| NodeError::Config(format!("{} is not a hex key", path.display())))?;
    verai_consensus::private_key_from_bytes(&raw)
        .map_err(|_| NodeError::Config(format!("{} is not an ed25519 key", path.display())))
}
