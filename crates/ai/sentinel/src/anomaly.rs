//! Unsupervised anomaly detector: an isolation forest (Liu, Ting, Zhou 2008) over the
//! per-transaction features of [`crate::store::TX_FEATURES`].
//!
//! Written here rather than taken from a crate (DESIGN.md): the crates tried either fit with
//! an unseedable generator or are too slow. Fitting uses [`SplitMix64`] from a seed, so the
//! same history and seed give the same forest on every machine. Scoring uses no
//! transcendental functions: each leaf stores its adjusted path length (depth + c(size),
//! with c from exact harmonic sums, no `ln`), a score is the mean path length over the
//! trees, and a decision compares that mean with the path length equivalent of a score
//! threshold (computed once, [`IsolationForest::path_threshold`]). Shorter paths are more
//! anomalous; the classic score `2^(-E[h] / c(ψ))` is reported for display.
//!
//! Invariants: every tree is non-empty; children come after their parent (walks end);
//! feature indices are below [`N_TX`].

use crate::error::ModelError;
use crate::rng::SplitMix64;
use crate::store::{N_TX, TxFeatures};
use serde::{Deserialize, Serialize};

/// Fit parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    /// Number of trees.
    pub trees: usize,
    /// Rows sampled (without replacement) per tree, ψ.
    pub sample_size: usize,
    /// Generator seed.
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        Self {
            trees: 100,
            sample_size: 256,
            seed: 1,
        }
    }
}

/// A node: a split (`l != 0`) or a leaf holding its adjusted path length `h`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct INode {
    /// Split feature.
    pub f: u8,
    /// Threshold: `x < t` goes left.
    pub t: f64,
    /// Left child; 0 marks a leaf.
    pub l: u32,
    /// Right child.
    pub r: u32,
    /// Leaf: depth + c(rows in the leaf).
    pub h: f64,
}

/// A fitted forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsolationForest {
    /// How it was fitted.
    pub params: ForestParams,
    /// Rows it was fitted on.
    pub rows: usize,
    /// c(ψ): the mean path length normalizer.
    pub c_psi: f64,
    /// The trees.
    pub trees: Vec<Vec<INode>>,
}

/// Average path length of an unsuccessful BST search among `n` items:
/// `2 H(n-1) − 2 (n-1) / n`, with the harmonic number summed exactly.
pub fn c(n: usize) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    let h: f64 = (1..n).map(|i| 1.0 / i as f64).sum();
    2.0 * h - 2.0 * (n - 1) as f64 / n as f64
}

impl IsolationForest {
    /// Fits a forest on samples (e.g. the store's recent transaction history).
    pub fn fit(samples: &[TxFeatures], params: &ForestParams) -> Result<Self, ModelError> {
        if samples.len() < 2 {
            return Err(ModelError::Param("need at least 2 samples".into()));
        }
        if params.trees == 0 || params.trees > 10_000 || params.sample_size < 2 {
            return Err(ModelError::Param(
                "trees in 1..=10000, sample_size >= 2".into(),
            ));
        }
        if samples.iter().any(|s| s.iter().any(|v| !v.is_finite())) {
            return Err(ModelError::Param("samples must be finite".into()));
        }
        let psi = params.sample_size.min(samples.len());
        let height_limit = (usize::BITS - (psi - 1).leading_zeros()) as usize;
        let mut rng = SplitMix64::new(params.seed);
        let mut idx: Vec<usize> = (0..samples.len()).collect();
        let mut trees = Vec::with_capacity(params.trees);
        for _ in 0..params.trees {
            // Partial Fisher-Yates: the first psi entries are a uniform sample.
            for i in 0..psi {
                let j = i + rng.below((idx.len() - i) as u64) as usize;
                idx.swap(i, j);
            }
            let mut rows = idx[..psi].to_vec();
            let mut nodes = Vec::new();
            grow(samples, &mut rows, 0, height_limit, &mut rng, &mut nodes);
            trees.push(nodes);
        }
        Ok(Self {
            params: params.clone(),
            rows: samples.len(),
            c_psi: c(psi),
            trees,
        })
    }

    /// Mean adjusted path length of `x` over the trees (shorter = more anomalous).
    pub fn mean_path(&self, x: &TxFeatures) -> f64 {
        let mut sum = 0.0;
        for tree in &self.trees {
            let mut i = 0usize;
            loop {
                let n = &tree[i];
                if n.l == 0 {
                    sum += n.h;
                    break;
                }
                i = if x[n.f as usize] < n.t { n.l } else { n.r } as usize;
            }
        }
        sum / self.trees.len() as f64
    }

    /// The classic anomaly score in (0, 1]: `2^(-E[h] / c(ψ))`; for display.
    pub fn score(&self, x: &TxFeatures) -> f64 {
        score_of_path(self.mean_path(x), self.c_psi)
    }

    /// The mean path length at or below which the score is at least `score`.
    pub fn path_threshold(&self, score: f64) -> f64 {
        -self.c_psi * score.log2()
    }

