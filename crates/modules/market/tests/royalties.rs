//! Property tests of the royalty arithmetic over random lineage graphs, and 0xSplits'
//! reported failures as cases: a 1-wei payment, a minority share on a 0-decimal token, and
//! about 1,100 recipients.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, U256};
use proptest::prelude::*;
use verai_market::split::{self, Policy, Stack, WEIGHT};

/// A random lineage: `n` records, each with up to 3 earlier parents, 1-4 contributors
/// from a pool of 64 accounts, and a random policy; returns every record's stack.
fn lineage(n: usize, seed: u64) -> Vec<Stack> {
    let mut rng = seed;
    let mut next = move |m: u64| {
        // SplitMix64: deterministic and good enough to draw a graph.
        rng = rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % m.max(1)
    };
    let account = |i: u64| {
        let mut b = [0u8; 20];
        b[12..].copy_from_slice(&(i + 1).to_be_bytes());
        Address::from(b)
    };
    let mut stacks: Vec<Stack> = Vec::with_capacity(n);
    let mut locals: Vec<Stack> = Vec::with_capacity(n);
    for i in 0..n {
        let k = next(4) as usize;
        let mut parents: Vec<usize> = (0..k).map(|_| next(i as u64) as usize).collect();
        parents.sort_unstable();
        parents.dedup();
        if i == 0 {
            parents.clear();
        }
        let c = 1 + next(4) as usize;
        let mut shares = vec![0u16; c];
        let mut left = 10_000u16;
        for s in shares.iter_mut().take(c - 1) {
            *s = next(u64::from(left) + 1) as u16;
            left -= *s;
        }
        shares[c - 1] = left;
        let contributors: Vec<(Address, u16)> =
            shares.iter().map(|&s| (account(next(64)), s)).collect();
        let owner = account(next(64));
        let owner_bps = next(3_001) as u16;
        let policy = Policy {
            owner_bps,
            upstream_bps: next(u64::from(10_000 - owner_bps) + 1) as u16,
            all_ancestors: next(4) != 0,
        };
        let parts: Vec<Stack> = parents
            .iter()
            .map(|&p| {
                if policy.all_ancestors {
                    stacks[p].clone()
                } else {
                    locals[p].clone()
                }
            })
            .collect();
        stacks.push(split::compose(policy, owner, &contributors, &parts));
        locals.push(split::local(owner_bps, owner, &contributors));
    }
    stacks
}

fn check_stack(s: &Stack) {
    assert_eq!(s.iter().map(|p| p.1).sum::<u128>(), WEIGHT);
    assert!(s.iter().all(|p| p.1 > 0));
    assert!(s.windows(2).all(|w| w[0].0 < w[1].0), "sorted and unique");
}

