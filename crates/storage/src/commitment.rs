//! The authenticated state: QMDB (`current::ordered::variable`), speculative block batches,
//! commits and proofs.
//!
//! One block is one QMDB batch: its changeset is written into a batch built on the parent's
//! batch (or on the committed state), merkleized once, and the resulting root is the block's
//! state root. A [`PendingState`] holds that merkleized batch. When the block is finalized,
//! [`Commitment::commit_pending`] applies the very same batch (with any unapplied ancestors)
//! and makes it durable, so a finalized proposal is never executed or merkleized twice.
//!
//! The block height is stored as the commit metadata of each batch (8 bytes, big-endian), so
//! it is part of the state root and survives restarts.

use crate::{
    MAX_VALUE_BYTES, StorageError,
    error::Result,
    key::{QKey, qkey, state_key},
    proof::{CHUNK, Family, StateProof, ValueEnc},
};
use alloy_primitives::B256;
use commonware_codec::RangeCfg;
use commonware_cryptography::{Sha256, sha256::Digest};
use commonware_parallel::Sequential;
use commonware_runtime::{BLOB_PAGE_SIZE, Spawner, buffer::paged::CacheRef};
use commonware_storage::{
    journal::contiguous::variable::Config as JournalConfig,
    merkle::full::Config as MerkleConfig,
    qmdb::{
        any::ordered::Update,
        current::{VariableConfig, batch::MerkleizedBatch, ordered::variable::Db},
        floor::Proportional,
    },
    translator::EightCap,
};
use commonware_utils::{NZU64, NZUsize};
use futures::StreamExt as _;
use std::sync::{Arc, Mutex};
use verai_primitives::{Changeset, StateKey};

/// The QMDB type behind [`Commitment`].
pub type StateDb<E> = Db<Family, E, QKey, Vec<u8>, Sha256, EightCap, CHUNK, Sequential>;
type Batch = MerkleizedBatch<Family, Digest, Update<QKey, ValueEnc>, CHUNK, Sequential>;
type OpCfg = ((), (RangeCfg<usize>, ()));

/// Runtime context bound of [`Commitment`]: any Commonware runtime context (tokio or
/// deterministic) provides it.
pub trait StateContext: commonware_storage::Context + Spawner {}
impl<T: commonware_storage::Context + Spawner> StateContext for T {}

fn config(prefix: &str) -> VariableConfig<EightCap, OpCfg, Sequential> {
    let page_cache = CacheRef::new(
        commonware_runtime::buffer::paged::page_size(BLOB_PAGE_SIZE),
        NZUsize!(4096),
    );
    VariableConfig {
        merkle_config: MerkleConfig {
            journal_partition: format!("{prefix}-state-merkle"),
            metadata_partition: format!("{prefix}-state-merkle-meta"),
            items_per_blob: NZU64!(65_536),
            write_buffer: NZUsize!(1 << 20),
            replay_buffer: NZUsize!(1 << 20),
            strategy: Sequential,
            page_cache: page_cache.clone(),
        },
        journal_config: JournalConfig {
            partition: format!("{prefix}-state-log"),
            items_per_section: NZU64!(16_384),
            compression: None,
            codec_config: ((), ((0..=MAX_VALUE_BYTES).into(), ())),
            page_cache,
            write_buffer: NZUsize!(1 << 20),
            replay_buffer: NZUsize!(1 << 20),
        },
        grafted_metadata_partition: format!("{prefix}-state-grafted"),
        translator: EightCap,
        init_cache: Some(NZUsize!(1 << 16)),
        init_buffer: NZUsize!(1 << 20),
        init_concurrency: (),
    }
}

fn to_b256(d: Digest) -> B256 {
    B256::from(d.0)
}

fn height_meta(height: u64) -> Vec<u8> {
    height.to_be_bytes().to_vec()
}

fn decode_height(meta: Option<Vec<u8>>) -> Result<Option<u64>> {
    match meta {
        None => Ok(None),
        Some(m) => {
            let b: [u8; 8] = m.as_slice().try_into().map_err(|_| {
                StorageError::Corrupt(format!("commit metadata of {} bytes", m.len()))
            })?;
            Ok(Some(u64::from_be_bytes(b)))
        }
    }
}

