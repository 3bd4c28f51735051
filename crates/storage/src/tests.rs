//! Tests of the authenticated state (persistence, speculation, proofs) under Commonware runtimes.

#![allow(clippy::unwrap_used)]

use crate::*;
use alloy_primitives::{Address, B256, U256};
use commonware_runtime::{
    Runner as _, Spawner as _, Supervisor as _, deterministic, tokio as cw_tokio,
};
use verai_primitives::{AccountState, Changeset, StateKey, StoredReceipt};

fn acct(n: u8) -> StateKey {
    StateKey::Account(Address::repeat_byte(n))
}

fn slot(n: u8, s: u64) -> StateKey {
    StateKey::Storage(Address::repeat_byte(n), U256::from(s))
}

fn account_value(balance: u64) -> Vec<u8> {
    AccountState {
        balance: U256::from(balance),
        ..Default::default()
    }
    .encode()
}

fn cs(entries: &[(StateKey, Option<Vec<u8>>)]) -> Changeset {
    entries.iter().cloned().collect()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("verai-storage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn commit_reopen_deterministic() {
    deterministic::Runner::default().start(|context| async move {
        let mut c = Commitment::init(context.child("first"), "t").await.unwrap();
        assert_eq!(c.height(), None);
        let empty_root = c.root().unwrap();
        let r0 = c
            .commit(0, &cs(&[(acct(1), Some(account_value(100)))]))
            .await
            .unwrap();
        assert_ne!(r0, empty_root);
        let r1 = c
            .commit(
                1,
                &cs(&[
                    (acct(2), Some(account_value(5))),
                    (slot(1, 7), Some(vec![9; 32])),
                ]),
            )
            .await
            .unwrap();
        assert_eq!(c.root().unwrap(), r1);
        // Heights must follow.
        assert!(matches!(
            c.commit(5, &Changeset::new()).await,
            Err(StorageError::Height { .. })
        ));
        drop(c);

        let mut c = Commitment::init(context.child("second"), "t")
            .await
            .unwrap();
        assert_eq!(c.height(), Some(1));
        assert_eq!(c.root().unwrap(), r1);
        assert_eq!(c.get(&acct(1)).await.unwrap(), Some(account_value(100)));
        assert_eq!(c.get(&slot(1, 7)).await.unwrap(), Some(vec![9; 32]));
        assert_eq!(c.get(&acct(3)).await.unwrap(), None);
        // Delete, then an empty block.
        c.commit(2, &cs(&[(slot(1, 7), None)])).await.unwrap();
        c.commit(3, &Changeset::new()).await.unwrap();
        assert_eq!(c.get(&slot(1, 7)).await.unwrap(), None);
        let root = c.root().unwrap();
        c.prune().await.unwrap();
        assert_eq!(c.root().unwrap(), root, "pruning does not change the root");
        let (v, p) = c.get_with_proof(&acct(2)).await.unwrap();
        verify_state_proof(root, &acct(2), v.as_deref(), &p).unwrap();
        c.close().await.unwrap();

        let c = Commitment::init(context.child("third"), "t").await.unwrap();
        assert_eq!((c.height(), c.root().unwrap()), (Some(3), root));
        let mut seen = Vec::new();
        c.for_each_entry(|k, v| {
            seen.push((k, v));
            Ok(())
        })
        .await
        .unwrap();
        seen.sort();
        assert_eq!(
            seen,
            vec![(acct(1), account_value(100)), (acct(2), account_value(5))]
        );
    });
}

#[test]
fn commit_reopen_tokio_on_disk() {
    let dir = temp_dir("tokio");
    let cfg = || cw_tokio::Config::new().with_storage_directory(dir.join("qmdb"));
    let root = cw_tokio::Runner::new(cfg()).start(|context| async move {
        // In a spawned task: every future of the API is `Send`, as the node's actors need.
        let task = context.child("writer").spawn(|ctx| async move {
            let mut c = Commitment::init(ctx.child("state"), "verai").await.unwrap();
            c.commit(0, &cs(&[(acct(1), Some(account_value(1)))]))
                .await
                .unwrap();
            let p = c
                .speculate(None, 1, cs(&[(acct(2), Some(account_value(2)))]))
                .await
                .unwrap();
            let r = c.commit_pending(&p).await.unwrap();
            let _proof = c.prove(&acct(2)).await.unwrap();
            c.close().await.unwrap();
            r
        });
        task.await.unwrap()
    });
    let (root2, h, v) = cw_tokio::Runner::new(cfg()).start(|context| async move {
        let c = Commitment::init(context.child("state"), "verai")
            .await
            .unwrap();
        (
            c.root().unwrap(),
            c.height(),
            c.get(&acct(2)).await.unwrap(),
        )
    });
    assert_eq!((root2, h, v), (root, Some(1), Some(account_value(2))));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn speculative_roots_match_commits() {
    deterministic::Runner::default().start(|context| async move {
        let blocks: Vec<Changeset> = (0..6u8)
            .map(|i| {
                cs(&[
                    (acct(i), Some(account_value(i as u64))),
                    (slot(1, i as u64), Some(vec![i; 32])),
                    (
                        acct(i.saturating_sub(2)),
                        if i % 3 == 2 { None } else { Some(vec![i]) },
                    ),
                ])
            })
            .collect();

        // A: commit block by block.
        let mut a = Commitment::init(context.child("a"), "a").await.unwrap();
        let mut roots = Vec::new();
        for (h, b) in blocks.iter().enumerate() {
            roots.push(a.commit(h as u64, b).await.unwrap());
        }

        // B: commit genesis, then speculate a chain of blocks 1..=5 and check every root
        // before anything is committed.
        let mut b = Commitment::init(context.child("b"), "b").await.unwrap();
        b.commit(0, &blocks[0]).await.unwrap();
        let refs: Vec<&Changeset> = blocks[1..].iter().collect();
        assert_eq!(b.speculative_root(&refs).await.unwrap(), roots[5]);
        let mut chain: Vec<PendingState> = Vec::new();
        for (h, blk) in blocks.iter().enumerate().skip(1) {
            let p = b
                .speculate(chain.last(), h as u64, blk.clone())
                .await
                .unwrap();
            assert_eq!(p.root(), roots[h], "speculative root of block {h}");
            chain.push(p);
        }
        assert_eq!(b.root().unwrap(), roots[0], "speculation writes nothing");
        // Overlay reads see the newest write.
        assert_eq!(chain[4].overlay_get(&slot(1, 2)), Some(Some(vec![2; 32])));
        assert_eq!(chain[4].overlay_get(&acct(0)), Some(None));
        assert_eq!(chain[4].overlay_get(&acct(200)), None);

        // A fork at height 2, built on block 1: valid until block 2 of the main chain commits.
        let fork = b
            .speculate(Some(&chain[0]), 2, cs(&[(acct(99), Some(vec![1]))]))
            .await
            .unwrap();
        assert_ne!(fork.root(), roots[2]);

        // Finalize 1 and 2 (applying 2 applies 1 too), then 5 (applies 3, 4, 5).
        assert_eq!(b.commit_pending(&chain[1]).await.unwrap(), roots[2]);
        assert_eq!(b.height(), Some(2));
        assert!(matches!(
            b.commit_pending(&fork).await,
            Err(StorageError::Height { .. })
        ));
        assert!(matches!(
            b.speculate(Some(&fork), 3, Changeset::new()).await,
            Err(StorageError::Stale(_))
        ));
        // The handle survives the rejected fork.
        assert_eq!(b.commit_pending(&chain[4]).await.unwrap(), roots[5]);
        assert_eq!(b.root().unwrap(), roots[5]);
        assert_eq!(b.height(), Some(5));
        assert!(
            chain[4].parent().is_none(),
            "committed state releases its ancestors"
        );

        // Two branches from the committed state; committing one makes the other stale, and
        // the rejected commit leaves the database usable.
        let x6 = b
            .speculate(None, 6, cs(&[(acct(60), Some(vec![6]))]))
            .await
            .unwrap();
        let y6 = b
            .speculate(None, 6, cs(&[(acct(61), Some(vec![6]))]))
            .await
            .unwrap();
        let y7 = b.speculate(Some(&y6), 7, Changeset::new()).await.unwrap();
        b.commit_pending(&x6).await.unwrap();
        assert!(matches!(
            b.commit_pending(&y7).await,
            Err(StorageError::Stale(_))
        ));
        assert_eq!(b.root().unwrap(), x6.root());
        b.commit(7, &Changeset::new()).await.unwrap();
        assert_eq!(b.height(), Some(7));
    });
}

#[test]
fn proofs_verify_and_reject_tampering() {
    deterministic::Runner::default().start(|context| async move {
        let mut c = Commitment::init(context.child("p"), "p").await.unwrap();
        // Absence in a state with no keys, before and after a key came and went.
        let p = c.prove(&acct(1)).await.unwrap();
        verify_state_proof(c.root().unwrap(), &acct(1), None, &p).unwrap();
        c.commit(0, &cs(&[(acct(1), Some(vec![1]))])).await.unwrap();
        c.commit(1, &cs(&[(acct(1), None)])).await.unwrap();
        let p = c.prove(&acct(1)).await.unwrap();
        verify_state_proof(c.root().unwrap(), &acct(1), None, &p).unwrap();
        drop(c);
        let mut c = Commitment::init(context.child("p2"), "p2").await.unwrap();

        let mut genesis = Changeset::new();
        for i in 0..2000u64 {
            genesis.insert(
                slot(7, i),
                Some(U256::from(i + 1).to_be_bytes::<32>().to_vec()),
            );
        }
        genesis.insert(acct(1), Some(account_value(42)));
        genesis.insert(StateKey::Code(B256::repeat_byte(5)), Some(vec![0x60; 3000]));
        c.commit(0, &genesis).await.unwrap();
        c.commit(
            1,
            &cs(&[(acct(1), Some(account_value(43))), (slot(7, 3), None)]),
        )
        .await
        .unwrap();
        let root = c.root().unwrap();

        // Inclusion.
        let (v, p) = c.get_with_proof(&acct(1)).await.unwrap();
        let v = v.unwrap();
        assert_eq!(v, account_value(43));
        assert_eq!(p.proves_absence(), Some(false));
        verify_state_proof(root, &acct(1), Some(&v), &p).unwrap();
        // Old value, other value, other key, other root.
        let err = verify_state_proof(root, &acct(1), Some(&account_value(42)), &p);
        assert_eq!(err, Err(ProofError::Invalid));
        assert_eq!(
            verify_state_proof(root, &acct(2), Some(&v), &p),
            Err(ProofError::Invalid)
        );
        let mut bad_root = root;
        bad_root.0[0] ^= 1;
        assert_eq!(
            verify_state_proof(bad_root, &acct(1), Some(&v), &p),
            Err(ProofError::Invalid)
        );
        assert_eq!(
            verify_state_proof(root, &acct(1), None, &p),
            Err(ProofError::KindMismatch("present"))
        );
        // Every single-bit flip of the proof is rejected.
        let bytes = p.as_bytes().to_vec();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            let t = StateProof::from_bytes(b).unwrap();
            assert!(
                verify_state_proof(root, &acct(1), Some(&v), &t).is_err(),
                "flip at {i}"
            );
        }
        // Truncated and extended.
        let t = StateProof::from_bytes(bytes[..bytes.len() - 1].to_vec()).unwrap();
        assert!(matches!(
            verify_state_proof(root, &acct(1), Some(&v), &t),
            Err(ProofError::Malformed(_))
        ));
        let mut ext = bytes.clone();
        ext.push(0);
        let t = StateProof::from_bytes(ext).unwrap();
        assert!(verify_state_proof(root, &acct(1), Some(&v), &t).is_err());

        // Exclusion: a deleted slot and a never-written account.
        for k in [slot(7, 3), acct(77)] {
            let (v, p) = c.get_with_proof(&k).await.unwrap();
            assert_eq!(v, None);
            assert_eq!(p.proves_absence(), Some(true));
            verify_state_proof(root, &k, None, &p).unwrap();
            assert_eq!(
                verify_state_proof(root, &k, Some(&[1]), &p),
                Err(ProofError::KindMismatch("absent"))
            );
            assert_eq!(
                verify_state_proof(bad_root, &k, None, &p),
                Err(ProofError::Invalid)
            );
            // The same proof does not show absence of a present key.
            assert!(verify_state_proof(root, &acct(1), None, &p).is_err());
        }

        // JSON round trip, and the bound on deserialization.
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.starts_with("\"0x"));
        let back: StateProof = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        let huge = format!("\"0x{}\"", "00".repeat(MAX_PROOF_BYTES + 1));
        assert!(serde_json::from_str::<StateProof>(&huge).is_err());
        assert!(serde_json::from_str::<StateProof>("\"0xzz\"").is_err());
        assert!(matches!(
            verify_state_proof(
                root,
                &acct(1),
                Some(&v),
                &StateProof::from_bytes(vec![]).unwrap()
            ),
            Err(ProofError::Malformed(_))
        ));
    });
}

