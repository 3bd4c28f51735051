//! Royalty arithmetic: pure integer functions, no state.
//!
//! A *stack* is a list of accounts and weights, sorted by account, with every weight
//! positive and the weights summing to exactly [`WEIGHT`]. A record's stack is built once
//! ([`compose`]) from its policy, its owner and contributors, and its parents' stacks; a
//! payment then only adds to the stack's cumulative revenue `R`, whatever the size of the
//! lineage behind it.
//!
//! An account of weight `w` is *entitled* to `floor(R · w / WEIGHT)` ([`entitled`]): this
//! never decreases as `R` grows, and the entitlements of a stack never sum to more than `R`,
//! so what has been claimed is always covered by what was paid. What is left, less than one
//! unit per account, is each account's carry: it stays in `R` and becomes claimable as soon
//! as it adds up to a unit. [`credited`] reports it: the entitlements plus the carries
//! rounded by largest remainder, which sum to exactly `R` and are each within one unit of
//! `R · w / WEIGHT`.
//!
//! Weights are rounded once, when a stack is composed, by largest remainder, so the parts of
//! one composition sum to exactly [`WEIGHT`]. With `WEIGHT = 10^27` a basis-point split is
//! exact for ten generations of nesting and a split in `k` equal parts is exact when `k`
//! divides `10^27`; otherwise the weight is within `10^-27` of its exact value, which moves
//! an entitlement by less than `R / 10^27` units.

use alloy_primitives::{Address, U256};
use std::collections::BTreeMap;

/// The sum of a stack's weights: `10^27`.
pub const WEIGHT: u128 = 1_000_000_000_000_000_000_000_000_000;
/// Basis points in a whole.
pub const BPS: u16 = 10_000;

/// A stack: (account, weight) sorted by account, weights positive and summing to [`WEIGHT`].
pub type Stack = Vec<(Address, u128)>;

/// How a record's revenue is split (see `IMarket.RoyaltyPolicy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// To the record's owner.
    pub owner_bps: u16,
    /// To its parents, in equal parts.
    pub upstream_bps: u16,
    /// Whether a parent's part follows the parent's own stack (else its local split).
    pub all_ancestors: bool,
}

impl Policy {
    /// Why the policy is invalid, if it is.
    pub fn check(&self) -> Result<(), &'static str> {
        if u32::from(self.owner_bps) + u32::from(self.upstream_bps) > u32::from(BPS) {
            return Err("owner and upstream shares exceed 10,000 basis points");
        }
        Ok(())
    }
}

fn merge(parts: impl IntoIterator<Item = (Address, U256)>) -> BTreeMap<Address, U256> {
    let mut m = BTreeMap::new();
    for (a, v) in parts {
        *m.entry(a).or_insert(U256::ZERO) += v;
    }
    m
}

/// Round exact values `numerators / denominator` (summing to exactly [`WEIGHT`]) to
/// integers summing to [`WEIGHT`]: floors, then one more unit to the largest remainders
/// (ties to the lower account). Zero weights are dropped.
fn round(numerators: BTreeMap<Address, U256>, denominator: U256) -> Stack {
    let mut parts: Vec<(Address, U256, U256)> = numerators
        .into_iter()
        .map(|(a, n)| (a, n / denominator, n % denominator))
        .collect();
    let floor_sum: U256 = parts.iter().map(|p| p.1).sum();
    let short = U256::from(WEIGHT).saturating_sub(floor_sum);
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&i, &j| parts[j].2.cmp(&parts[i].2).then(i.cmp(&j)));
    for &i in order.iter().take(short.to::<usize>()) {
        parts[i].1 += U256::from(1);
    }
    parts
        .into_iter()
        .filter(|p| !p.1.is_zero())
        .map(|(a, w, _)| (a, w.to::<u128>()))
        .collect()
}

/// The record's own split of `total` weight: `owner_bps` to the owner, the rest to the
/// contributors by their shares (which sum to [`BPS`]). Values are exact for any `total`
/// that is a multiple of `10^8`.
fn local_parts(
    total: U256,
    owner_bps: u16,
    owner: Address,
    contributors: &[(Address, u16)],
) -> Vec<(Address, U256)> {
    let bps = U256::from(BPS);
    let to_owner = total * U256::from(owner_bps) / bps;
    let rest = total - to_owner;
    let mut parts = vec![(owner, to_owner)];
    parts.extend(
        contributors
            .iter()
            .map(|&(a, s)| (a, rest * U256::from(s) / bps)),
    );
    parts
}

/// The split of a record with no upstream: its owner's part and its contributors'.
pub fn local(owner_bps: u16, owner: Address, contributors: &[(Address, u16)]) -> Stack {
    let parts = local_parts(U256::from(WEIGHT), owner_bps, owner, contributors);
    round(merge(parts), U256::from(1))
}

