//! Feature store tests on hand-built histories.

use super::*;

const ETH: u128 = 1_000_000_000_000_000_000;

fn addr(n: u8) -> Address {
    Address::repeat_byte(n)
}

fn tx(from: u8, to: Option<u8>, eth_milli: u128, contract: bool) -> ChainTx {
    ChainTx {
        from: addr(from),
        to: to.map(addr),
        value: U256::from(eth_milli * ETH / 1000),
        gas_price: 1_000_000_000,
        to_is_contract: contract,
        sender_balance: U256::from(100 * ETH),
    }
}

fn block(number: u64, timestamp: u64, txs: Vec<ChainTx>) -> BlockActivity {
    BlockActivity {
        number,
        timestamp,
        txs,
        transfers: vec![],
    }
}

#[test]
fn ether_features_follow_data_set_definitions() {
    let mut s = FeatureStore::new();
    // A (1) receives 2 ETH from B (2) at t=0, 1 ETH from C (3) at t=600,
    // sends 0.5 ETH to D (4) at t=1200 and 1 ETH to D at t=3000, creates a contract
    // with 0.25 ETH at t=3600.
    s.apply_block(&block(1, 0, vec![tx(2, Some(1), 2000, false)]));
    s.apply_block(&block(2, 600, vec![tx(3, Some(1), 1000, false)]));
    s.apply_block(&block(3, 1200, vec![tx(1, Some(4), 500, false)]));
    s.apply_block(&block(4, 3000, vec![tx(1, Some(4), 1000, false)]));
    s.apply_block(&block(5, 3600, vec![tx(1, None, 250, false)]));
    assert_eq!(s.height(), Some(5));
    // B, C and A sent; D only received.
    assert_eq!(s.senders(), 3);

    let f = s.features(&addr(1));
    assert_eq!(f[raw::SENT_TNX], 2.0);
    assert_eq!(f[raw::RECEIVED_TNX], 2.0);
    assert_eq!(f[raw::CREATED_CONTRACTS], 1.0);
    assert_eq!(f[raw::TOTAL_TNX], 5.0);
    // (3000 - 1200) s / 60 / 2 sends = 15 min; (600 - 0) / 60 / 2 = 5 min
    assert_eq!(f[raw::AVG_MIN_SENT], 15.0);
    assert_eq!(f[raw::AVG_MIN_RECEIVED], 5.0);
    assert_eq!(f[raw::TIME_DIFF_MINS], 60.0);
    assert_eq!(f[raw::UNIQ_RECEIVED_FROM], 2.0);
    assert_eq!(f[raw::UNIQ_SENT_TO], 1.0);
    assert_eq!(f[raw::MIN_VAL_RECEIVED], 1.0);
    assert_eq!(f[raw::MAX_VAL_RECEIVED], 2.0);
    assert_eq!(f[raw::AVG_VAL_RECEIVED], 1.5);
    assert_eq!(f[raw::MIN_VAL_SENT], 0.5);
    assert_eq!(f[raw::MAX_VAL_SENT], 1.0);
    assert_eq!(f[raw::AVG_VAL_SENT], 0.75);
    assert_eq!(f[raw::AVG_VAL_SENT_CONTRACT], 0.25);
    assert_eq!(f[raw::TOTAL_ETHER_SENT], 1.5);
    assert_eq!(f[raw::TOTAL_ETHER_RECEIVED], 3.0);
    assert_eq!(f[raw::TOTAL_ETHER_SENT_CONTRACTS], 0.25);
    assert_eq!(f[raw::TOTAL_ETHER_BALANCE], 1.25);
    assert_eq!(f[raw::ERC20_TOTAL_TNX], 0.0);

    // The recipient D saw two receipts from one address, and nothing sent.
    let d = s.features(&addr(4));
    assert_eq!(d[raw::RECEIVED_TNX], 2.0);
    assert_eq!(d[raw::UNIQ_RECEIVED_FROM], 1.0);
    assert_eq!(d[raw::SENT_TNX], 0.0);
    assert_eq!(d[raw::MIN_VAL_SENT], 0.0);
    // An unseen account is all zeros.
    assert!(s.features(&addr(99)).iter().all(|v| *v == 0.0));
}

#[test]
fn self_transfer_counts_both_ways() {
    let mut s = FeatureStore::new();
    s.apply_block(&block(1, 100, vec![tx(7, Some(7), 1000, false)]));
    let f = s.features(&addr(7));
    assert_eq!(f[raw::SENT_TNX], 1.0);
    assert_eq!(f[raw::RECEIVED_TNX], 1.0);
    assert_eq!(f[raw::TOTAL_ETHER_BALANCE], 0.0);
}

