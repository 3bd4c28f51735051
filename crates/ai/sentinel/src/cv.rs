//! Stratified k-fold cross-validation.
//!
//! Fold assignment: the rows of each class are shuffled with [`SplitMix64`] seeded by the
//! seed, then dealt to folds 0, 1, …, k-1 in turn, so every fold holds the class ratio of the
//! whole file (±1 row) and the same (labels, k, seed) always gives the same folds. The
//! benchmark exports this assignment so a Python baseline trains on exactly the same folds.
//!
//! Each fold's model is trained on the other k-1 folds with the recipe's parameters and
//! scores its own fold; the pooled metrics are computed over all out-of-fold margins.

use crate::dataset::Dataset;
use crate::error::ModelError;
use crate::features::ModelFeatures;
use crate::metrics::evaluate;
use crate::model::{TrainParams, logit, train};
use crate::rng::SplitMix64;

/// The fold (0..k) of every row.
pub fn stratified_folds(labels: &[u8], k: usize, seed: u64) -> Vec<usize> {
    let mut folds = vec![0usize; labels.len()];
    let mut rng = SplitMix64::new(seed);
    for class in [0u8, 1u8] {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rng.shuffle(&mut rows);
        for (j, r) in rows.into_iter().enumerate() {
            folds[r] = j % k.max(1);
        }
    }
    folds
}

pub use crate::metrics::CvSummary;

/// Runs stratified k-fold cross-validation of a recipe; `progress(done, total)` is called
/// after each fold.
pub fn cross_validate(
    ds: &Dataset,
    x: &[ModelFeatures],
    params: &TrainParams,
    k: usize,
    mut progress: impl FnMut(usize, usize),
) -> Result<CvSummary, ModelError> {
    if k < 2 || k > ds.len() {
        return Err(ModelError::Param(format!(
            "folds must be in 2..={} (rows), got {k}",
            ds.len()
        )));
    }
    let folds = stratified_folds(&ds.labels, k, params.seed);
    let decision = logit(params.threshold);
    let mut oof = vec![0f64; ds.len()];
    let mut per_fold = Vec::with_capacity(k);
    for fold in 0..k {
        let (test, train_rows): (Vec<usize>, Vec<usize>) =
            (0..ds.len()).partition(|&i| folds[i] == fold);
        let model = train(ds, x, &train_rows, params)?;
        let margins: Vec<f64> = test.iter().map(|&i| model.margin(&x[i])).collect();
        let labels: Vec<u8> = test.iter().map(|&i| ds.labels[i]).collect();
        per_fold.push(evaluate(&margins, &labels, decision));
        for (&i, m) in test.iter().zip(margins) {
            oof[i] = m;
        }
        progress(fold + 1, k);
    }
    let f1s: Vec<f64> = per_fold.iter().map(|m| m.f1).collect();
    let mean = f1s.iter().sum::<f64>() / k as f64;
    let var = f1s.iter().map(|f| (f - mean) * (f - mean)).sum::<f64>() / k as f64;
    Ok(CvSummary {
        folds: k,
        seed: params.seed,
        pooled: evaluate(&oof, &ds.labels, decision),
        per_fold,
        f1_mean: mean,
        f1_std: var.sqrt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified_and_seeded() {
        let labels: Vec<u8> = (0..1000).map(|i| u8::from(i % 5 == 0)).collect();
        let f = stratified_folds(&labels, 5, 1);
        for fold in 0..5 {
            let rows: Vec<usize> = (0..1000).filter(|&i| f[i] == fold).collect();
            assert_eq!(rows.len(), 200);
            assert_eq!(rows.iter().filter(|&&i| labels[i] == 1).count(), 40);
        }
        assert_eq!(f, stratified_folds(&labels, 5, 1));
        assert_ne!(f, stratified_folds(&labels, 5, 2));
    }
}
