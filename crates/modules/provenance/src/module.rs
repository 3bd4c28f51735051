//! The native module: decodes a call, checks it, writes the records and emits the events.
//!
//! Every check runs before the first write, so even without the executor's rollback a
//! refused call would leave no trace; the executor rolls back anyway.

use crate::{
    ADDRESS,
    IProvenance::{self, IProvenanceCalls},
    Kind, MAX_CHAIN_WALK, MAX_CONTRIBUTORS, MAX_LICENSE_BYTES, MAX_PARENTS, MAX_URI_BYTES,
    RecordBody, TOTAL_BPS, layout, licence, read, words,
};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::{SolCall, SolError, SolEvent, SolInterface, SolValue};
use std::collections::{BTreeSet, VecDeque};
use verai_primitives::{Host, ModuleError, NativeModule, module::gas};

/// The provenance registry module.
#[derive(Debug, Clone, Copy, Default)]
pub struct Provenance;

fn revert(e: impl SolError) -> ModuleError {
    ModuleError::Revert(e.abi_encode().into())
}

impl NativeModule for Provenance {
    fn address(&self) -> Address {
        ADDRESS
    }

    fn name(&self) -> &'static str {
        "provenance"
    }

    fn explain(&self, data: &[u8]) -> Option<String> {
        crate::explain(data)
    }

    fn call(&self, host: &mut dyn Host, input: &[u8]) -> Result<Bytes, ModuleError> {
        let call = match IProvenanceCalls::abi_decode(input) {
            Ok(c) => c,
            Err(_) => {
                let mut sel = [0u8; 4];
                let n = input.len().min(4);
                sel[..n].copy_from_slice(&input[..n]);
                return Err(revert(IProvenance::UnknownSelector {
                    selector: sel.into(),
                }));
            }
        };
        if !host.value().is_zero() {
            return Err(revert(IProvenance::ValueNotAccepted {}));
        }
        use IProvenanceCalls as C;
        Ok(match call {
            C::register(c) => {
                let kind = Kind::from_u8(c.kind)
                    .ok_or_else(|| revert(IProvenance::InvalidKind { kind: c.kind }))?;
                let id = register(
                    host,
                    kind,
                    c.contentHash,
                    &c.uri,
                    &c.license,
                    &c.contributors,
                    &c.parents,
                )?;
                IProvenance::registerCall::abi_encode_returns(&id).into()
            }
            C::recordTraining(c) => {
                let id = record_training(host, &c)?;
                IProvenance::recordTrainingCall::abi_encode_returns(&id).into()
            }
            C::transferOwnership(c) => {
                transfer(host, c.id, c.newOwner)?;
                IProvenance::transferOwnershipCall::abi_encode_returns(&true).into()
            }
            C::deprecate(c) => {
                deprecate(host, c.id)?;
                IProvenance::deprecateCall::abi_encode_returns(&true).into()
            }
            C::recordUsage(c) => {
                let i = record_usage(host, c.modelId, c.r#ref)?;
                IProvenance::recordUsageCall::abi_encode_returns(&i).into()
            }
            C::registerTerms(c) => {
                let h = licence::register_terms(host, &c.terms)?;
                IProvenance::registerTermsCall::abi_encode_returns(&h).into()
            }
            C::getTerms(c) => {
                let t = licence::terms(host, c.termsHash)?.ok_or_else(|| {
                    revert(IProvenance::UnknownTerms {
                        termsHash: c.termsHash,
                    })
                })?;
                IProvenance::getTermsCall::abi_encode_returns(&t).into()
            }
            C::recordCount(_) => {
                IProvenance::recordCountCall::abi_encode_returns(&read::count(host)?).into()
            }
            C::getRecord(c) => {
                let r = read::record(host, c.id)?
                    .ok_or_else(|| revert(IProvenance::UnknownRecord { id: c.id }))?;
                IProvenance::getRecordCall::abi_encode_returns(&r).into()
            }
            C::findByHash(c) => {
                let id = read::get_u64(host, layout::by_hash(c.kind, c.contentHash))?;
                IProvenance::findByHashCall::abi_encode_returns(&id).into()
            }
            C::childrenOf(c) => {
                require_exists(host, c.id)?;
                let (_, ids) = read::list(host, layout::down(c.id), 0, u64::MAX)?;
                IProvenance::childrenOfCall::abi_encode_returns(&ids).into()
            }
            C::usageCount(c) => {
                require_exists(host, c.id)?;
                let n = read::get_u64(host, layout::usage(c.id))?;
                IProvenance::usageCountCall::abi_encode_returns(&n).into()
            }
            C::usageAt(c) => {
                let u = read::usage_at(host, c.id, c.index)?
                    .ok_or_else(|| revert(IProvenance::UnknownRecord { id: c.id }))?;
                IProvenance::usageAtCall::abi_encode_returns(&u).into()
            }
        })
    }
}

fn require_exists(host: &mut dyn Host, id: u64) -> Result<(), ModuleError> {
    if read::exists(host, id)? {
        Ok(())
    } else {
        Err(revert(IProvenance::UnknownRecord { id }))
    }
}

