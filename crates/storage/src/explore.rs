//! The index's tables for browsing: transactions by address, when each block was
//! finalized, and log pages by keyset (cursor) rather than by offset.
//!
//! Tables (derived from finalized blocks by [`Index::index_block`], rebuilt with the index):
//! - `txs_by_address`: `address ‖ block ‖ tx index` (big-endian) -> role bits (1 sender,
//!   2 recipient, 4 created contract);
//! - `block_times`: number -> unix milliseconds when this node applied the block as final.
//!
//! A log page starts strictly after a [`LogLocation`] cursor and seeks there in the B-tree,
//! so page 10,000 costs what page 1 costs. One list of the query (its addresses, or the
//! topics of its first constrained position after the event signature's) drives the scan
//! in chain order; each candidate
//! is kept only if every other constraint has an entry for it (a point look-up per
//! constraint).

use crate::{Index, LogLocation, LogQuery, StorageError, error::Result};
use alloy_primitives::{Address, B256};
use redb::{ReadableDatabase, TableDefinition, WriteTransaction};
use verai_primitives::StoredReceipt;

const TXS_BY_ADDRESS: TableDefinition<&[u8], u8> = TableDefinition::new("txs_by_address");
const BLOCK_TIMES: TableDefinition<u64, u64> = TableDefinition::new("block_times");
const LOGS_BY_ADDRESS: TableDefinition<&[u8], ()> = TableDefinition::new("logs_by_address");
const LOGS_BY_TOPIC: TableDefinition<&[u8], ()> = TableDefinition::new("logs_by_topic");

/// Most entries one page may hold.
pub const MAX_PAGE: usize = 1000;

/// Role bits of an entry of `txs_by_address`.
pub mod role {
    /// The transaction's sender.
    pub const SENDER: u8 = 1;
    /// Its recipient.
    pub const RECIPIENT: u8 = 2;
    /// The contract it created.
    pub const CREATED: u8 = 4;
}

/// A transaction touching an address: where it is and how it touches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressTx {
    /// Its block.
    pub block: u64,
    /// Its index in the block.
    pub index: u32,
    /// [`role`] bits.
    pub role: u8,
}

pub(crate) fn create_tables(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(TXS_BY_ADDRESS)?;
    tx.open_table(BLOCK_TIMES)?;
    Ok(())
}

fn tx_key(a: &Address, block: u64, index: u32) -> [u8; 32] {
    let mut k = [0u8; 32];
    k[..20].copy_from_slice(a.as_slice());
    k[20..28].copy_from_slice(&block.to_be_bytes());
    k[28..].copy_from_slice(&index.to_be_bytes());
    k
}

/// Write a block's browsing entries (inside the index's transaction for the block).
pub(crate) fn index_block(
    tx: &WriteTransaction,
    number: u64,
    receipts: &[StoredReceipt],
    finalized_ms: u64,
) -> Result<()> {
    let mut by_address = tx.open_table(TXS_BY_ADDRESS)?;
    for (i, r) in receipts.iter().enumerate() {
        let i =
            u32::try_from(i).map_err(|_| StorageError::Corrupt("too many transactions".into()))?;
        let mut roles: Vec<(Address, u8)> = vec![(r.from, role::SENDER)];
        roles.extend(r.to.map(|t| (t, role::RECIPIENT)));
        roles.extend(r.contract_address.map(|c| (c, role::CREATED)));
        roles.sort();
        // A transaction to oneself is one entry with both bits.
        let mut merged: Vec<(Address, u8)> = Vec::with_capacity(roles.len());
        for (a, bit) in roles {
            match merged.last_mut() {
                Some((last, bits)) if *last == a => *bits |= bit,
                _ => merged.push((a, bit)),
            }
        }
        for (a, bits) in merged {
            by_address.insert(tx_key(&a, number, i).as_slice(), bits)?;
        }
    }
    tx.open_table(BLOCK_TIMES)?.insert(number, finalized_ms)?;
    Ok(())
}

impl Index {
    /// Transactions touching `a`, newest first, strictly before `before` (block, index)
    /// when given; at most `limit` (≤ [`MAX_PAGE`]).
    pub fn address_txs(
        &self,
        a: &Address,
        before: Option<(u64, u32)>,
        limit: usize,
    ) -> Result<Vec<AddressTx>> {
        let limit = limit.min(MAX_PAGE);
        let start = tx_key(a, 0, 0);
        let end = match before {
            Some((b, i)) => tx_key(a, b, i),
            None => {
                let mut e = [0xffu8; 32];
                e[..20].copy_from_slice(a.as_slice());
                e
            }
        };
        let tx = self.db.begin_read()?;
        let table = tx.open_table(TXS_BY_ADDRESS)?;
        let mut out = Vec::with_capacity(limit);
        for entry in table.range(start.as_slice()..end.as_slice())?.rev() {
            if out.len() >= limit {
                break;
            }
            let (k, v) = entry?;
            let k = k.value();
            let (block, index) = (
                u64::from_be_bytes(k[20..28].try_into().map_err(|_| corrupt())?),
                u32::from_be_bytes(k[28..32].try_into().map_err(|_| corrupt())?),
            );
            out.push(AddressTx {
                block,
                index,
                role: v.value(),
            });
        }
        Ok(out)
    }

    /// When this node applied block `number` as final (unix milliseconds).
    pub fn finalized_at(&self, number: u64) -> Result<Option<u64>> {
        let tx = self.db.begin_read()?;
        Ok(tx.open_table(BLOCK_TIMES)?.get(number)?.map(|v| v.value()))
    }

