//! Print the output digest of each model under an instruction-set edit, to compare a
//! machine or a tract setting against the consensus one.
//!
//!   cargo run -p verai-inference --example isa_digest -- pinned models/*.onnx
//!   cargo run -p verai-inference --example isa_digest -- native models/*.onnx
//!   cargo run -p verai-inference --example isa_digest -- -avx,-avx2,-fma models/*.onnx
//!
//! The digest is SHA-256 over the f32 outputs of 64 seeded inputs, as in `tests/engine.rs`;
//! the latency is the median of 2000 runs.
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
        // Latency on this setting: median of 2000 runs of one input.
        let x = vec![0.5f32; m.input_len()];
        let mut t: Vec<f64> = (0..2000)
            .map(|_| {
                let s = std::time::Instant::now();
                std::hint::black_box(m.run(&x).unwrap());
                s.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        t.sort_by(f64::total_cmp);
        println!("{d}  {path}  p50 {:.1} µs", t[1000]);
    }
}
