//! Print the output digest of each model under an instruction-set edit, to compare a
//! machine or a tract setting against the consensus one.
//!
//!   cargo run -p verai-inference --example isa_digest -- pinned models/*.onnx
//!   cargo run -p verai-inference --example isa_digest -- native models/*.onnx
//!   cargo run -p verai-inference --example isa_digest -- -avx,-avx2,-fma models/*.onnx
//!
//! The digest is SHA-256 over the f32 outputs of 64 seeded inputs, as in `tests/engine.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use verai_inference::{Model, tensor_hash};

fn main() {
    let mut args = std::env::args().skip(1);
    let edit = args
        .next()
        .expect("usage: isa_digest pinned|native|EDIT MODEL...");
    match edit.as_str() {
        "pinned" => verai_inference::pin_isa(),
        // Probe before anything pins: tract keeps the first set it computes.
        "native" => {}
        e => tract_linalg::knobs::TRACT_CPU_ISA.set(Some(e.to_string())),
    }
    println!("isa {:?}", tract_linalg::isa::native());
    for path in args {
        let m = Model::load(&std::fs::read(&path).unwrap()).unwrap();
        let mut all = Vec::new();
        for seed in 0..64u64 {
            let mut s = seed;
            let x: Vec<f32> = (0..m.input_len())
                .map(|_| {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((s >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 1.0
                })
                .collect();
            all.extend(m.run(&x).unwrap());
        }
        let d: String = tensor_hash(&all)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        println!("{d}  {path}");
    }
}
