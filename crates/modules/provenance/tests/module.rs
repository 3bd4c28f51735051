//! The module against an in-memory host: registration, lineage, ownership, usage, and every
//! refused input leaving storage and logs untouched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolError, SolInterface};
use verai_primitives::{ModuleError, NativeModule, testing::MemHost};
use verai_provenance::{
    IProvenance::{self, Contributor, IProvenanceErrors},
    Provenance,
    read::{self, Direction},
};

/// A host whose calls run as `caller` on the registry's account, without rollback: the
/// module itself must refuse bad input before writing.
fn host(caller: Address, block: u64) -> MemHost {
    let mut h = MemHost::new();
    h.caller = caller;
    h.block = block;
    h.timestamp = 1_000 + block;
    h.account = verai_provenance::ADDRESS;
    h
}

fn alice() -> Address {
    Address::repeat_byte(0xa1)
}
fn bob() -> Address {
    Address::repeat_byte(0xb0)
}
fn h(n: u8) -> B256 {
    B256::repeat_byte(n)
}

fn call(host: &mut MemHost, c: impl SolCall) -> Result<Bytes, ModuleError> {
    Provenance.call(host, &c.abi_encode())
}

fn register(
    host: &mut MemHost,
    kind: u8,
    hash: B256,
    parents: Vec<u64>,
) -> Result<u64, ModuleError> {
    let out = call(
        host,
        IProvenance::registerCall {
            kind,
            contentHash: hash,
            uri: "ipfs://x".into(),
            license: "MIT".into(),
            contributors: vec![],
            parents,
        },
    )?;
    Ok(IProvenance::registerCall::abi_decode_returns(&out).unwrap())
}

/// The error a refused call reverted with.
fn error_of(r: Result<impl std::fmt::Debug, ModuleError>) -> IProvenanceErrors {
    match r {
        Err(ModuleError::Revert(data)) => IProvenanceErrors::abi_decode(&data).unwrap(),
        other => panic!("expected a revert, got {other:?}"),
    }
}

/// Run `f`, expect a revert, and check nothing was written or logged.
fn refused<T: std::fmt::Debug>(
    host: &mut MemHost,
    f: impl FnOnce(&mut MemHost) -> Result<T, ModuleError>,
) -> IProvenanceErrors {
    let (before, logs) = (host.storage.clone(), host.logs.len());
    let e = error_of(f(host));
    assert_eq!(host.storage, before, "a refused call wrote state");
    assert_eq!(host.logs.len(), logs, "a refused call logged");
    e
}