/// The state after a block that is executed but not yet finalized: a merkleized QMDB batch
/// on top of its parent's. Cheap to clone.
///
/// Keep a block's `PendingState` alive at least until its children are built: QMDB needs
/// every unapplied ancestor of a batch while it merkleizes (a `PendingState` holds its parent
/// for that reason; committing it releases the link).
#[derive(Clone)]
pub struct PendingState(Arc<PendingInner>);

struct PendingInner {
    height: u64,
    root: B256,
    batch: Arc<Batch>,
    changes: Changeset,
    parent: Mutex<Option<PendingState>>,
}

impl std::fmt::Debug for PendingState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingState")
            .field("height", &self.0.height)
            .field("root", &self.0.root)
            .field("changes", &self.0.changes.len())
            .finish()
    }
}

impl PendingState {
    /// The block height this state follows.
    pub fn height(&self) -> u64 {
        self.0.height
    }

    /// The state root after the block.
    pub fn root(&self) -> B256 {
        self.0.root
    }

    /// This block's own writes.
    pub fn changes(&self) -> &Changeset {
        &self.0.changes
    }

    /// The parent's pending state, while it is not committed.
    pub fn parent(&self) -> Option<PendingState> {
        self.0
            .parent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The value of `key` as written by this block or an uncommitted ancestor:
    /// `Some(Some(v))` written, `Some(None)` deleted, `None` not touched (read the finalized
    /// state, e.g. [`crate::StateStore::get`]). Synchronous, for execution on top of an
    /// unfinalized parent.
    pub fn overlay_get(&self, key: &StateKey) -> Option<Option<Vec<u8>>> {
        let mut cur = Some(self.clone());
        while let Some(s) = cur {
            if let Some(v) = s.0.changes.get(key) {
                return Some(v.clone());
            }
            cur = s.parent();
        }
        None
    }
}

/// The authenticated state database (QMDB), generic over the Commonware runtime context.
pub struct Commitment<E: StateContext> {
    db: Option<StateDb<E>>,
    height: Option<u64>,
}

impl<E: StateContext> Commitment<E> {
    /// Open (or create) the state database in the runtime's storage, in partitions named
    /// `{partition_prefix}-state-*` (`[a-zA-Z0-9_-]` only). Pass a dedicated child context
    /// (e.g. `context.child("state")`), since the database registers metrics in it.
    pub async fn init(context: E, partition_prefix: &str) -> Result<Self> {
        let db = StateDb::<E>::init(context, config(partition_prefix), None).await?;
        let height = decode_height(db.get_metadata().await?)?;
        Ok(Self {
            db: Some(db),
            height,
        })
    }

    fn db(&self) -> Result<&StateDb<E>> {
        self.db.as_ref().ok_or(StorageError::Closed)
    }

    /// The committed state root.
    pub fn root(&self) -> Result<B256> {
        Ok(to_b256(self.db()?.root()))
    }

    /// The last committed block height (`None` before the genesis commit).
    pub fn height(&self) -> Option<u64> {
        self.height
    }

    /// The committed value of `key`.
    pub async fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>> {
        Ok(self.db()?.get(&qkey(key)).await?)
    }

    fn check_values(changes: &Changeset) -> Result<()> {
        for v in changes.values().flatten() {
            if v.len() > MAX_VALUE_BYTES {
                return Err(StorageError::ValueTooLarge(v.len()));
            }
        }
        Ok(())
    }

    /// Build the state after block `height` with writes `changes`, on top of `parent` (an
    /// unfinalized parent) or of the committed state (`None`), and merkleize it: the returned
    /// state's [`PendingState::root`] is the block's state root. Nothing is written to disk.
    pub async fn speculate(
        &self,
        parent: Option<&PendingState>,
        height: u64,
        changes: Changeset,
    ) -> Result<PendingState> {
        let db = self.db()?;
        let expected = match parent {
            Some(p) => Some(p.height()),
            None => self.height,
        };
        if expected.map_or(0, |h| h + 1) != height {
            return Err(StorageError::Height {
                got: height,
                expected: expected.map_or("nothing (genesis is 0)".into(), |h| format!("{h}")),
            });
        }
        Self::check_values(&changes)?;
        let mut batch = match parent {
            Some(p) => p.0.batch.new_batch::<Sha256>(),
            None => db.new_batch(),
        };
        for (k, v) in &changes {
            batch = batch.write(qkey(k), v.clone());
        }
        let merkleized = batch
            .merkleize(db, Some(height_meta(height)), &mut Proportional)
            .await?;
        Ok(PendingState(Arc::new(PendingInner {
            height,
            root: to_b256(merkleized.root()),
            batch: merkleized,
            changes,
            parent: Mutex::new(parent.cloned()),
        })))
    }

