//! A native module's storage read from a state, for the module's own read functions.

use alloy_primitives::{Address, U256};
use std::sync::Arc;
use verai_execution::StateReader;
use verai_primitives::{ModuleError, StateKey};
use verai_provenance::read::Slots;

/// The storage of the account at `address` in `state`.
pub(crate) struct StateSlots {
    state: Arc<dyn StateReader>,
    address: Address,
}

impl StateSlots {
    /// The storage of `address` in `state`.
    pub(crate) fn new(state: Arc<dyn StateReader>, address: Address) -> Self {
        Self { state, address }
    }
}

impl Slots for StateSlots {
    fn slot(&mut self, slot: U256) -> Result<U256, ModuleError> {
        let v = self
            .state
            .get(&StateKey::Storage(self.address, slot))
            .map_err(|e| ModuleError::Fatal(e.to_string()))?;
        Ok(v.map(|v| U256::from_be_slice(&v)).unwrap_or_default())
    }
}
