//! Sentinel alerts in the index: what the node's admission screening flagged or held.
//!
//! Alerts are local observations, not chain data: they are written by the node's sentinel
//! thread, never by block application. They live in the index's database (a rebuilt index
//! starts without them) or, for a node, in a database of their own
//! ([`Index::with_alerts_db`]), which a rebuild of the index leaves alone. Tables:
//! - `alerts`: id -> the alert's bytes (JSON, owned by the caller), ids sequential from 1;
//! - `alerts_by_address`: `address ‖ id` (big-endian) -> (), for the sender and recipient;
//! - `index_meta`: `"alerts_next"` -> the next id.
//!
//! Reads are bounded: a record above [`MAX_ALERT_BYTES`] is refused on write and reported as
//! corrupt on read, and one scan visits at most the records the caller accepts (it stops the
//! visit) or [`MAX_ALERT_SCAN`].

use crate::{Index, StorageError, error::Result};
use alloy_primitives::Address;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use std::ops::ControlFlow;
use std::sync::Arc;

const ALERTS: TableDefinition<u64, &[u8]> = TableDefinition::new("alerts");
const ALERTS_BY_ADDRESS: TableDefinition<&[u8], ()> = TableDefinition::new("alerts_by_address");
const META: TableDefinition<&str, u64> = TableDefinition::new("index_meta");
const NEXT: &str = "alerts_next";

/// Largest stored alert (bytes): scores, three top features and a few addresses fit in 2 KiB.
pub const MAX_ALERT_BYTES: usize = 64 * 1024;

/// Most alerts one scan visits, whatever the visitor says (bounds a query with filters
/// that match little).
pub const MAX_ALERT_SCAN: usize = 100_000;

pub(crate) fn create_tables(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(ALERTS)?;
    tx.open_table(ALERTS_BY_ADDRESS)?;
    Ok(())
}

fn address_key(a: &Address, id: u64) -> [u8; 28] {
    let mut k = [0u8; 28];
    k[..20].copy_from_slice(a.as_slice());
    k[20..].copy_from_slice(&id.to_be_bytes());
    k
}

impl Index {
    /// Keep alerts in `alerts`, a database of their own, from now on: the sentinel's commits
    /// then never wait for block indexing or the state store, nor hold them up (with alerts
    /// in the node's shared database, a run of the throughput bench cost 10.3 % against
    /// 4.8 % without storing alerts; 12 pairs each). Alerts already in this index's database
    /// are copied over when `alerts` has none yet (a node upgraded in place keeps them and
    /// their ids).
    pub fn with_alerts_db(mut self, alerts: Arc<Database>) -> Result<Self> {
        let tx = alerts.begin_write()?;
        create_tables(&tx)?;
        {
            let mut meta = tx.open_table(META)?;
            if meta.get(NEXT)?.is_none() {
                let old = self.db.begin_read()?;
                let next = match old.open_table(META) {
                    Ok(t) => t.get(NEXT)?.map(|v| v.value()),
                    Err(redb::TableError::TableDoesNotExist(_)) => None,
                    Err(e) => return Err(e.into()),
                };
                if let Some(next) = next {
                    let mut to = tx.open_table(ALERTS)?;
                    for entry in old.open_table(ALERTS)?.iter()? {
                        let (k, v) = entry?;
                        to.insert(k.value(), v.value())?;
                    }
                    let mut to = tx.open_table(ALERTS_BY_ADDRESS)?;
                    for entry in old.open_table(ALERTS_BY_ADDRESS)?.iter()? {
                        let (k, _) = entry?;
                        to.insert(k.value(), ())?;
                    }
                    meta.insert(NEXT, next)?;
                }
            }
        }
        tx.commit()?;
        self.alerts_db = alerts;
        Ok(self)
    }

    /// Store an alert concerning `addresses`; `make(id)` returns its bytes given its id.
    /// Returns the id.
    pub fn put_alert(
        &self,
        addresses: &[Address],
        make: impl FnOnce(u64) -> Vec<u8>,
    ) -> Result<u64> {
        self.put_alerts(vec![(addresses.to_vec(), make)])?
            .pop()
            .unwrap_or_else(|| Err(StorageError::Corrupt("no alert stored".into())))
    }

