//! Small 2-D convolutions as im2col and the fixed-order product of [`super::gemm`].
//!
//! Per output point the value is `(Σ_p w[o][p] · x[p]) + bias[o]`, `p` running over
//! (input channel, kernel row, kernel column) in that order, taps outside the input
//! counting as `0.0`.

use super::gemm::{self, MR, NR};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;

/// Where one spatial axis reads from: output `o`, tap `t` reads input
/// `o·stride + t·dilation − pad_before`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Axis {
    pub input: usize,
    pub output: usize,
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
    pub pad_before: usize,
}

impl Axis {
    /// Input index of output `o`, tap `t`, if inside the input.
    #[inline]
    pub(crate) fn source(&self, o: usize, t: usize) -> Option<usize> {
        (o * self.stride + t * self.dilation)
            .checked_sub(self.pad_before)
            .filter(|i| *i < self.input)
    }

    /// Outputs `lo..hi` whose tap `t` falls inside the input (a contiguous range).
    pub(crate) fn valid_outputs(&self, t: usize) -> (usize, usize) {
        let lo = (0..self.output)
            .find(|o| self.source(*o, t).is_some())
            .unwrap_or(self.output);
        let hi = (lo..self.output)
            .find(|o| self.source(*o, t).is_none())
            .unwrap_or(self.output);
        (lo, hi)
    }
}

/// Constant f32 values compared by their bits, so that an op holding them is `Eq`.
#[derive(Debug, Clone)]
pub(crate) struct Weights(pub Arc<[f32]>);

impl PartialEq for Weights {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(other.0.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

impl Eq for Weights {}

/// An NCHW f32 convolution, group 1, with its weights (OIHW) and bias folded in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SmallConv {
    pub batch: usize,
    pub c_in: usize,
    pub c_out: usize,
    pub h: Axis,
    pub w: Axis,
    /// Weights packed for [`gemm::gemm`].
    pub packed: Weights,
    /// One bias per output channel.
    pub bias: Weights,
}

impl SmallConv {
    /// `weights` OIHW, `bias` one per output channel.
    pub fn new(
        batch: usize,
        c_in: usize,
        c_out: usize,
        h: Axis,
        w: Axis,
        weights: &[f32],
        bias: &[f32],
    ) -> Self {
        let k = c_in * h.kernel * w.kernel;
        let packed = gemm::pack_a(weights, c_out, k);
        SmallConv {
            batch,
            c_in,
            c_out,
            h,
            w,
            packed: Weights(packed.into()),
            bias: Weights(bias.into()),
        }
    }

    fn k(&self) -> usize {
        self.c_in * self.h.kernel * self.w.kernel
    }

    fn n(&self) -> usize {
        self.h.output * self.w.output
    }

    fn n_pad(&self) -> usize {
        self.n().div_ceil(NR) * NR
    }

    /// Elements of the im2col matrix: what the rewrite bounds.
    pub fn scratch_elements(&self) -> usize {
        self.k() * self.n_pad()
    }

    fn output_shape(&self) -> [usize; 4] {
        [self.batch, self.c_out, self.h.output, self.w.output]
    }

