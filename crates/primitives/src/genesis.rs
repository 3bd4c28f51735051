//! Chain specification and genesis: chain id, gas limit, prefunded accounts.

use crate::{Block, DEFAULT_GAS_LIMIT, INITIAL_BASE_FEE};
use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, EMPTY_ROOT_HASH, Header};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer_local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English};
use serde::{Deserialize, Serialize};

/// Chain id of the dev chain (as Hardhat's and Ganache's).
pub const DEV_CHAIN_ID: u64 = 1337;
/// The standard test mnemonic used by Hardhat and Anvil.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// Derive the first `n` dev accounts (`m/44'/60'/0'/0/i`), the same keys Anvil and Hardhat use.
pub fn dev_signers(n: u32) -> Vec<PrivateKeySigner> {
    (0..n)
        .map(|i| {
            MnemonicBuilder::<English>::default()
                .phrase(DEV_MNEMONIC)
                .index(i)
                .and_then(|b| b.build())
                .expect("the dev mnemonic and indexes below 2^31 are valid")
        })
        .collect()
}

/// Mnemonic index of the dev node's operator account.
pub const DEV_OPERATOR_INDEX: u32 = 100;

/// The account a dev node signs its own transactions with (recording its AI models and
/// decisions in provenance): index [`DEV_OPERATOR_INDEX`] of the dev mnemonic, apart from
/// the ten user accounts so that it never competes with a user for nonces.
pub fn dev_operator() -> PrivateKeySigner {
    MnemonicBuilder::<English>::default()
        .phrase(DEV_MNEMONIC)
        .index(DEV_OPERATOR_INDEX)
        .and_then(|b| b.build())
        .expect("the dev mnemonic and indexes below 2^31 are valid")
}

/// An account funded at genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisAccount {
    /// Its address.
    pub address: Address,
    /// Balance in wei.
    pub balance: U256,
}

/// Parameters every node of a chain must agree on; its hash is the genesis block hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainSpec {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Gas limit of every block.
    pub gas_limit: u64,
    /// Genesis timestamp (seconds).
    pub timestamp: u64,
    /// Prefunded accounts.
    pub alloc: Vec<GenesisAccount>,
    /// Free-form bytes committed in the genesis `extra_data` (e.g. the validator set digest).
    #[serde(default)]
    pub extra: Bytes,
}

impl ChainSpec {
    /// The dev chain: chain id 1337, the ten standard dev accounts with 10,000 ETH each, and
    /// the dev node's operator account ([`dev_operator`]), with as much.
    pub fn dev() -> Self {
        let balance = U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64));
        Self {
            chain_id: DEV_CHAIN_ID,
            gas_limit: DEFAULT_GAS_LIMIT,
            timestamp: 0,
            alloc: dev_signers(10)
                .iter()
                .chain([&dev_operator()])
                .map(|s| GenesisAccount {
                    address: s.address(),
                    balance,
                })
                .collect(),
            extra: Bytes::new(),
        }
    }

    /// The genesis block, given the root of the genesis state (computed by the state store).
    pub fn genesis_block(&self, state_root: B256) -> Block {
        let header = Header {
            parent_hash: B256::ZERO,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            state_root,
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            number: 0,
            gas_limit: self.gas_limit,
            timestamp: self.timestamp,
            extra_data: self.extra.clone(),
            base_fee_per_gas: Some(INITIAL_BASE_FEE),
            ..Default::default()
        };
        Block::new(header, vec![])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_accounts_match_anvil() {
        let s = dev_signers(2);
        assert_eq!(
            s[0].address(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
                .parse::<Address>()
                .unwrap()
        );
        assert_eq!(
            s[1].address(),
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
                .parse::<Address>()
                .unwrap()
        );
    }
}