    /// Store a batch of alerts in one write transaction (one commit: a busy sentinel must not
    /// pay a sync per alert, nor hold the index's single writer from block application).
    /// Each entry gets its id or, alone, a refusal (too large: it takes no id).
    ///
    /// The commit does not sync: the alerts are on disk once [`Index::sync`] runs (or, when
    /// they share the index's database, once the next block is indexed: every block's commit
    /// syncs). A sync per batch held the database's one writer, and so block application, for
    /// a disk flush each time on a node raising alerts. A crash loses at most the alerts
    /// since the last sync, never a block.
    pub fn put_alerts<F: FnOnce(u64) -> Vec<u8>>(
        &self,
        batch: Vec<(Vec<Address>, F)>,
    ) -> Result<Vec<Result<u64>>> {
        let mut tx = self.alerts_db.begin_write()?;
        tx.set_durability(redb::Durability::None)?;
        let mut out = Vec::with_capacity(batch.len());
        {
            let mut meta = tx.open_table(META)?;
            let mut alerts = tx.open_table(ALERTS)?;
            let mut by = tx.open_table(ALERTS_BY_ADDRESS)?;
            let mut next = meta.get(NEXT)?.map_or(1, |v| v.value());
            for (addresses, make) in batch {
                let bytes = make(next);
                if bytes.len() > MAX_ALERT_BYTES {
                    out.push(Err(StorageError::RecordTooLarge {
                        size: bytes.len(),
                        limit: MAX_ALERT_BYTES,
                    }));
                    continue;
                }
                alerts.insert(next, bytes.as_slice())?;
                for a in &addresses {
                    by.insert(address_key(a, next).as_slice(), ())?;
                }
                out.push(Ok(next));
                next += 1;
            }
            meta.insert(NEXT, next)?;
        }
        self.unsynced
            .store(true, std::sync::atomic::Ordering::Release);
        tx.commit()?;
        Ok(out)
    }

    /// One alert by id.
    pub fn alert(&self, id: u64) -> Result<Option<Vec<u8>>> {
        let tx = self.alerts_db.begin_read()?;
        let table = tx.open_table(ALERTS)?;
        match table.get(id)? {
            Some(v) if v.value().len() > MAX_ALERT_BYTES => {
                Err(StorageError::Corrupt(format!("alert {id} too large")))
            }
            Some(v) => Ok(Some(v.value().to_vec())),
            None => Ok(None),
        }
    }

