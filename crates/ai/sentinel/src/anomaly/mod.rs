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
//! **Points outside the training data.** A classic isolation tree only cuts within the
//! range of its sample, so a value beyond everything seen (a collector sweeping 20 payers'
//! funds when no account ever did) follows the most extreme sample's branch and scores like
//! it: the forest cannot see novelty beyond its sample's bounding box. Scoring therefore
//! takes the expected path length of `x` as if it had been in the sample, as Robust Random
//! Cut Forests do (Guha et al., ICML 2016): at a node whose rows' box does not contain `x`,
//! the node's random cut (feature uniform among those that vary once `x` is added,
//! threshold uniform over the widened range) separates `x` with probability
//! `p = mean_f ext_f / (span_f + ext_f)`, ending its path one level down. Only each tree's
//! sample box is kept (boxes at every node would add 144 bytes to each node and triple the
//! admission latency, measured), and its `p` is used at every level of the path: the
//! expected length is `Σ_{k<d} (1−p)^k p (k+1) + (1−p)^d h` for a leaf at depth `d` with
//! classic length `h`. Deeper boxes are narrower, so this understates the separation: it
//! is conservative. A point inside the box scores exactly as in the classic forest.
//!
//! Invariants: every tree is non-empty; children come after their parent (walks end);
//! feature indices are below [`N_TX`].

mod layout;
#[cfg(test)]
mod tests;

use crate::error::ModelError;
use crate::rng::SplitMix64;
use crate::store::{N_TX, TxFeatures};
use layout::Layout;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

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

/// The bounding box of a tree's sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bbox {
    /// Per-feature minimum.
    pub lo: [f64; N_TX],
    /// Per-feature maximum.
    pub hi: [f64; N_TX],
}

impl Bbox {
    /// Whether some point lies in the box (no feature's low end above its high end, no NaN).
    fn is_nonempty(&self) -> bool {
        self.lo.iter().zip(&self.hi).all(|(lo, hi)| lo <= hi)
    }

    /// Probability that a random cut separates `x` from the box's rows (0 inside the box):
    /// the definition that [`Layout::separation`] computes faster.
    fn separation(&self, x: &TxFeatures) -> f64 {
        let mut sum = 0.0;
        let mut varying = 0u32;
        let mut outside = false;
        for ((&lo, &hi), &v) in self.lo.iter().zip(&self.hi).zip(x) {
            let ext = beyond(lo, hi, v);
            let span = hi - lo + ext;
            if span > 0.0 {
                varying += 1;
                if ext > 0.0 {
                    outside = true;
                    sum += ext / span;
                }
            }
        }
        if outside {
            sum / f64::from(varying)
        } else {
            0.0
        }
    }
}

/// A fitted forest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IsolationForest {
    /// How it was fitted.
    pub params: ForestParams,
    /// Rows it was fitted on.
    pub rows: usize,
    /// c(ψ): the mean path length normalizer.
    pub c_psi: f64,
    /// The trees.
    pub trees: Vec<Vec<INode>>,
    /// Each tree's sample box.
    pub boxes: Vec<Bbox>,
    /// The trees laid out for scoring (derived from `trees`): built by `fit`, or on first use
    /// for a deserialized forest.
    #[serde(skip)]
    layout: OnceLock<Layout>,
}

impl PartialEq for IsolationForest {
    fn eq(&self, o: &Self) -> bool {
        (
            &self.params,
            self.rows,
            self.c_psi,
            &self.trees,
            &self.boxes,
        ) == (&o.params, o.rows, o.c_psi, &o.trees, &o.boxes)
    }
}

