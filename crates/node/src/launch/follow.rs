//! A follower: a full node that is not a validator.
//!
//! It fetches finalized blocks (`debug_getRawBlock`) and their finality certificates
//! (`verai_getCertificate`) from a validator's JSON-RPC, checks each certificate against the
//! genesis validator set, re-executes the block on its own state (the state root must
//! match, as on a validator), and serves JSON-RPC, certificates included. The upstream is
//! trusted for availability only: a block without a valid quorum certificate is refused.
//! Transactions submitted to a follower enter its pool (admission checks) and are forwarded
//! to the upstream; the blobs a provenance record names come from the upstream when missing
//! here (`verai_getBlob`), and go to it before the transaction (`verai_putBlob`), so that
//! the validator admits it. A follower that was down, or a new one, catches up from its stored
//! height (from genesis the first time).

use crate::{
    NodeError,
    app::App,
    backend::NodeBackend,
    chain::Chain,
    launch::{
        open::{ChainConfig, open_blobs, open_chain},
        upstream,
    },
};
use alloy_primitives::B256;
use commonware_runtime::{Clock, Spawner, Supervisor};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tracing::{info, warn};
use verai_consensus::{PublicKey, verify_certificate};
use verai_rpc::RpcConfig;
use verai_storage::StateContext;

/// What a follower needs.
#[derive(Debug)]
pub struct FollowConfig {
    /// Its chain state.
    pub chain: ChainConfig,
    /// The genesis validator set (certificates are checked against it).
    pub validators: Vec<PublicKey>,
    /// A validator's JSON-RPC URL.
    pub upstream: String,
    /// Where this follower serves JSON-RPC.
    pub rpc_addr: SocketAddr,
    /// Tokens and node-local write limits of JSON-RPC.
    pub rpc_access: verai_rpc::access::AccessOptions,
    /// Where it serves the explorer; `None`: off.
    pub explorer_addr: Option<SocketAddr>,
    /// How often to ask the upstream for new blocks once caught up.
    pub poll: Duration,
}

/// A running follower.
pub struct RunningFollower<E: StateContext> {
    /// Where RPC listens.
    pub rpc_addr: SocketAddr,
    /// Where the explorer listens, if it does.
    pub explorer_addr: Option<SocketAddr>,
    /// Stops the RPC server.
    pub rpc: jsonrpsee::server::ServerHandle,
    /// The genesis block hash.
    pub genesis_hash: B256,
    chain: Arc<Chain<E>>,
}

impl<E: StateContext> RunningFollower<E> {
    /// Height of the latest applied finalized block.
    pub fn latest(&self) -> u64 {
        self.chain.latest()
    }

    /// Stop RPC and wait for an in-flight block to be written.
    pub async fn shutdown(self) {
        let _ = self.rpc.stop();
        drop(self.chain.commitment().write().await);
    }
}

/// Start a follower in `context`: check the upstream's genesis, then sync and serve.
pub async fn follow<E>(context: E, config: FollowConfig) -> Result<RunningFollower<E>, NodeError>
where
    E: StateContext + Supervisor + Clock + Spawner,
{
    let chain = open_chain(&context, &config.chain).await?;
    let client = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(30))
        .build(&config.upstream)
        .map_err(|e| NodeError::Upstream(e.to_string()))?;
    let theirs = upstream::block(&client, 0)
        .await?
        .ok_or_else(|| NodeError::Upstream("the upstream has no genesis block".into()))?;
    if theirs.hash() != chain.genesis().hash() {
        return Err(NodeError::GenesisMismatch {
            ours: chain.genesis().hash(),
            theirs: format!("the upstream {} has {}", config.upstream, theirs.hash()),
        });
    }
    info!(upstream = %config.upstream, from = chain.latest(), "following");
    context.child("sync").spawn({
        let (chain, client, validators) =
            (chain.clone(), client.clone(), config.validators.clone());
        let poll = config.poll;
        move |ctx| async move {
            loop {
                match sync(&chain, &client, &validators).await {
                    Ok(0) => ctx.sleep(poll).await,
                    Ok(_) => {}
                    Err(e) => {
                        warn!(%e, "sync from the upstream failed; retrying");
                        ctx.sleep(poll.max(Duration::from_millis(500))).await;
                    }
                }
            }
        }
    });
    let blobs = open_blobs(&config.chain)?;
    context.child("forward").spawn({
        let (chain, client, blobs) = (chain.clone(), client.clone(), blobs.clone());
        move |_| upstream::forward(chain, client, blobs)
    });
    let backend = Arc::new(NodeBackend {
        chain: chain.clone(),
        consensus: None,
        blobs,
        upstream: Some(client),
        sentinel: None,
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
    let explorer_addr =
        super::run::start_explorer(config.explorer_addr, config.validators, backend).await;
    Ok(RunningFollower {
        rpc_addr,
        explorer_addr,
        rpc,
        genesis_hash: chain.genesis().hash(),
        chain,
    })
}

/// Apply every block the upstream has finalized beyond ours; returns how many.
async fn sync<E: StateContext>(
    chain: &Arc<Chain<E>>,
    client: &HttpClient,
    validators: &[PublicKey],
) -> Result<u64, NodeError> {
    let top = upstream::height(client).await?;
    let mut applied = 0;
    for number in chain.latest() + 1..=top {
        let Some(block) = upstream::block(client, number).await? else {
            break;
        };
        let Some(cert) = upstream::certificate(client, number).await? else {
            break;
        };
        if block.number() != number {
            return Err(NodeError::Upstream(format!(
                "asked for block {number}, got {}",
                block.number()
            )));
        }
        verify_certificate(validators, block.hash(), number, &cert.certificate).map_err(|e| {
            NodeError::Upstream(format!(
                "block {number} ({}) has no valid finality certificate: {e}",
                block.hash()
            ))
        })?;
        if block.header.parent_hash != chain.head().hash() {
            return Err(NodeError::Inconsistent(format!(
                "certified block {number} does not extend our head"
            )));
        }
        chain.index().put_certificate(number, &cert.certificate)?;
        App {
            chain: chain.clone(),
        }
        .apply(Arc::new(block))
        .await?;
        applied += 1;
    }
    Ok(applied)
}
