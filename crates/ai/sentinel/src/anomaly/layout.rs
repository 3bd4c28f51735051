//! The compiled scoring layout of an [`IsolationForest`](super::IsolationForest): every tree's nodes as 16-byte
//! [`Slot`]s, breadth-first, each tree's first levels as a [`Top`] probe block with the
//! bounds below them, and the walk that scores a point against them.

use super::{Bbox, INode, beyond, expected_path};
use crate::store::{N_TX, TxFeatures};

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

/// Trees walked together by [`IsolationForest::mean_path`](super::IsolationForest::mean_path): their loads overlap instead of
/// waiting for each other (a forest of 100 trees does not fit in L2; one tree's walk is a
/// chain of dependent cache misses).
pub(super) const LANES: usize = 8;

/// Levels of every tree [`IsolationForest::mean_path_unless_above`](super::IsolationForest::mean_path_unless_above) descends before it walks
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
pub(super) struct Layout {
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
    pub(super) fn new(trees: &[Vec<INode>], boxes: &[Bbox]) -> Self {
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
    pub(super) fn outside(&self, x: &TxFeatures) -> u32 {
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

    /// The walk of [`IsolationForest::mean_path_unless_above`](super::IsolationForest::mean_path_unless_above) over the forest this layout
    /// was built from, of `trees` trees with sample boxes `boxes`: the mean path of `x`, or
    /// `None` once a bound proves it above `floor`, and the number of trees it walked.
    pub(super) fn walk(
        &self,
        boxes: &[Bbox],
        trees: usize,
        x: &TxFeatures,
        floor: f64,
    ) -> (Option<f64>, usize) {
        let slots = &self.slots[..];
        let outside = self.outside(x);
        let inside = outside == 0;
        let mut xp: Padded = [f64::NAN; 16];
        xp[..N_TX].copy_from_slice(x);
        let xp = &xp;
        // The bound and the sum round differently; a relative margin far above the rounding
        // of a few hundred additions keeps a proof a proof.
        let total = floor * trees as f64;
        let bar = total + total.abs() * 1e-9;
        let bounded = bar.is_finite();
        let stay = if inside { 1.0 } else { self.stay(x) };
        // Every tree's first levels: the least the forest can add. The walk below adds the
        // same terms again in the same order, so that `low - walked` is what the trees not
        // walked yet add at least, up to rounding.
        let mut low = 0.0;
        if bounded {
            for top in &self.tops {
                low += top.low(xp, inside, stay);
            }
            if low > bar {
                return (None, 0);
            }
        }
        let (mut sum, mut walked) = (0.0, 0.0);
        for (j, ((roots, boxes), tops)) in self
            .roots
            .chunks(LANES)
            .zip(boxes.chunks(LANES))
            .zip(self.tops.chunks(LANES))
            .enumerate()
        {
            let (mut at, mut depth) = ([0u32; LANES], [0u32; LANES]);
            at[..roots.len()].copy_from_slice(roots);
            // Every lane steps, those past a short last group on tree 0 (never summed): a
            // fixed number of lanes, which the compiler unrolls.
            for _ in 0..self.depth {
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
                    self.separation(j * LANES + k, b, x, outside)
                };
                sum += expected_path(self.leaf_h[*a as usize], d, p);
            }
            if bounded && sum + (low - walked) > bar {
                return (None, (j + 1) * LANES);
            }
        }
        (Some(sum / trees as f64), trees)
    }
}
