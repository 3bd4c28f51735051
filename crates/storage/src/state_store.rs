//! The synchronous copy of the latest finalized state, in redb, for execution's reads.
//!
//! Derived data: QMDB is the source of truth. The node commits a block to QMDB first and to
//! this store second, so after a crash `store.height() <= commitment.height()`; the node
//! replays the blocks in between (or, when the store is lost, rebuilds it from
//! [`crate::Commitment::for_each_entry`] with [`StateStore::rebuild`]).
//!
//! Tables: `state` (canonical [`StateKey`] bytes -> value) and `state_meta` (`"height"` -> u64).
//! A block's writes and its height go in one redb transaction, so the store is always the
//! exact state after some block.

use crate::{StorageError, error::Result};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::{path::Path, sync::Arc};
use verai_primitives::{Changeset, StateKey};

const STATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state");
const META: TableDefinition<&str, u64> = TableDefinition::new("state_meta");
const HEIGHT: &str = "height";

/// Key-value copy of the finalized state. Cheap to clone; reads are synchronous and may run
/// on any thread while a block is applied (redb MVCC).
#[derive(Clone)]
pub struct StateStore {
    db: Arc<Database>,
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateStore").finish_non_exhaustive()
    }
}

/// A read-only view of one finalized state ([`StateStore::snapshot`]).
pub struct StateSnapshot {
    table: redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl std::fmt::Debug for StateSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateSnapshot").finish_non_exhaustive()
    }
}

impl StateSnapshot {
    /// The value of `key` in this state.
    pub fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>> {
        Ok(self
            .table
            .get(key.to_bytes().as_slice())?
            .map(|v| v.value().to_vec()))
    }
}

impl StateStore {
    /// Open or create the store at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_db(Arc::new(Database::create(path)?))
    }

    /// Use an already open redb database (it may also hold the [`crate::Index`] tables).
    pub fn from_db(db: Arc<Database>) -> Result<Self> {
        let tx = db.begin_write()?;
        tx.open_table(STATE)?;
        tx.open_table(META)?;
        tx.commit()?;
        Ok(Self { db })
    }

    /// The value of `key` in the finalized state.
    pub fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>> {
        self.snapshot()?.get(key)
    }

    /// The finalized state as it is now, for many reads: one read transaction (opening and
    /// closing one costs more than a look-up), and every read sees the same block's state
    /// while later blocks are applied.
    pub fn snapshot(&self) -> Result<StateSnapshot> {
        let tx = self.db.begin_read()?;
        Ok(StateSnapshot {
            table: tx.open_table(STATE)?,
        })
    }

    /// The height of the last applied block (`None`: nothing applied).
    pub fn height(&self) -> Result<Option<u64>> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(META)?;
        Ok(table.get(HEIGHT)?.map(|v| v.value()))
    }

    /// Apply the writes of block `height`, which must follow [`Self::height`] (0 when empty).
    pub fn apply(&self, height: u64, changes: &Changeset) -> Result<()> {
        let tx = self.db.begin_write()?;
        {
            let mut meta = tx.open_table(META)?;
            let current = meta.get(HEIGHT)?.map(|v| v.value());
            let expected = current.map_or(0, |h| h + 1);
            if height != expected {
                return Err(StorageError::Height {
                    got: height,
                    expected: expected.to_string(),
                });
            }
            let mut state = tx.open_table(STATE)?;
            for (k, v) in changes {
                let k = k.to_bytes();
                match v {
                    Some(v) => {
                        state.insert(k.as_slice(), v.as_slice())?;
                    }
                    None => {
                        state.remove(k.as_slice())?;
                    }
                }
            }
            meta.insert(HEIGHT, height)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Replace the whole content with `entries` at `height` (a rebuild from QMDB).
    pub fn rebuild(
        &self,
        height: Option<u64>,
        entries: impl IntoIterator<Item = (StateKey, Vec<u8>)>,
    ) -> Result<()> {
        let tx = self.db.begin_write()?;
        tx.delete_table(STATE)?;
        {
            let mut state = tx.open_table(STATE)?;
            for (k, v) in entries {
                state.insert(k.to_bytes().as_slice(), v.as_slice())?;
            }
            let mut meta = tx.open_table(META)?;
            match height {
                Some(h) => {
                    meta.insert(HEIGHT, h)?;
                }
                None => {
                    meta.remove(HEIGHT)?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Number of entries (accounts, slots and codes).
    pub fn len(&self) -> Result<u64> {
        let tx = self.db.begin_read()?;
        Ok(tx.open_table(STATE)?.len()?)
    }

    /// Whether the store holds no state.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}