    /// im2col of one image into `b` (`k × n_pad`). Taps outside the input are never
    /// written: `b` starts zeroed and every image writes the same positions.
    fn im2col(&self, x: &[f32], b: &mut [f32], padded: &mut [f32]) {
        let (h, w) = (&self.h, &self.w);
        if self.unit_steps() {
            return self.im2col_unit(x, b, padded);
        }
        let spans: Vec<(usize, usize)> = (0..w.kernel).map(|kx| w.valid_outputs(kx)).collect();
        let n_pad = self.n_pad();
        let mut rows = b.chunks_exact_mut(n_pad);
        for plane in x.chunks_exact(h.input * w.input).take(self.c_in) {
            for ky in 0..h.kernel {
                for (kx, &(lo, hi)) in spans.iter().enumerate() {
                    let Some(row) = rows.next() else { return };
                    if lo >= hi {
                        continue;
                    }
                    let first = lo * w.stride + kx * w.dilation - w.pad_before;
                    for (oy, dst) in row.chunks_exact_mut(w.output).take(h.output).enumerate() {
                        let Some(iy) = h.source(oy, ky) else { continue };
                        let src = &plane[iy * w.input + first..(iy + 1) * w.input];
                        let dst = &mut dst[lo..hi];
                        if w.stride == 1 {
                            copy_short(dst, &src[..hi - lo]);
                        } else {
                            for (d, s) in dst.iter_mut().zip(src.iter().step_by(w.stride)) {
                                *d = *s;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Stride and dilation 1 on both axes: the case [`Self::im2col_unit`] takes.
    fn unit_steps(&self) -> bool {
        [&self.h, &self.w]
            .iter()
            .all(|a| a.stride == 1 && a.dilation == 1)
    }

    /// Rows and columns of one zero-padded input plane in the unit-step case: output
    /// `o`, tap `t` reads padded index `o + t`.
    fn padded_dims(&self) -> (usize, usize) {
        (
            self.h.output + self.h.kernel - 1,
            self.w.output + self.w.kernel - 1,
        )
    }

    /// Unit-step im2col: copy each channel once into a zero-padded plane, after which every
    /// row of `b` is `output rows` slices of one length, no bounds to work out per tap.
    fn im2col_unit(&self, x: &[f32], b: &mut [f32], padded: &mut [f32]) {
        let (h, w) = (&self.h, &self.w);
        let (ph, pw) = self.padded_dims();
        let n_pad = self.n_pad();
        let mut rows = b.chunks_exact_mut(n_pad);
        for plane in x.chunks_exact(h.input * w.input).take(self.c_in) {
            // Input row iy lands on padded row iy + pad_before (if that is inside).
            for (py, prow) in padded.chunks_exact_mut(pw).take(ph).enumerate() {
                prow.fill(0.0);
                let Some(iy) = py.checked_sub(h.pad_before).filter(|iy| *iy < h.input) else {
                    continue;
                };
                // Columns pad_before.. of the padded row take the input row, clipped.
                let src = &plane[iy * w.input..(iy + 1) * w.input];
                let dst = prow.get_mut(w.pad_before..).unwrap_or_default();
                let len = dst.len().min(src.len());
                dst[..len].copy_from_slice(&src[..len]);
            }
            for ky in 0..h.kernel {
                for kx in 0..w.kernel {
                    let Some(row) = rows.next() else { return };
                    let dsts = row.chunks_exact_mut(w.output).take(h.output);
                    for (oy, dst) in dsts.enumerate() {
                        copy_short(dst, &padded[(oy + ky) * pw + kx..][..w.output]);
                    }
                }
            }
        }
    }

    fn run(&self, x: &[f32]) -> Vec<f32> {
        let (k, n, n_pad) = (self.k(), self.n(), self.n_pad());
        let m_pad = self.c_out.div_ceil(MR) * MR;
        let image = self.c_in * self.h.input * self.w.input;
        let mut b = vec![0.0f32; k * n_pad];
        let (ph, pw) = self.padded_dims();
        let mut padded = vec![0.0f32; if self.unit_steps() { ph * pw } else { 0 }];
        let mut c = vec![0.0f32; m_pad * n_pad];
        let mut out = Vec::with_capacity(self.batch * self.c_out * n);
        for img in x.chunks_exact(image).take(self.batch) {
            self.im2col(img, &mut b, &mut padded);
            gemm::gemm(&self.packed.0, &b, k, n_pad, &mut c);
            for (o, bias) in self.bias.0.iter().enumerate() {
                out.extend(c[o * n_pad..o * n_pad + n].iter().map(|v| v + bias));
            }
        }
        out
    }
}

impl Op for SmallConv {
    fn name(&self) -> StaticName {
        "VeraiSmallConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!(
            "{}→{} channels, kernel {}x{}, output {}x{}",
            self.c_in, self.c_out, self.h.kernel, self.w.kernel, self.h.output, self.w.output
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for SmallConv {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let expected = [self.batch, self.c_in, self.h.input, self.w.input];
        super::eval_nchw(inputs, expected, self.output_shape(), |x| self.run(x))
    }
}

impl TypedOp for SmallConv {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(self.output_shape())))
    }

    as_op!();
}

/// `dst.copy_from_slice(src)` for the short rows of small images, in 8-value blocks the
/// compiler inlines (a `memcpy` call per 8 or 16 values cost more than the copy).
#[inline]
fn copy_short(dst: &mut [f32], src: &[f32]) {
    let (d8, d_rest) = dst.as_chunks_mut::<8>();
    let (s8, s_rest) = src.as_chunks::<8>();
    for (d, s) in d8.iter_mut().zip(s8) {
        *d = *s;
    }
    for (d, s) in d_rest.iter_mut().zip(s_rest) {
        *d = *s;
    }
}
