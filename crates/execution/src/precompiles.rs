//! The precompile registry: Ethereum's precompiles plus Verai's native modules.
//!
//! The modules come as a [`ModuleSet`], listed once in the `verai-modules` crate (it is
//! consensus configuration: adding a module is a hard fork); execution knows no module by
//! name. [`VeraiPrecompiles`] is the revm
//! [`PrecompileProvider`] used by block building, verification, `eth_call` and
//! `eth_estimateGas` alike, so all four see the same modules and charge the same gas.
//!
//! A module call runs inside revm's call frame: its storage reads and writes and its logs go
//! through the journal, so a revert (or any failure) rolls them back with the frame, and the
//! transaction's state diff carries the writes into the changeset like any contract's.
//! Calls through `DELEGATECALL`/`CALLCODE` are refused: a module only ever touches its own
//! account.

use alloy_primitives::{Address, B256, Bytes, Log, U256};
use revm::{
    context::{Cfg, ContextTr, JournalTr, LocalContextTr},
    context_interface::{Block, journaled_state::account::JournaledAccountTr},
    handler::{EthPrecompiles, PrecompileProvider, precompile_output_to_interpreter_result},
    interpreter::{CallInputs, InterpreterResult},
    precompile::{PrecompileHalt, PrecompileOutput},
    primitives::{AddressSet, hardfork::SpecId},
};
use std::sync::Arc;
use verai_primitives::{Host, ModuleError, ModuleSet, NativeModule, module::gas};

/// Ethereum precompiles for the spec, then the native modules.
#[derive(Clone)]
pub struct VeraiPrecompiles {
    eth: EthPrecompiles,
    modules: ModuleSet,
    warm: AddressSet,
}

impl std::fmt::Debug for VeraiPrecompiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VeraiPrecompiles")
            .field("modules", &self.modules.len())
            .finish()
    }
}

impl VeraiPrecompiles {
    /// The registry for `spec` with `modules`.
    pub fn new(spec: SpecId, modules: ModuleSet) -> Self {
        let eth = EthPrecompiles::new(spec);
        let warm = Self::warm_set(&eth, &modules);
        Self { eth, modules, warm }
    }

    fn warm_set(eth: &EthPrecompiles, modules: &ModuleSet) -> AddressSet {
        let mut warm = eth.warm_addresses().clone();
        warm.extend(modules.iter().map(|m| m.address()));
        warm
    }

    fn module(&self, address: &Address) -> Option<&Arc<dyn NativeModule>> {
        self.modules.get(address)
    }
}

impl<CTX> PrecompileProvider<CTX> for VeraiPrecompiles
where
    CTX: ContextTr<Cfg: Cfg<Spec = SpecId>>,
{
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: SpecId) -> bool {
        // revm calls this before every transaction: rebuild the set only on a new spec.
        let changed = <EthPrecompiles as PrecompileProvider<CTX>>::set_spec(&mut self.eth, spec);
        if changed {
            self.warm = Self::warm_set(&self.eth, &self.modules);
        }
        changed
    }

    fn run(
        &mut self,
        context: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        let Some(module) = self.module(&inputs.bytecode_address).cloned() else {
            return <EthPrecompiles as PrecompileProvider<CTX>>::run(
                &mut self.eth,
                context,
                inputs,
            );
        };
        let reservoir = inputs.reservoir;
        let input = inputs.input.as_bytes(context).to_vec();
        let output = if inputs.target_address != inputs.bytecode_address {
            PrecompileOutput::halt(
                PrecompileHalt::other(format!("{}: delegatecall refused", module.name())),
                reservoir,
            )
        } else {
            let mut host = JournalHost {
                ctx: context,
                address: inputs.target_address,
                caller: inputs.caller,
                value: inputs.value.get(),
                is_static: inputs.is_static,
                gas_limit: inputs.gas_limit,
                gas_used: 0,
                account_ready: false,
                loaded: true,
            };
            let words = (input.len() as u64).div_ceil(32);
            let result = host
                .charge(gas::CALL.saturating_add(words.saturating_mul(gas::INPUT_WORD)))
                .and_then(|()| module.call(&mut host, &input));
            let used = host.gas_used;
            match result {
                Ok(bytes) => PrecompileOutput::new(used, bytes, reservoir),
                Err(ModuleError::Revert(data)) => PrecompileOutput::revert(used, data, reservoir),
                Err(ModuleError::OutOfGas) => {
                    PrecompileOutput::halt(PrecompileHalt::OutOfGas, reservoir)
                }
                Err(ModuleError::Transfer(e)) => PrecompileOutput::halt(
                    PrecompileHalt::other(format!("{}: {e}", module.name())),
                    reservoir,
                ),
                Err(ModuleError::StaticWrite) => PrecompileOutput::halt(
                    PrecompileHalt::other(format!(
                        "{}: state change in static call",
                        module.name()
                    )),
                    reservoir,
                ),
                // A failed state read is the node's fault, not the caller's: abort execution.
                Err(ModuleError::Fatal(e)) => return Err(format!("{}: {e}", module.name())),
            }
        };
        if let Some(reason) = output.halt_reason()
            && !reason.is_oog()
            && context.journal().depth() == 1
        {
            context
                .local_mut()
                .set_precompile_error_context(reason.to_string());
        }
        Ok(Some(precompile_output_to_interpreter_result(
            output,
            inputs.gas_limit,
        )))
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }

    fn contains(&self, address: &Address) -> bool {
        self.warm.contains(address)
    }
}