/// Prints proof sizes and verification time; run with `--nocapture` to see them.
#[test]
fn proof_size_and_verify_time() {
    deterministic::Runner::default().start(|context| async move {
        let mut c = Commitment::init(context.child("m"), "m").await.unwrap();
        let n = 10_000u64;
        for block in 0..10u64 {
            let mut changes = Changeset::new();
            for i in 0..n / 10 {
                let k = slot(9, block * (n / 10) + i);
                changes.insert(k, Some(U256::from(i + 1).to_be_bytes::<32>().to_vec()));
            }
            c.commit(block, &changes).await.unwrap();
        }
        let root = c.root().unwrap();
        let key = slot(9, 1234);
        let (v, p) = c.get_with_proof(&key).await.unwrap();
        let v = v.unwrap();
        let absent = slot(9, n + 5);
        let (_, pa) = c.get_with_proof(&absent).await.unwrap();
        let iters = 2000u32;
        let t = std::time::Instant::now();
        for _ in 0..iters {
            verify_state_proof(root, &key, Some(&v), &p).unwrap();
        }
        let incl = t.elapsed() / iters;
        let t = std::time::Instant::now();
        for _ in 0..iters {
            verify_state_proof(root, &absent, None, &pa).unwrap();
        }
        let excl = t.elapsed() / iters;
        println!(
            "state of {n} slots: inclusion proof {} bytes, verify {incl:?}; \
             exclusion proof {} bytes, verify {excl:?}",
            p.len(),
            pa.len()
        );
        assert!(p.len() < 2048);
    });
}

