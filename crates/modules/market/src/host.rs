//! What every call does with its host: revert with an `IMarket` error, emit an event, read
//! the provenance record a call is about.

use crate::IMarket;
use alloy_sol_types::{SolError, SolEvent};
use verai_primitives::{Host, ModuleError, with_module};
use verai_provenance::{IProvenance::Record, read as prov};

pub(crate) fn revert(e: impl SolError) -> ModuleError {
    ModuleError::Revert(e.abi_encode().into())
}

pub(crate) fn emit(host: &mut dyn Host, e: impl SolEvent) -> Result<(), ModuleError> {
    let d = e.encode_log_data();
    host.log(d.topics().to_vec(), d.data)
}

/// The provenance record `id`, or `UnknownRecord`.
pub(crate) fn record(host: &mut dyn Host, id: u64) -> Result<Record, ModuleError> {
    with_module(host, verai_provenance::ADDRESS, |h| prov::record(h, id))?
        .ok_or_else(|| revert(IMarket::UnknownRecord { id }))
}

/// `record`'s owner must be the caller.
pub(crate) fn require_owner(host: &mut dyn Host, record: &Record) -> Result<(), ModuleError> {
    let caller = host.caller();
    if record.owner != caller {
        return Err(revert(IMarket::NotRecordOwner {
            recordId: record.id,
            owner: record.owner,
            caller,
        }));
    }
    Ok(())
}
