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

use crate::error::ModelError;
use crate::rng::SplitMix64;
use crate::store::{N_TX, TxFeatures};
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

/// A node of [`Layout`]: 16 bytes, siblings adjacent (right = `left + 1`). A leaf is a split
/// that leads back to itself: threshold NaN (`x < NaN` is false: "right"), left child the
/// slot before it. A walk then takes the same steps for every tree, with no branch on where
/// a path ends, which a branch predictor cannot learn.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Threshold of a split; NaN for a leaf.
    v: f64,
    /// Split feature (0 for a leaf).
    f: u32,
    /// Absolute index of the left child (a leaf's own index minus one, wrapping).
    left: u32,
}

impl Slot {
    /// The next slot of `x`'s walk: a child, or the leaf itself.
    #[inline]
    fn next(&self, x: &Padded) -> u32 {
        // `x < t` goes left; a NaN goes right, as in the tree. The mask changes no valid
        // index (below `N_TX`) and spares a bounds check per step.
        let left = x[(self.f & 15) as usize] < self.v;
        self.left.wrapping_add(u32::from(!left))
    }
}

/// A point's features padded to 16 (with NaN) for [`Slot::next`].
type Padded = [f64; 16];

/// Trees walked together by [`IsolationForest::mean_path`]: their loads overlap instead of
/// waiting for each other (a forest of 100 trees does not fit in L2; one tree's walk is a
/// chain of dependent cache misses).
const LANES: usize = 8;

/// Levels of every tree [`IsolationForest::mean_path_unless_above`] descends before it walks
/// any tree to its leaf. A tree's first levels are a small part of it ([`Top`], 19 KB for
/// 100 trees) that every transaction reads, so they stay in cache; below them the
/// least a tree can add is much higher than at its root (the short leaves that isolate the
/// sample's extremes hang off other branches). On 19,483 transactions admitted by a loaded
/// node (the throughput bench's, with the forests it fitted; bench/README.md, session 17),
/// three levels proved 99 % ordinary without a full walk, where bounds at the roots needed
/// 42 whole trees for points outside the common box and 27 inside; two levels proved 10 %,
/// and four, 99 % at a higher cost.
const PROBE_DEPTH: u32 = 3;

/// Every tree in one array of [`Slot`]s, breadth-first: half the size of [`INode`]s, and a
/// node's children share a cache line.
#[derive(Debug, Clone)]
struct Layout {
    slots: Vec<Slot>,
    /// Per slot: a leaf's adjusted path length (what a split holds is not read).
    leaf_h: Vec<f64>,
    /// The deepest leaf's depth: the steps of every walk.
    depth: u32,
    roots: Vec<u32>,
    /// Per tree, the features its sample box does not hold constant.
    varying: Vec<u32>,
    /// Per tree, its first levels and the bounds below them: what the probe reads.
    tops: Vec<Top>,
    /// The intersection of the trees' sample boxes: a point inside it is inside every box,
    /// so no tree cuts it off early (most traffic; saves a box test per tree).
    common: Bbox,
}

/// Splits in a tree's first [`PROBE_DEPTH`] levels, and nodes below them.
const TOP_SPLITS: usize = (1 << PROBE_DEPTH) - 1;
const TOP_ENDS: usize = 1 << PROBE_DEPTH;

/// A tree's first [`PROBE_DEPTH`] levels as a complete binary tree in heap order (children
/// of `i` at `2i + 1` and `2i + 2`; a leaf above the last level is a split with a NaN
/// threshold, which sends every point right, onto copies of itself), and the bounds of the
/// nodes a walk reaches there, in one 192-byte block: the probe reads 100 of them one after
/// the other (19 KB), where the slots it would read lie in 100 places of a 640 KB array.
#[derive(Debug, Clone, Copy)]
struct Top {
    v: [f64; TOP_SPLITS],
    f: [u8; TOP_SPLITS],
    /// Per end, the least path length a point that reaches it and lies inside the common
    /// box ends with: a leaf's adjusted length, a split's shortest leaf among those such a
    /// point can reach (the point's region narrows along the path: `x < t` goes left); for
    /// a split no such point reaches, `low_any`.
    low_in: [f64; TOP_ENDS],
    /// Per end, the shortest leaf at or below it.
    low_any: [f64; TOP_ENDS],
}

