//! Start-up of a production node: authenticated p2p, the [`Core`], JSON-RPC.

use crate::{
    NodeConfig, NodeError,
    backend::NodeBackend,
    chain::Chain,
    core::{Core, CoreConfig, NodeNetwork, start_core},
    open::ChainConfig,
};
use commonware_runtime::{Clock, Metrics, Network, Resolver, Spawner, Storage, Supervisor};
use rand::{CryptoRng, Rng};
use std::{net::SocketAddr, sync::Arc};
use tracing::info;
use verai_consensus::{
    ConsensusHandle,
    network::{LookupConfig, start_lookup},
};
use verai_rpc::RpcConfig;
use verai_storage::StateContext;

/// Prefix of the node's storage partitions in the runtime's storage.
const PARTITION: &str = "verai";

/// A started node.
pub struct RunningNode<E: StateContext> {
    /// Where RPC listens.
    pub rpc_addr: SocketAddr,
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
        let guard = self.chain.commitment.write().await;
        drop(guard);
        info!(height = self.chain.latest(), "shut down");
        Ok(())
    }
}

/// The p2p handshake namespace: per chain id, so that nodes of one chain id but different
/// genesis files can connect and tell each other (see [`crate::peers`]).
fn namespace(chain_id: u64) -> Vec<u8> {
    format!("verai-p2p-{chain_id}").into_bytes()
}

/// Directory of the content-addressed blob store, inside the datadir.
pub const BLOB_DIR: &str = "blobs";

/// Open the datadir's blob store.
pub(crate) fn open_blobs(
    datadir: &std::path::Path,
) -> Result<Arc<verai_provenance::blob::BlobStore>, NodeError> {
    let store = verai_provenance::blob::BlobStore::open(
        datadir.join(BLOB_DIR),
        verai_provenance::blob::DEFAULT_MAX_BLOB_BYTES,
    )
    .map_err(|e| NodeError::Io(std::io::Error::other(e.to_string())))?;
    Ok(Arc::new(store))
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
    let audit_deploys = config.audit_deploys.clone();
    let sentinel = config.sentinel.clone();
    let core: Core<E> = start_core(
        context.child("node"),
        CoreConfig {
            chain: ChainConfig {
                datadir: config.datadir,
                spec: config.spec,
                producer: config.producer,
                pool: config.pool,
                partition: PARTITION.to_string(),
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

    if let Some(auditor) = audit_deploys {
        crate::audit::spawn(&core.chain, auditor);
    }
    if let Some(sentinel) = sentinel {
        crate::screen::spawn(&core.chain, sentinel);
    }
    let blobs = core
        .blobs()
        .ok_or_else(|| NodeError::Inconsistent("the blob exchange did not start".into()))?;
    let backend = Arc::new(NodeBackend {
        chain: core.chain.clone(),
        consensus: Some(core.consensus.clone()),
        blobs,
        upstream: None,
    });
    let (rpc_addr, rpc) = verai_rpc::start(RpcConfig::new(config.rpc_addr), backend).await?;
    info!(%rpc_addr, "JSON-RPC listening (HTTP and WebSocket)");
    Ok(RunningNode {
        rpc_addr,
        rpc,
        consensus: core.consensus,
        genesis_hash: core.chain.genesis.hash(),
        chain: core.chain,
    })
}
