//! Building a record's royalty stack, in bounded steps.
//!
//! The first `buildStack` call composes the stack (see [`crate::split`]) from the record's
//! policy (frozen from then on), its owner and contributors, and each lineage edge's part:
//! the parent's own stack when the policy reaches every ancestor (it must exist: build
//! ancestors first), else the parent's local split. It writes every entry at once (entries
//! are write-once, so they cost `gas::IMMUTABLE_WORD`), and adds the stack to at most
//! [`INDEX_PER_CALL`] accounts' earner indexes. Later calls index the rest. The stack
//! becomes the record's current one, and payable, when every account is indexed: `claimAll`
//! finds its stacks through that index.
//!
//! A complete stack is never changed. When the record gains lineage edges (a training run
//! linked to a model), anyone may build a new one; revenue already paid stays with the old
//! stack and its accounts.

use crate::{
    IMarket, MAX_STACK_ACCOUNTS,
    host::{emit, record, revert},
    layout,
    layout::StackState,
    read,
    split::{self, Stack},
};
use alloy_primitives::{Address, U256};
use verai_primitives::{Host, ModuleError};
use verai_provenance::IProvenance::Record;

/// Accounts added to earner indexes per `buildStack` call: 512 × (entry + count) fits
/// comfortably in a block.
pub const INDEX_PER_CALL: u32 = 512;

fn contributors(r: &Record) -> Vec<(Address, u16)> {
    r.contributors
        .iter()
        .map(|c| (c.account, c.shareBps))
        .collect()
}

/// Lineage edges of `r`: its parents, then the links added by training.
fn edges(r: &Record) -> Vec<u64> {
    r.parents.iter().chain(&r.links).copied().collect()
}

/// Compose the stack of `r` from its first `parents` edges and `owner`.
fn compose(
    host: &mut dyn Host,
    r: &Record,
    owner: Address,
    parents: usize,
) -> Result<Stack, ModuleError> {
    let policy = read::policy(host, r.id)?;
    let mut parts = Vec::new();
    if policy.upstream_bps > 0 {
        for p in edges(r).into_iter().take(parents) {
            let part = if policy.all_ancestors {
                let id = read::stack_of(host, p)?;
                if id == 0 {
                    return Err(revert(IMarket::ParentStackMissing {
                        recordId: r.id,
                        parent: p,
                    }));
                }
                read::stack(host, id)?
            } else {
                let pr = record(host, p)?;
                let pp = read::policy(host, p)?;
                split::local(pp.owner_bps, pr.owner, &contributors(&pr))
            };
            parts.push(part);
        }
    }
    let stack = split::compose(policy, owner, &contributors(r), &parts);
    if stack.len() > MAX_STACK_ACCOUNTS {
        return Err(revert(IMarket::StackTooLarge {
            accounts: U256::from(stack.len()),
            max: U256::from(MAX_STACK_ACCOUNTS),
        }));
    }
    Ok(stack)
}

/// Build (or continue building) the stack of `record_id`: (stack id, complete).
pub fn build(host: &mut dyn Host, record_id: u64) -> Result<(u64, bool), ModuleError> {
    let r = record(host, record_id)?;
    let current = read::stack_of(host, record_id)?;
    let pending = read::get_u64(host, layout::building(record_id))?;
    if pending != 0 {
        return index_step(host, pending);
    }
    let edges_now = edges(&r).len() as u32;
    if current != 0 && read::stack_state(host, current)?.parents == edges_now {
        return Ok((current, true));
    }
    let stack = compose(host, &r, r.owner, edges_now as usize)?;
    let id = read::get_u64(host, layout::stacks())? + 1;
    host.sstore(layout::stacks(), U256::from(id))?;
    let state = StackState {
        record: record_id,
        accounts: stack.len() as u32,
        written: 0,
        parents: edges_now,
    };
    host.sstore(layout::stack_state(id), state.pack())?;
    host.sstore(layout::stack_owner(id), layout::from_address(r.owner))?;
    let base = layout::stack_entries(id);
    for (i, &(a, w)) in stack.iter().enumerate() {
        host.sstore_immutable(
            base + U256::from(i),
            layout::pack_entry(layout::from_address(a), w),
        )?;
    }
    host.sstore(layout::building(record_id), U256::from(id))?;
    index_step(host, id)
}

/// Add the next [`INDEX_PER_CALL`] accounts of stack `id` to their earner indexes; make the
/// stack current when all are.
fn index_step(host: &mut dyn Host, id: u64) -> Result<(u64, bool), ModuleError> {
    let mut state = read::stack_state(host, id)?;
    let end = state
        .accounts
        .min(state.written.saturating_add(INDEX_PER_CALL));
    let base = layout::stack_entries(id);
    for i in state.written..end {
        let (key, w) = layout::unpack_entry(host.sload(base + U256::from(i))?);
        let list = layout::earner(layout::to_address(key));
        let n = read::get_u64(host, list)?;
        host.sstore_immutable(
            list + U256::from(n + 1),
            layout::pack_entry(U256::from(id), w),
        )?;
        host.sstore(list, U256::from(n + 1))?;
    }
    state.written = end;
    host.sstore(layout::stack_state(id), state.pack())?;
    let complete = state.written == state.accounts;
    if complete {
        host.sstore(layout::stack_of(state.record), U256::from(id))?;
        host.sstore(layout::building(state.record), U256::ZERO)?;
        emit(
            host,
            IMarket::StackBuilt {
                recordId: state.record,
                stackId: id,
                accounts: state.accounts,
            },
        )?;
    }
    Ok((id, complete))
}
