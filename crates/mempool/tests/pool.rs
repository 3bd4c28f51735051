//! Admission checks, ordering, bounds and replacement of the pool.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_primitives::{Address, TxKind, U256};
use alloy_signer::SignerSync;
use verai_mempool::{Mempool, PoolConfig, PoolError};
use verai_primitives::{AccountState, RecoveredTx, dev_signers};

const BASE: u64 = 1_000_000_000;

fn tx(signer: usize, nonce: u64, fee: u128, tip: u128, gas: u64) -> RecoveredTx {
    let s = &dev_signers(4)[signer];
    let t = TxEip1559 {
        chain_id: 1337,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: fee,
        max_priority_fee_per_gas: tip,
        to: TxKind::Call(Address::repeat_byte(1)),
        value: U256::from(1),
        ..Default::default()
    };
    let sig = s.sign_hash_sync(&t.signature_hash()).unwrap();
    RecoveredTx::recover(TxEnvelope::from(t.into_signed(sig))).unwrap()
}

fn rich(nonce: u64) -> AccountState {
    AccountState {
        nonce,
        balance: U256::from(10u128.pow(21)),
        ..Default::default()
    }
}

fn pool() -> Mempool {
    Mempool::new(PoolConfig::new(1337, 30_000_000))
}

#[test]
fn admission_errors() {
    let p = pool();
    let t = tx(0, 0, 2 * BASE as u128, 1, 21_000);
    assert_eq!(
        p.add(t.clone(), &rich(1), BASE),
        Err(PoolError::NonceTooLow { state: 1, tx: 0 })
    );
    let poor = AccountState {
        balance: U256::from(1),
        ..Default::default()
    };
    assert!(matches!(
        p.add(t.clone(), &poor, BASE),
        Err(PoolError::InsufficientFunds { .. })
    ));
    assert!(matches!(
        p.add(tx(0, 0, 2, 1, 21_000), &rich(0), BASE),
        Err(PoolError::FeeCapTooLow { .. })
    ));
    assert!(matches!(
        p.add(tx(0, 0, 2 * BASE as u128, 1, 40_000_000), &rich(0), BASE),
        Err(PoolError::GasLimitExceeded { .. })
    ));
    assert!(matches!(
        p.add(tx(0, 0, 2 * BASE as u128, 1, 20_000), &rich(0), BASE),
        Err(PoolError::IntrinsicGasTooLow { .. })
    ));
    assert!(matches!(
        p.add(
            tx(0, 0, BASE as u128, 2 * BASE as u128, 21_000),
            &rich(0),
            BASE
        ),
        Err(PoolError::TipAboveFeeCap)
    ));
    assert!(p.is_empty(), "nothing refused is kept");
    p.add(t.clone(), &rich(0), BASE).unwrap();
    assert_eq!(p.add(t, &rich(0), BASE), Err(PoolError::AlreadyKnown));
}

#[test]
fn wrong_chain_and_unprotected_legacy_refused() {
    let s = &dev_signers(1)[0];
    for chain_id in [None, Some(1)] {
        let t = TxLegacy {
            chain_id,
            nonce: 0,
            gas_price: 2 * BASE as u128,
            gas_limit: 21_000,
            to: TxKind::Call(Address::ZERO),
            ..Default::default()
        };
        let sig = s.sign_hash_sync(&t.signature_hash()).unwrap();
        let r = RecoveredTx::recover(TxEnvelope::from(t.into_signed(sig))).unwrap();
        assert!(matches!(
            pool().add(r, &rich(0), BASE),
            Err(PoolError::WrongChainId { .. })
        ));
    }
}

#[test]
fn replacement_needs_a_higher_fee() {
    let p = pool();
    let a = tx(0, 0, 2 * BASE as u128, 100, 21_000);
    p.add(a.clone(), &rich(0), BASE).unwrap();
    assert_eq!(
        p.add(tx(0, 0, 2 * BASE as u128 + 1, 101, 21_000), &rich(0), BASE),
        Err(PoolError::ReplacementUnderpriced)
    );
    let b = tx(0, 0, 3 * BASE as u128, 200, 21_000);
    p.add(b.clone(), &rich(0), BASE).unwrap();
    assert_eq!(p.len(), 1);
    assert!(p.get(&a.hash).is_none());
    assert!(p.get(&b.hash).is_some());
}

