//! Binary classification metrics on the fraud class: confusion matrix, precision, recall,
//! F1, accuracy and ROC-AUC.
//!
//! A row is predicted fraud when its margin is at least the decision margin (the logit of
//! the probability threshold). ROC-AUC is the Mann-Whitney statistic on the margins, with
//! ties counted as one half.

use serde::{Deserialize, Serialize};

/// Counts of a binary confusion matrix (positive = fraud).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    /// Fraud predicted fraud.
    pub tp: u64,
    /// Normal predicted fraud.
    pub fp: u64,
    /// Normal predicted normal.
    pub tn: u64,
    /// Fraud predicted normal.
    pub fn_: u64,
}

/// Metrics of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Rows evaluated.
    pub rows: u64,
    /// Confusion matrix.
    pub confusion: Confusion,
    /// tp / (tp + fp); 0 when nothing was predicted fraud.
    pub precision: f64,
    /// tp / (tp + fn); 0 without fraud rows.
    pub recall: f64,
    /// Harmonic mean of precision and recall (fraud class).
    pub f1: f64,
    /// Share of rows classified correctly.
    pub accuracy: f64,
    /// Area under the ROC curve; `NaN` with only one class present.
    pub roc_auc: f64,
}

/// Computes the metrics of margins against labels (1 = fraud) at a decision margin.
pub fn evaluate(margins: &[f64], labels: &[u8], decision_margin: f64) -> Metrics {
    let mut c = Confusion::default();
    for (&m, &y) in margins.iter().zip(labels) {
        match (m >= decision_margin, y == 1) {
            (true, true) => c.tp += 1,
            (true, false) => c.fp += 1,
            (false, false) => c.tn += 1,
            (false, true) => c.fn_ += 1,
        }
    }
    let div = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let precision = div(c.tp, c.tp + c.fp);
    let recall = div(c.tp, c.tp + c.fn_);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    let rows = margins.len().min(labels.len()) as u64;
    Metrics {
        rows,
        confusion: c,
        precision,
        recall,
        f1,
        accuracy: div(c.tp + c.tn, rows),
        roc_auc: roc_auc(margins, labels),
    }
}

/// ROC-AUC by ranks (average rank for ties).
pub fn roc_auc(scores: &[f64], labels: &[u8]) -> f64 {
    let n = scores.len().min(labels.len());
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut pos, mut rank_sum) = (0u64, 0f64);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        // ranks i+1 ..= j+1 share their average
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] == 1 {
                pos += 1;
                rank_sum += avg;
            }
        }
        i = j + 1;
    }
    let neg = n as u64 - pos;
    if pos == 0 || neg == 0 {
        return f64::NAN;
    }
    (rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos as f64 * neg as f64)
}

/// Figures of one cross-validation run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvSummary {
    /// Number of folds.
    pub folds: usize,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// Metrics over all out-of-fold predictions.
    pub pooled: Metrics,
    /// Metrics of each fold.
    pub per_fold: Vec<Metrics>,
    /// Mean of the per-fold fraud-class F1.
    pub f1_mean: f64,
    /// Standard deviation of the per-fold F1.
    pub f1_std: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_and_scores() {
        let m = evaluate(&[2.0, 1.0, -1.0, 0.5, -3.0], &[1, 0, 1, 1, 0], 0.0);
        assert_eq!(
            m.confusion,
            Confusion {
                tp: 2,
                fp: 1,
                tn: 1,
                fn_: 1
            }
        );
        assert!((m.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.f1 - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.accuracy - 0.6).abs() < 1e-12);
    }

    #[test]
    fn auc_perfect_inverse_and_ties() {
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &[0, 0, 1, 1]), 1.0);
        assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &[0, 0, 1, 1]), 0.0);
        assert_eq!(roc_auc(&[0.5, 0.5, 0.5, 0.5], &[0, 1, 0, 1]), 0.5);
        // pos {0.8, 0.4} vs neg {0.6, 0.2}: 3 of 4 pairs ordered
        assert_eq!(roc_auc(&[0.8, 0.4, 0.6, 0.2], &[1, 1, 0, 0]), 0.75);
        assert!(roc_auc(&[0.1], &[1]).is_nan());
    }
}
