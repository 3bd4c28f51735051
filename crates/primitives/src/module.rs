//! The interface of native modules: stateful precompiles at reserved addresses.
//!
//! A module is Rust code that the executor runs when a transaction or contract calls its
//! address (`0x…0a01` and up, see [`module_address`]). It sees the call through a [`Host`]:
//! the caller, the value, the block, and the storage of its *own* account only, plus logs.
//! Everything a module writes is ordinary account storage, so the state root commits to it
//! and `verai_getProof` proves it. Modules must be deterministic: same input and state, same
//! output, writes, logs and gas, on every validator.
//!
//! Gas is charged by the host per operation ([`gas`]); a module may charge more for work
//! of its own with [`Host::charge`]. A module that fails returns [`ModuleError::Revert`]
//! with ABI-encoded revert data; the executor then rolls back every write and log of the
//! call, so bad input changes nothing.

use alloy_primitives::{Address, B256, Bytes, U256};

/// The address of module number `n` (1-based): `0x0000…0a00 + n`.
pub const fn module_address(n: u16) -> Address {
    let v = 0x0a00u16 + n;
    let mut a = [0u8; 20];
    a[18] = (v >> 8) as u8;
    a[19] = v as u8;
    Address::new(a)
}

/// The storage slot of a module's value: `keccak256(namespace ‖ tag ‖ arg₁ ‖ arg₂ …)`, each
/// argument a 32-byte word. Slots of different tags never collide, and a list's entries can
/// sit at `slot + i` (a keccak output plus a small offset does not land on another in
/// practice). Each module has its own namespace (`"verai.provenance."`, `"verai.market."`).
pub fn storage_slot(namespace: &str, tag: &str, args: &[B256]) -> U256 {
    let mut pre = Vec::with_capacity(namespace.len() + tag.len() + 32 * args.len());
    pre.extend_from_slice(namespace.as_bytes());
    pre.extend_from_slice(tag.as_bytes());
    for a in args {
        pre.extend_from_slice(a.as_slice());
    }
    U256::from_be_bytes(alloy_primitives::keccak256(&pre).0)
}

/// A number as a slot argument (a 32-byte big-endian word).
pub fn word(n: u64) -> B256 {
    B256::from(U256::from(n))
}

/// Gas schedule of host operations: deterministic, close to the EVM's cold costs.
pub mod gas {
    /// Every call to a module.
    pub const CALL: u64 = 2_000;
    /// Per 32-byte word of call input.
    pub const INPUT_WORD: u64 = 16;
    /// Reading one storage slot.
    pub const SLOAD: u64 = 2_100;
    /// Writing a non-zero value to an empty storage slot.
    pub const SSTORE: u64 = 20_000;
    /// Any other storage write (the EVM's cold `SSTORE` of a set slot: 2,900 + 2,100).
    pub const SSTORE_RESET: u64 = 5_000;
    /// One log.
    pub const LOG: u64 = 375;
    /// Per log topic.
    pub const LOG_TOPIC: u64 = 375;
    /// Per byte of log data.
    pub const LOG_BYTE: u64 = 8;
    /// Sending native value from a module's account (the EVM's `CALLVALUE` surcharge).
    pub const TRANSFER: u64 = 9_000;
    /// Recovering a signer from a secp256k1 signature (the EVM's `ecrecover`).
    pub const ECRECOVER: u64 = 3_000;
    /// Per 32-byte word hashed (SHA-256 or keccak) by a module.
    pub const HASH_WORD: u64 = 6;
    /// Writing one 32-byte word of write-once data (model weights): 200 gas per byte, the
    /// price of deployed contract code, since both are immutable state that every node keeps.
    pub const IMMUTABLE_WORD: u64 = 6_400;

    /// The cost of writing `new` over `current`: [`SSTORE`] to fill an empty slot,
    /// [`SSTORE_RESET`] otherwise (no refunds).
    pub fn sstore(current: alloy_primitives::U256, new: alloy_primitives::U256) -> u64 {
        if current.is_zero() && !new.is_zero() {
            SSTORE
        } else {
            SSTORE_RESET
        }
    }
}

/// Why a module call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    /// Refused input or state: the call reverts with this ABI-encoded data.
    #[error("revert")]
    Revert(Bytes),
    /// The call ran out of gas.
    #[error("out of gas")]
    OutOfGas,
    /// A write was attempted in a static call.
    #[error("state change in a static call")]
    StaticWrite,
    /// A transfer from the module's account failed (a balance short of what the module's
    /// own books say it holds): the call fails, the chain goes on.
    #[error("transfer failed: {0}")]
    Transfer(String),
    /// The node could not read state: aborts the whole execution, never a revert.
    #[error("state read failed: {0}")]
    Fatal(String),
}