fn set_u64(host: &mut dyn Host, slot: U256, v: u64) -> Result<(), ModuleError> {
    host.sstore(slot, U256::from(v))
}

/// Append `v` to the list at `base`.
fn push(host: &mut dyn Host, base: U256, v: u64) -> Result<(), ModuleError> {
    let n = read::get_u64(host, base)?;
    host.sstore(base + U256::from(n) + U256::from(1), U256::from(v))?;
    set_u64(host, base, n + 1)
}

fn emit(host: &mut dyn Host, e: impl SolEvent) -> Result<(), ModuleError> {
    let d = e.encode_log_data();
    host.log(d.topics().to_vec(), d.data)
}

/// Check parents: count, no repeats, all existing.
fn check_parents(host: &mut dyn Host, parents: &[u64]) -> Result<(), ModuleError> {
    if parents.len() > MAX_PARENTS {
        return Err(revert(IProvenance::TooManyParents {
            count: U256::from(parents.len()),
            max: U256::from(MAX_PARENTS),
        }));
    }
    let mut seen = BTreeSet::new();
    for &p in parents {
        if !seen.insert(p) {
            return Err(revert(IProvenance::DuplicateParent { id: p }));
        }
        require_exists(host, p)?;
    }
    Ok(())
}

fn check_text(uri: &str, license: &str) -> Result<(), ModuleError> {
    if uri.len() > MAX_URI_BYTES {
        return Err(revert(IProvenance::UriTooLong {
            length: U256::from(uri.len()),
            max: U256::from(MAX_URI_BYTES),
        }));
    }
    if license.is_empty() {
        return Err(revert(IProvenance::EmptyLicense {}));
    }
    if license.len() > MAX_LICENSE_BYTES {
        return Err(revert(IProvenance::LicenseTooLong {
            length: U256::from(license.len()),
            max: U256::from(MAX_LICENSE_BYTES),
        }));
    }
    Ok(())
}

/// Contributors as (accounts, shares): the caller alone when empty, else shares must sum
/// to [`TOTAL_BPS`].
fn check_contributors(
    caller: Address,
    c: &[IProvenance::Contributor],
) -> Result<(Vec<Address>, Vec<u16>), ModuleError> {
    if c.is_empty() {
        return Ok((vec![caller], vec![TOTAL_BPS as u16]));
    }
    if c.len() > MAX_CONTRIBUTORS {
        return Err(revert(IProvenance::TooManyContributors {
            count: U256::from(c.len()),
            max: U256::from(MAX_CONTRIBUTORS),
        }));
    }
    if c.iter().any(|x| x.account.is_zero()) {
        return Err(revert(IProvenance::ZeroContributor {}));
    }
    let total: u32 = c.iter().map(|x| u32::from(x.shareBps)).sum();
    if total != TOTAL_BPS {
        return Err(revert(IProvenance::SharesNotTenThousand {
            total: U256::from(total),
        }));
    }
    Ok((
        c.iter().map(|x| x.account).collect(),
        c.iter().map(|x| x.shareBps).collect(),
    ))
}

/// Register a record owned by `host.caller()`: the registry's Rust API, used by the
/// `register` call and by other modules (through [`verai_primitives::with_module`]).
pub fn register(
    host: &mut dyn Host,
    kind: Kind,
    hash: B256,
    uri: &str,
    license: &str,
    contributors: &[IProvenance::Contributor],
    parents: &[u64],
) -> Result<u64, ModuleError> {
    if hash.is_zero() {
        return Err(revert(IProvenance::EmptyHash {}));
    }
    check_text(uri, license)?;
    let caller = host.caller();
    let (accounts, shares) = check_contributors(caller, contributors)?;
    check_parents(host, parents)?;
    licence::check_inheritance(host, caller, license, parents)?;
    let existing = read::get_u64(host, layout::by_hash(kind as u8, hash))?;
    if existing != 0 {
        return Err(revert(IProvenance::DuplicateRecord { existing }));
    }

    let id = read::count(host)? + 1;
    let body = RecordBody {
        kind: kind as u8,
        contentHash: hash,
        uri: uri.to_owned(),
        license: license.to_owned(),
        creator: caller,
        contributorAccounts: accounts,
        contributorShares: shares,
        parents: parents.to_vec(),
        timestamp: host.timestamp(),
        blockNumber: host.block_number(),
    };
    let bytes = body.abi_encode();
    host.charge(gas::HASH_WORD * (bytes.len() as u64).div_ceil(32))?;
    set_u64(host, layout::count(), id)?;
    host.sstore(
        layout::commitment(id),
        U256::from_be_bytes(keccak256(&bytes).0),
    )?;
    words::write_bytes(host, layout::body(id), &bytes)?;
    host.sstore(layout::owner(id), U256::from_be_bytes(caller.into_word().0))?;
    set_u64(host, layout::flags(id), u64::from(kind as u8) << 8)?;
    set_u64(host, layout::by_hash(kind as u8, hash), id)?;
    for &p in parents {
        push(host, layout::up(id), p)?;
        push(host, layout::down(p), id)?;
    }
    push(host, layout::by_kind(kind as u8), id)?;
    push(host, layout::by_owner(caller), id)?;
    emit(
        host,
        IProvenance::RecordRegistered {
            id,
            kind: kind as u8,
            owner: caller,
            contentHash: hash,
        },
    )?;
    Ok(id)
}

