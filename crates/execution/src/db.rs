//! The state an execution reads, and its adapter to revm.

use crate::ReadError;
use alloy_primitives::{Address, B256, U256};
use revm::{bytecode::Bytecode, database_interface::DatabaseRef, state::AccountInfo};
use std::sync::Arc;
use verai_primitives::{AccountState, Changeset, KECCAK_EMPTY, StateKey};

/// Synchronous read access to a state and to the hashes of recent blocks.
pub trait StateReader: Send + Sync {
    /// The value of a key, `None` when absent.
    fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, ReadError>;
    /// Hash of the block at `number` on the chain being extended (for `BLOCKHASH`).
    fn block_hash(&self, number: u64) -> Result<Option<B256>, ReadError>;
}

impl<T: StateReader + ?Sized> StateReader for &T {
    fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, ReadError> {
        (**self).get(key)
    }
    fn block_hash(&self, number: u64) -> Result<Option<B256>, ReadError> {
        (**self).block_hash(number)
    }
}

impl<T: StateReader + ?Sized> StateReader for Arc<T> {
    fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, ReadError> {
        (**self).get(key)
    }
    fn block_hash(&self, number: u64) -> Result<Option<B256>, ReadError> {
        (**self).block_hash(number)
    }
}

/// A whole state in memory: genesis tooling, tests and benchmarks.
#[derive(Debug, Default, Clone)]
pub struct MemoryState(pub std::collections::HashMap<StateKey, Vec<u8>>);

impl MemoryState {
    /// The genesis state of `spec`.
    pub fn genesis(spec: &verai_primitives::ChainSpec) -> Self {
        let mut m = Self::default();
        for a in &spec.alloc {
            let acc = AccountState {
                balance: a.balance,
                ..Default::default()
            };
            m.0.insert(StateKey::Account(a.address), acc.encode());
        }
        m
    }

    /// Apply a block's writes.
    pub fn apply(&mut self, changes: &Changeset) {
        for (k, v) in changes {
            match v {
                Some(v) => self.0.insert(*k, v.clone()),
                None => self.0.remove(k),
            };
        }
    }
}

impl StateReader for MemoryState {
    fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, ReadError> {
        Ok(self.0.get(key).cloned())
    }
    fn block_hash(&self, _: u64) -> Result<Option<B256>, ReadError> {
        Ok(None)
    }
}

/// Adapter from a [`StateReader`] to revm's read-only database.
pub(crate) struct RevmDb<R>(pub R);

fn decode_err(e: verai_primitives::PrimitivesError) -> ReadError {
    ReadError(e.to_string())
}

impl<R: StateReader> DatabaseRef for RevmDb<R> {
    type Error = ReadError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, ReadError> {
        let Some(raw) = self.0.get(&StateKey::Account(address))? else {
            return Ok(None);
        };
        let acc = AccountState::decode(&raw).map_err(decode_err)?;
        Ok(Some(AccountInfo {
            balance: acc.balance,
            nonce: acc.nonce,
            code_hash: acc.code_hash,
            code: None,
            ..Default::default()
        }))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, ReadError> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        match self.0.get(&StateKey::Code(code_hash))? {
            Some(code) => Ok(Bytecode::new_raw(code.into())),
            None => Err(ReadError(format!("missing code {code_hash}"))),
        }
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, ReadError> {
        Ok(self
            .0
            .get(&StateKey::Storage(address, index))?
            .map(|v| U256::from_be_slice(&v))
            .unwrap_or_default())
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, ReadError> {
        Ok(self.0.block_hash(number)?.unwrap_or_default())
    }
}