    /// Checks structure (see the module invariants).
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: &str| Err(ModelError::Invalid(m.to_string()));
        if self.trees.is_empty() || self.c_psi.is_nan() || self.c_psi <= 0.0 {
            return bad("empty forest");
        }
        for tree in &self.trees {
            if tree.is_empty() {
                return bad("empty tree");
            }
            for (i, n) in tree.iter().enumerate() {
                if n.l == 0 {
                    if !n.h.is_finite() {
                        return bad("leaf path length not finite");
                    }
                    continue;
                }
                let ok = |c: u32| (c as usize) > i && (c as usize) < tree.len();
                if !(ok(n.l) && ok(n.r)) || n.f as usize >= N_TX || n.t.is_nan() {
                    return bad("bad node");
                }
            }
        }
        Ok(())
    }
}

/// `2^(-path / c_psi)`.
pub fn score_of_path(path: f64, c_psi: f64) -> f64 {
    (-path / c_psi).exp2()
}

fn grow(
    samples: &[TxFeatures],
    rows: &mut [usize],
    depth: usize,
    limit: usize,
    rng: &mut SplitMix64,
    nodes: &mut Vec<INode>,
) -> u32 {
    let me = nodes.len();
    let leaf = INode {
        f: 0,
        t: 0.0,
        l: 0,
        r: 0,
        h: depth as f64 + c(rows.len()),
    };
    nodes.push(leaf);
    if depth >= limit || rows.len() <= 1 {
        return me as u32;
    }
    // Features that still vary among these rows, with their ranges.
    let mut ranges = [(0f64, 0f64); N_TX];
    let mut varying = [0usize; N_TX];
    let mut nv = 0;
    for (f, range) in ranges.iter_mut().enumerate() {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &r in rows.iter() {
            lo = lo.min(samples[r][f]);
            hi = hi.max(samples[r][f]);
        }
        *range = (lo, hi);
        if hi > lo {
            varying[nv] = f;
            nv += 1;
        }
    }
    if nv == 0 {
        return me as u32;
    }
    let f = varying[rng.below(nv as u64) as usize];
    let (lo, hi) = ranges[f];
    let mut t = lo + rng.unit() * (hi - lo);
    if t <= lo {
        // Keep both sides non-empty: `x < t` must hold for the minimum.
        t = hi.min(lo + (hi - lo) / 2.0);
    }
    // Partition rows: `x < t` first.
    let mut split = 0;
    for i in 0..rows.len() {
        if samples[rows[i]][f] < t {
            rows.swap(i, split);
            split += 1;
        }
    }
    let (left_rows, right_rows) = rows.split_at_mut(split);
    let l = grow(samples, left_rows, depth + 1, limit, rng, nodes);
    let r = grow(samples, right_rows, depth + 1, limit, rng, nodes);
    nodes[me] = INode {
        f: f as u8,
        t,
        l,
        r,
        h: 0.0,
    };
    me as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal_traffic(n: usize, seed: u64) -> Vec<TxFeatures> {
        let mut rng = SplitMix64::new(seed);
        (0..n)
            .map(|_| {
                [
                    rng.unit() - 0.5,
                    (rng.below(3)) as f64,
                    8.0 + rng.unit() * 4.0,
                    f64::from(u8::from(rng.below(10) == 0)),
                    rng.unit() * 0.5 - 0.25,
                    f64::from(u8::from(rng.below(4) == 0)),
                    rng.unit() * 2.0,
                    rng.unit() * 0.3,
                ]
            })
            .collect()
    }

    #[test]
    fn c_matches_known_values() {
        assert_eq!(c(1), 0.0);
        assert_eq!(c(2), 1.0);
        // H(255) = 6.12047...: c(256) = 2·H(255) − 2·255/256 = 10.24869
        assert!((c(256) - 10.24869).abs() < 1e-5, "{}", c(256));
    }

    #[test]
    fn outliers_score_higher_than_inliers() {
        let data = normal_traffic(2000, 3);
        let forest = IsolationForest::fit(&data, &ForestParams::default()).unwrap();
        forest.validate().unwrap();
        let inlier = [0.0, 1.0, 10.0, 0.0, 0.0, 0.0, 1.0, 0.1];
        let outlier = [12.0, 30.0, 0.0, 1.0, 6.0, 1.0, 5.0, 1.0];
        let (si, so) = (forest.score(&inlier), forest.score(&outlier));
        assert!(so > 0.6 && si < 0.5, "outlier {so}, inlier {si}");
        assert!(forest.mean_path(&outlier) <= forest.path_threshold(0.6));
        assert!(forest.mean_path(&inlier) > forest.path_threshold(0.6));
    }

    #[test]
    fn fit_is_reproducible_from_the_seed() {
        let data = normal_traffic(500, 9);
        let p = ForestParams::default();
        let a = IsolationForest::fit(&data, &p).unwrap();
        let b = IsolationForest::fit(&data, &p).unwrap();
        assert_eq!(a, b);
        let json = serde_json::to_string(&a).unwrap();
        let back: IsolationForest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        let other = IsolationForest::fit(&data, &ForestParams { seed: 2, ..p }).unwrap();
        assert_ne!(a, other);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(IsolationForest::fit(&[[0.0; N_TX]], &ForestParams::default()).is_err());
        let nan = vec![[f64::NAN; N_TX]; 10];
        assert!(IsolationForest::fit(&nan, &ForestParams::default()).is_err());
        // Constant data: every tree is a single leaf, still valid.
        let flat = vec![[1.0; N_TX]; 10];
        let f = IsolationForest::fit(&flat, &ForestParams::default()).unwrap();
        assert!(f.trees.iter().all(|t| t.len() == 1));
    }
}