#[test]
fn best_orders_by_tip_then_nonce() {
    let p = pool();
    let fee = 10 * BASE as u128;
    // Sender 0: low tip, nonces 0..3. Sender 1: high tip, nonces 0..2.
    for n in 0..3 {
        p.add(tx(0, n, fee, 1, 21_000), &rich(0), BASE).unwrap();
    }
    for n in 0..2 {
        p.add(tx(1, n, fee, 5 * BASE as u128, 21_000), &rich(0), BASE)
            .unwrap();
    }
    // A gapped tx of sender 2 must not be selected.
    p.add(tx(2, 1, fee, 9 * BASE as u128, 21_000), &rich(0), BASE)
        .unwrap();
    let best = p.best(BASE, 30_000_000, 100, |_| 0);
    let order: Vec<(Address, u64)> = best.iter().map(|t| (t.sender, t.nonce())).collect();
    let s = dev_signers(2);
    assert_eq!(
        order,
        vec![
            (s[1].address(), 0),
            (s[1].address(), 1),
            (s[0].address(), 0),
            (s[0].address(), 1),
            (s[0].address(), 2)
        ]
    );
    // Gas bound.
    assert_eq!(p.best(BASE, 50_000, 100, |_| 0).len(), 2);
    // Pruning after inclusion.
    p.prune([s[1].address()], |_| 2);
    assert_eq!(p.len(), 4);
    assert_eq!(p.pending_nonce(&s[0].address(), 0), 3);
}

#[test]
fn bounds_per_sender_and_total() {
    let mut c = PoolConfig::new(1337, 30_000_000);
    c.max_per_sender = 2;
    c.max_total = 3;
    let p = Mempool::new(c);
    let fee = 2 * BASE as u128;
    p.add(tx(0, 0, fee, 1, 21_000), &rich(0), BASE).unwrap();
    p.add(tx(0, 1, fee, 1, 21_000), &rich(0), BASE).unwrap();
    assert_eq!(
        p.add(tx(0, 2, fee, 1, 21_000), &rich(0), BASE),
        Err(PoolError::PoolFull)
    );
    p.add(tx(1, 0, fee, 1, 21_000), &rich(0), BASE).unwrap();
    assert_eq!(
        p.add(tx(2, 0, fee, 1, 21_000), &rich(0), BASE),
        Err(PoolError::PoolFull)
    );
}

#[test]
fn held_transactions_stay_out_of_blocks_until_released_or_expired() {
    let p = pool();
    let fee = 10 * BASE as u128;
    let s = dev_signers(2);
    // Sender 0: nonce 0 held, nonce 1 behind it. Sender 1: a normal transaction.
    let held = p
        .add_held(
            tx(0, 0, fee, BASE as u128, 21_000),
            &rich(0),
            BASE,
            Some(100),
        )
        .unwrap();
    p.add(tx(0, 1, fee, BASE as u128, 21_000), &rich(0), BASE)
        .unwrap();
    p.add(tx(1, 0, fee, 1, 21_000), &rich(0), BASE).unwrap();
    assert!(p.is_held(&held));
    assert_eq!(p.held(), vec![(held, 100)]);
    // The held one and its sender's later nonce are never proposed; the pending nonce
    // still counts them (clients must not reuse the nonce).
    let best = p.best(BASE, 30_000_000, 100, |_| 0);
    assert_eq!(best.len(), 1);
    assert_eq!(best[0].sender, s[1].address());
    assert_eq!(p.pending_nonce(&s[0].address(), 0), 2);
    // Not expired before its time; expired at it, and then no longer held.
    assert!(p.take_expired(99).is_empty());
    assert_eq!(p.take_expired(100), vec![held]);
    assert!(!p.is_held(&held));
    assert_eq!(p.best(BASE, 30_000_000, 100, |_| 0).len(), 3);

    // Release: a second hold, released by hand.
    let p = pool();
    let h = p
        .add_held(tx(0, 0, fee, 1, 21_000), &rich(0), BASE, Some(u64::MAX))
        .unwrap();
    assert!(p.best(BASE, 30_000_000, 100, |_| 0).is_empty());
    assert!(p.release(&h));
    assert!(!p.release(&h));
    assert_eq!(p.best(BASE, 30_000_000, 100, |_| 0).len(), 1);

    // Removal and replacement forget the hold.
    let p = pool();
    let h = p
        .add_held(tx(0, 0, fee, 1, 21_000), &rich(0), BASE, Some(u64::MAX))
        .unwrap();
    let replacement = p
        .add(tx(0, 0, 2 * fee, 2 * BASE as u128, 21_000), &rich(0), BASE)
        .unwrap();
    assert!(!p.is_held(&h) && !p.is_held(&replacement));
    assert!(p.held().is_empty());
    let h = p
        .add_held(tx(1, 0, fee, 1, 21_000), &rich(0), BASE, Some(u64::MAX))
        .unwrap();
    p.remove([h]);
    assert!(p.held().is_empty());
}
