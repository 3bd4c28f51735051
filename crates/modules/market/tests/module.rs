//! The market against an in-memory host with the provenance registry beside it: royalties
//! along a lineage to the wei, grants, channels with signed vouchers, ratings, and every
//! refused input moving nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolInterface};
use verai_market::{ADDRESS as MARKET, IMarket, Kind, Market, channel, split::WEIGHT};
use verai_primitives::{ModuleError, testing::MemHost};
use verai_provenance::{IProvenance, LicenseTerms, Provenance, licence};

use IMarket::IMarketErrors as E;
type IMarketErrors = E;

fn acct(n: u8) -> Address {
    Address::repeat_byte(n)
}

fn eth(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

fn market(
    h: &mut MemHost,
    from: Address,
    value: U256,
    c: impl SolCall,
) -> Result<Bytes, ModuleError> {
    h.call(&Market, from, value, &c.abi_encode())
}

fn market_ok<C: SolCall>(h: &mut MemHost, from: Address, value: U256, c: C) -> C::Return {
    let out = market(h, from, value, c).unwrap_or_else(|e| panic!("{}", why(&e)));
    C::abi_decode_returns(&out).unwrap()
}

fn why(e: &ModuleError) -> String {
    match e {
        ModuleError::Revert(d) => verai_market::explain(d)
            .or_else(|| verai_provenance::explain(d))
            .unwrap_or_else(|| format!("revert {d}")),
        other => other.to_string(),
    }
}

/// A refused call: its error, after checking it wrote, logged and moved nothing even
/// without the executor's rollback.
fn market_err(h: &mut MemHost, from: Address, value: U256, c: impl SolCall) -> IMarketErrors {
    let before = (h.storage.clone(), h.balances.clone(), h.logs.len());
    match h.call_unguarded(&Market, from, value, &c.abi_encode()) {
        Err(ModuleError::Revert(d)) => {
            assert_eq!(
                before,
                (h.storage.clone(), h.balances.clone(), h.logs.len()),
                "a refused call changed state"
            );
            E::abi_decode(&d).unwrap()
        }
        other => panic!("expected a revert, got {other:?}"),
    }
}

fn register(
    h: &mut MemHost,
    owner: Address,
    kind: u8,
    tag: u8,
    license: &str,
    contributors: &[(Address, u16)],
    parents: &[u64],
) -> Result<u64, ModuleError> {
    let c = IProvenance::registerCall {
        kind,
        contentHash: B256::repeat_byte(tag),
        uri: format!("ipfs://{tag}"),
        license: license.into(),
        contributors: contributors
            .iter()
            .map(|&(account, share)| IProvenance::Contributor {
                account,
                shareBps: share,
            })
            .collect(),
        parents: parents.to_vec(),
    };
    let out = h.call(&Provenance, owner, U256::ZERO, &c.abi_encode())?;
    Ok(IProvenance::registerCall::abi_decode_returns(&out).unwrap())
}

fn policy(h: &mut MemHost, owner: Address, record: u64, owner_bps: u16, up: u16, all: bool) {
    market_ok(
        h,
        owner,
        U256::ZERO,
        IMarket::setRoyaltyPolicyCall {
            recordId: record,
            policy: IMarket::RoyaltyPolicy {
                ownerBps: owner_bps,
                upstreamBps: up,
                allAncestors: all,
            },
        },
    );
}

fn list(h: &mut MemHost, owner: Address, record: u64, kind: Kind, price: U256, terms: B256) -> u64 {
    let (endpoint, methods) = if kind == Kind::Service {
        (
            "https://svc.example/v1".to_string(),
            vec![IMarket::Method {
                name: "predict".into(),
                price,
                freeCalls: 3,
            }],
        )
    } else {
        (String::new(), vec![])
    };
    market_ok(
        h,
        owner,
        U256::ZERO,
        IMarket::listCall {
            recordId: record,
            kind: kind as u8,
            token: Address::ZERO,
            price,
            termsHash: terms,
            endpoint,
            methods,
        },
    )
}

fn terms(h: &mut MemHost, spdx: &str, derivatives: bool, duration: u64) -> B256 {
    let t = LicenseTerms {
        spdx: spdx.into(),
        commercialUse: true,
        derivatives,
        attribution: true,
        duration,
        perpetual: duration == 0,
    };
    let out = h
        .call(
            &Provenance,
            acct(0xee),
            U256::ZERO,
            &IProvenance::registerTermsCall { terms: t.clone() }.abi_encode(),
        )
        .unwrap();
    let hash = IProvenance::registerTermsCall::abi_decode_returns(&out).unwrap();
    assert_eq!(hash, licence::terms_hash(&t));
    hash
}

fn claim(h: &mut MemHost, who: Address) -> U256 {
    market_ok(
        h,
        who,
        U256::ZERO,
        IMarket::claimAllCall {
            token: Address::ZERO,
        },
    )
}

/// The lineage: dataset A (owner 1), dataset B (owner 2; contributors 70/30),
/// model M (owner 3) trained on both, with M passing 40 % upstream and A, B keeping theirs.
struct World {
    h: MemHost,
    a: u64,
    b: u64,
    m: u64,
}

const O1: u8 = 0x01;
const O2: u8 = 0x02;
const O3: u8 = 0x03;
const C1: u8 = 0x21;
const C2: u8 = 0x22;

fn world() -> World {
    let mut h = MemHost::new();
    for n in [O1, O2, O3, C1, C2, 0x50, 0x51] {
        h.fund(acct(n), eth(1_000));
    }
    let a = register(&mut h, acct(O1), 0, 1, "CC-BY-4.0", &[], &[]).unwrap();
    let b = register(
        &mut h,
        acct(O2),
        0,
        2,
        "CC-BY-4.0",
        &[(acct(C1), 7_000), (acct(C2), 3_000)],
        &[],
    )
    .unwrap();
    let m = register(&mut h, acct(O3), 1, 3, "MIT", &[], &[a, b]).unwrap();
    policy(&mut h, acct(O3), m, 0, 4_000, true);
    for r in [a, b] {
        let owner = if r == a { acct(O1) } else { acct(O2) };
        market_ok(
            &mut h,
            owner,
            U256::ZERO,
            IMarket::buildStackCall { recordId: r },
        );
    }
    World { h, a, b, m }
}

#[test]
fn royalties_reach_every_contributor_to_the_wei() {
    let World { mut h, m, .. } = world();
    let price = U256::from(1_000_000_007u64);
    let listing = list(&mut h, acct(O3), m, Kind::PerCall, price, B256::ZERO);
    // 100 fees through the per-call listing, as the inference module pays them.
    for _ in 0..100 {
        h.fund(MARKET, price);
        let mut inner = h.clone();
        verai_primitives::with_module(&mut inner, MARKET, |x| {
            verai_market::charge_call(x, m, acct(0x50), price)
        })
        .unwrap();
        h = inner;
    }
    let total = price * U256::from(100);
    let l = market_ok(
        &mut h,
        acct(0x50),
        U256::ZERO,
        IMarket::getListingCall { id: listing },
    );
    assert_eq!((l.sales, l.revenue), (100, total));

    // Expected: M's owner 60 %, A's owner 20 %, B's contributors 14 % and 6 %.
    let expect = |bps: u64| total * U256::from(bps) / U256::from(10_000u64);
    let before: Vec<U256> = [O3, O1, C1, C2]
        .iter()
        .map(|&n| h.balance(acct(n)))
        .collect();
    let got: Vec<U256> = [O3, O1, C1, C2]
        .iter()
        .map(|&n| claim(&mut h, acct(n)))
        .collect();
    assert_eq!(
        got,
        vec![expect(6_000), expect(2_000), expect(1_400), expect(600)]
    );
    for (i, &n) in [O3, O1, C1, C2].iter().enumerate() {
        assert_eq!(h.balance(acct(n)), before[i] + got[i]);
    }
    // Nothing is lost: what was not claimed is the sub-wei carry, under one wei per account.
    let paid_out: U256 = got.iter().copied().sum();
    assert!(total - paid_out < U256::from(4));
    assert_eq!(h.balance(MARKET), total - paid_out);
    // A second claim pays nothing and moves nothing.
    assert_eq!(claim(&mut h, acct(O3)), U256::ZERO);
}

#[test]
fn a_payment_costs_the_same_whatever_the_lineage() {
    // One parent against 60 parents of 16 contributors each (960 accounts upstream).
    let mut h = MemHost::new();
    h.fund(acct(0x50), eth(10));
    let small_parent = register(&mut h, acct(1), 0, 1, "MIT", &[], &[]).unwrap();
    let small = register(&mut h, acct(2), 1, 2, "MIT", &[], &[small_parent]).unwrap();
    policy(&mut h, acct(2), small, 0, 5_000, true);
    market_ok(
        &mut h,
        acct(1),
        U256::ZERO,
        IMarket::buildStackCall {
            recordId: small_parent,
        },
    );
    market_ok(
        &mut h,
        acct(2),
        U256::ZERO,
        IMarket::buildStackCall { recordId: small },
    );
    let mut parents = vec![];
    for p in 0..60u8 {
        let contributors: Vec<(Address, u16)> = (0..16u8)
            .map(|c| {
                (
                    Address::from([p, c, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 1]),
                    625,
                )
            })
            .collect();
        let id = register(&mut h, acct(3), 0, 10 + p, "MIT", &contributors, &[]).unwrap();
        market_ok(
            &mut h,
            acct(3),
            U256::ZERO,
            IMarket::buildStackCall { recordId: id },
        );
        parents.push(id);
    }
    let big = register(&mut h, acct(4), 1, 200, "MIT", &[], &parents).unwrap();
    policy(&mut h, acct(4), big, 0, 5_000, true);
    // 961 accounts: two calls build the stack, the first one refuses to list it half-built.
    let first = market_ok(
        &mut h,
        acct(9),
        U256::ZERO,
        IMarket::buildStackCall { recordId: big },
    );
    assert!(!first.complete);
    assert!(matches!(
        market_err(
            &mut h,
            acct(0x50),
            U256::from(5),
            IMarket::payCall { recordId: big }
        ),
        E::StackIncomplete(_)
    ));
    let second = market_ok(
        &mut h,
        acct(9),
        U256::ZERO,
        IMarket::buildStackCall { recordId: big },
    );
    assert!(second.complete);
    let stack = market_ok(
        &mut h,
        acct(9),
        U256::ZERO,
        IMarket::stackOfCall { recordId: big },
    );
    assert_eq!(stack.shares.len(), 961);
    assert_eq!(stack.shares.iter().map(|s| s.weight).sum::<u128>(), WEIGHT);

    let mut gas = vec![];
    for record in [small, big] {
        for _ in 0..2 {
            let g0 = h.gas;
            market_ok(
                &mut h,
                acct(0x50),
                U256::from(1_000),
                IMarket::payCall { recordId: record },
            );
            gas.push(h.gas - g0);
        }
    }
    // The first payment fills empty slots; the second is the steady cost. Same for both.
    assert_eq!(gas[1], gas[3], "steady payment gas: {gas:?}");
    assert_eq!(gas[0], gas[2], "first payment gas: {gas:?}");
}

#[test]
fn licences_are_grants_with_expiry() {
    let World { mut h, a, .. } = world();
    let t = terms(&mut h, "CC-BY-4.0", true, 3_600);
    let price = U256::from(10_000u64);
    let listing = list(&mut h, acct(O1), a, Kind::Access, price, t);
    let buyer = acct(0x50);
    assert!(!market_ok(
        &mut h,
        buyer,
        U256::ZERO,
        IMarket::hasAccessCall {
            recordId: a,
            account: buyer
        }
    ));
    // Too little, too much: refused, nothing moves.
    let e = market_err(
        &mut h,
        buyer,
        U256::from(9_999),
        IMarket::buyCall { listingId: listing },
    );
    assert!(matches!(e, E::WrongPayment(_)));
    market_err(
        &mut h,
        buyer,
        U256::from(10_001),
        IMarket::buyCall { listingId: listing },
    );
    let expiry = market_ok(
        &mut h,
        buyer,
        price,
        IMarket::buyCall { listingId: listing },
    );
    assert_eq!(expiry, h.timestamp + 3_600);
    assert!(market_ok(
        &mut h,
        buyer,
        U256::ZERO,
        IMarket::hasAccessCall {
            recordId: a,
            account: buyer
        }
    ));
    let g = market_ok(
        &mut h,
        buyer,
        U256::ZERO,
        IMarket::grantOfCall {
            recordId: a,
            account: buyer,
        },
    );
    assert_eq!((g.listingId, g.termsHash, g.expiry), (listing, t, expiry));
    // A second purchase extends from the current expiry.
    let again = market_ok(
        &mut h,
        buyer,
        price,
        IMarket::buyCall { listingId: listing },
    );
    assert_eq!(again, expiry + 3_600);
    // After expiry the grant no longer opens access.
    h.timestamp = again;
    assert!(!market_ok(
        &mut h,
        buyer,
        U256::ZERO,
        IMarket::hasAccessCall {
            recordId: a,
            account: buyer
        }
    ));
    // A's owner is paid for both sales.
    assert_eq!(claim(&mut h, acct(O1)), price * U256::from(2));
    // Perpetual only when the terms say so.
    let forever = terms(&mut h, "CC-BY-4.0", true, 0);
    let l2 = list(&mut h, acct(O1), a, Kind::Access, price, forever);
    assert_eq!(
        market_ok(&mut h, buyer, price, IMarket::buyCall { listingId: l2 }),
        u64::MAX
    );
}

#[test]
fn derivatives_of_no_derivatives_data_are_refused() {
    let mut h = MemHost::new();
    let nd = register(&mut h, acct(1), 0, 1, "CC-BY-ND-4.0", &[], &[]).unwrap();
    let e = register(&mut h, acct(2), 1, 2, "MIT", &[], &[nd]).unwrap_err();
    let msg = why(&e);
    assert!(msg.contains("forbids derivative works"), "{msg}");
    // Typed terms without derivatives: the same.
    let t = terms(&mut h, "LicenseRef-internal", false, 60);
    let typed = register(&mut h, acct(1), 0, 3, &licence::terms_licence(t), &[], &[]).unwrap();
    assert!(register(&mut h, acct(2), 1, 4, "MIT", &[], &[typed]).is_err());
    // The owner may derive from its own data.
    register(&mut h, acct(1), 1, 5, "MIT", &[], &[nd]).unwrap();
    // Non-commercial parents need a non-commercial child.
    let nc = register(&mut h, acct(1), 0, 6, "CC-BY-NC-4.0", &[], &[]).unwrap();
    let e = register(&mut h, acct(2), 1, 7, "MIT", &[], &[nc]).unwrap_err();
    assert!(why(&e).contains("non-commercial"), "{}", why(&e));
    register(&mut h, acct(2), 1, 8, "CC-BY-NC-SA-4.0", &[], &[nc]).unwrap();
}

fn sign(signer: &PrivateKeySigner, v: &IMarket::Voucher, chain: u64) -> Bytes {
    let sig = signer
        .sign_hash_sync(&channel::voucher_hash(v, chain))
        .unwrap();
    Bytes::from(sig.as_bytes().to_vec())
}

#[test]
fn a_service_channel_settles_the_highest_voucher_and_refunds_the_rest() {
    let World { mut h, m, .. } = world();
    let client_key = PrivateKeySigner::random();
    let client = client_key.address();
    h.fund(client, eth(10));
    let per_call = U256::from(1_000_000u64);
    let listing = list(&mut h, acct(O3), m, Kind::Service, per_call, B256::ZERO);
    let deposit = per_call * U256::from(150);
    let expiry = h.timestamp + 600;
    let id = market_ok(
        &mut h,
        client,
        deposit,
        IMarket::openChannelCall {
            listingId: listing,
            expiry,
        },
    );
    // 100 calls signed concurrently: each voucher is cumulative, nonces grow.
    let vouchers: Vec<IMarket::Voucher> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..=100u64)
            .map(|n| {
                let key = client_key.clone();
                s.spawn(move || {
                    let v = IMarket::Voucher {
                        channelId: id,
                        amount: per_call * U256::from(n),
                        nonce: n,
                    };
                    (v.clone(), sign(&key, &v, 1337))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap().0).collect()
    });
    let top = vouchers.iter().max_by_key(|v| v.nonce).unwrap().clone();
    let sig = sign(&client_key, &top, 1337);
    let provider = acct(O3);
    let claim_call = |v: &IMarket::Voucher, sig: &Bytes| IMarket::claimChannelCall {
        channelId: v.channelId,
        amount: v.amount,
        nonce: v.nonce,
        signature: sig.clone(),
    };
    // Refused first: not the provider, overspent, wrong chain.
    assert!(matches!(
        market_err(&mut h, client, U256::ZERO, claim_call(&top, &sig)),
        E::NotChannelParty(_)
    ));
    let over = IMarket::Voucher {
        channelId: id,
        amount: deposit + U256::from(1),
        nonce: 200,
    };
    assert!(matches!(
        market_err(
            &mut h,
            provider,
            U256::ZERO,
            claim_call(&over, &sign(&client_key, &over, 1337))
        ),
        E::VoucherOverspent(_)
    ));
    assert!(matches!(
        market_err(
            &mut h,
            provider,
            U256::ZERO,
            claim_call(&top, &sign(&client_key, &top, 1))
        ),
        E::BadVoucher(_)
    ));
    let forged = IMarket::Voucher {
        channelId: id,
        amount: deposit,
        nonce: 300,
    };
    let mallory = PrivateKeySigner::random();
    assert!(matches!(
        market_err(
            &mut h,
            provider,
            U256::ZERO,
            claim_call(&forged, &sign(&mallory, &forged, 1337))
        ),
        E::BadVoucher(_)
    ));
    let paid = market_ok(&mut h, provider, U256::ZERO, claim_call(&top, &sig));
    assert_eq!(paid, per_call * U256::from(100));
    // The same voucher again, or an older one: replayed.
    assert!(matches!(
        market_err(&mut h, provider, U256::ZERO, claim_call(&top, &sig)),
        E::VoucherReplayed(_)
    ));
    let old = &vouchers[10];
    assert!(matches!(
        market_err(
            &mut h,
            provider,
            U256::ZERO,
            claim_call(old, &sign(&client_key, old, 1337))
        ),
        E::VoucherReplayed(_)
    ));
    // The client cannot close early; after expiry it gets the rest back.
    assert!(matches!(
        market_err(
            &mut h,
            client,
            U256::ZERO,
            IMarket::closeChannelCall { channelId: id }
        ),
        E::ChannelNotExpired(_)
    ));
    h.timestamp = expiry;
    let late = IMarket::Voucher {
        channelId: id,
        amount: per_call * U256::from(101),
        nonce: 101,
    };
    assert!(matches!(
        market_err(
            &mut h,
            provider,
            U256::ZERO,
            claim_call(&late, &sign(&client_key, &late, 1337))
        ),
        E::ChannelExpired(_)
    ));
    let before = h.balance(client);
    let refund = market_ok(
        &mut h,
        client,
        U256::ZERO,
        IMarket::closeChannelCall { channelId: id },
    );
    assert_eq!(refund, deposit - paid);
    assert_eq!(h.balance(client), before + refund);
    assert!(matches!(
        market_err(
            &mut h,
            client,
            U256::ZERO,
            IMarket::closeChannelCall { channelId: id }
        ),
        E::ChannelClosedAlready(_)
    ));
    // Paying customers rate; weight is what they paid.
    market_ok(
        &mut h,
        client,
        U256::ZERO,
        IMarket::rateCall {
            listingId: listing,
            score: 4,
        },
    );
    let l = market_ok(
        &mut h,
        client,
        U256::ZERO,
        IMarket::getListingCall { id: listing },
    );
    assert_eq!((l.ratingWeight, l.ratingSum), (paid, paid * U256::from(4)));
    // A Sybil who paid nothing moves nothing.
    assert!(matches!(
        market_err(
            &mut h,
            acct(0x51),
            U256::ZERO,
            IMarket::rateCall {
                listingId: listing,
                score: 1
            }
        ),
        E::NotPaid(_)
    ));
}

#[test]
fn bad_input_is_refused_with_a_reason_and_moves_nothing() {
    let World { mut h, a, b, m } = world();
    // Policies: only the owner, only before the stack, only within 10,000 bps.
    assert!(matches!(
        market_err(
            &mut h,
            acct(O1),
            U256::ZERO,
            IMarket::setRoyaltyPolicyCall {
                recordId: m,
                policy: IMarket::RoyaltyPolicy {
                    ownerBps: 0,
                    upstreamBps: 1,
                    allAncestors: false
                },
            }
        ),
        E::NotRecordOwner(_)
    ));
    assert!(matches!(
        market_err(
            &mut h,
            acct(O1),
            U256::ZERO,
            IMarket::setRoyaltyPolicyCall {
                recordId: a,
                policy: IMarket::RoyaltyPolicy {
                    ownerBps: 0,
                    upstreamBps: 1,
                    allAncestors: false
                },
            }
        ),
        E::PolicyFrozen(_)
    ));
    assert!(matches!(
        market_err(
            &mut h,
            acct(O3),
            U256::ZERO,
            IMarket::setRoyaltyPolicyCall {
                recordId: m,
                policy: IMarket::RoyaltyPolicy {
                    ownerBps: 6_000,
                    upstreamBps: 5_000,
                    allAncestors: false
                },
            }
        ),
        E::InvalidPolicy(_)
    ));
    // Listings: owner only, known terms, models only per call, native token only.
    assert!(matches!(
        market_err(
            &mut h,
            acct(O1),
            U256::ZERO,
            IMarket::listCall {
                recordId: b,
                kind: 0,
                token: Address::ZERO,
                price: U256::from(1),
                termsHash: B256::ZERO,
                endpoint: String::new(),
                methods: vec![],
            }
        ),
        E::NotRecordOwner(_)
    ));
    assert!(matches!(
        market_err(
            &mut h,
            acct(O1),
            U256::ZERO,
            IMarket::listCall {
                recordId: a,
                kind: 0,
                token: Address::ZERO,
                price: U256::from(1),
                termsHash: B256::repeat_byte(7),
                endpoint: String::new(),
                methods: vec![],
            }
        ),
        E::UnknownTerms(_)
    ));
    assert!(matches!(
        market_err(
            &mut h,
            acct(O1),
            U256::ZERO,
            IMarket::listCall {
                recordId: a,
                kind: 1,
                token: Address::ZERO,
                price: U256::from(1),
                termsHash: B256::ZERO,
                endpoint: String::new(),
                methods: vec![],
            }
        ),
        E::InvalidListing(_)
    ));
    assert!(matches!(
        market_err(
            &mut h,
            acct(O3),
            U256::ZERO,
            IMarket::listCall {
                recordId: m,
                kind: 1,
                token: acct(0x77),
                price: U256::from(1),
                termsHash: B256::ZERO,
                endpoint: String::new(),
                methods: vec![],
            }
        ),
        E::TokenNotSupported(_)
    ));
    // Value where none is due; a payment to a record with no stack.
    assert!(matches!(
        market_err(
            &mut h,
            acct(O1),
            U256::from(1),
            IMarket::claimAllCall {
                token: Address::ZERO
            }
        ),
        E::ValueNotAccepted(_)
    ));
    assert!(matches!(
        market_err(
            &mut h,
            acct(O1),
            U256::from(1),
            IMarket::payCall { recordId: m }
        ),
        E::NoStack(_)
    ));
    // A per-call fee that is not the price.
    list(
        &mut h,
        acct(O3),
        m,
        Kind::PerCall,
        U256::from(100),
        B256::ZERO,
    );
    h.fund(MARKET, U256::from(99));
    let r = verai_primitives::with_module(&mut h.clone(), MARKET, |x| {
        verai_market::charge_call(x, m, acct(0x50), U256::from(99))
    });
    assert!(matches!(r, Err(ModuleError::Revert(_))));
    // Garbage input.
    let e = h
        .call(&Market, acct(1), U256::ZERO, &[1, 2, 3])
        .unwrap_err();
    assert!(why(&e).contains("unknown function selector"), "{}", why(&e));
}
