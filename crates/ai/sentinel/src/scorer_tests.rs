//! Scorer and policy tests with a hand-built model.

use super::*;
use crate::anomaly::ForestParams;
use crate::features::raw;
use crate::model::{MODEL_FORMAT, ModelMetadata, StoredNode};
use crate::store::N_TX;

/// One tree on "Sent tnx" (model feature 3, kept at its raw index): fewer than 10 sent
/// transactions give margin -3, 10..100 give +1 (p 0.73), 100 or more +4 (p 0.98).
fn model() -> Model {
    let leaf = |w| StoredNode {
        f: 0,
        t: 0.0,
        l: 0,
        r: 0,
        m: 0,
        w,
    };
    let split = |f, t, l, r| StoredNode {
        f,
        t,
        l,
        r,
        m: r,
        w: -1.0,
    };
    Model {
        format: MODEL_FORMAT.into(),
        features: model_feature_names(),
        base_score: 0.0,
        trees: vec![vec![
            split(raw::SENT_TNX as u32, 10.0, 1, 2),
            leaf(-3.0),
            split(raw::SENT_TNX as u32, 100.0, 3, 4),
            leaf(1.0),
            leaf(4.0),
        ]],
        metadata: ModelMetadata::default(),
    }
}

fn account(sent: f64) -> RawFeatures {
    let mut r = [0f64; 45];
    r[raw::SENT_TNX] = sent;
    r
}

fn sentinel(forest: Option<IsolationForest>) -> Sentinel {
    Sentinel::new(model(), [7; 32], forest, Policy::default()).unwrap()
}

#[test]
fn account_risk_drives_the_verdict() {
    let s = sentinel(None);
    let tx = [0.0; N_TX];
    let quiet = s.score(&tx, &account(1.0), Some(&account(2.0)));
    assert_eq!(quiet.sender_margin, -3.0);
    assert_eq!(s.verdict(&quiet).action, Action::Allow);
    assert_eq!(quiet.model_hash, [7; 32]);
    assert!(quiet.anomaly.is_none());

    let busy = s.score(&tx, &account(50.0), Some(&account(2.0)));
    let v = s.verdict(&busy);
    assert_eq!(
        (v.action, v.sender_risk, v.recipient_risk),
        (Action::Flag, true, false)
    );
    assert!((busy.sender_risk - 0.7311).abs() < 1e-3);

    // A risky recipient holds the transaction (p 0.98 >= 0.95).
    let to_collector = s.score(&tx, &account(1.0), Some(&account(500.0)));
    let v = s.verdict(&to_collector);
    assert_eq!((v.action, v.recipient_risk), (Action::Hold, true));

    // Unless the policy ignores recipients.
    let policy = Policy {
        check_recipient: false,
        ..Policy::default()
    };
    let s2 = Sentinel::new(model(), [0; 32], None, policy).unwrap();
    assert_eq!(s2.verdict(&to_collector).action, Action::Allow);

    // A creation has no recipient.
    let create = s.score(&tx, &account(1.0), None);
    assert!(create.recipient_margin.is_none());
}

#[test]
fn top_contributions_name_the_features() {
    let s = sentinel(None);
    let sc = s.score(&[0.0; N_TX], &account(500.0), Some(&account(50.0)));
    // Sender: root weight -1 → node 2 (-1) → leaf 4: +5 on "Sent tnx";
    // recipient: -1 → -1 → +1: +2.
    let first = sc.top[0].unwrap();
    assert_eq!((first.party, first.value), (Party::Sender, 5.0));
    assert_eq!(s.feature_name(first.feature), "Sent tnx");
    let second = sc.top[1].unwrap();
    assert_eq!((second.party, second.value), (Party::Recipient, 2.0));
    assert!(sc.top[2].is_none());
}

#[test]
fn anomaly_flags_and_optionally_holds() {
    let mut rng = crate::rng::SplitMix64::new(5);
    let history: Vec<TxFeatures> = (0..1000)
        .map(|_| {
            [
                rng.unit() - 0.5,
                rng.below(3) as f64,
                8.0 + rng.unit() * 4.0,
                f64::from(u8::from(rng.below(10) == 0)),
                rng.unit() * 0.2,
                f64::from(u8::from(rng.below(4) == 0)),
                rng.unit() * 2.0,
                rng.unit() * 0.3,
                rng.unit() * 0.5,
            ]
        })
        .collect();
    let forest = IsolationForest::fit(&history, &ForestParams::default()).unwrap();
    // With eight features, splits on features where a point is ordinary dilute its
    // isolation: an extreme point scores about 0.68 here, so the thresholds are 0.65.
    let flagging = Policy {
        flag_anomaly: 0.65,
        ..Policy::default()
    };
    let s = Sentinel::new(model(), [7; 32], Some(forest.clone()), flagging).unwrap();
    let odd = [15.0, 20.0, 0.0, 1.0, 5.0, 1.0, 5.0, 1.0, 5.0];
    let usual = [0.0, 1.0, 10.0, 0.0, 0.1, 0.0, 1.0, 0.1, 0.1];
    let sc = s.score(&odd, &account(1.0), Some(&account(1.0)));
    let v = s.verdict(&sc);
    assert_eq!(
        (v.action, v.anomaly),
        (Action::Flag, true),
        "{:?}",
        sc.anomaly
    );
    assert!(sc.anomaly.unwrap() > 0.65);
    let sc = s.score(&usual, &account(1.0), Some(&account(1.0)));
    assert_eq!(s.verdict(&sc).action, Action::Allow);

    let policy = Policy {
        flag_anomaly: 0.65,
        hold_anomaly: Some(0.65),
        ..Policy::default()
    };
    let strict = Sentinel::new(model(), [0; 32], Some(forest), policy).unwrap();
    let sc = strict.score(&odd, &account(1.0), Some(&account(1.0)));
    assert_eq!(strict.verdict(&sc).action, Action::Hold);
}

