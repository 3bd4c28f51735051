//! Opening a node's storage: genesis, QMDB, the redb index, and recovery of the three.

use crate::{
    NodeError, ProducerConfig,
    chain::{Chain, ChainParts},
};
use commonware_runtime::Supervisor;
use std::{path::PathBuf, sync::Arc};
use tracing::{info, warn};
use verai_mempool::{Mempool, PoolConfig};
use verai_primitives::{AccountState, Block, ChainSpec, Changeset, ModuleSet, StateKey};
use verai_provenance::blob::{BlobStore, DEFAULT_MAX_BLOB_BYTES};
use verai_storage::{Commitment, Index, IndexedBlock, StateContext, StateStore};

/// Name of the redb file (state copy + RPC index) in the data directory.
pub const INDEX_FILE: &str = "index.redb";

/// What a node's chain state needs.
#[derive(Debug, Clone)]
pub struct ChainConfig {
    /// Where the redb index lives (the runtime's storage holds QMDB and marshal).
    pub datadir: PathBuf,
    /// The chain.
    pub spec: ChainSpec,
    /// The native modules (consensus configuration).
    pub modules: ModuleSet,
    /// Block production.
    pub producer: ProducerConfig,
    /// Pool bounds.
    pub pool: PoolConfig,
    /// Prefix of this node's partitions in the runtime's storage: one per node sharing a
    /// storage (as in simulations), kept across restarts.
    pub partition: String,
    /// Most bytes the blob store holds.
    pub blob_capacity: u64,
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
pub async fn genesis_block<E: StateContext + Supervisor>(
    context: &E,
    spec: &ChainSpec,
    partition: &str,
) -> Result<Block, NodeError> {
    let scratch =
        Commitment::init(context.child("genesis"), &format!("{partition}-genesis")).await?;
    let pending = scratch.speculate(None, 0, genesis_changes(spec)).await?;
    Ok(spec.genesis_block(pending.root()))
}

/// The state store and the index share one database; sentinel alerts have their own beside
/// it (`<index>.alerts`), so that their commits never wait for block application.
fn open_index(path: &std::path::Path) -> Result<(StateStore, Index), NodeError> {
    let create = |p: &std::path::Path| {
        redb::Database::create(p)
            .map(Arc::new)
            .map_err(verai_storage::StorageError::from)
    };
    let db = create(path)?;
    let alerts = create(&path.with_extension("alerts"))?;
    Ok((
        StateStore::from_db(db.clone())?,
        Index::from_db(db)?.with_alerts_db(alerts)?,
    ))
}

/// Open (or create) the chain state of one node.
pub(crate) async fn open_chain<E: StateContext + Supervisor>(
    context: &E,
    config: &ChainConfig,
) -> Result<Arc<Chain<E>>, NodeError> {
    std::fs::create_dir_all(&config.datadir)?;
    let genesis = genesis_block(context, &config.spec, &config.partition).await?;
    let mut commitment = Commitment::init(context.child("state"), &config.partition).await?;
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
        let encoded = genesis.encode();
        index.index_block(&IndexedBlock {
            number: 0,
            hash: genesis.hash(),
            block: &encoded,
            receipts: &[],
            finalized_ms: genesis.header.timestamp.saturating_mul(1000),
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

    Ok(Arc::new(Chain::new(ChainParts {
        spec: config.spec.clone(),
        genesis,
        head,
        producer: config.producer.clone(),
        modules: config.modules.clone(),
        commitment,
        store,
        index,
        pool: Mempool::new(config.pool.clone()),
        clock: context.child("clock"),
    })))
}

/// Directory of the content-addressed blob store, inside the datadir.
pub const BLOB_DIR: &str = "blobs";

/// Open the datadir's blob store.
pub(crate) fn open_blobs(config: &ChainConfig) -> Result<Arc<BlobStore>, NodeError> {
    let store = BlobStore::open_with(
        config.datadir.join(BLOB_DIR),
        DEFAULT_MAX_BLOB_BYTES,
        config.blob_capacity,
    )
    .map_err(|e| NodeError::Io(std::io::Error::other(e.to_string())))?;
    Ok(Arc::new(store))
}