    /// The state root after applying `chain` (the changesets of consecutive blocks, oldest
    /// first, the first one following the committed height) to the committed state, without
    /// writing anything. A convenience over [`Self::speculate`].
    pub async fn speculative_root(&self, chain: &[&Changeset]) -> Result<B256> {
        let mut tip: Option<PendingState> = None;
        let first = self.height.map_or(0, |h| h + 1);
        for (height, changes) in (first..).zip(chain) {
            tip = Some(
                self.speculate(tip.as_ref(), height, (*changes).clone())
                    .await?,
            );
        }
        match tip {
            Some(t) => Ok(t.root()),
            None => self.root(),
        }
    }

    /// Apply a finalized pending state (and its unapplied ancestors) and make it durable.
    /// Returns the new committed root, which equals `pending.root()`.
    pub async fn commit_pending(&mut self, pending: &PendingState) -> Result<B256> {
        if self.height.is_some_and(|h| pending.height() <= h) {
            return Err(StorageError::Height {
                got: pending.height(),
                expected: format!("above the committed height {:?}", self.height),
            });
        }
        // Check first: a failed apply would consume the database handle.
        self.db()?.validate_batch(&pending.0.batch)?;
        let db = self.db.take().ok_or(StorageError::Closed)?;
        let db = db.apply_batch(Arc::clone(&pending.0.batch)).await?;
        let db = db.commit().await?;
        let root = to_b256(db.root());
        self.db = Some(db);
        self.height = Some(pending.height());
        // Every ancestor is applied now; let them go.
        pending
            .0
            .parent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        Ok(root)
    }

    /// Execute-and-commit in one step (e.g. genesis, or replaying finalized blocks this node
    /// did not verify): apply `changes` as block `height` on the committed state.
    pub async fn commit(&mut self, height: u64, changes: &Changeset) -> Result<B256> {
        let pending = self.speculate(None, height, changes.clone()).await?;
        self.commit_pending(&pending).await
    }

    /// A proof of `key`'s committed value (or of its absence) against [`Self::root`].
    pub async fn prove(&self, key: &StateKey) -> Result<StateProof> {
        Ok(self.get_with_proof(key).await?.1)
    }

    /// `key`'s committed value and its proof against [`Self::root`].
    pub async fn get_with_proof(&self, key: &StateKey) -> Result<(Option<Vec<u8>>, StateProof)> {
        let db = self.db()?;
        let qk = qkey(key);
        match db.get(&qk).await? {
            Some(v) => {
                let p = db.key_value_proof(qk).await?;
                Ok((Some(v), StateProof::inclusion(&p)))
            }
            None => {
                let p = db.exclusion_proof(&qk).await?;
                Ok((None, StateProof::exclusion(&p)))
            }
        }
    }

    /// Every committed `(key, value)`, in QMDB key order (one log read per key). Used to
    /// rebuild [`crate::StateStore`] from the authenticated state.
    pub async fn for_each_entry(
        &self,
        mut f: impl FnMut(StateKey, Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        let stream = self.db()?.stream_range(..);
        futures::pin_mut!(stream);
        while let Some(item) = stream.next().await {
            let (k, v) = item?;
            let key = state_key(&k)
                .ok_or_else(|| StorageError::Corrupt(format!("state key {:?}", k.as_ref())))?;
            f(key, v)?;
        }
        Ok(())
    }

    /// Drop log history below QMDB's inactivity floor (it is no longer needed for the
    /// current state or its proofs), and write the recovery checkpoint.
    pub async fn prune(&mut self) -> Result<()> {
        let db = self.db.take().ok_or(StorageError::Closed)?;
        let boundary = db.sync_boundary();
        let db = db.prune(boundary).await?;
        let db = db.sync().await?;
        self.db = Some(db);
        Ok(())
    }

    /// Make everything durable so that the next start needs no recovery, and close.
    pub async fn close(mut self) -> Result<()> {
        if let Some(db) = self.db.take() {
            db.sync().await?;
        }
        Ok(())
    }
}