/// A [`Host`] over revm's journal, scoped to one module account.
struct JournalHost<'a, CTX> {
    ctx: &'a mut CTX,
    address: Address,
    caller: Address,
    value: U256,
    is_static: bool,
    gas_limit: u64,
    gas_used: u64,
    /// Whether the account was made non-empty in this call (see [`Self::ensure_account`]).
    account_ready: bool,
    /// Whether the account is in the journal: the called one is; one switched to (see
    /// [`Host::switch_account`]) is loaded before its first slot is touched.
    loaded: bool,
}

impl<CTX: ContextTr> JournalHost<'_, CTX> {
    fn ensure_loaded(&mut self) -> Result<(), ModuleError> {
        if !self.loaded {
            self.ctx
                .journal_mut()
                .load_account(self.address)
                .map_err(|e| ModuleError::Fatal(format!("{e:?}")))?;
            self.loaded = true;
        }
        Ok(())
    }

    fn read(&mut self, slot: U256) -> Result<U256, ModuleError> {
        self.ensure_loaded()?;
        self.ctx
            .journal_mut()
            .sload(self.address, slot)
            .map(|v| v.data)
            .map_err(|e| ModuleError::Fatal(format!("{e:?}")))
    }

    fn write(&mut self, slot: U256, value: U256) -> Result<(), ModuleError> {
        self.ensure_loaded()?;
        self.ensure_account()?;
        self.ctx
            .journal_mut()
            .sstore(self.address, slot, value)
            .map(|_| ())
            .map_err(|e| ModuleError::Fatal(format!("{e:?}")))
    }

    /// Give the module account nonce 1 before its first write, as EIP-161 does for a new
    /// contract: an empty account is deleted when touched, and its storage would go with it.
    fn ensure_account(&mut self) -> Result<(), ModuleError> {
        if self.account_ready {
            return Ok(());
        }
        let mut acc = self
            .ctx
            .journal_mut()
            .load_account_mut(self.address)
            .map_err(|e| ModuleError::Fatal(format!("{e:?}")))?;
        if acc.nonce() == 0 {
            acc.set_nonce(1);
        }
        self.account_ready = true;
        Ok(())
    }
}

impl<CTX: ContextTr> Host for JournalHost<'_, CTX> {
    fn caller(&self) -> Address {
        self.caller
    }
    fn value(&self) -> U256 {
        self.value
    }
    fn block_number(&self) -> u64 {
        self.ctx.block().number().saturating_to()
    }
    fn timestamp(&self) -> u64 {
        self.ctx.block().timestamp().saturating_to()
    }
    fn chain_id(&self) -> u64 {
        self.ctx.cfg().chain_id()
    }
    fn charge(&mut self, gas: u64) -> Result<(), ModuleError> {
        let used = self.gas_used.saturating_add(gas);
        if used > self.gas_limit {
            return Err(ModuleError::OutOfGas);
        }
        self.gas_used = used;
        Ok(())
    }
    fn sload(&mut self, slot: U256) -> Result<U256, ModuleError> {
        self.charge(gas::SLOAD)?;
        self.read(slot)
    }
    fn sstore(&mut self, slot: U256, value: U256) -> Result<(), ModuleError> {
        if self.is_static {
            return Err(ModuleError::StaticWrite);
        }
        let current = self.read(slot)?;
        self.charge(gas::sstore(current, value))?;
        self.write(slot, value)
    }
    fn sstore_immutable(&mut self, slot: U256, value: U256) -> Result<(), ModuleError> {
        if self.is_static {
            return Err(ModuleError::StaticWrite);
        }
        self.charge(gas::IMMUTABLE_WORD)?;
        self.write(slot, value)
    }
    fn peek(&mut self, slot: U256) -> Result<U256, ModuleError> {
        self.read(slot)
    }
    fn transfer(&mut self, to: Address, amount: U256) -> Result<(), ModuleError> {
        if self.is_static {
            return Err(ModuleError::StaticWrite);
        }
        self.charge(gas::TRANSFER)?;
        if amount.is_zero() {
            return Ok(());
        }
        self.ensure_loaded()?;
        match self.ctx.journal_mut().transfer(self.address, to, amount) {
            Ok(None) => Ok(()),
            Ok(Some(e)) => Err(ModuleError::Transfer(format!("{e:?}"))),
            Err(e) => Err(ModuleError::Fatal(format!("{e:?}"))),
        }
    }
    fn switch_account(&mut self, module: Address) -> Address {
        self.account_ready = false;
        self.loaded = false;
        std::mem::replace(&mut self.address, module)
    }
    fn log(&mut self, topics: Vec<B256>, data: Bytes) -> Result<(), ModuleError> {
        if self.is_static {
            return Err(ModuleError::StaticWrite);
        }
        let cost = gas::LOG
            .saturating_add(gas::LOG_TOPIC.saturating_mul(topics.len() as u64))
            .saturating_add(gas::LOG_BYTE.saturating_mul(data.len() as u64));
        self.charge(cost)?;
        let log = Log::new(self.address, topics, data)
            .ok_or_else(|| ModuleError::Fatal("more than 4 log topics".into()))?;
        self.ctx.journal_mut().log(log);
        Ok(())
    }
}
