//! An account's royalty earnings checked against the validators, trusting no node.
//!
//! From one node: the account's earnings (`verai_getEarnings`), a proof of the market
//! slots each one rests on (the stack's cumulative revenue, the account's weight in the
//! stack, what it has claimed) and the finalization certificate of the proof's block. Then,
//! locally: every slot holds what the node said, the proofs verify against the state root,
//! the certificate finalizes that block, and the claimable amount is recomputed from the
//! proven values with the module's own arithmetic.

use super::{Expected, fail, verify_slots};
use crate::{Client, ClientError};
use alloy_primitives::{Address, B256, U256};
use verai_consensus::PublicKey;
use verai_market::{ADDRESS, layout, split};
use verai_rpc_api::{MarketApiClient, types::StackEarning};

/// What a successful verification established.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The account.
    pub account: Address,
    /// Block whose state the proofs are against.
    pub block_number: u64,
    /// Its hash.
    pub block_hash: B256,
    /// Its state root.
    pub state_root: B256,
    /// Claimable now over the verified stacks, recomputed from proven values.
    pub claimable: U256,
    /// Claimed so far over them, proven.
    pub claimed: U256,
    /// Stacks verified.
    pub stacks: usize,
    /// Total proof bytes checked.
    pub proof_bytes: usize,
    /// The checks, in order.
    pub checks: Vec<String>,
}

/// The slots one earning rests on: the stack's revenue in `token`, the account's entry in
/// its earner index (which carries its weight), and its claimed amount.
fn slots(account: Address, token: Address, index: u64, e: &StackEarning) -> [U256; 3] {
    [
        layout::revenue(e.stack_id, token),
        layout::earner(account) + U256::from(index + 1),
        layout::claimed(e.stack_id, account, token),
    ]
}

/// Fetch `account`'s native-token earnings (at most 100 stacks) with proofs and a
/// certificate from `client`, and verify them under `validators`.
pub async fn fetch_and_verify(
    client: &Client,
    account: Address,
    validators: &[PublicKey],
) -> Result<Report, ClientError> {
    let token = Address::ZERO;
    let report = client
        .get_earnings(account, Some(token), Some(0), None)
        .await?;
    let mut keys = Vec::new();
    for (i, e) in report.stacks.iter().enumerate() {
        keys.extend(slots(account, token, i as u64, e));
    }
    let (proof, cert) = client.proof_with_certificate(ADDRESS, keys).await?;
    let mut expected = Vec::new();
    let mut claimable = U256::ZERO;
    let mut claimed = U256::ZERO;
    for (i, e) in report.stacks.iter().enumerate() {
        let weight: u128 = e.weight.try_into().map_err(|_| {
            fail(format!(
                "stack {}: weight {} is not a weight",
                e.stack_id, e.weight
            ))
        })?;
        let [revenue, entry, claimed_slot] = slots(account, token, i as u64, e);
        expected.push(Expected {
            name: "revenue",
            slot: revenue,
            value: e.revenue,
        });
        expected.push(Expected {
            name: "earner entry",
            slot: entry,
            value: layout::pack_entry(U256::from(e.stack_id), weight),
        });
        expected.push(Expected {
            name: "claimed",
            slot: claimed_slot,
            value: e.claimed,
        });
        let entitled = split::entitled(e.revenue, weight);
        if entitled != e.entitled {
            return Err(fail(format!(
                "stack {}: the node says {} is entitled, the proven values give {entitled}",
                e.stack_id, e.entitled
            )));
        }
        claimable += entitled.saturating_sub(e.claimed);
        claimed += e.claimed;
    }
    let proven = verify_slots(ADDRESS, &expected, &proof, &cert.certificate, validators)?;
    Ok(Report {
        account,
        block_number: proof.block_number,
        block_hash: proof.block_hash,
        state_root: proof.state_root,
        claimable,
        claimed,
        stacks: report.stacks.len(),
        proof_bytes: proven.proof_bytes,
        checks: proven.checks,
    })
}