#[test]
fn lineage_ownership_and_usage() {
    let mut host = host(alice(), 5);
    let d1 = register(&mut host, 0, h(1), vec![]).unwrap();
    let d2 = register(&mut host, 0, h(2), vec![]).unwrap();
    let m = register(&mut host, 1, h(3), vec![d1, d2]).unwrap();
    let ft = register(&mut host, 1, h(4), vec![m]).unwrap();
    assert_eq!((d1, d2, m, ft), (1, 2, 3, 4));
    assert_eq!(read::count(&mut host).unwrap(), 4);
    // One RecordRegistered event per record.
    assert_eq!(host.logs.len(), 4);

    let r = read::record(&mut host, m).unwrap().unwrap();
    assert_eq!(r.parents, vec![d1, d2]);
    assert_eq!(r.owner, alice());
    assert_eq!(
        r.contributors,
        vec![Contributor {
            account: alice(),
            shareBps: 10_000
        }]
    );
    assert_eq!((r.blockNumber, r.timestamp), (5, 1005));

    let (anc, cut) = read::walk(&mut host, ft, Direction::Ancestors, 10, 100).unwrap();
    assert!(!cut);
    let ids: Vec<_> = anc.iter().map(|n| (n.id, n.depth)).collect();
    assert_eq!(ids, vec![(m, 1), (d1, 2), (d2, 2)]);
    let (desc, _) = read::walk(&mut host, d1, Direction::Descendants, 10, 100).unwrap();
    assert_eq!(desc.iter().map(|n| n.id).collect::<Vec<_>>(), vec![m, ft]);
    let (one, _) = read::walk(&mut host, d1, Direction::Descendants, 1, 100).unwrap();
    assert_eq!(one.len(), 1);
    let (lim, cut) = read::walk(&mut host, ft, Direction::Ancestors, 10, 2).unwrap();
    assert!(cut && lim.len() == 2);

    // A training run links itself as a parent of its output model.
    let run_out = call(
        &mut host,
        IProvenance::recordTrainingCall {
            paramsHash: h(9),
            uri: String::new(),
            license: "MIT".into(),
            inputs: vec![m],
            output: ft,
        },
    )
    .unwrap();
    let run = IProvenance::recordTrainingCall::abi_decode_returns(&run_out).unwrap();
    assert_eq!(
        read::record(&mut host, ft).unwrap().unwrap().links,
        vec![run]
    );
    let (anc, _) = read::walk(&mut host, ft, Direction::Ancestors, 1, 100).unwrap();
    assert_eq!(anc.iter().map(|n| n.id).collect::<Vec<_>>(), vec![m, run]);

    // Usage.
    host.caller = bob();
    for i in 0..3u8 {
        let out = call(
            &mut host,
            IProvenance::recordUsageCall {
                modelId: m,
                r#ref: h(0x40 + i),
            },
        )
        .unwrap();
        assert_eq!(
            IProvenance::recordUsageCall::abi_decode_returns(&out).unwrap(),
            u64::from(i)
        );
    }
    let u = read::usage_at(&mut host, m, 2).unwrap().unwrap();
    assert_eq!((u.user, u.r#ref), (bob(), h(0x42)));
    assert!(read::usage_at(&mut host, m, 3).unwrap().is_none());

    // Ownership: only the owner transfers or deprecates.
    let e = refused(&mut host, |x| {
        call(
            x,
            IProvenance::transferOwnershipCall {
                id: m,
                newOwner: bob(),
            },
        )
    });
    assert!(matches!(e, IProvenanceErrors::NotOwner(x) if x.owner == alice() && x.caller == bob()));
    let e = refused(&mut host, |x| call(x, IProvenance::deprecateCall { id: m }));
    assert!(matches!(e, IProvenanceErrors::NotOwner(_)));
    host.caller = alice();
    call(
        &mut host,
        IProvenance::transferOwnershipCall {
            id: m,
            newOwner: bob(),
        },
    )
    .unwrap();
    assert_eq!(read::record(&mut host, m).unwrap().unwrap().owner, bob());
    assert_eq!(
        read::owned_by(&mut host, alice(), 0, 100).unwrap().1,
        vec![d1, d2, ft, run]
    );
    assert_eq!(read::owned_by(&mut host, bob(), 0, 100).unwrap().1, vec![m]);
    host.caller = bob();
    call(&mut host, IProvenance::deprecateCall { id: m }).unwrap();
    assert!(read::record(&mut host, m).unwrap().unwrap().deprecated);
    let e = refused(&mut host, |x| call(x, IProvenance::deprecateCall { id: m }));
    assert!(matches!(e, IProvenanceErrors::AlreadyDeprecated(_)));
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let mut host = host(alice(), 0);
    let d = register(&mut host, 0, h(1), vec![]).unwrap();
    let m = register(&mut host, 1, h(2), vec![d]).unwrap();

    let e = refused(&mut host, |x| register(x, 0, B256::ZERO, vec![]));
    assert!(matches!(e, IProvenanceErrors::EmptyHash(_)));
    let e = refused(&mut host, |x| register(x, 0, h(7), vec![42]));
    assert!(matches!(e, IProvenanceErrors::UnknownRecord(x) if x.id == 42));
    let e = refused(&mut host, |x| register(x, 0, h(7), vec![d, d]));
    assert!(matches!(e, IProvenanceErrors::DuplicateParent(_)));
    let e = refused(&mut host, |x| register(x, 0, h(1), vec![]));
    assert!(matches!(e, IProvenanceErrors::DuplicateRecord(x) if x.existing == d));
    // Same hash, another kind: allowed.
    register(&mut host, 3, h(1), vec![]).unwrap();
    let e = refused(&mut host, |x| register(x, 9, h(7), vec![]));
    assert!(matches!(e, IProvenanceErrors::InvalidKind(_)));

    let long = "x".repeat(verai_provenance::MAX_URI_BYTES + 1);
    let e = refused(&mut host, |x| {
        call(
            x,
            IProvenance::registerCall {
                kind: 0,
                contentHash: h(7),
                uri: long,
                license: "MIT".into(),
                contributors: vec![],
                parents: vec![],
            },
        )
    });
    assert!(matches!(e, IProvenanceErrors::UriTooLong(_)));
    let e = refused(&mut host, |x| {
        call(
            x,
            IProvenance::registerCall {
                kind: 0,
                contentHash: h(7),
                uri: String::new(),
                license: String::new(),
                contributors: vec![],
                parents: vec![],
            },
        )
    });
    assert!(matches!(e, IProvenanceErrors::EmptyLicense(_)));
    let shares = vec![
        Contributor {
            account: alice(),
            shareBps: 6_000,
        },
        Contributor {
            account: bob(),
            shareBps: 3_999,
        },
    ];
    let e = refused(&mut host, |x| {
        call(
            x,
            IProvenance::registerCall {
                kind: 0,
                contentHash: h(7),
                uri: String::new(),
                license: "MIT".into(),
                contributors: shares,
                parents: vec![],
            },
        )
    });
    assert!(
        matches!(e, IProvenanceErrors::SharesNotTenThousand(x) if x.total == U256::from(9_999))
    );

    // Cycle: a training run whose output is an ancestor of its input.
    let e = refused(&mut host, |x| {
        call(
            x,
            IProvenance::recordTrainingCall {
                paramsHash: h(8),
                uri: String::new(),
                license: "MIT".into(),
                inputs: vec![m],
                output: m,
            },
        )
    });
    assert!(matches!(e, IProvenanceErrors::LineageCycle(x) if x.id == m));
    let ft = register(&mut host, 0, h(5), vec![m]).unwrap();
    let e = refused(&mut host, |x| {
        call(
            x,
            IProvenance::recordTrainingCall {
                paramsHash: h(8),
                uri: String::new(),
                license: "MIT".into(),
                inputs: vec![ft],
                output: m,
            },
        )
    });
    assert!(matches!(e, IProvenanceErrors::LineageCycle(_)));
    let e = refused(&mut host, |x| {
        call(
            x,
            IProvenance::recordTrainingCall {
                paramsHash: h(8),
                uri: String::new(),
                license: "MIT".into(),
                inputs: vec![m],
                output: d,
            },
        )
    });
    assert!(matches!(e, IProvenanceErrors::NotAModel(_)));
    let e = refused(&mut host, |x| {
        call(
            x,
            IProvenance::recordUsageCall {
                modelId: d,
                r#ref: h(1),
            },
        )
    });
    assert!(matches!(e, IProvenanceErrors::NotAModel(_)));
    let e = refused(&mut host, |x| Provenance.call(x, &[1, 2, 3]));
    assert!(matches!(e, IProvenanceErrors::UnknownSelector(_)));
    let e = refused(&mut host, |x| {
        call(x, IProvenance::getRecordCall { id: 99 })
    });
    assert_eq!(
        e,
        IProvenanceErrors::UnknownRecord(IProvenance::UnknownRecord { id: 99 })
    );
    // The revert data is the custom error's ABI encoding, as Solidity would produce.
    assert_eq!(
        IProvenance::EmptyHash {}.abi_encode()[..4],
        IProvenance::EmptyHash::SELECTOR
    );
}

#[test]
fn view_functions_round_trip() {
    let mut host = host(alice(), 0);
    let d = register(&mut host, 0, h(1), vec![]).unwrap();
    let out = call(&mut host, IProvenance::getRecordCall { id: d }).unwrap();
    let r = IProvenance::getRecordCall::abi_decode_returns(&out).unwrap();
    assert_eq!((r.id, r.contentHash, r.uri.as_str()), (d, h(1), "ipfs://x"));
    let out = call(
        &mut host,
        IProvenance::findByHashCall {
            kind: 0,
            contentHash: h(1),
        },
    )
    .unwrap();
    assert_eq!(
        IProvenance::findByHashCall::abi_decode_returns(&out).unwrap(),
        d
    );
    // The view rebuilds exactly the committed body.
    let view = verai_provenance::RecordView::from(r);
    let body = verai_provenance::record_body(&view).unwrap();
    let stored = read::body(&mut host, d).unwrap().unwrap();
    assert_eq!(body, stored);
}
