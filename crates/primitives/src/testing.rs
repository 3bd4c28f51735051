//! An in-memory [`Host`] for testing native modules without an EVM (feature `testing`).
//!
//! It keeps the storage and balance of every account, runs a module call the way the
//! executor does (the value moves to the module first; a failed call rolls back every
//! write, log and transfer of the call), and counts the gas modules charge.

use crate::{Host, ModuleError, NativeModule};
use alloy_primitives::{Address, B256, Bytes, U256};
use std::collections::BTreeMap;

/// A log a module emitted: (emitter, topics, data).
pub type MemLog = (Address, Vec<B256>, Bytes);

/// Storage, balances and logs of every account, and the context of the call in progress.
#[derive(Debug, Clone, Default)]
pub struct MemHost {
    /// Every account's storage.
    pub storage: BTreeMap<(Address, U256), U256>,
    /// Every account's balance.
    pub balances: BTreeMap<Address, U256>,
    /// Logs, in order.
    pub logs: Vec<MemLog>,
    /// Gas charged by the calls so far (host operations and module charges).
    pub gas: u64,
    /// The block number calls run in.
    pub block: u64,
    /// The block timestamp calls run at.
    pub timestamp: u64,
    /// The chain id.
    pub chain_id: u64,
    /// The caller of the call in progress (set by [`Self::call`]; set it directly to call a
    /// module's Rust API).
    pub caller: Address,
    /// The account storage and logs go to (the called module's).
    pub account: Address,
    value: U256,
    is_static: bool,
}

const SLOAD: u64 = crate::module::gas::SLOAD;

impl MemHost {
    /// An empty state at block 1, timestamp 1,000, chain 1337.
    pub fn new() -> Self {
        Self {
            block: 1,
            timestamp: 1_000,
            chain_id: 1337,
            ..Default::default()
        }
    }

    /// Give `account` `amount` more of the native token.
    pub fn fund(&mut self, account: Address, amount: U256) {
        *self.balances.entry(account).or_default() += amount;
    }

    /// The balance of `account`.
    pub fn balance(&self, account: Address) -> U256 {
        self.balances.get(&account).copied().unwrap_or_default()
    }

    /// The word at `slot` of `account`.
    pub fn storage_at(&self, account: Address, slot: U256) -> U256 {
        self.storage
            .get(&(account, slot))
            .copied()
            .unwrap_or_default()
    }

    /// Call `module` from `caller` with `value` and `input`, as a transaction would: the
    /// value moves to the module first, and nothing of a failed call remains.
    pub fn call(
        &mut self,
        module: &dyn NativeModule,
        caller: Address,
        value: U256,
        input: &[u8],
    ) -> Result<Bytes, ModuleError> {
        self.run(module, caller, value, input, false)
    }

    /// The same without the executor's rollback of the module's writes and logs (the value
    /// still goes back): for checking that a module refuses bad input before it writes.
    pub fn call_unguarded(
        &mut self,
        module: &dyn NativeModule,
        caller: Address,
        value: U256,
        input: &[u8],
    ) -> Result<Bytes, ModuleError> {
        let balances = self.balances.clone();
        self.caller = caller;
        self.value = value;
        self.account = module.address();
        self.is_static = false;
        let result = self
            .move_value(caller, module.address(), value)
            .and_then(|()| module.call(self, input));
        if result.is_err() {
            self.balances = balances;
        }
        result
    }

    /// A static call (`eth_call` of a view).
    pub fn view(
        &mut self,
        module: &dyn NativeModule,
        caller: Address,
        input: &[u8],
    ) -> Result<Bytes, ModuleError> {
        self.run(module, caller, U256::ZERO, input, true)
    }

    fn run(
        &mut self,
        module: &dyn NativeModule,
        caller: Address,
        value: U256,
        input: &[u8],
        is_static: bool,
    ) -> Result<Bytes, ModuleError> {
        let saved = (self.storage.clone(), self.balances.clone(), self.logs.len());
        self.caller = caller;
        self.value = value;
        self.account = module.address();
        self.is_static = is_static;
        let result = self
            .move_value(caller, module.address(), value)
            .and_then(|()| module.call(self, input));
        if result.is_err() {
            self.storage = saved.0;
            self.balances = saved.1;
            self.logs.truncate(saved.2);
        }
        result
    }

    fn move_value(&mut self, from: Address, to: Address, amount: U256) -> Result<(), ModuleError> {
        if amount.is_zero() {
            return Ok(());
        }
        let have = self.balance(from);
        if have < amount {
            return Err(ModuleError::Transfer(format!(
                "{from} holds {have}, cannot send {amount}"
            )));
        }
        self.balances.insert(from, have - amount);
        self.fund(to, amount);
        Ok(())
    }
}

impl Host for MemHost {
    fn caller(&self) -> Address {
        self.caller
    }
    fn value(&self) -> U256 {
        self.value
    }
    fn block_number(&self) -> u64 {
        self.block
    }
    fn timestamp(&self) -> u64 {
        self.timestamp
    }
    fn chain_id(&self) -> u64 {
        self.chain_id
    }
    fn charge(&mut self, gas: u64) -> Result<(), ModuleError> {
        self.gas = self.gas.saturating_add(gas);
        Ok(())
    }
    fn sload(&mut self, slot: U256) -> Result<U256, ModuleError> {
        self.gas += SLOAD;
        Ok(self.storage_at(self.account, slot))
    }
    fn sstore(&mut self, slot: U256, value: U256) -> Result<(), ModuleError> {
        if self.is_static {
            return Err(ModuleError::StaticWrite);
        }
        let current = self.storage_at(self.account, slot);
        self.gas += crate::module::gas::sstore(current, value);
        self.storage.insert((self.account, slot), value);
        Ok(())
    }
    fn sstore_immutable(&mut self, slot: U256, value: U256) -> Result<(), ModuleError> {
        if self.is_static {
            return Err(ModuleError::StaticWrite);
        }
        self.gas += crate::module::gas::IMMUTABLE_WORD;
        self.storage.insert((self.account, slot), value);
        Ok(())
    }
    fn peek(&mut self, slot: U256) -> Result<U256, ModuleError> {
        Ok(self.storage_at(self.account, slot))
    }
    fn log(&mut self, topics: Vec<B256>, data: Bytes) -> Result<(), ModuleError> {
        if self.is_static {
            return Err(ModuleError::StaticWrite);
        }
        self.logs.push((self.account, topics, data));
        Ok(())
    }
    fn transfer(&mut self, to: Address, amount: U256) -> Result<(), ModuleError> {
        if self.is_static {
            return Err(ModuleError::StaticWrite);
        }
        self.gas += crate::module::gas::TRANSFER;
        self.move_value(self.account, to, amount)
    }
    fn switch_account(&mut self, module: Address) -> Address {
        std::mem::replace(&mut self.account, module)
    }
}
