//! The engine on the shipped models: checks, refusals, and bit-identical outputs across
//! threads, runs and (through golden hashes) processes and machines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use verai_inference::{Model, ModelError, RunError, tensor_hash};

fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .join("../../..")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Deterministic, varied inputs (no RNG crate: a fixed LCG).
fn inputs(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 1.0
        })
        .collect()
}

fn hex(b: [u8; 32]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Hash of the outputs for 64 seeded inputs.
fn digest(model: &Model) -> String {
    let mut all = Vec::new();
    for seed in 0..64 {
        all.extend(model.run(&inputs(model.input_len(), seed)).unwrap());
    }
    hex(tensor_hash(&all))
}

/// Output hashes on the pinned instruction set. A change here means validators built from
/// this code would disagree with validators built before it: treat it as a hard fork.
const GOLDEN: &[(&str, &str)] = &[
    (
        "models/demand_forecast.onnx",
        "dfa47efddbb63b83050095251a5d6cd13abc3a9a0c1f3c4a1746fecec5b3e248",
    ),
    (
        "models/cnn_small.onnx",
        "c0d6d8708f8c2007473a57d13a32e82ccbba609f531f1e60cbafbf14812ff3cc",
    ),
];

#[test]
fn shipped_models_load_with_shapes_and_costs() {
    let m = Model::load(&read("models/demand_forecast.onnx")).unwrap();
    assert_eq!(m.input_shape(), &[1, 8]);
    assert_eq!(m.output_shape(), &[1, 1]);
    // 8*16 + 16*16 + 16*1 multiply-adds, plus the elements computed.
    assert!(m.ops() >= 400 && m.ops() < 2_000, "ops {}", m.ops());
    let c = Model::load(&read("models/cnn_small.onnx")).unwrap();
    assert_eq!(c.input_shape(), &[1, 1, 16, 16]);
    assert_eq!(c.output_shape(), &[1, 10]);
    // conv1 16*16*8*9 + conv2 8*8*16*72 + dense 256*10 multiply-adds = 94,720.
    assert!(c.ops() >= 94_720 && c.ops() < 200_000, "ops {}", c.ops());
    println!(
        "isa {}; demand ops {}; cnn ops {}",
        verai_inference::isa(),
        m.ops(),
        c.ops()
    );
}

#[test]
fn outputs_match_the_golden_hashes() {
    for (path, want) in GOLDEN {
        let m = Model::load(&read(path)).unwrap();
        assert_eq!(&digest(&m), want, "{path} on {}", verai_inference::isa());
    }
}

#[test]
fn identical_across_threads_and_reloads() {
    for (path, _) in GOLDEN {
        let bytes = read(path);
        let reference = digest(&Model::load(&bytes).unwrap());
        for threads in [1usize, 2, 4] {
            let model = Arc::new(Model::load(&bytes).unwrap());
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let m = model.clone();
                    std::thread::spawn(move || digest(&m))
                })
                .collect();
            for h in handles {
                assert_eq!(
                    h.join().unwrap(),
                    reference,
                    "{path} with {threads} threads"
                );
            }
        }
    }
}

#[test]
fn bad_models_are_refused_with_the_reason() {
    let e = Model::load(&read("crates/ai/inference/tests/fixtures/softmax.onnx")).unwrap_err();
    assert_eq!(
        e,
        ModelError::UnsupportedOperator {
            op: "Softmax".into(),
            node: "probabilities".into()
        }
    );
    assert!(e.to_string().contains("unsupported operator Softmax"));
    let e = Model::load(&read("crates/ai/inference/tests/fixtures/dynamic.onnx")).unwrap_err();
    assert!(
        matches!(e, ModelError::DynamicShape { which: "input", .. }),
        "{e}"
    );
    let e = Model::load(b"this is not an onnx file at all").unwrap_err();
    assert!(matches!(e, ModelError::NotOnnx(_)), "{e}");
    let e = Model::load(&vec![0u8; verai_inference::MAX_MODEL_BYTES + 1]).unwrap_err();
    assert!(matches!(e, ModelError::TooLarge { .. }), "{e}");
    // Every truncation of a real model is refused or loads; none panics the caller.
    let good = read("models/demand_forecast.onnx");
    for cut in (0..good.len()).step_by(97) {
        let _ = Model::load(&good[..cut]);
    }
    let e = Model::load(&[]).unwrap_err();
    assert!(
        matches!(e, ModelError::NotOnnx(_) | ModelError::Arity { .. }),
        "{e}"
    );
}

#[test]
fn bad_inputs_are_refused() {
    let m = Model::load(&read("models/demand_forecast.onnx")).unwrap();
    assert_eq!(
        m.run(&[1.0; 7]).unwrap_err(),
        RunError::InputLength {
            expected: 8,
            got: 7
        }
    );
    let mut x = vec![1.0; 8];
    x[3] = f32::NAN;
    assert_eq!(
        m.run(&x).unwrap_err(),
        RunError::NonFiniteInput { index: 3 }
    );
}