    /// The logs matching `q` (which must name an address or a topic), in chain order,
    /// strictly after `after`, at most `limit` (≤ [`MAX_PAGE`]); the second value is the
    /// cursor of the next page, `None` when this one reached the end of the range.
    pub fn logs_page(
        &self,
        q: &LogQuery,
        after: Option<LogLocation>,
        limit: usize,
    ) -> Result<(Vec<LogLocation>, Option<LogLocation>)> {
        let limit = limit.clamp(1, MAX_PAGE);
        let drivers = Driver::of(q).ok_or_else(|| {
            StorageError::Corrupt("a log page needs an address or a topic".into())
        })?;
        let tx = self.db.begin_read()?;
        let by_address = tx.open_table(LOGS_BY_ADDRESS)?;
        let by_topic = tx.open_table(LOGS_BY_TOPIC)?;
        // Cursors of each driving list: the next location of each, merged in order.
        let mut heads: Vec<(Vec<u8>, Option<LogLocation>)> = Vec::new();
        let floor = LogLocation {
            block: q.from,
            tx_index: 0,
            log_index: 0,
        };
        let (first, skip_first) = match after {
            Some(a) if a >= floor => (a, true),
            _ => (floor, false),
        };
        let mut out = Vec::with_capacity(limit);
        for prefix in drivers.prefixes() {
            heads.push((prefix, None));
        }
        // Each driver is scanned lazily: fetch its next location at or after `from`.
        let next_of =
            |prefix: &[u8], from: LogLocation, strictly: bool| -> Result<Option<LogLocation>> {
                let mut start = prefix.to_vec();
                from.write(&mut start);
                let mut end = prefix.to_vec();
                end.extend_from_slice(&[0xff; LogLocation::LEN + 1]);
                let table = if drivers.is_address() {
                    &by_address
                } else {
                    &by_topic
                };
                for entry in table.range(start.as_slice()..end.as_slice())? {
                    let (k, _) = entry?;
                    let loc = k
                        .value()
                        .get(prefix.len()..)
                        .and_then(LogLocation::read)
                        .ok_or_else(corrupt)?;
                    if strictly && loc == from {
                        continue;
                    }
                    return Ok(Some(loc));
                }
                Ok(None)
            };
        for (prefix, head) in heads.iter_mut() {
            *head = next_of(prefix, first, skip_first)?;
        }
        loop {
            // The smallest head that is still in range.
            let Some(loc) = heads.iter().filter_map(|(_, h)| *h).min() else {
                return Ok((out, None));
            };
            if loc.block > q.to {
                return Ok((out, None));
            }
            if out.len() == limit {
                let last = out.last().copied();
                return Ok((out, last));
            }
            for (prefix, head) in heads.iter_mut() {
                if *head == Some(loc) {
                    *head = next_of(prefix, loc, true)?;
                }
            }
            if matches(q, &drivers, &loc, &by_address, &by_topic)? {
                out.push(loc);
            }
        }
    }
}

fn corrupt() -> StorageError {
    StorageError::Corrupt("explorer index key".into())
}

/// The list that drives a log page.
enum Driver<'a> {
    Addresses(&'a [Address]),
    Topics(u8, &'a [B256]),
}

impl<'a> Driver<'a> {
    fn of(q: &'a LogQuery) -> Option<Self> {
        if !q.addresses.is_empty() {
            return Some(Self::Addresses(&q.addresses));
        }
        // Topic 0 is an event's signature, shared by every log of that event; a later
        // position (an indexed address or id) is usually far more selective.
        let constrained = |p: &usize| !q.topics[*p].is_empty();
        let p = (1..q.topics.len())
            .find(constrained)
            .or_else(|| (0..1).find(constrained))?;
        Some(Self::Topics(p as u8, q.topics[p].as_slice()))
    }

    fn is_address(&self) -> bool {
        matches!(self, Self::Addresses(_))
    }

    fn prefixes(&self) -> Vec<Vec<u8>> {
        match self {
            Self::Addresses(a) => a.iter().map(|a| a.to_vec()).collect(),
            Self::Topics(p, t) => t
                .iter()
                .map(|t| {
                    let mut k = vec![*p];
                    k.extend_from_slice(t.as_slice());
                    k
                })
                .collect(),
        }
    }
}

/// Whether `loc` (found through the driver) meets every other constraint of `q`.
fn matches(
    q: &LogQuery,
    driver: &Driver<'_>,
    loc: &LogLocation,
    by_address: &redb::ReadOnlyTable<&'static [u8], ()>,
    by_topic: &redb::ReadOnlyTable<&'static [u8], ()>,
) -> Result<bool> {
    let key = |prefix: &[u8]| {
        let mut k = prefix.to_vec();
        loc.write(&mut k);
        k
    };
    if !driver.is_address() && !q.addresses.is_empty() {
        let mut any = false;
        for a in &q.addresses {
            if by_address.get(key(a.as_slice()).as_slice())?.is_some() {
                any = true;
                break;
            }
        }
        if !any {
            return Ok(false);
        }
    }
    for (pos, topics) in q.topics.iter().enumerate() {
        if topics.is_empty() {
            continue;
        }
        if let Driver::Topics(p, _) = driver
            && *p as usize == pos
        {
            continue;
        }
        let mut any = false;
        for t in topics {
            let mut prefix = vec![pos as u8];
            prefix.extend_from_slice(t.as_slice());
            if by_topic.get(key(&prefix).as_slice())?.is_some() {
                any = true;
                break;
            }
        }
        if !any {
            return Ok(false);
        }
    }
    Ok(true)
}
