//! Unit tests of the isolation forest: fitting, scoring, the layout's walk against the
//! tree-by-tree definition, and its early exits.

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