#[test]
fn erc20_features() {
    let mut s = FeatureStore::new();
    let token_a = addr(0xa0);
    let token_b = addr(0xb0);
    let pool = addr(0xc0);
    let transfer =
        |token, from: u8, to: Address, units: u128, decimals: u8, c: bool| TokenTransfer {
            token,
            from: addr(from),
            to,
            amount: U256::from(units * 10u128.pow(u32::from(decimals))),
            decimals,
            to_is_contract: c,
        };
    let mut b = block(1, 0, vec![]);
    b.transfers = vec![
        transfer(token_a, 2, addr(1), 100, 18, false),
        transfer(token_b, 3, addr(1), 5, 6, false),
        transfer(token_a, 1, addr(4), 40, 18, false),
        transfer(token_a, 1, pool, 10, 18, true),
    ];
    s.apply_block(&b);
    let f = s.features(&addr(1));
    assert_eq!(f[raw::ERC20_TOTAL_TNX], 4.0);
    assert_eq!(f[raw::ERC20_TOTAL_RECEIVED], 105.0);
    assert_eq!(f[raw::ERC20_TOTAL_SENT], 50.0);
    assert_eq!(f[raw::ERC20_TOTAL_SENT_CONTRACT], 10.0);
    assert_eq!(f[raw::ERC20_UNIQ_SENT_ADDR], 2.0);
    assert_eq!(f[raw::ERC20_UNIQ_REC_ADDR], 2.0);
    assert_eq!(f[raw::ERC20_UNIQ_SENT_CONTRACT_ADDR], 1.0);
    assert_eq!(f[raw::ERC20_UNIQ_REC_CONTRACT_ADDR], 2.0);
    assert_eq!(f[raw::ERC20_MIN_VAL_REC], 5.0);
    assert_eq!(f[raw::ERC20_MAX_VAL_REC], 100.0);
    assert_eq!(f[raw::ERC20_AVG_VAL_REC], 52.5);
    assert_eq!(f[raw::ERC20_AVG_VAL_SENT], 25.0);
    assert_eq!(f[raw::ERC20_UNIQ_SENT_TOKEN], 1.0);
    assert_eq!(f[raw::ERC20_UNIQ_REC_TOKEN], 2.0);
    // Token transfers are not normal transactions.
    assert_eq!(f[raw::TOTAL_TNX], 0.0);
}

#[test]
fn incremental_equals_batch() {
    // Feeding the same transactions one per block or all in one block at the same times
    // gives the same features: the store only depends on the order of activity.
    let txs: Vec<ChainTx> = (0..20u8)
        .map(|i| tx(i % 3, Some(3 + i % 4), u128::from(i) * 10, false))
        .collect();
    let mut one = FeatureStore::new();
    for (i, t) in txs.iter().enumerate() {
        one.apply_block(&block(i as u64, 500, vec![t.clone()]));
    }
    let mut all = FeatureStore::new();
    all.apply_block(&block(0, 500, txs));
    for a in 0..8 {
        assert_eq!(one.features(&addr(a)), all.features(&addr(a)));
    }
}

#[test]
fn tx_features_see_history() {
    let mut s = FeatureStore::new();
    for i in 0..5u64 {
        s.apply_block(&block(i, 1000 + i * 60, vec![tx(1, Some(2), 1000, false)]));
    }
    assert_eq!(s.tx_history().len(), 5);
    assert_eq!(s.senders(), 1);
    assert_eq!(s.gas_median(), 1_000_000_000);
    let view = |to: u8, milli: u128, gas: u128, ts: u64| TxView {
        from: addr(1),
        to: Some(addr(to)),
        value: U256::from(milli * ETH / 1000),
        gas_price: gas,
        to_is_contract: false,
        timestamp: ts,
        sender_balance: U256::from(1000 * ETH),
    };
    let usual = s.tx_features(&view(2, 1000, 1_000_000_000, 1300));
    assert_eq!(usual[0], 0.0); // same value as the average
    assert_eq!(usual[1], 5.0); // five sends in the last hour
    // The hour ends at the second: sends at 1000, 1060, ..., 1240.
    assert_eq!(s.tx_features(&view(2, 1000, 1_000_000_000, 4660))[1], 4.0);
    assert_eq!(s.tx_features(&view(2, 1000, 1_000_000_000, 4661))[1], 3.0);
    assert_eq!(s.tx_features(&view(2, 1000, 1_000_000_000, 9999))[1], 0.0);
    assert_eq!(usual[3], 0.0); // known counterparty
    assert_eq!(usual[4], 0.0); // median gas price
    let odd = s.tx_features(&view(9, 1_000_000, 64_000_000_000, 1300));
    assert!(odd[0] > 8.0);
    assert_eq!(odd[3], 1.0);
    assert!((odd[4] - 6.0).abs() < 0.1);
    // A first-time sender has no history at all.
    let fresh = s.tx_features(&TxView {
        from: addr(50),
        ..view(2, 1000, 1, 0)
    });
    assert_eq!(fresh[1], 0.0);
    assert_eq!(fresh[3], 1.0);
}