#[test]
fn state_store_round_trip() {
    let dir = temp_dir("state-store");
    let path = dir.join("state.redb");
    {
        let s = StateStore::open(&path).unwrap();
        assert_eq!(s.height().unwrap(), None);
        assert!(matches!(
            s.apply(1, &Changeset::new()),
            Err(StorageError::Height { .. })
        ));
        s.apply(
            0,
            &cs(&[
                (acct(1), Some(account_value(7))),
                (slot(1, 1), Some(vec![1; 32])),
            ]),
        )
        .unwrap();
        // A snapshot keeps reading the state it was taken in.
        let before = s.snapshot().unwrap();
        s.apply(1, &cs(&[(slot(1, 1), None), (acct(2), Some(vec![2]))]))
            .unwrap();
        assert_eq!(before.get(&slot(1, 1)).unwrap(), Some(vec![1; 32]));
        assert_eq!(before.get(&acct(2)).unwrap(), None);
        assert_eq!(s.snapshot().unwrap().get(&acct(2)).unwrap(), Some(vec![2]));
        drop(before);
        assert!(matches!(
            s.apply(1, &Changeset::new()),
            Err(StorageError::Height { .. })
        ));
    }
    let s = StateStore::open(&path).unwrap();
    assert_eq!(s.height().unwrap(), Some(1));
    assert_eq!(s.get(&acct(1)).unwrap(), Some(account_value(7)));
    assert_eq!(s.get(&slot(1, 1)).unwrap(), None);
    assert_eq!(s.len().unwrap(), 2);
    s.rebuild(Some(9), vec![(acct(3), vec![3])]).unwrap();
    assert_eq!((s.height().unwrap(), s.len().unwrap()), (Some(9), 1));
    assert_eq!(s.get(&acct(3)).unwrap(), Some(vec![3]));
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn state_store_rebuilds_from_qmdb() {
    let dir = temp_dir("rebuild");
    let store = StateStore::open(dir.join("s.redb")).unwrap();
    let store2 = store.clone();
    deterministic::Runner::default().start(|context| async move {
        let mut c = Commitment::init(context.child("r"), "r").await.unwrap();
        let g = cs(&[
            (acct(1), Some(account_value(1))),
            (slot(2, 2), Some(vec![2; 32])),
        ]);
        c.commit(0, &g).await.unwrap();
        let mut entries = Vec::new();
        c.for_each_entry(|k, v| {
            entries.push((k, v));
            Ok(())
        })
        .await
        .unwrap();
        store2.rebuild(c.height(), entries).unwrap();
    });
    assert_eq!(store.height().unwrap(), Some(0));
    assert_eq!(store.get(&slot(2, 2)).unwrap(), Some(vec![2; 32]));
    let _ = std::fs::remove_dir_all(&dir);
}

fn log(address: Address, topics: Vec<B256>) -> alloy_primitives::Log {
    alloy_primitives::Log::new_unchecked(address, topics, Default::default())
}

fn receipt(tx_hash: B256, logs: Vec<alloy_primitives::Log>) -> StoredReceipt {
    use alloy_consensus::{Receipt, ReceiptEnvelope, ReceiptWithBloom};
    let receipt = Receipt {
        status: true.into(),
        cumulative_gas_used: 21_000,
        logs,
    };
    StoredReceipt {
        receipt: ReceiptEnvelope::Eip1559(ReceiptWithBloom::new(receipt, Default::default())),
        tx_hash,
        from: Address::ZERO,
        to: None,
        contract_address: None,
        gas_used: 21_000,
        effective_gas_price: 0,
    }
}

#[test]
fn index_blocks_and_logs() {
    let dir = temp_dir("index");
    let path = dir.join("index.redb");
    let (a1, a2) = (Address::repeat_byte(0xa1), Address::repeat_byte(0xa2));
    let (t1, t2) = (B256::repeat_byte(1), B256::repeat_byte(2));
    let idx = Index::open(&path).unwrap();
    for n in 0..50u64 {
        let hash = B256::from(U256::from(n + 1000));
        let mut logs = vec![vec![log(a1, vec![t1])], vec![]];
        if n % 5 == 0 {
            logs[1].push(log(a2, vec![t1, t2]));
        }
        let receipts: Vec<StoredReceipt> = logs
            .into_iter()
            .enumerate()
            .map(|(i, l)| receipt(B256::from(U256::from(n * 10 + 1 + i as u64)), l))
            .collect();
        let b = IndexedBlock {
            number: n,
            hash,
            block: &n.to_be_bytes(),
            receipts: &receipts,
            finalized_ms: 1_000 + n,
        };
        idx.index_block(&b).unwrap();
        // Re-indexing the same block is a no-op; another hash is refused.
        idx.index_block(&b).unwrap();
        assert!(
            idx.index_block(&IndexedBlock {
                hash: B256::ZERO,
                ..b
            })
            .is_err()
        );
    }
    let gap = IndexedBlock {
        number: 60,
        hash: B256::ZERO,
        block: &[],
        receipts: &[],
        finalized_ms: 0,
    };
    assert!(matches!(
        idx.index_block(&gap),
        Err(StorageError::Height { .. })
    ));
    drop(idx);

    let idx = Index::open(&path).unwrap();
    assert_eq!(idx.height().unwrap(), Some(49));
    assert_eq!(
        idx.block_by_number(7).unwrap(),
        Some(7u64.to_be_bytes().to_vec())
    );
    assert_eq!(idx.block_by_number(70).unwrap(), None);
    assert_eq!(
        idx.block_hash(7).unwrap(),
        Some(B256::from(U256::from(1007)))
    );
    assert_eq!(
        idx.block_number(&B256::from(U256::from(1007))).unwrap(),
        Some(7)
    );
    assert_eq!(
        idx.tx_location(&B256::from(U256::from(72))).unwrap(),
        Some((7, 1))
    );
    let stored = verai_primitives::decode_receipts(&idx.receipts(7).unwrap().unwrap()).unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].tx_hash, B256::from(U256::from(72)));

    let loc = |block, tx_index, log_index| LogLocation {
        block,
        tx_index,
        log_index,
    };
    let got = idx.logs_by_address(&a2, 10, 30, 100).unwrap();
    assert_eq!(
        got,
        vec![
            loc(10, 1, 1),
            loc(15, 1, 1),
            loc(20, 1, 1),
            loc(25, 1, 1),
            loc(30, 1, 1)
        ]
    );
    assert_eq!(
        idx.logs_by_address(&a1, 0, u64::MAX, 100).unwrap().len(),
        50
    );
    assert!(matches!(
        idx.logs_by_address(&a1, 0, 49, 10),
        Err(StorageError::TooManyResults(10))
    ));
    assert_eq!(
        idx.logs_by_topic(1, &t2, 0, 9, 100).unwrap(),
        vec![loc(0, 1, 1), loc(5, 1, 1)]
    );
    assert!(idx.logs_by_topic(0, &t2, 0, 49, 100).unwrap().is_empty());
    assert!(idx.logs_by_address(&a1, 9, 3, 100).unwrap().is_empty());

    let mut q = LogQuery {
        from: 0,
        to: 12,
        ..Default::default()
    };
    assert_eq!(idx.query_logs(&q, 100).unwrap(), None);
    q.topics[0] = vec![t1];
    assert_eq!(
        idx.query_logs(&q, 100).unwrap().map(|v| v.len()),
        Some(13 + 3)
    );
    q.addresses = vec![a2];
    assert_eq!(
        idx.query_logs(&q, 100).unwrap(),
        Some(vec![loc(0, 1, 1), loc(5, 1, 1), loc(10, 1, 1)])
    );
    q.topics[1] = vec![t1];
    assert_eq!(idx.query_logs(&q, 100).unwrap(), Some(vec![]));

    // Keyset pages: the same logs as one query, page by page, in chain order.
    let all_a1 = LogQuery {
        from: 0,
        to: 49,
        addresses: vec![a1],
        ..Default::default()
    };
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = idx.logs_page(&all_a1, cursor, 7).unwrap();
        assert!(page.len() <= 7);
        paged.extend(page);
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, idx.logs_by_address(&a1, 0, 49, 1000).unwrap());
    // A topic-driven page checks the other constraints by look-up.
    let mut both = LogQuery {
        from: 0,
        to: 49,
        addresses: vec![a2],
        ..Default::default()
    };
    both.topics[1] = vec![t2];
    let (page, next) = idx.logs_page(&both, None, 100).unwrap();
    assert_eq!(page.len(), 10);
    assert!(next.is_none());
    both.topics[1] = vec![t1];
    assert!(idx.logs_page(&both, None, 100).unwrap().0.is_empty());
    // A cursor before the range's start starts at the range.
    let late = LogQuery {
        from: 40,
        ..all_a1.clone()
    };
    let (page, _) = idx.logs_page(&late, Some(loc(3, 0, 0)), 5).unwrap();
    assert_eq!(page.first().map(|l| l.block), Some(40));
    // Transactions by address, newest first, with roles.
    let first_sender = idx.address_txs(&Address::ZERO, None, 3).unwrap();
    assert_eq!(first_sender.len(), 3);
    assert_eq!((first_sender[0].block, first_sender[0].index), (49, 1));
    let older = idx
        .address_txs(&Address::ZERO, Some((49, 0)), 1000)
        .unwrap();
    assert_eq!(older.len(), 98);
    assert_eq!(idx.finalized_at(7).unwrap(), Some(1_007));
    drop(idx);
    let _ = std::fs::remove_dir_all(&dir);
}
