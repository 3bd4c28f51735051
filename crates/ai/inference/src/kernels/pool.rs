//! Max pooling over NCHW f32 planes, taps outside the input ignored.
//!
//! A window's value starts at −∞ and is replaced by each tap (row-major) strictly greater
//! than it: ties keep the earlier tap and a NaN never replaces anything, so the result does
//! not depend on how `max` is lowered for a given CPU.

use super::conv::Axis;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SmallMaxPool {
    /// Images times channels: the planes pooled one by one.
    pub planes: usize,
    pub batch: usize,
    pub channels: usize,
    pub h: Axis,
    pub w: Axis,
}

impl SmallMaxPool {
    fn output_shape(&self) -> [usize; 4] {
        [self.batch, self.channels, self.h.output, self.w.output]
    }

    /// The common 2×2 window, stride 2, unpadded, every window inside the input.
    fn is_2x2(&self) -> bool {
        [&self.h, &self.w].iter().all(|a| {
            a.kernel == 2
                && a.stride == 2
                && a.dilation == 1
                && a.pad_before == 0
                && 2 * a.output <= a.input
        })
    }

    fn run(&self, x: &[f32]) -> Vec<f32> {
        let (h, w) = (&self.h, &self.w);
        let spans: Vec<(usize, usize)> = (0..w.kernel).map(|kx| w.valid_outputs(kx)).collect();
        let mut out = vec![f32::NEG_INFINITY; self.planes * h.output * w.output];
        let planes = x.chunks_exact(h.input * w.input).take(self.planes);
        if self.is_2x2() {
            for (plane, dst) in planes.zip(out.chunks_exact_mut(h.output * w.output)) {
                pool_2x2(plane, w.input, w.output, dst);
            }
            return out;
        }
        for (plane, dst) in planes.zip(out.chunks_exact_mut(h.output * w.output)) {
            for (oy, acc) in dst.chunks_exact_mut(w.output).enumerate() {
                for ky in 0..h.kernel {
                    let Some(iy) = h.source(oy, ky) else { continue };
                    let row = &plane[iy * w.input..(iy + 1) * w.input];
                    for (kx, &(lo, hi)) in spans.iter().enumerate() {
                        if lo >= hi {
                            continue;
                        }
                        let first = lo * w.stride + kx * w.dilation - w.pad_before;
                        for (i, a) in acc[lo..hi].iter_mut().enumerate() {
                            let (v, cur) = (row[first + i * w.stride], *a);
                            // A select, not a branch: one `maxss` (taps are noise to a
                            // branch predictor).
                            *a = if v > cur { v } else { cur };
                        }
                    }
                }
            }
        }
        out
    }
}

/// 2×2 windows, stride 2: the general loop's arithmetic (taps in row-major order, each
/// kept only if strictly greater), without its index computations.
fn pool_2x2(plane: &[f32], w_in: usize, w_out: usize, dst: &mut [f32]) {
    for (oy, out) in dst.chunks_exact_mut(w_out).enumerate() {
        let top = &plane[2 * oy * w_in..][..2 * w_out];
        let bottom = &plane[(2 * oy + 1) * w_in..][..2 * w_out];
        let (top, _) = top.as_chunks::<2>();
        let (bottom, _) = bottom.as_chunks::<2>();
        for ((o, t), b) in out.iter_mut().zip(top).zip(bottom) {
            let mut m = f32::NEG_INFINITY;
            for v in [t[0], t[1], b[0], b[1]] {
                m = if v > m { v } else { m };
            }
            *o = m;
        }
    }
}

impl Op for SmallMaxPool {
    fn name(&self) -> StaticName {
        "VeraiSmallMaxPool".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!(
            "window {}x{}, stride {}x{}, output {}x{}",
            self.h.kernel,
            self.w.kernel,
            self.h.stride,
            self.w.stride,
            self.h.output,
            self.w.output
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for SmallMaxPool {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let expected = [self.batch, self.channels, self.h.input, self.w.input];
        super::eval_nchw(inputs, expected, self.output_shape(), |x| self.run(x))
    }
}

impl TypedOp for SmallMaxPool {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(self.output_shape())))
    }

    as_op!();
}
