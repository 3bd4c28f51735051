//! A matrix product whose every output is summed in one fixed order, on any CPU.
//!
//! `c[i][j] = Σ_p a[i][p] · b[p][j]`, accumulated from `0.0` in increasing `p`, one rounded
//! multiply and one rounded add per term. Vector lanes only ever run across independent
//! outputs (`j`), never across the sum, and Rust never contracts a multiply and an add into
//! a fused multiply-add, so the SSE2, AVX and portable code paths give the same bits.
//!
//! Layouts (all row-major `f32`):
//! - `a` is packed in panels of [`MR`] rows: panel `q` holds rows `q·MR..q·MR+MR`, stored
//!   `p`-major (`a[q][p][i]`), rows past `m` zero;
//! - `b` is `k × n_pad` with `n_pad` a multiple of [`NR`];
//! - `c` is `m_pad × n_pad`, `m_pad` the number of panels times [`MR`].

/// Rows of `a` per panel (output channels computed together).
pub(crate) const MR: usize = 4;
/// Columns of `b` per tile (output points computed together): two AVX registers.
pub(crate) const NR: usize = 16;

/// Pack `m × k` row-major weights into [`MR`]-row panels (see the module doc).
pub(crate) fn pack_a(w: &[f32], m: usize, k: usize) -> Vec<f32> {
    let panels = m.div_ceil(MR);
    let mut a = vec![0.0; panels * k * MR];
    for (q, panel) in a.chunks_exact_mut(k * MR).enumerate() {
        for (p, col) in panel.chunks_exact_mut(MR).enumerate() {
            for (i, v) in col.iter_mut().enumerate() {
                let row = q * MR + i;
                if row < m {
                    *v = w[row * k + p];
                }
            }
        }
    }
    a
}

/// `c = a · b` for packed `a` (`k` deep) and `b` of row length `n_pad`.
pub(crate) fn gemm(a: &[f32], b: &[f32], k: usize, n_pad: usize, c: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        #[allow(unsafe_code)]
        // SAFETY: the only requirement of `gemm_avx` is the AVX feature, detected above.
        unsafe {
            gemm_avx(a, b, k, n_pad, c)
        };
        return;
    }
    gemm_body(a, b, k, n_pad, c);
}

/// [`gemm_body`] compiled with AVX (8-lane registers); same arithmetic, same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn gemm_avx(a: &[f32], b: &[f32], k: usize, n_pad: usize, c: &mut [f32]) {
    gemm_body(a, b, k, n_pad, c)
}

#[inline(always)]
pub(crate) fn gemm_body(a: &[f32], b: &[f32], k: usize, n_pad: usize, c: &mut [f32]) {
    if k == 0 || n_pad == 0 {
        c.fill(0.0);
        return;
    }
    for (panel, c_rows) in a.chunks_exact(k * MR).zip(c.chunks_exact_mut(MR * n_pad)) {
        for j0 in (0..n_pad).step_by(NR) {
            let acc = tile(panel, b, n_pad, j0);
            for (i, row) in acc.iter().enumerate() {
                c_rows[i * n_pad + j0..i * n_pad + j0 + NR].copy_from_slice(row);
            }
        }
    }
}

/// One `MR × NR` block of `c`, its accumulators kept in registers across the whole sum.
#[inline(always)]
fn tile(panel: &[f32], b: &[f32], n_pad: usize, j0: usize) -> [[f32; NR]; MR] {
    let mut acc = [[0.0f32; NR]; MR];
    for (ap, brow) in panel.chunks_exact(MR).zip(b.chunks_exact(n_pad)) {
        let Some(bp) = brow.get(j0..j0 + NR) else {
            break;
        };
        for i in 0..MR {
            for j in 0..NR {
                acc[i][j] += ap[i] * bp[j];
            }
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::tests::values;

    /// The sum in the documented order, one output at a time.
    fn reference(w: &[f32], b: &[f32], m: usize, k: usize, n_pad: usize) -> Vec<f32> {
        let mut c = vec![0.0f32; m * n_pad];
        for i in 0..m {
            for j in 0..n_pad {
                let mut s = 0.0f32;
                for p in 0..k {
                    s += w[i * k + p] * b[p * n_pad + j];
                }
                c[i * n_pad + j] = s;
            }
        }
        c
    }

    #[test]
    fn every_path_sums_in_the_documented_order() {
        for (m, k, n_pad) in [
            (8, 9, 256),
            (16, 72, 64),
            (5, 3, 16),
            (1, 1, 16),
            (7, 300, 48),
        ] {
            let w = values(m * k, 1);
            let b = values(k * n_pad, 2);
            let a = pack_a(&w, m, k);
            let m_pad = m.div_ceil(MR) * MR;
            let mut dispatched = vec![f32::NAN; m_pad * n_pad];
            gemm(&a, &b, k, n_pad, &mut dispatched);
            let mut portable = vec![f32::NAN; m_pad * n_pad];
            gemm_body(&a, &b, k, n_pad, &mut portable);
            let want = reference(&w, &b, m, k, n_pad);
            let bits = |v: &[f32]| {
                v[..m * n_pad]
                    .iter()
                    .map(|x| x.to_bits())
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(&dispatched), bits(&want), "{m}x{k}x{n_pad}");
            assert_eq!(bits(&portable), bits(&want), "{m}x{k}x{n_pad}");
        }
    }
}
