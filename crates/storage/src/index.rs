//! The RPC index in redb: blocks, hashes, transactions, receipts and logs of finalized blocks.
//!
//! Derived data, rebuildable by re-indexing finalized blocks in order. Block bytes are opaque
//! here (the caller owns their encoding); receipts arrive decoded, and the index stores them
//! encoded and flattens their logs into the log tables itself. Tables:
//! - `blocks`: number -> block bytes; `block_hashes`: number -> hash; `block_numbers`:
//!   hash -> number;
//! - `txs`: tx hash -> (block number, index in block);
//! - `receipts`: number -> the block's receipts bytes;
//! - `logs_by_address`: `address ‖ block ‖ tx index ‖ log index` -> ();
//! - `logs_by_topic`: `position ‖ topic ‖ block ‖ tx index ‖ log index` -> ();
//! - `index_meta`: `"height"` -> last indexed block.
//!
//! All integers in composite keys are big-endian, so a key range
//! `prefix ‖ from .. prefix ‖ to+1` is exactly the logs of one address (or one topic at one
//! position) in a block range, in chain order: an `eth_getLogs` range query is one B-tree range
//! scan per address or topic, independent of how many other logs the chain has.

use crate::{StorageError, error::Result};
use alloy_primitives::{Address, B256};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::{
    collections::BTreeSet,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};
use verai_primitives::{StoredReceipt, encode_receipts};

const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const BLOCK_HASHES: TableDefinition<u64, &[u8]> = TableDefinition::new("block_hashes");
const BLOCK_NUMBERS: TableDefinition<&[u8], u64> = TableDefinition::new("block_numbers");
const TXS: TableDefinition<&[u8], (u64, u32)> = TableDefinition::new("txs");
const RECEIPTS: TableDefinition<u64, &[u8]> = TableDefinition::new("receipts");
const LOGS_BY_ADDRESS: TableDefinition<&[u8], ()> = TableDefinition::new("logs_by_address");
const LOGS_BY_TOPIC: TableDefinition<&[u8], ()> = TableDefinition::new("logs_by_topic");
const META: TableDefinition<&str, u64> = TableDefinition::new("index_meta");
/// Finality certificates a follower fetched and verified (validators read theirs from marshal).
const CERTIFICATES: TableDefinition<u64, &[u8]> = TableDefinition::new("certificates");
/// Audit reports of deployed contracts (address → JSON), written after finalization.
const AUDITS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("audits");
const HEIGHT: &str = "height";

/// Number of indexed topic positions (LOG0..LOG4 carry at most four topics).
pub const TOPIC_POSITIONS: usize = 4;

/// Where a log is: block number, transaction index in the block, log index in the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogLocation {
    /// Block number.
    pub block: u64,
    /// Index of the transaction in its block.
    pub tx_index: u32,
    /// Index of the log in its block (Ethereum's `logIndex`).
    pub log_index: u32,
}

impl LogLocation {
    pub(crate) const LEN: usize = 16;

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.block.to_be_bytes());
        out.extend_from_slice(&self.tx_index.to_be_bytes());
        out.extend_from_slice(&self.log_index.to_be_bytes());
    }

    pub(crate) fn read(b: &[u8]) -> Option<Self> {
        let b: &[u8; Self::LEN] = b.try_into().ok()?;
        let (block, rest) = b.split_at(8);
        let (tx, log) = rest.split_at(4);
        Some(Self {
            block: u64::from_be_bytes(block.try_into().ok()?),
            tx_index: u32::from_be_bytes(tx.try_into().ok()?),
            log_index: u32::from_be_bytes(log.try_into().ok()?),
        })
    }
}

/// The index entries of one log.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IndexedLog<'a> {
    /// Index of the transaction in the block.
    tx_index: u32,
    /// Index of the log in the block.
    log_index: u32,
    /// Emitting contract.
    address: Address,
    /// Topics, first one first (only the first [`TOPIC_POSITIONS`] are indexed).
    topics: &'a [B256],
}