/// Pay `amounts` in turn; after each, check that credits sum to the revenue exactly, that
/// every credit is within one unit of exact pro rata, and that entitlements never shrink.
fn pay_and_check(stack: &Stack, amounts: &[U256], check_every: usize) {
    let w = U256::from(WEIGHT);
    let mut revenue = U256::ZERO;
    let mut last_entitled = vec![U256::ZERO; stack.len()];
    for (i, a) in amounts.iter().enumerate() {
        revenue += *a;
        let entitled: Vec<U256> = stack
            .iter()
            .map(|&(_, x)| split::entitled(revenue, x))
            .collect();
        for (e, last) in entitled.iter().zip(&mut last_entitled) {
            assert!(*e >= *last, "an entitlement shrank");
            *last = *e;
        }
        if i % check_every == 0 || i + 1 == amounts.len() {
            let credited = split::credited(revenue, stack);
            assert_eq!(credited.iter().copied().sum::<U256>(), revenue);
            for ((c, e), &(_, x)) in credited.iter().zip(&entitled).zip(stack) {
                assert!(c >= e);
                // |c - R·x/W| < 1  ⇔  |c·W - R·x| < W
                let exact = revenue * U256::from(x);
                let scaled = *c * w;
                let diff = if scaled > exact {
                    scaled - exact
                } else {
                    exact - scaled
                };
                assert!(diff < w, "credit drifted a unit or more from pro rata");
            }
            let claimable: U256 = entitled.iter().copied().sum();
            assert!(claimable <= revenue);
            assert!(
                revenue - claimable < U256::from(stack.len()),
                "more than one unit of carry per account"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn stacks_of_random_lineages_sum_exactly(n in 2usize..1_000, seed in any::<u64>()) {
        for s in lineage(n, seed) {
            check_stack(&s);
        }
    }

    #[test]
    fn credits_sum_to_every_payment_and_stay_within_a_unit(
        seed in any::<u64>(),
        decimals in prop::sample::select(vec![0u32, 6, 18]),
        amounts in prop::collection::vec(1u64..1_000_000, 10_000),
    ) {
        // The last record of a 1,000-record lineage has the most ancestors.
        let stacks = lineage(1_000, seed);
        let stack = stacks.iter().max_by_key(|s| s.len()).unwrap();
        let unit = U256::from(10u64).pow(U256::from(decimals));
        let amounts: Vec<U256> = amounts
            .iter()
            .map(|&a| if decimals == 0 { U256::from(a % 100 + 1) } else { U256::from(a) * unit / U256::from(1_000u64) + U256::from(1) })
            .collect();
        pay_and_check(stack, &amounts, 97);
    }
}

#[test]
fn one_wei_is_credited_to_one_account_and_never_lost() {
    let a = |n: u8| Address::repeat_byte(n);
    let stack = split::local(0, a(1), &[(a(2), 3_333), (a(3), 3_333), (a(4), 3_334)]);
    let credited = split::credited(U256::from(1), &stack);
    assert_eq!(credited.iter().copied().sum::<U256>(), U256::from(1));
    assert_eq!(credited.iter().filter(|c| !c.is_zero()).count(), 1);
    // Nobody may claim a fraction; three more wei make every account whole.
    assert!(
        stack
            .iter()
            .all(|&(_, x)| split::entitled(U256::from(1), x).is_zero())
    );
    pay_and_check(&stack, &[U256::from(1); 3], 1);
}

#[test]
fn a_minority_share_of_a_zero_decimal_token_is_not_rounded_away() {
    // 1 basis point of 1-unit payments: per-payment rounding would give it 0 forever.
    let a = |n: u8| Address::repeat_byte(n);
    let stack = split::local(0, a(1), &[(a(1), 9_999), (a(2), 1)]);
    let minority = stack.iter().find(|p| p.0 == a(2)).unwrap().1;
    let mut revenue = U256::ZERO;
    for n in 1..=30_000u64 {
        revenue += U256::from(1);
        assert_eq!(split::entitled(revenue, minority), U256::from(n / 10_000));
    }
    pay_and_check(&stack, &vec![U256::from(1); 30_000], 1_000);
}

#[test]
fn eleven_hundred_recipients_split_exactly() {
    // 18 parents of 62 contributors and the record's own 4: 1,120 accounts.
    let acct = |p: u16, c: u16| {
        let mut b = [0u8; 20];
        b[16..18].copy_from_slice(&p.to_be_bytes());
        b[18..].copy_from_slice(&c.to_be_bytes());
        Address::from(b)
    };
    let parents: Vec<Stack> = (1..=18u16)
        .map(|p| {
            let mut shares: Vec<(Address, u16)> = (0..62).map(|c| (acct(p, c), 161)).collect();
            shares[0].1 += 10_000 - 161 * 62;
            split::local(0, acct(p, 999), &shares)
        })
        .collect();
    let own: Vec<(Address, u16)> = (0..4).map(|c| (acct(0, c), 2_500)).collect();
    let policy = Policy {
        owner_bps: 0,
        upstream_bps: 7_000,
        all_ancestors: true,
    };
    let stack = split::compose(policy, acct(0, 0), &own, &parents);
    assert_eq!(stack.len(), 18 * 62 + 4);
    check_stack(&stack);
    let amounts: Vec<U256> = (0..2_000u64)
        .map(|i| U256::from(i * 7_919 % 1_000_003 + 1) * U256::from(10u64).pow(U256::from(12)))
        .collect();
    pay_and_check(&stack, &amounts, 199);
}