fn owner_of(host: &mut dyn Host, id: u64) -> Result<Address, ModuleError> {
    require_exists(host, id)?;
    Ok(layout::to_address(host.sload(layout::owner(id))?))
}

fn require_owner(host: &mut dyn Host, id: u64) -> Result<Address, ModuleError> {
    let owner = owner_of(host, id)?;
    let caller = host.caller();
    if owner != caller {
        return Err(revert(IProvenance::NotOwner { id, owner, caller }));
    }
    Ok(owner)
}

/// Whether `target` is among `from` or their ancestors (bounded walk, charged per record).
fn reaches(host: &mut dyn Host, from: &[u64], target: u64) -> Result<bool, ModuleError> {
    let mut seen: BTreeSet<u64> = from.iter().copied().collect();
    let mut queue: VecDeque<u64> = from.iter().copied().collect();
    while let Some(id) = queue.pop_front() {
        if id == target {
            return Ok(true);
        }
        let (_, ups) = read::list(host, layout::up(id), 0, u64::MAX)?;
        for u in ups {
            if seen.insert(u) {
                if seen.len() > MAX_CHAIN_WALK {
                    return Err(revert(IProvenance::LineageTooDeep {
                        visited: U256::from(seen.len()),
                    }));
                }
                queue.push_back(u);
            }
        }
    }
    Ok(false)
}

fn record_training(
    host: &mut dyn Host,
    c: &IProvenance::recordTrainingCall,
) -> Result<u64, ModuleError> {
    // Checks first: the output model, its owner, and that linking cannot close a cycle.
    let output = c.output;
    require_exists(host, output)?;
    if read::kind(host, output)? != Kind::Model as u8 {
        return Err(revert(IProvenance::NotAModel { id: output }));
    }
    let owner = require_owner(host, output)?;
    check_parents(host, &c.inputs)?;
    // The model inherits its inputs' licences as the run does (checked by `register`).
    let model_licence = read::body(host, output)?
        .map(|b| b.license)
        .unwrap_or_default();
    licence::check_inheritance(host, owner, &model_licence, &c.inputs)?;
    if reaches(host, &c.inputs, output)? {
        return Err(revert(IProvenance::LineageCycle { id: output }));
    }
    let run = register(
        host,
        Kind::TrainingRun,
        c.paramsHash,
        &c.uri,
        &c.license,
        &[],
        &c.inputs,
    )?;
    push(host, layout::up(output), run)?;
    push(host, layout::down(run), output)?;
    emit(
        host,
        IProvenance::LineageLinked {
            child: output,
            parent: run,
        },
    )?;
    Ok(run)
}

fn transfer(host: &mut dyn Host, id: u64, to: Address) -> Result<(), ModuleError> {
    if to.is_zero() {
        return Err(revert(IProvenance::ZeroOwner {}));
    }
    let from = require_owner(host, id)?;
    host.sstore(layout::owner(id), U256::from_be_bytes(to.into_word().0))?;
    push(host, layout::by_owner(to), id)?;
    emit(host, IProvenance::OwnershipTransferred { id, from, to })
}

fn deprecate(host: &mut dyn Host, id: u64) -> Result<(), ModuleError> {
    let by = require_owner(host, id)?;
    let flags = host.sload(layout::flags(id))?;
    if flags.bit(0) {
        return Err(revert(IProvenance::AlreadyDeprecated { id }));
    }
    host.sstore(
        layout::flags(id),
        flags | U256::from(layout::FLAG_DEPRECATED),
    )?;
    emit(host, IProvenance::RecordDeprecated { id, by })
}

/// Log one use of model `id` by `host.caller()`: the `recordUsage` call's Rust API.
pub fn record_usage(host: &mut dyn Host, id: u64, r: B256) -> Result<u64, ModuleError> {
    require_exists(host, id)?;
    if read::kind(host, id)? != Kind::Model as u8 {
        return Err(revert(IProvenance::NotAModel { id }));
    }
    let user = host.caller();
    let base = layout::usage(id);
    let n = read::get_u64(host, base)?;
    let at = base + U256::from(1) + U256::from(n) * U256::from(2);
    let (block, ts) = (host.block_number(), host.timestamp());
    host.sstore(at, layout::pack_usage(user, block, ts))?;
    host.sstore(at + U256::from(1), U256::from_be_bytes(r.0))?;
    set_u64(host, base, n + 1)?;
    emit(
        host,
        IProvenance::UsageRecorded {
            id,
            user,
            index: n,
            r#ref: r,
        },
    )?;
    Ok(n)
}