/// The logs of a block's receipts in block order, with their block-wide log index.
fn block_logs(receipts: &[StoredReceipt]) -> impl Iterator<Item = IndexedLog<'_>> {
    receipts
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.receipt.logs().iter().map(move |l| (i, l)))
        .enumerate()
        .map(|(log_index, (tx_index, l))| IndexedLog {
            tx_index: tx_index as u32,
            log_index: log_index as u32,
            address: l.address,
            topics: l.topics(),
        })
}

/// One finalized block to index: the encoded block as stored, and its receipts (their
/// transaction hashes and logs are indexed; they are stored encoded).
#[derive(Debug, Clone, Copy)]
pub struct IndexedBlock<'a> {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// The encoded block.
    pub block: &'a [u8],
    /// The block's receipts, in transaction order.
    pub receipts: &'a [StoredReceipt],
    /// When this node applied it as final (unix milliseconds), for the explorer.
    pub finalized_ms: u64,
}

/// An `eth_getLogs`-style filter over the index: logs in `from..=to` whose address is one of
/// `addresses` (any, if empty) and whose topic at position `i` is one of `topics[i]` (any, if
/// empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// First block.
    pub from: u64,
    /// Last block (inclusive).
    pub to: u64,
    /// Accepted addresses.
    pub addresses: Vec<Address>,
    /// Accepted topics per position.
    pub topics: [Vec<B256>; TOPIC_POSITIONS],
}

/// The RPC index. Cheap to clone; reads are synchronous.
#[derive(Clone)]
pub struct Index {
    pub(crate) db: Arc<Database>,
    /// Where alerts live: `db` itself, or a database of their own
    /// ([`Index::with_alerts_db`]): one writer per redb database, and a sentinel's alert
    /// commits on the node's shared database waited for, and held up, block indexing and
    /// the state store.
    pub(crate) alerts_db: Arc<Database>,
    /// Set (inside the write transaction) by a commit that does not sync
    /// ([`Index::put_alerts`]); cleared inside a later commit that syncs. Writers are
    /// serialized, so the flag follows commit order.
    pub(crate) unsynced: Arc<AtomicBool>,
}

/// The last handle makes commits that did not sync durable. (Counted on the flag, not the
/// database: the node shares the database with the [`crate::StateStore`].)
impl Drop for Index {
    fn drop(&mut self) {
        if Arc::strong_count(&self.unsynced) == 1 {
            let _ = self.sync();
        }
    }
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").finish_non_exhaustive()
    }
}

fn address_key(address: &Address, loc: Option<&LogLocation>, block: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(20 + LogLocation::LEN);
    k.extend_from_slice(address.as_slice());
    match loc {
        Some(l) => l.write(&mut k),
        None => k.extend_from_slice(&block.to_be_bytes()),
    }
    k
}

fn topic_key(position: u8, topic: &B256, loc: Option<&LogLocation>, block: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(33 + LogLocation::LEN);
    k.push(position);
    k.extend_from_slice(topic.as_slice());
    match loc {
        Some(l) => l.write(&mut k),
        None => k.extend_from_slice(&block.to_be_bytes()),
    }
    k
}

