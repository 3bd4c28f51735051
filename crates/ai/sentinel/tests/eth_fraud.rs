//! On the real data set (`shared/data/eth-fraud/train.csv`, read in place): loading,
//! reproducible training and a cross-validated F1 well above chance.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use verai_sentinel::model::{feature_rows, train};
use verai_sentinel::{Dataset, TrainParams, cross_validate};

/// This crate's directory, read when the program runs: cargo and nextest set it, and a
/// build cache shared between clones at different paths would keep the compile-time one.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

/// shared/ sits beside the clone (CI) or two levels up (a worktree under wt/).
fn data_path() -> PathBuf {
    let repo = manifest_dir().join("../../..");
    ["../shared", "../../shared"]
        .iter()
        .map(|up| repo.join(up).join("data/eth-fraud/train.csv"))
        .find(|p| p.exists())
        .expect("shared/data/eth-fraud/train.csv beside the repository")
}

#[test]
fn loads_the_data_set() {
    let ds = Dataset::load(&data_path()).unwrap();
    assert_eq!(ds.len(), 7872);
    assert_eq!(ds.fraud_count(), 1743);
    // The 654 rows without ERC-20 data load as missing values.
    let missing = ds.rows.iter().filter(|r| r[22].is_nan()).count();
    assert_eq!(missing, 654);
}

#[test]
fn training_is_reproducible_and_cross_validates() {
    let ds = Dataset::load(&data_path()).unwrap();
    let x = feature_rows(&ds);
    // A small recipe keeps the test quick; the default one is measured by the benchmark.
    let params = TrainParams {
        iterations: 60,
        learning_rate: 0.2,
        ..TrainParams::default()
    };
    let rows: Vec<usize> = (0..ds.len()).collect();
    let a = train(&ds, &x, &rows, &params).unwrap();
    let b = train(&ds, &x, &rows, &params).unwrap();
    assert_eq!(a.to_bytes().unwrap(), b.to_bytes().unwrap());
    assert_eq!(a.metadata.training_data_sha256, ds.sha256_hex());

    let cv = cross_validate(&ds, &x, &params, 3, |_, _| {}).unwrap();
    assert_eq!(cv.per_fold.len(), 3);
    assert_eq!(cv.pooled.rows, 7872);
    assert!(cv.pooled.f1 > 0.9, "{:?}", cv.pooled);
    assert!(cv.pooled.roc_auc > 0.98, "{:?}", cv.pooled);
}
