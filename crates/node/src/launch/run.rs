//! Start-up of a production validator: authenticated p2p, the [`Core`], its services, and
//! JSON-RPC.

use crate::{
    NodeConfig, NodeError,
    backend::NodeBackend,
    chain::Chain,
    launch::{
        core::{Core, CoreConfig, NodeNetwork, start_core},
        open::ChainConfig,
    },
    services::{
        audit,
        registrar::{Job, Registrar},
        sentinel,
    },
};
use commonware_runtime::{Clock, Metrics, Network, Resolver, Spawner, Storage, Supervisor};
use rand::{CryptoRng, Rng};
use std::{net::SocketAddr, sync::Arc};
use tracing::{info, warn};
use verai_consensus::{
    ConsensusHandle,
    network::{LookupConfig, start_lookup},
};
use verai_rpc::RpcConfig;
use verai_storage::StateContext;

/// Prefix of the node's storage partitions in the runtime's storage.
pub(crate) const PARTITION: &str = "verai";

/// A started node.
pub struct RunningNode<E: StateContext> {
    /// Where RPC listens.
    pub rpc_addr: SocketAddr,
    /// Where the explorer listens, if it does.
    pub explorer_addr: Option<SocketAddr>,
    /// Stops the RPC server.
    pub rpc: jsonrpsee::server::ServerHandle,
    /// Finalized blocks and certificates.
    pub consensus: ConsensusHandle,
    /// The genesis block hash.
    pub genesis_hash: alloy_primitives::B256,
    chain: Arc<Chain<E>>,
}

impl<E: StateContext> RunningNode<E> {
    /// Height of the latest applied finalized block.
    pub fn latest(&self) -> u64 {
        self.chain.latest()
    }

    /// Flush the state database so the next start needs no recovery. Call after stopping
    /// RPC and before the runtime ends.
    pub async fn shutdown(self) -> Result<(), NodeError> {
        let _ = self.rpc.stop();
        // Wait for in-flight finalization; afterwards nothing else writes.
        let guard = self.chain.commitment().write().await;
        drop(guard);
        info!(height = self.chain.latest(), "shut down");
        Ok(())
    }
}

/// The p2p handshake namespace: per chain id, so that nodes of one chain id but different
/// genesis files can connect and tell each other (see [`crate::net::peers`]).
fn namespace(chain_id: u64) -> Vec<u8> {
    format!("verai-p2p-{chain_id}").into_bytes()
}

/// Start a validator in `context`.
pub async fn run<E>(context: E, config: NodeConfig) -> Result<RunningNode<E>, NodeError>
where
    E: StateContext
        + Supervisor
        + Clock
        + Rng
        + CryptoRng
        + Spawner
        + Storage
        + Metrics
        + Network
        + Resolver,
{
    let keys = config.keys;
    let validator_keys: Vec<_> = keys.validators.iter().map(|(k, _)| k.clone()).collect();
    let network = start_lookup(
        context.child("p2p"),
        keys.signer.clone(),
        LookupConfig {
            namespace: namespace(config.spec.chain_id),
            listen: keys.p2p_listen,
            peers: keys.validators.clone(),
            max_block_bytes: verai_primitives::MAX_BLOCK_BYTES,
            allow_private_ips: true,
        },
    )?;
    if keys.validators.len() > 1 {
        info!(
            validators = keys.validators.len(),
            "waiting for a quorum of validators to confirm the genesis"
        );
    }
    let core: Core<E> = start_core(
        context.child("node"),
        CoreConfig {
            chain: ChainConfig {
                datadir: config.datadir,
                spec: config.spec,
                modules: config.modules,
                producer: config.producer,
                pool: config.pool,
                partition: PARTITION.to_string(),
                blob_capacity: config.blob_capacity,
            },
            signer: keys.signer,
            validators: keys.validators.iter().map(|(k, _)| k.clone()).collect(),
            timeouts: config.timeouts,
        },
        NodeNetwork {
            channels: network.channels,
            hello: network.hello,
            txs: network.txs,
            blobs: network.blobs,
            blocker: network.oracle.clone(),
            peer_provider: network.oracle,
        },
    )
    .await?;

    let chain = core.chain.clone();
    let registrar = match config.operator {
        Some(signer) => {
            info!(operator = %signer.address(), "recording the node's AI in provenance");
            Some(Registrar::spawn(chain.clone(), signer))
        }
        None if config.audit_deploys.is_some() || config.sentinel.is_some() => {
            warn!("no operator key: the node's models and audits are not recorded in provenance");
            None
        }
        None => None,
    };
    let sentinel = config.sentinel.and_then(|s| sentinel::spawn(&chain, s));
    if let (Some(r), Some(model)) = (&registrar, config.sentinel_model) {
        r.submit(Job::Model(model));
    }
    if let Some(audits) = config.audit_deploys {
        audit::spawn(&chain, audits, registrar.clone());
    }
    let blobs = core
        .blobs()
        .ok_or_else(|| NodeError::Inconsistent("the blob exchange did not start".into()))?;
    let backend = Arc::new(NodeBackend {
        chain: chain.clone(),
        consensus: Some(core.consensus.clone()),
        blobs,
        upstream: None,
        sentinel,
    });
    let (rpc_addr, rpc) = verai_rpc::start(
        RpcConfig {
            access: config.rpc_access,
            ..RpcConfig::new(config.rpc_addr)
        },
        backend.clone(),
    )
    .await?;
    info!(%rpc_addr, "JSON-RPC listening (HTTP and WebSocket)");
    let explorer_addr = start_explorer(config.explorer_addr, validator_keys, backend).await;
    Ok(RunningNode {
        rpc_addr,
        explorer_addr,
        rpc,
        consensus: core.consensus,
        genesis_hash: chain.genesis().hash(),
        chain,
    })
}

/// Start the explorer when asked; a port in use disables it with a warning (the node runs
/// on: the explorer is a convenience, not part of the chain).
pub(crate) async fn start_explorer<B: verai_rpc::Backend>(
    addr: Option<SocketAddr>,
    validators: Vec<verai_consensus::PublicKey>,
    backend: Arc<B>,
) -> Option<SocketAddr> {
    let addr = addr?;
    let config = verai_explorer::ExplorerConfig { addr, validators };
    match verai_explorer::start(config, backend).await {
        Ok(a) => {
            info!(explorer = %format!("http://{a}/"), "explorer and GraphQL (/graphql) listening");
            Some(a)
        }
        Err(e) => {
            warn!(%addr, %e, "explorer disabled: cannot listen");
            None
        }
    }
}
