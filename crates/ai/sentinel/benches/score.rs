//! Scoring latency of the sentinel at admission.
//!
//! Trains the fraud model on the data set (default recipe, as `verai sentinel train`; data
//! path from `VERAI_SENTINEL_DATA`, default `shared/data/eth-fraud/train.csv` beside the
//! repository or two levels up), feeds the feature store 200 blocks of synthetic traffic
//! (2,000 accounts, 20,000 transactions), fits the isolation forest on that history, then
//! measures one transaction's full scoring (`Sentinel::score_in`: features of sender and
//! recipient from the store, transaction features, both account margins with contributions,
//! the forest, then the policy's verdict), admission's path (`Sentinel::judge_cached`: cached
//! margins, the forest walk cut short once it proves the transaction ordinary), the same with
//! the exact score (`score_cached`), and one account's fraud margin (the model file's tree
//! walk against the compiled layout scoring uses, with and without contributions), with
//! criterion; and per-call p50/p99 over 200,000 calls timed one by one. Goal: p99 <= 20 µs.
//! Also admission after other work that fills the cache (768 KiB read), against that work
//! alone: scoring's cost in a cache it shares. And the anomaly forest alone, as admission
//! runs it (cut short at the policy's threshold), for transactions inside every tree's
//! sample box and for the others, warm and after the other work.
//!
//! `cargo bench -p verai-sentinel --bench score`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, U256};
use criterion::Criterion;
use std::hint::black_box;
use std::time::Instant;
use verai_sentinel::anomaly::{ForestParams, IsolationForest};
use verai_sentinel::compiled::CompiledModel;
use verai_sentinel::model::{feature_rows, train};
use verai_sentinel::rng::SplitMix64;
use verai_sentinel::{
    BlockActivity, ChainTx, Dataset, FeatureStore, Policy, RiskCache, Sentinel, TrainParams, TxView,
};

/// This crate's directory, read when the program runs: cargo and nextest set it, and a
/// build cache shared between clones at different paths would keep the compile-time one.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

const ACCOUNTS: u64 = 2_000;

fn addr(i: u64) -> Address {
    let mut b = [0u8; 20];
    b[12..].copy_from_slice(&(i + 1).to_be_bytes());
    Address::from(b)
}