impl Top {
    /// Which end `x` reaches.
    #[inline]
    fn end(&self, x: &Padded) -> usize {
        let mut i = 0;
        while i < TOP_SPLITS {
            // As `Slot::next`: `x < t` goes left, a NaN right.
            let left = x[usize::from(self.f[i] & 15)] < self.v[i];
            i = 2 * i + 2 - usize::from(left);
        }
        i - TOP_SPLITS
    }

    /// The least this tree adds to the path sum of `x`: for a point inside the common
    /// box, the shortest leaf it can reach from the end it reaches (`low_in`). For a point
    /// outside, whose chance of not being cut off is at least `stay` ([`Layout::stay`]),
    /// the tree adds an average of lengths of at least 1 (cut off) and of its leaf's, at
    /// least the shortest `m` below that end (not cut off, a weight of at least `stay`): at
    /// least `1 + (m − 1)·stay` when `m >= 1`, else `m`.
    #[inline]
    fn low(&self, x: &Padded, inside: bool, stay: f64) -> f64 {
        let e = self.end(x);
        if inside {
            self.low_in[e]
        } else {
            let m = self.low_any[e];
            m.min(1.0) + (m - 1.0).max(0.0) * stay
        }
    }
}

impl Layout {
    fn new(trees: &[Vec<INode>], boxes: &[Bbox]) -> Self {
        let mut common = Bbox {
            lo: [f64::NEG_INFINITY; N_TX],
            hi: [f64::INFINITY; N_TX],
        };
        for b in boxes {
            for f in 0..N_TX {
                common.lo[f] = common.lo[f].max(b.lo[f]);
                common.hi[f] = common.hi[f].min(b.hi[f]);
            }
        }
        let n = trees.iter().map(Vec::len).sum();
        let mut slots = Vec::with_capacity(n);
        let (mut low_in, mut low_any) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut depth = 0;
        let mut roots = Vec::with_capacity(trees.len());
        let mut tops = Vec::with_capacity(trees.len());
        for tree in trees {
            let base = slots.len();
            roots.push(base as u32);
            // Breadth-first from the root; `queue[k]` is the tree node in slot `base + k`, its
            // depth and the region of the common box that reaches it (`None`: empty).
            let start = common.is_nonempty().then_some(common);
            let mut queue = vec![(0usize, 0u32, start)];
            let mut k = 0;
            while let Some(&(i, d, region)) = queue.get(k) {
                let n = tree[i];
                let me = (base + k) as u32;
                if n.l == 0 {
                    depth = depth.max(d);
                    slots.push(Slot {
                        v: f64::NAN,
                        f: 0,
                        left: me.wrapping_sub(1),
                    });
                } else {
                    let left = (base + queue.len()) as u32;
                    let f = usize::from(n.f);
                    // Inclusive bounds after narrowing can only admit more leaves: a lower,
                    // still valid, bound.
                    let l = region.filter(|b| b.lo[f] < n.t).map(|mut b| {
                        b.hi[f] = b.hi[f].min(n.t);
                        b
                    });
                    let r = region.filter(|b| b.hi[f] >= n.t).map(|mut b| {
                        b.lo[f] = b.lo[f].max(n.t);
                        b
                    });
                    queue.extend([(n.l as usize, d + 1, l), (n.r as usize, d + 1, r)]);
                    slots.push(Slot {
                        v: n.t,
                        f: u32::from(n.f),
                        left,
                    });
                }
                low_in.push(n.h);
                low_any.push(n.h);
                k += 1;
            }
            // Children come after their parent: from the last slot up, each split's bounds are
            // its children's.
            for k in (0..queue.len()).rev() {
                let s = base + k;
                if tree[queue[k].0].l == 0 {
                    continue;
                }
                let l = slots[s].left as usize;
                low_any[s] = low_any[l].min(low_any[l + 1]);
                let reach = |c: usize| queue[c - base].2.is_some();
                low_in[s] = match (queue[k].2.is_some(), reach(l), reach(l + 1)) {
                    (true, true, true) => low_in[l].min(low_in[l + 1]),
                    (true, true, false) => low_in[l],
                    (true, false, true) => low_in[l + 1],
                    _ => low_any[s],
                };
            }
            let mut slot_of = vec![0usize; tree.len()];
            for (k, (i, _, _)) in queue.iter().enumerate() {
                slot_of[*i] = base + k;
            }
            let mut at = [0usize; TOP_SPLITS + TOP_ENDS];
            let mut top = Top {
                v: [f64::NAN; TOP_SPLITS],
                f: [0; TOP_SPLITS],
                low_in: [0.0; TOP_ENDS],
                low_any: [0.0; TOP_ENDS],
            };
            for i in 0..TOP_SPLITS {
                let n = tree[at[i]];
                let (l, r) = if n.l == 0 {
                    (at[i], at[i])
                } else {
                    (top.v[i], top.f[i]) = (n.t, n.f);
                    (n.l as usize, n.r as usize)
                };
                (at[2 * i + 1], at[2 * i + 2]) = (l, r);
            }
            for e in 0..TOP_ENDS {
                let s = slot_of[at[TOP_SPLITS + e]];
                (top.low_in[e], top.low_any[e]) = (low_in[s], low_any[s]);
            }
            tops.push(top);
        }
        Self {
            slots,
            leaf_h: low_in,
            depth,
            roots,
            varying: boxes
                .iter()
                .map(|b| b.lo.iter().zip(&b.hi).filter(|(lo, hi)| hi > lo).count() as u32)
                .collect(),
            tops,
            common,
        }
    }