    /// Visit alerts with ids above `after` in id order (those concerning `address` only, when
    /// given) until `visit` breaks or [`MAX_ALERT_SCAN`] were visited. Returns how many were
    /// visited.
    pub fn scan_alerts(
        &self,
        address: Option<&Address>,
        after: u64,
        mut visit: impl FnMut(u64, &[u8]) -> ControlFlow<()>,
    ) -> Result<usize> {
        let Some(start) = after.checked_add(1) else {
            return Ok(0);
        };
        let tx = self.alerts_db.begin_read()?;
        let alerts = tx.open_table(ALERTS)?;
        let mut visited = 0usize;
        let mut check = |id: u64, bytes: &[u8]| -> Result<ControlFlow<()>> {
            if bytes.len() > MAX_ALERT_BYTES {
                return Err(StorageError::Corrupt(format!("alert {id} too large")));
            }
            visited += 1;
            if visited >= MAX_ALERT_SCAN {
                let _ = visit(id, bytes);
                return Ok(ControlFlow::Break(()));
            }
            Ok(visit(id, bytes))
        };
        match address {
            None => {
                for entry in alerts.range(start..)? {
                    let (k, v) = entry?;
                    if check(k.value(), v.value())?.is_break() {
                        break;
                    }
                }
            }
            Some(a) => {
                let by = tx.open_table(ALERTS_BY_ADDRESS)?;
                let from = address_key(a, start);
                let to = address_key(a, u64::MAX);
                for entry in by.range(from.as_slice()..=to.as_slice())? {
                    let (k, _) = entry?;
                    let id = k
                        .value()
                        .get(20..28)
                        .and_then(|b| <[u8; 8]>::try_from(b).ok())
                        .map(u64::from_be_bytes)
                        .ok_or_else(|| StorageError::Corrupt("alert address key".into()))?;
                    let Some(v) = alerts.get(id)? else {
                        return Err(StorageError::Corrupt(format!("alert {id} missing")));
                    };
                    if check(id, v.value())?.is_break() {
                        break;
                    }
                }
            }
        }
        Ok(visited)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn alerts_by_id_and_address_with_paging() {
        let dir = std::env::temp_dir().join(format!("verai-alerts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let index = Index::open(dir.join("i.redb")).unwrap();
        let (a, b, c) = (
            Address::repeat_byte(1),
            Address::repeat_byte(2),
            Address::repeat_byte(3),
        );
        for i in 0..5u8 {
            let who = if i % 2 == 0 { vec![a, c] } else { vec![b, c] };
            let id = index
                .put_alert(&who, |id| format!("{{\"id\":{id},\"i\":{i}}}").into_bytes())
                .unwrap();
            assert_eq!(id, u64::from(i) + 1);
        }
        let collect = |addr: Option<&Address>, after: u64, limit: usize| {
            let mut out = Vec::new();
            index
                .scan_alerts(addr, after, |id, _| {
                    out.push(id);
                    if out.len() == limit {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })
                .unwrap();
            out
        };
        assert_eq!(collect(None, 0, 100), vec![1, 2, 3, 4, 5]);
        assert_eq!(collect(None, 2, 2), vec![3, 4]);
        assert_eq!(collect(Some(&a), 0, 100), vec![1, 3, 5]);
        assert_eq!(collect(Some(&b), 0, 100), vec![2, 4]);
        assert_eq!(collect(Some(&a), 3, 100), vec![5]);
        assert_eq!(collect(Some(&c), 0, 100).len(), 5);
        assert!(collect(Some(&Address::ZERO), 0, 100).is_empty());
        assert!(collect(None, u64::MAX, 100).is_empty());
        assert_eq!(
            index.alert(2).unwrap().unwrap(),
            b"{\"id\":2,\"i\":1}".to_vec()
        );
        assert!(index.alert(9).unwrap().is_none());
        // Too large: refused, and the id is not consumed.
        let big = index.put_alert(&[a], |_| vec![b' '; MAX_ALERT_BYTES + 1]);
        assert!(matches!(big, Err(StorageError::RecordTooLarge { .. })));
        assert_eq!(
            index
                .put_alert(&[a], |id| id.to_string().into_bytes())
                .unwrap(),
            6
        );
        // Alerts are committed without a sync until `sync`, or the last handle's drop.
        use std::sync::atomic::Ordering;
        assert!(index.unsynced.load(Ordering::Acquire));
        index.sync().unwrap();
        assert!(!index.unsynced.load(Ordering::Acquire));
        assert_eq!(index.put_alert(&[], |_| b"7".to_vec()).unwrap(), 7);
        // Alerts and ids survive a reopen, also when the database is shared (as the node
        // shares it with the state store).
        drop(index);
        let db = std::sync::Arc::new(redb::Database::create(dir.join("i.redb")).unwrap());
        let index = Index::from_db(db.clone()).unwrap();
        assert_eq!(index.alert(6).unwrap().unwrap(), b"6".to_vec());
        assert_eq!(index.alert(7).unwrap().unwrap(), b"7".to_vec());
        assert_eq!(index.put_alert(&[], |_| b"x".to_vec()).unwrap(), 8);
        drop(index);
        drop(db);
        let index = Index::open(dir.join("i.redb")).unwrap();
        assert_eq!(index.alert(8).unwrap().unwrap(), b"x".to_vec());
        drop(index);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn alerts_in_their_own_database_are_migrated_and_synced_apart() {
        use std::sync::atomic::Ordering;
        let dir = std::env::temp_dir().join(format!("verai-alerts-own-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let open = |name: &str| Arc::new(Database::create(dir.join(name)).unwrap());
        // Two alerts stored the old way, in the index's database.
        let main = open("i.redb");
        let index = Index::from_db(main.clone()).unwrap();
        let a = Address::repeat_byte(1);
        index.put_alert(&[a], |_| b"one".to_vec()).unwrap();
        index.put_alert(&[a], |_| b"two".to_vec()).unwrap();
        index.sync().unwrap();
        drop(index);
        // Moved to their own database, ids and the address index kept; new ids follow.
        let index = Index::from_db(main.clone())
            .unwrap()
            .with_alerts_db(open("i.alerts"))
            .unwrap();
        assert_eq!(index.alert(2).unwrap().unwrap(), b"two".to_vec());
        assert_eq!(index.put_alert(&[a], |_| b"three".to_vec()).unwrap(), 3);
        let mut ids = Vec::new();
        index
            .scan_alerts(Some(&a), 0, |id, _| {
                ids.push(id);
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(ids, vec![1, 2, 3]);
        // A block's durable commit no longer covers them; `sync` does.
        let tx = index.db.begin_write().unwrap();
        index.commit_synced(tx).unwrap();
        assert!(index.unsynced.load(Ordering::Acquire));
        index.sync().unwrap();
        assert!(!index.unsynced.load(Ordering::Acquire));
        drop(index);
        // Reopened: the alerts database already has alerts, so nothing is copied again.
        let index = Index::from_db(main)
            .unwrap()
            .with_alerts_db(open("i.alerts"))
            .unwrap();
        assert_eq!(index.alert(3).unwrap().unwrap(), b"three".to_vec());
        assert_eq!(index.put_alert(&[], |_| b"four".to_vec()).unwrap(), 4);
        drop(index);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