#[test]
fn policy_from_config() {
    let p: Policy = serde_json::from_str(r#"{"flag_risk": 0.6}"#).unwrap();
    assert_eq!(p.flag_risk, 0.6);
    assert_eq!(p.hold_risk, Policy::default().hold_risk);
    assert!(serde_json::from_str::<Policy>(r#"{"flag_rsk": 0.6}"#).is_err());
    let bad = Policy {
        hold_risk: 1.0,
        ..Policy::default()
    };
    assert!(Sentinel::new(model(), [0; 32], None, bad).is_err());
    let json = serde_json::to_string(&Action::Hold).unwrap();
    assert_eq!(json, "\"hold\"");
}

#[test]
fn score_in_store_uses_live_features() {
    use crate::store::{BlockActivity, ChainTx};
    use alloy_primitives::{Address, U256};
    let mut store = FeatureStore::new();
    let a = Address::repeat_byte(1);
    let b = Address::repeat_byte(2);
    let txs = (0..20)
        .map(|_| ChainTx {
            from: a,
            to: Some(b),
            value: U256::from(1u64),
            gas_price: 1,
            to_is_contract: false,
            sender_balance: U256::from(1000u64),
        })
        .collect();
    store.apply_block(&BlockActivity {
        number: 1,
        timestamp: 10,
        txs,
        transfers: vec![],
    });
    let s = sentinel(None);
    let view = TxView {
        from: a,
        to: Some(b),
        value: U256::from(1u64),
        gas_price: 1,
        to_is_contract: false,
        timestamp: 20,
        sender_balance: U256::from(1000u64),
    };
    let sc = s.score_in(&store, &view);
    assert_eq!(sc.sender_margin, 1.0); // 20 sent
    assert_eq!(sc.recipient_margin, Some(-3.0)); // b sent nothing

    // The cache, refreshed after the block, gives the same margins without walking trees,
    // and the same score once explained. It keeps contributions for the risky sender only
    // (margin 1.0 reaches logit(0.5) = 0; b's -3 does not).
    let mut cache = RiskCache::new();
    assert_eq!(s.refresh(&mut store, &mut cache), 2);
    assert_eq!(cache.len(), 2);
    assert_eq!(
        cache.get(&a).map(|r| r.top),
        Some(s.account_risk(&store.features(&a)).top)
    );
    assert!(cache.get(&a).is_some_and(|r| r.top[0].is_some()));
    assert!(
        cache
            .get(&b)
            .is_some_and(|r| r.top.iter().all(Option::is_none))
    );
    // After a block, the risky sender and unknown accounts are refreshed at once, b later.
    assert!(cache.refresh_now(&s, &a));
    assert!(!cache.refresh_now(&s, &b));
    assert!(cache.refresh_now(&s, &Address::repeat_byte(9)));
    let mut cached = s.score_cached(&store, &cache, &view);
    assert!(cached.top[0].is_some());
    assert!(
        cached
            .top
            .iter()
            .flatten()
            .all(|c| c.party == Party::Sender)
    );
    assert_eq!(
        (cached.sender_margin, cached.recipient_margin),
        (sc.sender_margin, sc.recipient_margin)
    );
    s.explain(&store, &view, &mut cached);
    assert_eq!(cached, sc);
    let stranger = TxView {
        from: Address::repeat_byte(9),
        ..view
    };
    let mut cached = s.score_cached(&store, &cache, &stranger);
    s.explain(&store, &stranger, &mut cached);
    assert_eq!(cached, s.score_in(&store, &stranger));
    // Nothing changed since: nothing to recompute.
    assert_eq!(s.refresh(&mut store, &mut cache), 0);
    // A new block makes a's risk stale until the next refresh: 100 more sends → +4.
    let more = (0..100)
        .map(|_| ChainTx {
            from: a,
            to: Some(b),
            value: U256::from(1u64),
            gas_price: 1,
            to_is_contract: false,
            sender_balance: U256::from(1000u64),
        })
        .collect();
    store.apply_block(&BlockActivity {
        number: 2,
        timestamp: 30,
        txs: more,
        transfers: vec![],
    });
    assert_eq!(s.score_cached(&store, &cache, &view).sender_margin, 1.0);
    s.refresh(&mut store, &mut cache);
    assert_eq!(s.score_cached(&store, &cache, &view).sender_margin, 4.0);
}

#[test]
fn admission_judges_as_score_and_verdict_do() {
    use crate::store::{BlockActivity, ChainTx};
    use alloy_primitives::{Address, U256};
    let mut rng = crate::rng::SplitMix64::new(17);
    let mut store = FeatureStore::new();
    let addr = |i: u64| Address::left_padding_from(&i.to_be_bytes());
    // A history of ordinary transfers among 300 accounts, and three busy (risky) ones.
    for number in 1..=20u64 {
        let txs = (0..60)
            .map(|_| ChainTx {
                from: addr(if rng.below(10) == 0 {
                    rng.below(3)
                } else {
                    3 + rng.below(300)
                }),
                to: Some(addr(rng.below(300))),
                value: U256::from(1_000_000 + rng.below(1_000_000)),
                gas_price: u128::from(1_000 + rng.below(100)),
                to_is_contract: rng.below(10) == 0,
                sender_balance: U256::from(10u64.pow(12)),
            })
            .collect();
        store.apply_block(&BlockActivity {
            number,
            timestamp: number * 12,
            txs,
            transfers: vec![],
        });
    }
    let history: Vec<TxFeatures> = store.tx_history().iter().copied().collect();
    let forest = IsolationForest::fit(&history, &ForestParams::default()).unwrap();
    let mut cache = RiskCache::new();
    // Views: ordinary, then odd values, prices, strangers and contract creations.
    let views: Vec<TxView> = (0..400u64)
        .map(|i| TxView {
            from: addr(match i % 13 {
                0 => 1_000 + i,
                1 => 0,
                _ => 3 + rng.below(300),
            }),
            to: (i % 11 != 0).then(|| addr(3 + rng.below(320))),
            value: U256::from(if i % 5 == 0 { 10u64.pow(15) } else { 1_500_000 }),
            gas_price: if i % 3 == 0 { 10u128.pow(9) } else { 1_050 },
            to_is_contract: i % 4 == 0,
            timestamp: 300 + i,
            sender_balance: U256::from(10u64.pow(12)),
        })
        .collect();
    let mut seen = std::collections::BTreeMap::new();
    for flag_anomaly in [0.5, 0.6, 0.7] {
        for hold_anomaly in [None, Some(flag_anomaly)] {
            let policy = Policy {
                flag_anomaly,
                hold_anomaly,
                ..Policy::default()
            };
            let s = Sentinel::new(model(), [7; 32], Some(forest.clone()), policy).unwrap();
            s.refresh(&mut store, &mut cache);
            for v in &views {
                let score = s.score_cached(&store, &cache, v);
                let verdict = s.verdict(&score);
                let judged = s.judge_cached(&store, &cache, v);
                let want = (verdict.action != Action::Allow).then_some((score, verdict));
                assert_eq!(judged, want, "{v:?}");
                *seen.entry(verdict.action).or_insert(0) += 1;
            }
        }
    }
    // Every branch was taken.
    assert_eq!(seen.len(), 3, "{seen:?}");
}

#[test]
fn a_hint_changes_how_risk_is_computed_not_the_result() {
    let s = sentinel(None);
    // Below the threshold (margin -3) and above it (+1, +4): with either hint, the same margin, and
    // contributions only at or above the threshold.
    for sent in [0.0, 5.0, 50.0, 500.0] {
        let plain = s.cached_risk(&account(sent));
        for hint in [false, true] {
            let hinted = s.cached_risk_hinted(&account(sent), hint);
            assert_eq!(
                hinted.margin.to_bits(),
                plain.margin.to_bits(),
                "sent {sent}"
            );
            assert_eq!(hinted.top, plain.top, "sent {sent} hint {hint}");
        }
        assert_eq!(plain.top[0].is_some(), s.flags_risk(&plain), "sent {sent}");
    }
    // `risks` takes the hint from the cache: a risky account stays explained, and one that
    // fell below the threshold loses its contributions.
    let mut cache = RiskCache::new();
    let (a, b) = (Address::repeat_byte(1), Address::repeat_byte(2));
    let first = s.risks(&[(a, account(500.0)), (b, account(500.0))], &cache);
    cache.install(&s, first);
    let next = s.risks(&[(a, account(500.0)), (b, account(5.0))], &cache);
    assert!(next[0].1.top[0].is_some());
    assert_eq!(next[1].1, s.cached_risk(&account(5.0)));
    assert!(next[1].1.top.iter().all(Option::is_none));
}