    /// A lower bound on every tree's chance of not cutting `x` off on its way to a leaf,
    /// for `x` outside the common box: `(1 − p̄)^depth`, `p̄` the separation of `x` from the
    /// common box. Every tree's box contains the common box, so its separation of `x` is at
    /// most `p̄` (each feature's `ext / (span + ext)` is at most the common box's, and at
    /// least as many features vary); 0 when the common box is empty on some feature.
    fn stay(&self, x: &TxFeatures) -> f64 {
        let c = &self.common;
        if !c.is_nonempty() {
            return 0.0;
        }
        let keep = 1.0 - c.separation(x);
        (0..self.depth).fold(1.0, |q, _| q * keep)
    }

    /// The features on which `x` is not inside the common box (a NaN is not), as bits: the
    /// only ones on which it can be outside a tree's box.
    fn outside(&self, x: &TxFeatures) -> u32 {
        let c = &self.common;
        (0..N_TX).fold(0, |m, f| {
            let inside = x[f] >= c.lo[f] && x[f] <= c.hi[f];
            m | (u32::from(!inside) << f)
        })
    }

    /// [`Bbox::separation`] of tree `t` (box `b`), the same bits, looking only at the
    /// features in `outside` ([`Self::outside`]): on the others `x` is inside every box,
    /// so they add nothing and count as varying when the box varies on them.
    #[inline]
    fn separation(&self, t: usize, b: &Bbox, x: &TxFeatures, mut outside: u32) -> f64 {
        let (mut sum, mut varying, mut cut) = (0.0, self.varying[t], false);
        while outside != 0 {
            let f = outside.trailing_zeros() as usize;
            outside &= outside - 1;
            let (lo, hi, v) = (b.lo[f], b.hi[f], x[f]);
            let ext = beyond(lo, hi, v);
            if ext > 0.0 {
                varying += u32::from(hi <= lo);
                cut = true;
                sum += ext / (hi - lo + ext);
            }
        }
        if cut { sum / f64::from(varying) } else { 0.0 }
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
    /// module docs for points outside a node's box. Trees are walked [`LANES`] at a time,
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
        let layout = self
            .layout
            .get_or_init(|| Layout::new(&self.trees, &self.boxes));
        let slots = &layout.slots[..];
        let outside = layout.outside(x);
        let inside = outside == 0;
        let mut xp: Padded = [f64::NAN; 16];
        xp[..N_TX].copy_from_slice(x);
        let xp = &xp;
        // The bound and the sum round differently; a relative margin far above the rounding
        // of a few hundred additions keeps a proof a proof.
        let total = floor * self.trees.len() as f64;
        let bar = total + total.abs() * 1e-9;
        let bounded = bar.is_finite();
        let stay = if inside { 1.0 } else { layout.stay(x) };
        // Every tree's first levels: the least the forest can add. The walk below adds the
        // same terms again in the same order, so that `low - walked` is what the trees not
        // walked yet add at least, up to rounding.
        let mut low = 0.0;
        if bounded {
            for top in &layout.tops {
                low += top.low(xp, inside, stay);
            }
            if low > bar {
                return (None, 0);
            }
        }
        let (mut sum, mut walked) = (0.0, 0.0);
        for (j, ((roots, boxes), tops)) in layout
            .roots
            .chunks(LANES)
            .zip(self.boxes.chunks(LANES))
            .zip(layout.tops.chunks(LANES))
            .enumerate()
        {
            let (mut at, mut depth) = ([0u32; LANES], [0u32; LANES]);
            at[..roots.len()].copy_from_slice(roots);
            // Every lane steps, those past a short last group on tree 0 (never summed): a
            // fixed number of lanes, which the compiler unrolls.
            for _ in 0..layout.depth {
                for (a, d) in at.iter_mut().zip(&mut depth) {
                    let next = slots[*a as usize].next(xp);
                    *d += u32::from(next != *a);
                    *a = next;
                }
            }
            if bounded {
                for top in tops {
                    walked += top.low(xp, inside, stay);
                }
            }
            for (k, ((a, d), b)) in at.iter().zip(depth).zip(boxes).enumerate() {
                let p = if inside {
                    0.0
                } else {
                    layout.separation(j * LANES + k, b, x, outside)
                };
                sum += expected_path(layout.leaf_h[*a as usize], d, p);
            }
            if bounded && sum + (low - walked) > bar {
                return (None, (j + 1) * LANES);
            }
        }
        (Some(sum / self.trees.len() as f64), self.trees.len())
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
                    rng.unit() * 0.5,
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
        let inlier = [0.0, 1.0, 10.0, 0.0, 0.0, 0.0, 1.0, 0.1, 0.2];
        let outlier = [12.0, 30.0, 0.0, 1.0, 6.0, 1.0, 5.0, 1.0, 5.0];
        let (si, so) = (forest.score(&inlier), forest.score(&outlier));
        assert!(so > 0.6 && si < 0.5, "outlier {so}, inlier {si}");
        assert!(forest.mean_path(&outlier) <= forest.path_threshold(0.6));
        assert!(forest.mean_path(&inlier) > forest.path_threshold(0.6));
    }