#[test]
fn log2_bits_is_exact_at_powers_and_monotone() {
    assert_eq!(log2_bits(1.0), 0.0);
    assert_eq!(log2_bits(8.0), 3.0);
    assert_eq!(log2_bits(1024.0), 10.0);
    let mut prev = 0.0;
    for i in 1..10_000 {
        let v = log2_bits(i as f64 * 0.37 + 1.0);
        assert!(v >= prev);
        prev = v;
    }
    assert_eq!(log2_bits(0.5), 0.0);
    assert_eq!(log2_bits(f64::NAN), 0.0);
}

#[test]
fn fan_in_and_share_of_balance_describe_a_sweep() {
    let mut s = FeatureStore::new();
    // Twenty addresses pay 1 ether each to address 99.
    let txs = (0..20u8)
        .map(|i| tx(100 + i, Some(99), 1000, false))
        .collect();
    s.apply_block(&block(0, 1000, txs));
    let view = |from: u8, value: u128, balance: u128| TxView {
        from: addr(from),
        to: Some(addr(7)),
        value: U256::from(value),
        gas_price: 1_000_000_000,
        to_is_contract: false,
        timestamp: 1100,
        sender_balance: U256::from(balance),
    };
    let sweep = s.tx_features(&view(99, 20 * ETH, 20 * ETH));
    assert_eq!(sweep[6], log2_bits(21.0)); // 20 distinct payers
    assert_eq!(sweep[7], 1.0); // moves everything it holds
    assert_eq!(sweep[8], log2_bits(21.0));
    // A payer never received anything: no fan-in; it moves a tenth of its balance.
    let payer = s.tx_features(&view(100, ETH, 10 * ETH));
    assert_eq!(payer[6], 0.0);
    assert_eq!(payer[7], 0.1);
    // The share is capped, and zero for an empty balance.
    assert_eq!(s.tx_features(&view(99, 1000 * ETH, ETH))[7], 1.0);
    assert_eq!(s.tx_features(&view(99, ETH, 0))[7], 0.0);
}

#[test]
fn a_block_applied_in_chunks_gives_the_same_store() {
    let mut blocks = Vec::new();
    for n in 0..6u64 {
        let txs = (0..23u8)
            .map(|i| {
                tx(
                    i % 7 + 1,
                    Some((i * 3 + n as u8) % 9 + 1),
                    u128::from(i) * 37 + 1,
                    i % 5 == 0,
                )
            })
            .collect();
        let mut b = block(n + 1, 100 * n, txs);
        b.transfers = (0..11u8)
            .map(|i| TokenTransfer {
                token: addr(200 + i % 2),
                from: addr(i % 4 + 1),
                to: addr(i % 6 + 3),
                amount: U256::from(u128::from(i) * ETH),
                decimals: 18,
                to_is_contract: i % 3 == 0,
            })
            .collect();
        blocks.push(b);
    }
    let (mut whole, mut chunked) = (FeatureStore::new(), FeatureStore::new());
    for b in &blocks {
        whole.apply_block(b);
        for txs in b.txs.chunks(4) {
            chunked.apply_txs(txs, b.timestamp);
        }
        for transfers in b.transfers.chunks(3) {
            chunked.apply_transfers(transfers, b.timestamp);
        }
        chunked.finish_block(b);
    }
    assert_eq!(whole.height(), chunked.height());
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for a in (1..=10).chain(200..=201).map(addr) {
        assert_eq!(
            bits(&whole.features(&a)),
            bits(&chunked.features(&a)),
            "{a}"
        );
    }
    let history = |s: &FeatureStore| {
        s.tx_history()
            .iter()
            .flat_map(|f| bits(f))
            .collect::<Vec<_>>()
    };
    assert_eq!(history(&whole), history(&chunked));
    let mut d1: Vec<_> = whole.take_dirty().into_iter().collect();
    let mut d2: Vec<_> = chunked.take_dirty().into_iter().collect();
    d1.sort();
    d2.sort();
    assert_eq!(d1, d2);
}