fn setup() -> (Sentinel, FeatureStore, RiskCache, Vec<TxView>) {
    // shared/ sits beside the clone (CI) or two levels up (a worktree under wt/).
    let path = std::env::var("VERAI_SENTINEL_DATA").unwrap_or_else(|_| {
        let repo = manifest_dir().join("../../..").display().to_string();
        ["/../shared", "/../../shared"]
            .iter()
            .map(|up| format!("{repo}{up}/data/eth-fraud/train.csv"))
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or_default()
    });
    let ds = Dataset::load(std::path::Path::new(&path)).expect("data set");
    let x = feature_rows(&ds);
    let rows: Vec<usize> = (0..ds.len()).collect();
    let t = Instant::now();
    let model = train(&ds, &x, &rows, &TrainParams::default()).unwrap();
    let trees = model.trees.len();
    let nodes: usize = model.trees.iter().map(Vec::len).sum();
    eprintln!(
        "model: {trees} trees, {nodes} nodes, trained in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let hash = model.to_bytes().map(|b| sha2_digest(&b)).unwrap();

    let mut rng = SplitMix64::new(11);
    let mut store = FeatureStore::new();
    for b in 0..200u64 {
        let txs = (0..100)
            .map(|_| {
                let from = addr(rng.below(ACCOUNTS));
                ChainTx {
                    from,
                    to: Some(addr(rng.below(ACCOUNTS))),
                    value: U256::from(rng.below(5_000) as u128 * 1_000_000_000_000_000),
                    gas_price: 1_000_000_000 + u128::from(rng.below(1_000_000_000)),
                    to_is_contract: rng.below(5) == 0,
                    sender_balance: U256::from(rng.below(50_000) as u128 * 1_000_000_000_000_000),
                }
            })
            .collect();
        store.apply_block(&BlockActivity {
            number: b,
            timestamp: 1_700_000_000 + b * 12,
            txs,
            transfers: vec![],
        });
    }
    let history: Vec<_> = store.tx_history().iter().copied().collect();
    let forest = IsolationForest::fit(&history, &ForestParams::default()).unwrap();
    let sentinel = Sentinel::new(model, hash, Some(forest), Policy::default()).unwrap();
    let mut cache = RiskCache::new();
    let t = Instant::now();
    let n = sentinel.refresh(&mut store, &mut cache);
    eprintln!(
        "risk cache: {n} accounts refreshed in {:.1} ms ({:.1} µs each; paid once per \
         finalized block for the accounts it touched)",
        t.elapsed().as_secs_f64() * 1e3,
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let views = (0..4096)
        .map(|_| TxView {
            from: addr(rng.below(ACCOUNTS)),
            to: Some(addr(rng.below(ACCOUNTS + 500))),
            value: U256::from(rng.below(10_000) as u128 * 1_000_000_000_000_000),
            gas_price: 1_000_000_000 + u128::from(rng.below(3_000_000_000)),
            to_is_contract: rng.below(5) == 0,
            timestamp: 1_700_002_400 + rng.below(60),
            sender_balance: U256::from(rng.below(50_000) as u128 * 1_000_000_000_000_000),
        })
        .collect();
    (sentinel, store, cache, views)
}

fn sha2_digest(b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(b).into()
}

fn main() {
    let (sentinel, store, cache, views) = setup();
    let mut c = Criterion::default().configure_from_args();
    let mut i = 0usize;
    c.bench_function("admission: judge_cached (one transaction)", |b| {
        b.iter(|| {
            i = (i + 1) % views.len();
            black_box(sentinel.judge_cached(&store, &cache, black_box(&views[i])))
        })
    });
    c.bench_function("exact: score_cached + verdict (one transaction)", |b| {
        b.iter(|| {
            i = (i + 1) % views.len();
            let s = sentinel.score_cached(&store, &cache, black_box(&views[i]));
            black_box(sentinel.verdict(&s))
        })
    });
    c.bench_function(
        "uncached: score_in + verdict (both accounts' trees walked)",
        |b| {
            b.iter(|| {
                i = (i + 1) % views.len();
                let s = sentinel.score_in(&store, black_box(&views[i]));
                black_box(sentinel.verdict(&s))
            })
        },
    );
    // The forest alone, as admission runs it for a transaction neither account makes risky
    // (the walk cut short at the policy's anomaly threshold), for transactions inside every
    // tree's sample box (most of a node's ordinary traffic) and the others apart.
    let forest = sentinel.forest().expect("fitted");
    let floor = forest.path_threshold(Policy::default().flag_anomaly);
    let (inside, outside): (Vec<_>, Vec<_>) =
        views.iter().map(|v| store.tx_features(v)).partition(|x| {
            forest
                .boxes
                .iter()
                .all(|b| (0..x.len()).all(|f| x[f] >= b.lo[f] && x[f] <= b.hi[f]))
        });
    let classes = [
        ("inside every box", &inside),
        ("outside some box", &outside),
    ];
    for (label, xs) in classes {
        let proven = xs
            .iter()
            .filter(|x| forest.mean_path_unless_above(x, floor).is_none())
            .count();
        eprintln!(
            "forest, {label}: {} transactions, {proven} proven below the anomaly threshold \
             before the end of the walk",
            xs.len()
        );
        c.bench_function(&format!("forest alone, {label} (one transaction)"), |b| {
            b.iter(|| {
                i = (i + 1) % xs.len();
                black_box(forest.mean_path_unless_above(black_box(&xs[i]), floor))
            })
        });
    }
    // Between two admissions a node does other work that fills the cache: 768 KiB of cache
    // lines read in a shuffled order (more than a core's L2) stand in for it. The difference
    // between the two figures is what a transaction's scoring costs in a shared cache: its
    // own misses, and the other work's lines it evicts.
    let lines = 768 * 1024 / 64;
    let other: Vec<[u64; 8]> = (0..lines as u64).map(|k| [k; 8]).collect();
    let mut order: Vec<usize> = (0..lines).collect();
    let mut shuffle = SplitMix64::new(5);
    for k in (1..lines).rev() {
        order.swap(k, shuffle.below(k as u64 + 1) as usize);
    }
    let other_work = || {
        order
            .iter()
            .fold(0u64, |acc, &k| acc ^ black_box(other[k][0]))
    };
    c.bench_function("other work: 768 KiB of cache lines read", |b| {
        b.iter(|| black_box(other_work()))
    });
    c.bench_function("other work, then admission (judge_cached)", |b| {
        b.iter(|| {
            i = (i + 1) % views.len();
            black_box(other_work());
            black_box(sentinel.judge_cached(&store, &cache, black_box(&views[i])))
        })
    });
    for (label, xs) in classes {
        c.bench_function(
            &format!("other work, then the forest alone, {label}"),
            |b| {
                b.iter(|| {
                    i = (i + 1) % xs.len();
                    black_box(other_work());
                    black_box(forest.mean_path_unless_above(black_box(&xs[i]), floor))
                })
            },
        );
    }
    // One account's margin, over the views' senders in turn: one account's features again
    // and again would let the branch predictor learn its paths, which refreshes never see.
    let accounts: Vec<_> = views
        .iter()
        .map(|v| verai_sentinel::model_features(&store.features(&v.from)))
        .collect();
    let mut k = 0usize;
    let mut next = || {
        k = (k + 1) % accounts.len();
        &accounts[k]
    };
    // The file's tree walk against the layout scoring uses (`CompiledModel`), same run.
    c.bench_function("fraud model margin, file walk (Model::margin)", |b| {
        b.iter(|| black_box(sentinel.model().margin(black_box(next()))))
    });
    let compiled = CompiledModel::new(sentinel.model());
    c.bench_function(
        "fraud model margin, compiled (CompiledModel::margin)",
        |b| b.iter(|| black_box(compiled.margin(black_box(next())))),
    );
    let mut contrib = [0f64; verai_sentinel::features::N_MODEL];
    c.bench_function("with contributions, file walk", |b| {
        b.iter(|| {
            black_box(
                sentinel
                    .model()
                    .margin_with_contributions(black_box(next()), &mut contrib),
            )
        })
    });
    c.bench_function("with contributions, compiled", |b| {
        b.iter(|| black_box(compiled.margin_with_contributions(black_box(next()), &mut contrib)))
    });
    c.final_summary();

    // Per-call latency distributions, each call timed on its own (Instant costs ~20-30 ns).
    let calls = 200_000;
    let mut flagged = 0usize;
    for (label, path) in [
        ("admission, judge_cached", 0),
        ("exact, score_cached + verdict", 1),
        ("uncached, score_in + verdict", 2),
    ] {
        let mut lat = Vec::with_capacity(calls);
        for k in 0..calls {
            let v = &views[k % views.len()];
            let t = Instant::now();
            let alert = match path {
                0 => sentinel
                    .judge_cached(&store, &cache, black_box(v))
                    .is_some(),
                1 => {
                    let s = sentinel.score_cached(&store, &cache, black_box(v));
                    sentinel.verdict(&s).action != verai_sentinel::Action::Allow
                }
                _ => {
                    let s = sentinel.score_in(&store, black_box(v));
                    sentinel.verdict(&s).action != verai_sentinel::Action::Allow
                }
            };
            lat.push(t.elapsed().as_nanos() as u64);
            flagged += usize::from(path == 0 && alert);
        }
        lat.sort_unstable();
        let q = |p: f64| lat[((calls as f64 * p) as usize).min(calls - 1)] as f64 / 1000.0;
        println!(
            "{label}: {calls} calls, one thread: p50 {:.2} µs, p99 {:.2} µs, p99.9 {:.2} µs, \
             max {:.2} µs; goal p99 <= 20 µs: {}",
            q(0.50),
            q(0.99),
            q(0.999),
            lat[calls - 1] as f64 / 1000.0,
            if q(0.99) <= 20.0 { "met" } else { "NOT met" }
        );
    }
    println!(
        "({flagged} of {calls} synthetic transactions flagged or held; the traffic is random, \
         this is not a false-positive rate)"
    );
}