/// How far `v` lies outside `[lo, hi]` (0 inside, and for a NaN).
#[inline]
fn beyond(lo: f64, hi: f64, v: f64) -> f64 {
    if v < lo {
        lo - v
    } else if v > hi {
        v - hi
    } else {
        0.0
    }
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
        // c(n) for every leaf size, once (each is a harmonic sum).
        let cs: Vec<f64> = (0..=psi).map(c).collect();
        let mut idx: Vec<usize> = (0..samples.len()).collect();
        let mut trees = Vec::with_capacity(params.trees);
        let mut boxes = Vec::with_capacity(params.trees);
        for _ in 0..params.trees {
            // Partial Fisher-Yates: the first psi entries are a uniform sample.
            for i in 0..psi {
                let j = i + rng.below((idx.len() - i) as u64) as usize;
                idx.swap(i, j);
            }
            // The tree grows over a contiguous copy of its sample (18 KB for ψ = 256), in the
            // sample's order, so the forest is the same bits: each level scans every row
            // twice, and rows scattered over the history cost a fit of 8,192 rows 3.6-4.3 ms
            // against 3.0-3.2 ms (medians of 30 fits, release build).
            let sample: Vec<TxFeatures> = idx[..psi].iter().map(|&r| samples[r]).collect();
            let mut rows: Vec<usize> = (0..psi).collect();
            let mut b = Bbox {
                lo: [f64::INFINITY; N_TX],
                hi: [f64::NEG_INFINITY; N_TX],
            };
            for x in &sample {
                for (f, &v) in x.iter().enumerate() {
                    b.lo[f] = b.lo[f].min(v);
                    b.hi[f] = b.hi[f].max(v);
                }
            }
            boxes.push(b);
            let mut nodes = Vec::new();
            grow(
                &sample,
                &mut rows,
                0,
                height_limit,
                &mut rng,
                &mut nodes,
                &cs,
            );
            trees.push(nodes);
        }
        // The layout is built here, by the fitter (the node's sentinel thread), rather than
        // by the first admission that scores against the new forest.
        let layout = OnceLock::from(Layout::new(&trees, &boxes));
        Ok(Self {
            params: params.clone(),
            rows: samples.len(),
            c_psi: c(psi),
            trees,
            boxes,
            layout,
        })
    }

    /// Mean expected path length of `x` over the trees (shorter = more anomalous); see the
    /// module docs for points outside a node's box. Trees are walked [`LANES`](layout::LANES) at a time,
    /// but their contributions are added in tree order: the result does not depend on it.
    pub fn mean_path(&self, x: &TxFeatures) -> f64 {
        self.mean_path_unless_above(x, f64::INFINITY)
            .unwrap_or(f64::INFINITY)
    }

    /// [`Self::mean_path`], or `None` once a lower bound proves it above `floor`:
    /// admission needs the exact path only near or below its threshold. The bound first
    /// comes from every tree's first three levels (the least a tree can add
    /// below the node `x` reaches there), which proves typical traffic ordinary without
    /// walking any tree to its leaf; otherwise trees are walked to their leaves eight at a
    /// time, each replacing its bound with its exact length, until the sum proves it or
    /// the forest ends. `Some` is bit-identical to `mean_path`.
    pub fn mean_path_unless_above(&self, x: &TxFeatures, floor: f64) -> Option<f64> {
        self.walk(x, floor).0
    }

    /// [`Self::mean_path_unless_above`] and the number of trees it walked.
    fn walk(&self, x: &TxFeatures, floor: f64) -> (Option<f64>, usize) {
        self.layout
            .get_or_init(|| Layout::new(&self.trees, &self.boxes))
            .walk(&self.boxes, self.trees.len(), x, floor)
    }

    /// How far outside the trees' samples each feature of `x` lies: per feature, the mean
    /// over the trees of `ext / (span + ext)` at the root (0 inside every sample's range,
    /// towards 1 far beyond it). Explains an alert; not on the admission path.
    pub fn novelty(&self, x: &TxFeatures) -> [f64; N_TX] {
        let mut out = [0f64; N_TX];
        for root in &self.boxes {
            for (f, o) in out.iter_mut().enumerate() {
                let (lo, hi, v) = (root.lo[f], root.hi[f], x[f]);
                let ext = (lo - v).max(0.0) + (v - hi).max(0.0);
                if ext > 0.0 {
                    *o += ext / (hi - lo + ext);
                }
            }
        }
        out.map(|v| v / self.trees.len() as f64)
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
        if self.boxes.len() != self.trees.len() || self.boxes.iter().any(|b| !b.is_nonempty()) {
            return bad("bad bounding boxes");
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

/// Expected path length through a tree whose leaf for `x` has adjusted length `h` at
/// `depth`, when each level cuts `x` off with probability `p` (module docs).
fn expected_path(h: f64, depth: u32, p: f64) -> f64 {
    if p > 0.0 {
        // Cut off at level k (path k + 1) with probability (1 − p)^k p.
        let (mut path, mut reach) = (0.0, 1.0);
        for k in 0..depth {
            path += reach * p * f64::from(k + 1);
            reach *= 1.0 - p;
        }
        path + reach * h
    } else {
        h
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
    cs: &[f64],
) -> u32 {
    let me = nodes.len();
    // The rows' bounding box; features that still vary among them.
    // One pass over the rows (each row's features are contiguous; the rows are not).
    let mut bl = [f64::INFINITY; N_TX];
    let mut bh = [f64::NEG_INFINITY; N_TX];
    for &r in rows.iter() {
        for ((lo, hi), &v) in bl.iter_mut().zip(&mut bh).zip(&samples[r]) {
            *lo = lo.min(v);
            *hi = hi.max(v);
        }
    }
    let mut varying = [0usize; N_TX];
    let mut nv = 0;
    for f in 0..N_TX {
        if bh[f] > bl[f] {
            varying[nv] = f;
            nv += 1;
        }
    }
    nodes.push(INode {
        f: 0,
        t: 0.0,
        l: 0,
        r: 0,
        h: depth as f64 + cs[rows.len()],
    });
    if depth >= limit || rows.len() <= 1 || nv == 0 {
        return me as u32;
    }
    let f = varying[rng.below(nv as u64) as usize];
    let (lo, hi) = (bl[f], bh[f]);
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
    let l = grow(samples, left_rows, depth + 1, limit, rng, nodes, cs);
    let r = grow(samples, right_rows, depth + 1, limit, rng, nodes, cs);
    nodes[me] = INode {
        f: f as u8,
        t,
        l,
        r,
        h: 0.0,
    };
    me as u32
}