    #[test]
    fn a_value_beyond_the_sample_is_isolated() {
        let data = normal_traffic(2000, 5);
        let forest = IsolationForest::fit(&data, &ForestParams::default()).unwrap();
        let typical = [0.0, 1.0, 10.0, 0.0, 0.0, 0.0, 1.0, 0.15, 0.25];
        // The same transaction with one feature far beyond anything in the sample: a
        // classic forest scores it like the sample's maximum; here it is cut off early.
        let mut novel = typical;
        novel[8] = 20.0;
        let mut edge = typical;
        edge[8] = 0.5;
        let (t, e, n) = (
            forest.score(&typical),
            forest.score(&edge),
            forest.score(&novel),
        );
        assert!(
            n > 0.6 && n > e + 0.1 && e >= t,
            "typical {t}, edge {e}, novel {n}"
        );
        let why = forest.novelty(&novel);
        assert!(
            why[8] > 0.9 && why[..8].iter().all(|v| *v == 0.0),
            "{why:?}"
        );
        // Farther out is more anomalous.
        let mut farther = novel;
        farther[8] = 200.0;
        assert!(forest.score(&farther) > n);
    }

    /// `mean_path` one tree at a time over the fitted `INode`s, as the module docs define it.
    fn mean_path_tree_by_tree(f: &IsolationForest, x: &TxFeatures) -> f64 {
        let mut sum = 0.0;
        for (tree, b) in f.trees.iter().zip(&f.boxes) {
            let (mut i, mut depth) = (0usize, 0u32);
            while tree[i].l != 0 {
                let n = &tree[i];
                i = if x[n.f as usize] < n.t { n.l } else { n.r } as usize;
                depth += 1;
            }
            sum += expected_path(tree[i].h, depth, b.separation(x));
        }
        sum / f.trees.len() as f64
    }

