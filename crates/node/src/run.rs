//! Start-up: storage, genesis, recovery, consensus, RPC.

use crate::{
    NodeConfig, NodeError,
    app::App,
    backend::NodeBackend,
    chain::{BlockCache, Chain},
};
use commonware_runtime::{Clock, Metrics, Network, Resolver, Spawner, Storage, Supervisor};
use rand::{CryptoRng, Rng};
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64},
    },
};
use tokio::sync::{Notify, RwLock, broadcast};
use tracing::{info, warn};
use verai_consensus::{
    ConsensusHandle, ValidatorConfig,
    network::{LookupConfig, start_lookup},
    start_validator,
};
use verai_mempool::Mempool;
use verai_primitives::{AccountState, Block, ChainSpec, Changeset, StateKey, encode_receipts};
use verai_rpc::RpcConfig;
use verai_storage::{Commitment, Index, IndexedBlock, StateContext, StateStore};

/// Name of the redb file (state copy + RPC index) in the data directory.
pub const INDEX_FILE: &str = "index.redb";
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

/// The genesis state as a changeset.
pub fn genesis_changes(spec: &ChainSpec) -> Changeset {
    spec.alloc
        .iter()
        .map(|a| {
            let acc = AccountState {
                balance: a.balance,
                ..Default::default()
            };
            (StateKey::Account(a.address), Some(acc.encode()))
        })
        .collect()
}

/// The genesis block: its state root is QMDB's root after the genesis writes, computed in a
/// scratch partition so that it never depends on this node's stored state.
async fn genesis_block<E: StateContext + Supervisor>(
    context: &E,
    spec: &ChainSpec,
) -> Result<Block, NodeError> {
    let scratch =
        Commitment::init(context.child("genesis"), &format!("{PARTITION}-genesis")).await?;
    let pending = scratch.speculate(None, 0, genesis_changes(spec)).await?;
    Ok(spec.genesis_block(pending.root()))
}

/// Directory of the content-addressed blob store, inside the datadir.
pub const BLOB_DIR: &str = "blobs";

fn open_index(path: &std::path::Path) -> Result<(StateStore, Index), NodeError> {
    let db = Arc::new(redb::Database::create(path).map_err(verai_storage::StorageError::from)?);
    Ok((StateStore::from_db(db.clone())?, Index::from_db(db)?))
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
    std::fs::create_dir_all(&config.datadir)?;
    let genesis = genesis_block(&context, &config.spec).await?;
    let mut commitment = Commitment::init(context.child("state"), PARTITION).await?;
    if commitment.height().is_none() {
        let root = commitment.commit(0, &genesis_changes(&config.spec)).await?;
        if root != genesis.header.state_root {
            return Err(NodeError::Inconsistent(
                "genesis root differs from the scratch computation".into(),
            ));
        }
        info!(hash = %genesis.hash(), "wrote genesis");
    }
    let committed = commitment.height().unwrap_or_default();

    let index_path = config.datadir.join(INDEX_FILE);
    let (mut store, mut index) = open_index(&index_path)?;
    let (s, i) = (store.height()?, index.height()?);
    let consistent = match (s, i) {
        (Some(s), Some(i)) => {
            s <= i && i <= s + 1 && i <= committed && index.block_hash(0)? == Some(genesis.hash())
        }
        (None, None) => true,
        _ => false,
    };
    if !consistent {
        warn!(
            ?s,
            ?i,
            committed,
            "index is missing or inconsistent: rebuilding it from the finalized blocks"
        );
        drop((store, index));
        std::fs::remove_file(&index_path)?;
        (store, index) = open_index(&index_path)?;
    }
    if store.height()?.is_none() {
        let receipts = encode_receipts(&[]);
        let encoded = genesis.encode();
        index.index_block(&IndexedBlock {
            number: 0,
            hash: genesis.hash(),
            block: &encoded,
            receipts: &receipts,
            tx_hashes: &[],
            logs: &[],
        })?;
        store.apply(0, &genesis_changes(&config.spec))?;
    }
    let applied = store.height()?.unwrap_or_default();
    let head = match index.block_by_number(applied)? {
        Some(b) => Block::decode(&b)?,
        None => {
            return Err(NodeError::Inconsistent(format!(
                "block {applied} missing from the index"
            )));
        }
    };
    info!(applied, committed, genesis = %genesis.hash(), "storage open");

    let (blocks, _) = broadcast::channel(1024);
    let chain = Arc::new(Chain {
        spec: config.spec.clone(),
        genesis: Arc::new(genesis.clone()),
        producer: config.producer.clone(),
        commitment: RwLock::new(commitment),
        store,
        index,
        pool: Mempool::new(config.pool.clone()),
        executed: Mutex::new(HashMap::new()),
        latest: AtomicU64::new(applied),
        head: Mutex::new(Arc::new(head)),
        blocks,
        tx_arrived: Notify::new(),
        halted: AtomicBool::new(false),
        cache: Mutex::new(BlockCache::default()),
    });

    let keys = config.keys;
    let network = start_lookup(
        context.child("p2p"),
        keys.signer.clone(),
        LookupConfig {
            namespace: genesis.hash().to_vec(),
            listen: keys.p2p_listen,
            peers: keys.validators.clone(),
            max_block_bytes: verai_primitives::MAX_BLOCK_BYTES,
            allow_private_ips: true,
        },
    )?;
    let validator = start_validator(
        context.child("consensus"),
        ValidatorConfig {
            signer: keys.signer,
            validators: keys.validators.iter().map(|(k, _)| k.clone()).collect(),
            partition_prefix: PARTITION.to_string(),
            blocker: network.oracle.clone(),
            peer_provider: network.oracle.clone(),
            timeouts: config.timeouts,
            mailbox_size: std::num::NonZeroUsize::new(1024).unwrap_or(std::num::NonZeroUsize::MIN),
            max_block_bytes: verai_primitives::MAX_BLOCK_BYTES,
        },
        network.channels,
        App {
            chain: chain.clone(),
        },
    )
    .await?;

    let blobs = verai_provenance::blob::BlobStore::open(
        config.datadir.join(BLOB_DIR),
        verai_provenance::blob::DEFAULT_MAX_BLOB_BYTES,
    )
    .map_err(|e| NodeError::Io(std::io::Error::other(e.to_string())))?;
    let backend = Arc::new(NodeBackend {
        chain: chain.clone(),
        blobs: Arc::new(blobs),
        consensus: validator.handle.clone(),
    });
    let (rpc_addr, rpc) = verai_rpc::start(RpcConfig::new(config.rpc_addr), backend).await?;
    info!(%rpc_addr, "JSON-RPC listening (HTTP and WebSocket)");
    Ok(RunningNode {
        rpc_addr,
        rpc,
        consensus: validator.handle,
        genesis_hash: genesis.hash(),
        chain,
    })
}
