//! Reads of the registry's state, shared by the module (through its host) and by RPC
//! (through the node's state): records, lists, lineage walks and usage.
//!
//! Every walk and list is bounded by the caller's `limit`, so a query's cost is known
//! before it runs.

use crate::{
    IProvenance::{Contributor, Record, Usage},
    RecordBody, layout,
    view::LineageNode,
    words,
};
use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolValue;
use std::collections::{BTreeMap, VecDeque};
use verai_primitives::ModuleError;

pub use crate::words::{Slots, get_u64};

/// Number of records.
pub fn count(s: &mut (impl Slots + ?Sized)) -> Result<u64, ModuleError> {
    get_u64(s, layout::count())
}

/// Whether record `id` exists.
pub fn exists(s: &mut (impl Slots + ?Sized), id: u64) -> Result<bool, ModuleError> {
    Ok(id != 0 && !s.slot(layout::commitment(id))?.is_zero())
}

/// The kind number of an existing record `id` (bits 8..16 of its flags).
pub fn kind(s: &mut (impl Slots + ?Sized), id: u64) -> Result<u8, ModuleError> {
    let flags: U256 = s.slot(layout::flags(id))?;
    Ok((flags >> 8usize).byte(0))
}

/// Entries of a list stored at `base` (count at `base`, entries at `base+1+i`), from
/// `offset`, at most `limit`; with the total count.
pub fn list(
    s: &mut (impl Slots + ?Sized),
    base: U256,
    offset: u64,
    limit: u64,
) -> Result<(u64, Vec<u64>), ModuleError> {
    let n = get_u64(s, base)?;
    let end = n.min(offset.saturating_add(limit));
    let mut out = Vec::new();
    for i in offset..end {
        out.push(get_u64(s, base + U256::from(i) + U256::from(1))?);
    }
    Ok((n, out))
}

/// The stored body of `id`, `None` if there is no such record.
pub fn body(s: &mut (impl Slots + ?Sized), id: u64) -> Result<Option<RecordBody>, ModuleError> {
    if !exists(s, id)? {
        return Ok(None);
    }
    // A body is bounded by the input limits; anything larger is corrupt state.
    let bytes = words::bytes_at(s, layout::body(id), 64 * 1024)?;
    RecordBody::abi_decode(&bytes)
        .map(Some)
        .map_err(|e| ModuleError::Fatal(format!("record {id}: corrupt body: {e}")))
}

/// The full record `id`, `None` if there is no such record.
pub fn record(s: &mut (impl Slots + ?Sized), id: u64) -> Result<Option<Record>, ModuleError> {
    let Some(b) = body(s, id)? else {
        return Ok(None);
    };
    let owner = layout::to_address(s.slot(layout::owner(id))?);
    let flags = s.slot(layout::flags(id))?;
    let (_, up) = list(s, layout::up(id), b.parents.len() as u64, u64::MAX)?;
    Ok(Some(Record {
        id,
        kind: b.kind,
        contentHash: b.contentHash,
        uri: b.uri,
        license: b.license,
        owner,
        creator: b.creator,
        contributors: b
            .contributorAccounts
            .iter()
            .zip(&b.contributorShares)
            .map(|(a, s)| Contributor {
                account: *a,
                shareBps: *s,
            })
            .collect(),
        parents: b.parents,
        links: up,
        timestamp: b.timestamp,
        blockNumber: b.blockNumber,
        deprecated: flags.bit(0),
    }))
}

/// Usage entry `index` of `id`.
pub fn usage_at(
    s: &mut (impl Slots + ?Sized),
    id: u64,
    index: u64,
) -> Result<Option<Usage>, ModuleError> {
    let base = layout::usage(id);
    if index >= get_u64(s, base)? {
        return Ok(None);
    }
    let at = base + U256::from(1) + U256::from(index) * U256::from(2);
    let (user, block, ts) = layout::unpack_usage(s.slot(at)?);
    let r = B256::from(s.slot(at + U256::from(1))?);
    Ok(Some(Usage {
        user,
        blockNumber: block,
        timestamp: ts,
        r#ref: r,
    }))
}

/// Direction of a lineage walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Parents and training links, up to the sources.
    Ancestors,
    /// Records derived from this one.
    Descendants,
}

/// Breadth-first walk from `root` (excluded), at most `max_depth` levels and `limit` records.
/// Returns the nodes in visit order and whether the walk was cut short by `limit`.
pub fn walk(
    s: &mut (impl Slots + ?Sized),
    root: u64,
    dir: Direction,
    max_depth: u32,
    limit: usize,
) -> Result<(Vec<LineageNode>, bool), ModuleError> {
    let edges = |id| match dir {
        Direction::Ancestors => layout::up(id),
        Direction::Descendants => layout::down(id),
    };
    let mut seen: BTreeMap<u64, ()> = BTreeMap::new();
    seen.insert(root, ());
    let mut out = Vec::new();
    let mut queue = VecDeque::from([(root, 0u32)]);
    let mut truncated = false;
    while let Some((id, depth)) = queue.pop_front() {
        if depth >= max_depth {
            continue;
        }
        let (_, next) = list(s, edges(id), 0, u64::MAX)?;
        for n in next {
            if seen.insert(n, ()).is_some() {
                continue;
            }
            if out.len() >= limit {
                truncated = true;
                return Ok((out, truncated));
            }
            let (_, edges_of_n) = list(s, edges(n), 0, u64::MAX)?;
            out.push(LineageNode {
                id: n,
                depth: depth + 1,
                edges: edges_of_n,
            });
            queue.push_back((n, depth + 1));
        }
    }
    Ok((out, truncated))
}

/// Ids of records currently owned by `owner`, from the owner index.
pub fn owned_by(
    s: &mut (impl Slots + ?Sized),
    owner: Address,
    offset: u64,
    limit: u64,
) -> Result<(u64, Vec<u64>), ModuleError> {
    let (n, ids) = list(s, layout::by_owner(owner), offset, limit)?;
    let mut out = Vec::new();
    for id in ids {
        if layout::to_address(s.slot(layout::owner(id))?) == owner && !out.contains(&id) {
            out.push(id);
        }
    }
    Ok((n, out))
}