/// The stack of a record with `policy`, `owner` and `contributors` (shares summing to
/// [`BPS`]), whose parents split their parts by `parents` (their stacks, or their local
/// splits when the policy does not reach every ancestor). With no parents, the upstream
/// share goes to the record's own split.
pub fn compose(
    policy: Policy,
    owner: Address,
    contributors: &[(Address, u16)],
    parents: &[Stack],
) -> Stack {
    if parents.is_empty() || policy.upstream_bps == 0 {
        return local(policy.owner_bps, owner, contributors);
    }
    let w = U256::from(WEIGHT);
    let k = U256::from(parents.len());
    let own = w * U256::from(BPS - policy.upstream_bps) / U256::from(BPS);
    let upstream = w - own;
    // Exact values times k·W: an own part v is v·k·W; a parent's entry of weight x is
    // worth (U/k)·(x/W), which times k·W is U·x.
    let denominator = k * w;
    let mut parts: Vec<(Address, U256)> = local_parts(own, policy.owner_bps, owner, contributors)
        .into_iter()
        .map(|(a, v)| (a, v * denominator))
        .collect();
    for stack in parents {
        parts.extend(stack.iter().map(|&(a, x)| (a, upstream * U256::from(x))));
    }
    round(merge(parts), denominator)
}

/// What an account of `weight` is entitled to from cumulative revenue `revenue`:
/// `floor(revenue · weight / WEIGHT)`, without overflow for any `revenue`.
pub fn entitled(revenue: U256, weight: u128) -> U256 {
    let w = U256::from(WEIGHT);
    let (q, r) = (revenue / w, revenue % w);
    q * U256::from(weight) + r * U256::from(weight) / w
}

/// Every account's credit from `revenue`: entitlements plus carries rounded by largest
/// remainder (ties to the earlier entry). Sums to exactly `revenue`; each credit is within
/// one unit of `revenue · weight / WEIGHT` and at least the entitlement.
pub fn credited(revenue: U256, stack: &[(Address, u128)]) -> Vec<U256> {
    let w = U256::from(WEIGHT);
    let r = revenue % w;
    let mut out: Vec<U256> = stack.iter().map(|&(_, x)| entitled(revenue, x)).collect();
    let sum: U256 = out.iter().copied().sum();
    let short = revenue.saturating_sub(sum);
    let mut order: Vec<(U256, usize)> = stack
        .iter()
        .enumerate()
        .map(|(i, &(_, x))| ((r * U256::from(x)) % w, i))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in order.iter().take(short.to::<usize>()) {
        out[i] += U256::from(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: u8) -> Address {
        Address::repeat_byte(n)
    }

    fn sum(s: &Stack) -> u128 {
        s.iter().map(|p| p.1).sum()
    }

    #[test]
    fn local_split_by_shares() {
        let s = local(0, a(1), &[(a(2), 7_000), (a(3), 3_000)]);
        assert_eq!(s, vec![(a(2), WEIGHT / 10 * 7), (a(3), WEIGHT / 10 * 3)]);
        let s = local(1_000, a(1), &[(a(1), 10_000)]);
        assert_eq!(s, vec![(a(1), WEIGHT)]);
    }

    #[test]
    fn composed_stacks_sum_exactly() {
        let p1 = local(0, a(1), &[(a(1), 10_000)]);
        let p2 = local(0, a(2), &[(a(4), 7_000), (a(5), 3_000)]);
        let p3 = local(0, a(6), &[(a(6), 10_000)]);
        let policy = Policy {
            owner_bps: 0,
            upstream_bps: 3_000,
            all_ancestors: true,
        };
        let s = compose(policy, a(3), &[(a(3), 10_000)], &[p1, p2, p3]);
        assert_eq!(sum(&s), WEIGHT);
        // a(3) keeps 70 %; each parent gets 10 %, split by its own stack.
        let get = |x| s.iter().find(|p| p.0 == x).map(|p| p.1).unwrap_or(0);
        assert_eq!(get(a(3)), WEIGHT / 10 * 7);
        assert!(get(a(1)).abs_diff(WEIGHT / 10) <= 1);
        assert!(get(a(4)).abs_diff(WEIGHT / 100 * 7) <= 1);
    }

    #[test]
    fn no_parents_keeps_everything() {
        let policy = Policy {
            owner_bps: 500,
            upstream_bps: 5_000,
            all_ancestors: false,
        };
        let s = compose(policy, a(1), &[(a(2), 10_000)], &[]);
        assert_eq!(s, vec![(a(1), WEIGHT / 20), (a(2), WEIGHT / 20 * 19)]);
    }

    #[test]
    fn one_wei_goes_to_exactly_one_account() {
        let s = local(0, a(1), &[(a(1), 5_000), (a(2), 5_000)]);
        let c = credited(U256::from(1), &s);
        assert_eq!(c.iter().copied().sum::<U256>(), U256::from(1));
        assert_eq!(entitled(U256::from(1), s[0].1), U256::ZERO);
    }
}
