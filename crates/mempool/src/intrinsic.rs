//! Intrinsic gas of a transaction under the Prague rules (EIP-2028, EIP-2930, EIP-3860, EIP-7623).

use alloy_consensus::Transaction;
use verai_primitives::RecoveredTx;

/// The gas a transaction costs before any code runs; its gas limit must cover it.
pub fn intrinsic_gas(tx: &RecoveredTx) -> u64 {
    let env = &tx.envelope;
    let input = env.input();
    let zeros = input.iter().filter(|b| **b == 0).count() as u64;
    let non_zeros = input.len() as u64 - zeros;
    let create = env.kind().is_create();
    let mut gas: u64 = 21_000 + zeros * 4 + non_zeros * 16;
    if create {
        gas += 32_000 + 2 * (input.len() as u64).div_ceil(32);
    }
    if let Some(list) = env.access_list() {
        for item in list.iter() {
            gas += 2_400 + 1_900 * item.storage_keys.len() as u64;
        }
    }
    // EIP-7623 floor: 10 gas per token, a non-zero byte being four tokens.
    let floor = 21_000 + 10 * (zeros + 4 * non_zeros);
    gas.max(floor)
}