/// What a module sees of the call and of its own account.
pub trait Host {
    /// The immediate caller (a contract when called from Solidity).
    fn caller(&self) -> Address;
    /// Value sent with the call.
    fn value(&self) -> U256;
    /// Height of the block being executed.
    fn block_number(&self) -> u64;
    /// Timestamp of the block being executed (seconds).
    fn timestamp(&self) -> u64;
    /// The chain id (for signatures bound to one chain).
    fn chain_id(&self) -> u64;
    /// Charge gas for work the host does not see.
    fn charge(&mut self, gas: u64) -> Result<(), ModuleError>;
    /// Read a slot of the module's account.
    fn sload(&mut self, slot: U256) -> Result<U256, ModuleError>;
    /// Write a slot of the module's account (refused in a static call).
    fn sstore(&mut self, slot: U256, value: U256) -> Result<(), ModuleError>;
    /// Emit a log from the module's address (refused in a static call).
    fn log(&mut self, topics: Vec<B256>, data: Bytes) -> Result<(), ModuleError>;
    /// Write a slot of write-once data at [`gas::IMMUTABLE_WORD`] instead of
    /// [`gas::SSTORE`] (refused in a static call). The module guarantees the slot is never
    /// written again.
    fn sstore_immutable(&mut self, slot: U256, value: U256) -> Result<(), ModuleError>;
    /// Read a slot without charging gas. Only for reads whose cost is charged as a flat fee
    /// (loading a model's weights on a cache miss): gas must not depend on what a node has
    /// cached.
    fn peek(&mut self, slot: U256) -> Result<U256, ModuleError>;
    /// Send `amount` of the native token from the current module account to `to` (refused
    /// in a static call). Only the balance moves: no code runs at `to`, so a payout can
    /// never re-enter the module.
    fn transfer(&mut self, to: Address, amount: U256) -> Result<(), ModuleError>;
    /// Point storage and logs at another native module's account and return the previous
    /// one; see [`with_module`]. Caller, value and gas are unchanged.
    fn switch_account(&mut self, module: Address) -> Address;
}

/// Run `f` with `host` scoped to the account of the native module at `module`: how one
/// module uses another's Rust API (the inference module registering a model record in the
/// provenance registry) on behalf of its own caller. Only modules can do this; they are
/// consensus code, and each keeps to the other's invariants by calling its functions.
pub fn with_module<T>(
    host: &mut dyn Host,
    module: Address,
    f: impl FnOnce(&mut dyn Host) -> Result<T, ModuleError>,
) -> Result<T, ModuleError> {
    let previous = host.switch_account(module);
    let result = f(host);
    host.switch_account(previous);
    result
}

/// A native module.
pub trait NativeModule: Send + Sync + 'static {
    /// Its reserved address.
    fn address(&self) -> Address;
    /// Short name, for logs and errors.
    fn name(&self) -> &'static str;
    /// Run one call with ABI-encoded `input`; returns ABI-encoded output.
    fn call(&self, host: &mut dyn Host, input: &[u8]) -> Result<Bytes, ModuleError>;
    /// A sentence for this module's revert data; `None` when `data` is not one of its
    /// errors. Clients use it to say why a call was refused.
    fn explain(&self, _data: &[u8]) -> Option<String> {
        None
    }
}

/// The native modules a chain runs, in address order. Which modules exist, and at which
/// addresses, is consensus configuration: every validator must run the same set.
#[derive(Clone, Default)]
pub struct ModuleSet(std::sync::Arc<[std::sync::Arc<dyn NativeModule>]>);

impl ModuleSet {
    /// A set of modules, sorted by address.
    ///
    /// # Panics
    /// If two modules share an address: a set like that is a programming error.
    pub fn new(mut modules: Vec<std::sync::Arc<dyn NativeModule>>) -> Self {
        modules.sort_by_key(|m| m.address());
        assert!(
            modules.windows(2).all(|w| w[0].address() != w[1].address()),
            "two native modules at one address"
        );
        Self(modules.into())
    }

    /// The module at `address`.
    pub fn get(&self, address: &Address) -> Option<&std::sync::Arc<dyn NativeModule>> {
        self.0
            .binary_search_by_key(address, |m| m.address())
            .ok()
            .map(|i| &self.0[i])
    }

    /// The modules, in address order.
    pub fn iter(&self) -> impl Iterator<Item = &std::sync::Arc<dyn NativeModule>> {
        self.0.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first module's sentence for `data` (see [`NativeModule::explain`]).
    pub fn explain(&self, data: &[u8]) -> Option<String> {
        self.0.iter().find_map(|m| m.explain(data))
    }
}

impl std::fmt::Debug for ModuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|m| (m.name(), m.address())))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            module_address(1),
            "0x0000000000000000000000000000000000000a01"
                .parse::<Address>()
                .unwrap()
        );
        assert_eq!(module_address(2).0[19], 0x02);
        assert_eq!(module_address(2).0[18], 0x0a);
    }
}