    #[test]
    fn the_interleaved_walk_gives_the_tree_by_tree_bits() {
        let data = normal_traffic(3000, 11);
        // 100 trees (not a multiple of the lanes) and a forest smaller than one group.
        for trees in [100, 5] {
            let f = IsolationForest::fit(
                &data,
                &ForestParams {
                    trees,
                    ..Default::default()
                },
            )
            .unwrap();
            let mut points = normal_traffic(300, 12);
            points.extend(
                normal_traffic(100, 13)
                    .into_iter()
                    .map(|p| p.map(|v| v * 40.0 - 7.0)),
            );
            points.push([f64::NAN; N_TX]);
            for x in &points {
                let (a, b) = (f.mean_path(x), mean_path_tree_by_tree(&f, x));
                assert_eq!(a.to_bits(), b.to_bits(), "{x:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn an_early_exit_is_a_proof_and_otherwise_the_same_bits() {
        let f = IsolationForest::fit(&normal_traffic(3000, 21), &ForestParams::default()).unwrap();
        let mut points = normal_traffic(300, 22);
        points.extend(
            normal_traffic(100, 23)
                .into_iter()
                .map(|p| p.map(|v| v * 40.0 - 7.0)),
        );
        let (mut exits, mut kept) = (0, 0);
        for x in &points {
            let exact = f.mean_path(x);
            // Floors around the point's own path, and the default policy's (score 0.7).
            for floor in [
                exact - 1.0,
                exact - 1e-12,
                exact,
                exact + 1e-12,
                exact + 1.0,
                f.path_threshold(0.7),
            ] {
                match f.mean_path_unless_above(x, floor) {
                    None => {
                        assert!(exact > floor, "{exact} cleared {floor}");
                        exits += 1;
                    }
                    Some(p) => {
                        assert_eq!(p.to_bits(), exact.to_bits());
                        kept += 1;
                    }
                }
            }
            // At or above its own path, the walk must finish.
            assert!(f.mean_path_unless_above(x, exact).is_some());
        }
        assert!(exits > 0 && kept > 0, "{exits} exits, {kept} kept");
    }

    /// The bounds that end a walk early are what make admission cheap: most transactions
    /// are proven ordinary by the forest's first levels alone, or after a few trees,
    /// inside the trees' common box or not. On this traffic they walk 0.3 trees to the end
    /// inside and 0.8 outside; with bounds taken at the roots (session 16), 28 and 32.
    #[test]
    fn ordinary_points_are_proven_so_early_inside_the_common_box_or_not() {
        let f = IsolationForest::fit(&normal_traffic(3000, 31), &ForestParams::default()).unwrap();
        let layout = f.layout.get_or_init(|| Layout::new(&f.trees, &f.boxes));
        let floor = f.path_threshold(0.7);
        let (mut inside, mut outside) = ((0, 0), (0, 0));
        for x in &normal_traffic(2000, 32) {
            let (path, walked) = f.walk(x, floor);
            assert!(path.is_none_or(|p| p <= floor), "{x:?}");
            let tally = if layout.outside(x) == 0 {
                &mut inside
            } else {
                &mut outside
            };
            *tally = (tally.0 + 1, tally.1 + walked);
        }
        let mean = |(n, w): (usize, usize)| w as f64 / n.max(1) as f64;
        assert!(inside.0 > 100 && outside.0 > 100, "{inside:?} {outside:?}");
        assert!(
            mean(inside) <= 4.0 && mean(outside) <= 8.0,
            "trees walked: {} inside, {} outside",
            mean(inside),
            mean(outside)
        );
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