impl Index {
    /// Open or create the index at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_db(Arc::new(Database::create(path)?))
    }

    /// Use an already open redb database (it may also hold the [`crate::StateStore`] tables).
    pub fn from_db(db: Arc<Database>) -> Result<Self> {
        let tx = db.begin_write()?;
        tx.open_table(BLOCKS)?;
        tx.open_table(BLOCK_HASHES)?;
        tx.open_table(BLOCK_NUMBERS)?;
        tx.open_table(TXS)?;
        tx.open_table(RECEIPTS)?;
        tx.open_table(LOGS_BY_ADDRESS)?;
        tx.open_table(LOGS_BY_TOPIC)?;
        tx.open_table(META)?;
        tx.open_table(CERTIFICATES)?;
        tx.open_table(AUDITS)?;
        crate::sentinel::create_tables(&tx)?;
        crate::explore::create_tables(&tx)?;
        tx.commit()?;
        Ok(Self {
            alerts_db: db.clone(),
            db,
            unsynced: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Commit a transaction of the main database that syncs: when alerts share that
    /// database, every earlier alert commit is durable with it.
    pub(crate) fn commit_synced(&self, tx: redb::WriteTransaction) -> Result<()> {
        if !Arc::ptr_eq(&self.db, &self.alerts_db) {
            tx.commit()?;
            return Ok(());
        }
        self.commit_clearing(tx)
    }

    /// Commit a durable transaction of the alerts' database, clearing the flag of alert
    /// commits not yet synced (restored if the commit fails).
    fn commit_clearing(&self, tx: redb::WriteTransaction) -> Result<()> {
        let was = self.unsynced.swap(false, Ordering::AcqRel);
        tx.commit().inspect_err(|_| {
            if was {
                self.unsynced.store(true, Ordering::Release);
            }
        })?;
        Ok(())
    }

    /// Make every earlier commit durable; nothing to do when all of them synced.
    pub fn sync(&self) -> Result<()> {
        if self.unsynced.load(Ordering::Acquire) {
            self.commit_clearing(self.alerts_db.begin_write()?)?;
        }
        Ok(())
    }

    /// The last indexed block number (`None`: nothing indexed).
    pub fn height(&self) -> Result<Option<u64>> {
        let tx = self.db.begin_read()?;
        Ok(tx.open_table(META)?.get(HEIGHT)?.map(|v| v.value()))
    }

    /// Index a finalized block. Blocks are indexed in order: `number` must be the next height
    /// (0 first). Indexing an already indexed block again is a no-op when the hash matches
    /// (a replay after a crash) and an error otherwise.
    pub fn index_block(&self, b: &IndexedBlock<'_>) -> Result<()> {
        let tx = self.db.begin_write()?;
        {
            let mut meta = tx.open_table(META)?;
            let current = meta.get(HEIGHT)?.map(|v| v.value());
            let expected = current.map_or(0, |h| h + 1);
            if b.number < expected {
                let hashes = tx.open_table(BLOCK_HASHES)?;
                let stored = hashes.get(b.number)?.map(|v| v.value().to_vec());
                return if stored.as_deref() == Some(b.hash.as_slice()) {
                    Ok(())
                } else {
                    Err(StorageError::Corrupt(format!(
                        "block {} is already indexed with another hash",
                        b.number
                    )))
                };
            }
            if b.number != expected {
                return Err(StorageError::Height {
                    got: b.number,
                    expected: expected.to_string(),
                });
            }
            tx.open_table(BLOCKS)?.insert(b.number, b.block)?;
            tx.open_table(BLOCK_HASHES)?
                .insert(b.number, b.hash.as_slice())?;
            tx.open_table(BLOCK_NUMBERS)?
                .insert(b.hash.as_slice(), b.number)?;
            tx.open_table(RECEIPTS)?
                .insert(b.number, encode_receipts(b.receipts).as_slice())?;
            let mut txs = tx.open_table(TXS)?;
            for (i, r) in b.receipts.iter().enumerate() {
                let i = u32::try_from(i)
                    .map_err(|_| StorageError::Corrupt("too many transactions".into()))?;
                txs.insert(r.tx_hash.as_slice(), (b.number, i))?;
            }
            let mut by_address = tx.open_table(LOGS_BY_ADDRESS)?;
            let mut by_topic = tx.open_table(LOGS_BY_TOPIC)?;
            for log in block_logs(b.receipts) {
                let loc = LogLocation {
                    block: b.number,
                    tx_index: log.tx_index,
                    log_index: log.log_index,
                };
                by_address.insert(address_key(&log.address, Some(&loc), 0).as_slice(), ())?;
                for (pos, topic) in log.topics.iter().take(TOPIC_POSITIONS).enumerate() {
                    let k = topic_key(pos as u8, topic, Some(&loc), 0);
                    by_topic.insert(k.as_slice(), ())?;
                }
            }
            crate::explore::index_block(&tx, b.number, b.receipts, b.finalized_ms)?;
            meta.insert(HEIGHT, b.number)?;
        }
        self.commit_synced(tx)?;
        Ok(())
    }

    /// Store the (verified) finality certificate of block `number`.
    pub fn put_certificate(&self, number: u64, certificate: &[u8]) -> Result<()> {
        let tx = self.db.begin_write()?;
        tx.open_table(CERTIFICATES)?.insert(number, certificate)?;
        tx.commit()?;
        Ok(())
    }

    /// Store the audit report (JSON) of the contract at `address`.
    pub fn put_audit(&self, address: &Address, report: &[u8]) -> Result<()> {
        let tx = self.db.begin_write()?;
        tx.open_table(AUDITS)?.insert(address.as_slice(), report)?;
        tx.commit()?;
        Ok(())
    }

    /// The audit report (JSON) of the contract at `address`, if one was made.
    pub fn audit(&self, address: &Address) -> Result<Option<Vec<u8>>> {
        let tx = self.db.begin_read()?;
        Ok(tx
            .open_table(AUDITS)?
            .get(address.as_slice())?
            .map(|v| v.value().to_vec()))
    }

    /// The stored finality certificate of block `number`.
    pub fn certificate(&self, number: u64) -> Result<Option<Vec<u8>>> {
        let tx = self.db.begin_read()?;
        Ok(tx
            .open_table(CERTIFICATES)?
            .get(number)?
            .map(|v| v.value().to_vec()))
    }

    /// The encoded block at `number`.
    pub fn block_by_number(&self, number: u64) -> Result<Option<Vec<u8>>> {
        let tx = self.db.begin_read()?;
        Ok(tx
            .open_table(BLOCKS)?
            .get(number)?
            .map(|v| v.value().to_vec()))
    }

    /// The hash of block `number`.
    pub fn block_hash(&self, number: u64) -> Result<Option<B256>> {
        let tx = self.db.begin_read()?;
        let v = tx
            .open_table(BLOCK_HASHES)?
            .get(number)?
            .map(|v| v.value().to_vec());
        v.map(|h| {
            <[u8; 32]>::try_from(h.as_slice())
                .map(B256::from)
                .map_err(|_| StorageError::Corrupt("block hash".into()))
        })
        .transpose()
    }

    /// The number of the block with `hash`.
    pub fn block_number(&self, hash: &B256) -> Result<Option<u64>> {
        let tx = self.db.begin_read()?;
        Ok(tx
            .open_table(BLOCK_NUMBERS)?
            .get(hash.as_slice())?
            .map(|v| v.value()))
    }

    /// Where a transaction is: `(block number, index in block)`.
    pub fn tx_location(&self, hash: &B256) -> Result<Option<(u64, u32)>> {
        let tx = self.db.begin_read()?;
        Ok(tx.open_table(TXS)?.get(hash.as_slice())?.map(|v| v.value()))
    }

    /// The encoded receipts of block `number`.
    pub fn receipts(&self, number: u64) -> Result<Option<Vec<u8>>> {
        let tx = self.db.begin_read()?;
        Ok(tx
            .open_table(RECEIPTS)?
            .get(number)?
            .map(|v| v.value().to_vec()))
    }

    /// Logs emitted by `address` in blocks `from..=to`, in chain order, at most `limit`
    /// (more: [`StorageError::TooManyResults`]).
    pub fn logs_by_address(
        &self,
        address: &Address,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<LogLocation>> {
        let mut out = BTreeSet::new();
        self.scan_address(address, from, to, limit, &mut out)?;
        Ok(out.into_iter().collect())
    }

    /// Logs with `topic` at `position` (0..4) in blocks `from..=to`, in chain order, at most
    /// `limit` (more: [`StorageError::TooManyResults`]).
    pub fn logs_by_topic(
        &self,
        position: u8,
        topic: &B256,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<LogLocation>> {
        let mut out = BTreeSet::new();
        self.scan_topic(position, topic, from, to, limit, &mut out)?;
        Ok(out.into_iter().collect())
    }

    /// Logs matching `q`, in chain order. Each address or topic list is one range scan per
    /// entry; the lists are intersected. Fails with [`StorageError::TooManyResults`] when any
    /// one list matches more than `limit` logs. Returns `None` for a query with no address and
    /// no topic: read the receipts of each block in the range instead.
    pub fn query_logs(&self, q: &LogQuery, limit: usize) -> Result<Option<Vec<LogLocation>>> {
        let mut result: Option<BTreeSet<LogLocation>> = None;
        let mut intersect = |set: BTreeSet<LogLocation>| {
            result = Some(match result.take() {
                None => set,
                Some(r) => r.intersection(&set).copied().collect(),
            });
        };
        if !q.addresses.is_empty() {
            let mut set = BTreeSet::new();
            for a in &q.addresses {
                self.scan_address(a, q.from, q.to, limit, &mut set)?;
            }
            intersect(set);
        }
        for (pos, topics) in q.topics.iter().enumerate() {
            if topics.is_empty() {
                continue;
            }
            let mut set = BTreeSet::new();
            for t in topics {
                self.scan_topic(pos as u8, t, q.from, q.to, limit, &mut set)?;
            }
            intersect(set);
        }
        Ok(result.map(|r| r.into_iter().collect()))
    }

    fn scan_address(
        &self,
        address: &Address,
        from: u64,
        to: u64,
        limit: usize,
        out: &mut BTreeSet<LogLocation>,
    ) -> Result<()> {
        if from > to {
            return Ok(());
        }
        let start = address_key(address, None, from);
        let end = match to.checked_add(1) {
            Some(t) => address_key(address, None, t),
            None => {
                let mut e = address.as_slice().to_vec();
                e.extend_from_slice(&[0xff; LogLocation::LEN + 1]);
                e
            }
        };
        let tx = self.db.begin_read()?;
        let table = tx.open_table(LOGS_BY_ADDRESS)?;
        Self::collect(
            table.range(start.as_slice()..end.as_slice())?,
            20,
            limit,
            out,
        )
    }

    fn scan_topic(
        &self,
        position: u8,
        topic: &B256,
        from: u64,
        to: u64,
        limit: usize,
        out: &mut BTreeSet<LogLocation>,
    ) -> Result<()> {
        if from > to {
            return Ok(());
        }
        let start = topic_key(position, topic, None, from);
        let end = match to.checked_add(1) {
            Some(t) => topic_key(position, topic, None, t),
            None => {
                let mut e = vec![position];
                e.extend_from_slice(topic.as_slice());
                e.extend_from_slice(&[0xff; LogLocation::LEN + 1]);
                e
            }
        };
        let tx = self.db.begin_read()?;
        let table = tx.open_table(LOGS_BY_TOPIC)?;
        Self::collect(
            table.range(start.as_slice()..end.as_slice())?,
            33,
            limit,
            out,
        )
    }

    fn collect<'a>(
        range: redb::Range<'a, &'static [u8], ()>,
        prefix: usize,
        limit: usize,
        out: &mut BTreeSet<LogLocation>,
    ) -> Result<()> {
        let mut n = 0usize;
        for entry in range {
            let (k, _) = entry?;
            let k = k.value();
            let loc = k
                .get(prefix..)
                .and_then(LogLocation::read)
                .ok_or_else(|| StorageError::Corrupt("log index key".into()))?;
            n += 1;
            if n > limit {
                return Err(StorageError::TooManyResults(limit));
            }
            out.insert(loc);
        }
        Ok(())
    }
}
