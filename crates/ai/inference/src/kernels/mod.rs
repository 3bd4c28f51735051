//! Verai's own kernels for small convolutions and max pooling, swapped into a model's graph
//! in place of tract's before tract optimizes it.
//!
//! Why: on the small convolutional nets that fit in a block, tract's general path (explicit
//! padding, lazy im2col feeding its packed matrix product, a pooling loop that checks bounds
//! per tap) spent more time around the arithmetic than in it: twice onnxruntime's latency
//! on `models/cnn_small.onnx`. These kernels do the same arithmetic with the data laid out
//! once per call.
//!
//! Determinism: each output is summed in one documented order, with vector lanes across
//! outputs only and no fused multiply-add, so the bits are the same on every CPU and
//! instruction set, not only under [`crate::pin_isa`]. The swap is a pure function of the
//! model (operator, shapes, constant weights), so every validator runs the same kernels, and
//! it happens after [`crate::Model::ops`] is counted, so gas does not depend on it.
//!
//! What is swapped (anything else stays with tract):
//! - `Conv`: f32, NCHW, two spatial axes, group 1, OIHW weights and bias constant, an
//!   im2col matrix of at most [`MAX_SCRATCH`] elements;
//! - `MaxPool`: f32, NCHW, two spatial axes, no index output.

mod conv;
mod gemm;
mod pool;

use conv::{Axis, SmallConv};
use pool::SmallMaxPool;
use tract_onnx::prelude::tract_ndarray::{ArrayD, IxDyn};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::{args_1, ensure};
use tract_onnx::tract_core::ops::cnn::{Conv, KernelFormat, MaxPool, PoolSpec};
use tract_onnx::tract_core::ops::nn::DataFormat;

/// Largest im2col matrix (elements) a swapped convolution may build per image: 4 MiB.
pub(crate) const MAX_SCRATCH: usize = 1 << 20;

/// Replace every eligible `Conv` and `MaxPool` of a decluttered model.
pub(crate) fn swap_in(mut model: TypedModel) -> TractResult<TypedModel> {
    loop {
        let mut patch = None;
        for node in model.nodes() {
            if let Some(small) = small_op(&model, node)? {
                patch = Some(TypedModelPatch::replace_single_op(
                    &model,
                    node,
                    &node.inputs[..1],
                    small,
                )?);
                break;
            }
        }
        match patch {
            Some(p) => p.apply(&mut model)?,
            None => return Ok(model),
        }
    }
}

/// Verai's op for a node, if it is an eligible `Conv` or `MaxPool`; it reads the node's
/// first input only (weights and bias are folded in).
fn small_op(model: &TypedModel, node: &TypedNode) -> TractResult<Option<Box<dyn TypedOp>>> {
    if let Some(op) = node.op_as::<Conv>() {
        return Ok(small_conv(model, node, op)?.map(|o| Box::new(o) as Box<dyn TypedOp>));
    }
    if let Some(op) = node.op_as::<MaxPool>() {
        return Ok(small_max_pool(model, node, op)?.map(|o| Box::new(o) as Box<dyn TypedOp>));
    }
    Ok(None)
}

/// The `eval` of both ops: check the input is `[n, c, h, w]` = `expected`, run the kernel on
/// its values, and shape the result as `output`.
fn eval_nchw(
    inputs: TVec<TValue>,
    expected: [usize; 4],
    output: [usize; 4],
    run: impl FnOnce(&[f32]) -> Vec<f32>,
) -> TractResult<TVec<TValue>> {
    let input = args_1!(inputs);
    ensure!(
        input.shape() == expected,
        "input shape {:?}, expected {expected:?}",
        input.shape()
    );
    let plain = input.try_as_plain_ram()?;
    let out = run(plain.as_slice::<f32>()?);
    Ok(tvec!(
        ArrayD::from_shape_vec(IxDyn(&output), out)?.into_tvalue()
    ))
}

/// `[n, c, h, w]` of an f32 NCHW input, if concrete.
fn nchw(model: &TypedModel, node: &TypedNode, spec: &PoolSpec) -> TractResult<Option<[usize; 4]>> {
    let fact = model.outlet_fact(node.inputs[0])?;
    if fact.datum_type != f32::datum_type()
        || spec.data_format != DataFormat::NCHW
        || spec.kernel_shape.len() != 2
    {
        return Ok(None);
    }
    Ok(match fact.shape.as_concrete() {
        Some(&[n, c, h, w]) => Some([n, c, h, w]),
        _ => None,
    })
}

/// The two spatial axes of a pool spec over an `h × w` input.
fn axes(spec: &PoolSpec, h: usize, w: usize) -> [Axis; 2] {
    let padded = spec.computed_padding(&[h, w]);
    let (strides, dilations) = (spec.strides(), spec.dilations());
    let axis = |i: usize, input: usize| Axis {
        input,
        output: padded[i].convoluted,
        kernel: spec.kernel_shape[i],
        stride: strides[i],
        dilation: dilations[i],
        pad_before: padded[i].pad_before,
    };
    [axis(0, h), axis(1, w)]
}

fn same_output(model: &TypedModel, node: &TypedNode, shape: [usize; 4]) -> bool {
    node.outputs.len() == 1
        && node.outputs[0].fact.datum_type == f32::datum_type()
        && node.outputs[0].fact.shape.as_concrete() == Some(&shape[..])
        && model.outlet_fact(OutletId::new(node.id, 0)).is_ok()
}

fn small_conv(model: &TypedModel, node: &TypedNode, op: &Conv) -> TractResult<Option<SmallConv>> {
    let spec = &op.pool_spec;
    let Some([n, c, h, w]) = nchw(model, node, spec)? else {
        return Ok(None);
    };
    if op.q_params.is_some()
        || op.group != 1
        || op.kernel_fmt != KernelFormat::OIHW
        || node.inputs.len() != 3
        || c != spec.input_channels
    {
        return Ok(None);
    }
    let (Some(kernel), Some(bias)) = (
        model.outlet_fact(node.inputs[1])?.konst.clone(),
        model.outlet_fact(node.inputs[2])?.konst.clone(),
    ) else {
        return Ok(None);
    };
    let o = spec.output_channels;
    let [ah, aw] = axes(spec, h, w);
    if kernel.datum_type() != f32::datum_type()
        || bias.datum_type() != f32::datum_type()
        || kernel.shape() != [o, c, ah.kernel, aw.kernel]
        || !(bias.len() == o || bias.len() == 1)
    {
        return Ok(None);
    }
    let weights = kernel.try_as_plain_ram()?;
    let bias = bias.try_as_plain_ram()?;
    let bias = bias.as_slice::<f32>()?;
    let bias: Vec<f32> = (0..o).map(|i| bias[i.min(bias.len() - 1)]).collect();
    let out = [n, o, ah.output, aw.output];
    let small = SmallConv::new(n, c, o, ah, aw, weights.as_slice::<f32>()?, &bias);
    if small.scratch_elements() > MAX_SCRATCH || !same_output(model, node, out) {
        return Ok(None);
    }
    Ok(Some(small))
}

fn small_max_pool(
    model: &TypedModel,
    node: &TypedNode,
    op: &MaxPool,
) -> TractResult<Option<SmallMaxPool>> {
    let spec = &op.pool_spec;
    let Some([n, c, h, w]) = nchw(model, node, spec)? else {
        return Ok(None);
    };
    if op.with_index_outputs.is_some() || c != spec.input_channels || c != spec.output_channels {
        return Ok(None);
    }
    let [ah, aw] = axes(spec, h, w);
    let out = [n, c, ah.output, aw.output];
    if !same_output(model, node, out) {
        return Ok(None);
    }
    Ok(Some(SmallMaxPool {
        planes: n * c,
        batch: n,
        channels: c,
        h: ah,
        w: aw,
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tract_onnx::tract_core::ops::cnn::PaddingSpec;

    /// Seeded values in [-1, 1) (a fixed LCG): test weights and inputs.
    pub(crate) fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// One convolution or pooling case: input `[n, c, h, w]`, window, strides, dilations,
    /// padding before and after, output channels.
    #[derive(Clone, Debug)]
    struct Case {
        input: [usize; 4],
        kernel: [usize; 2],
        strides: [usize; 2],
        dilations: [usize; 2],
        before: [usize; 2],
        after: [usize; 2],
        c_out: usize,
    }

    const fn case(
        input: [usize; 4],
        kernel: [usize; 2],
        strides: [usize; 2],
        pad: usize,
        c_out: usize,
    ) -> Case {
        Case {
            input,
            kernel,
            strides,
            dilations: [1, 1],
            before: [pad, pad],
            after: [pad, pad],
            c_out,
        }
    }

    fn cases() -> Vec<Case> {
        let mut v = vec![
            case([1, 1, 16, 16], [3, 3], [1, 1], 1, 8),
            case([1, 8, 8, 8], [3, 3], [1, 1], 1, 16),
            case([2, 3, 9, 7], [3, 2], [1, 1], 0, 5),
            case([1, 3, 11, 13], [3, 3], [2, 2], 1, 6),
            case([1, 2, 10, 10], [5, 5], [1, 3], 2, 3),
            case([1, 4, 5, 5], [1, 1], [1, 1], 0, 7),
        ];
        v.push(Case {
            dilations: [2, 2],
            ..case([1, 2, 12, 12], [3, 3], [1, 1], 2, 4)
        });
        v.push(Case {
            before: [0, 2],
            after: [1, 0],
            ..case([1, 3, 6, 9], [2, 3], [1, 1], 0, 4)
        });
        v
    }

    fn spec(c: &Case, c_out: usize) -> PoolSpec {
        PoolSpec {
            data_format: DataFormat::NCHW,
            kernel_shape: c.kernel[..].into(),
            padding: PaddingSpec::Explicit(c.before[..].into(), c.after[..].into()),
            dilations: Some(c.dilations[..].into()),
            strides: Some(c.strides[..].into()),
            input_channels: c.input[1],
            output_channels: c_out,
        }
    }

    /// A one-node model: the convolution (or pooling) of `c`.
    fn model(c: &Case, conv: bool) -> TypedModel {
        let mut m = TypedModel::default();
        let x = m.add_source("x", f32::fact(c.input)).unwrap();
        let y = if conv {
            let [kh, kw] = c.kernel;
            let k = Tensor::from_shape(
                &[c.c_out, c.input[1], kh, kw],
                &values(c.c_out * c.input[1] * kh * kw, 3),
            )
            .unwrap();
            let b = Tensor::from_shape(&[c.c_out], &values(c.c_out, 4)).unwrap();
            let k = m.add_const("k", k).unwrap();
            let b = m.add_const("b", b).unwrap();
            let op = Conv::new(spec(c, c.c_out), KernelFormat::OIHW, 1, None);
            m.wire_node("conv", op, &[x, k, b]).unwrap()
        } else {
            m.wire_node("pool", MaxPool::new(spec(c, c.input[1]), None), &[x])
                .unwrap()
        };
        m.select_output_outlets(&y).unwrap();
        m
    }

    fn run(m: TypedModel, x: &[f32], shape: [usize; 4]) -> (Vec<f32>, Vec<String>) {
        let plan = m.into_optimized().unwrap().into_runnable().unwrap();
        let ops = plan
            .model()
            .nodes()
            .iter()
            .map(|n| n.op.name().to_string())
            .collect();
        let out = plan
            .run(tvec![Tensor::from_shape(&shape, x).unwrap().into()])
            .unwrap();
        let out = out[0]
            .to_plain_array_view::<f32>()
            .unwrap()
            .iter()
            .copied()
            .collect();
        (out, ops)
    }

    /// The documented arithmetic, one output at a time: taps in (channel, row, column)
    /// order summed from 0.0, then the bias; for pooling, −∞ replaced by any greater tap.
    fn reference(c: &Case, conv: bool, x: &[f32]) -> Vec<f32> {
        let [n, ci, h, w] = c.input;
        let [kh, kw] = c.kernel;
        let out_dim = |i: usize, len: usize| {
            (len + c.before[i] + c.after[i] - (c.kernel[i] - 1) * c.dilations[i] - 1) / c.strides[i]
                + 1
        };
        let (oh, ow) = (out_dim(0, h), out_dim(1, w));
        let k = values(c.c_out * ci * kh * kw, 3);
        let bias = values(c.c_out, 4);
        let co = if conv { c.c_out } else { ci };
        let mut out = Vec::new();
        for img in 0..n {
            for o in 0..co {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = if conv { 0.0f32 } else { f32::NEG_INFINITY };
                        let channels = if conv { 0..ci } else { o..o + 1 };
                        for ch in channels {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let iy = (oy * c.strides[0] + ky * c.dilations[0])
                                        .checked_sub(c.before[0]);
                                    let ix = (ox * c.strides[1] + kx * c.dilations[1])
                                        .checked_sub(c.before[1]);
                                    let v = match (iy, ix) {
                                        (Some(iy), Some(ix)) if iy < h && ix < w => {
                                            Some(x[((img * ci + ch) * h + iy) * w + ix])
                                        }
                                        _ => None,
                                    };
                                    if conv {
                                        acc += k[((o * ci + ch) * kh + ky) * kw + kx]
                                            * v.unwrap_or(0.0);
                                    } else if let Some(v) = v {
                                        acc = if v > acc { v } else { acc };
                                    }
                                }
                            }
                        }
                        out.push(if conv { acc + bias[o] } else { acc });
                    }
                }
            }
        }
        out
    }

    #[test]
    fn swapped_kernels_compute_the_documented_sums_and_agree_with_tract() {
        for conv in [true, false] {
            for c in cases() {
                let x = values(c.input.iter().product(), 9);
                let (ours, ops) = run(swap_in(model(&c, conv)).unwrap(), &x, c.input);
                let want = if conv {
                    "VeraiSmallConv"
                } else {
                    "VeraiSmallMaxPool"
                };
                assert!(ops.iter().any(|o| o == want), "{c:?}: not swapped: {ops:?}");
                let (tract, ops) = run(model(&c, conv), &x, c.input);
                assert!(!ops.iter().any(|o| o.starts_with("Verai")));
                let reference = reference(&c, conv, &x);
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&ours), bits(&reference), "{c:?} conv={conv}");
                assert_eq!(ours.len(), tract.len(), "{c:?}");
                for (a, b) in ours.iter().zip(&tract) {
                    assert!(
                        (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
                        "{c:?}: {a} vs tract {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn grouped_or_oversized_convolutions_stay_with_tract() {
        let mut m = TypedModel::default();
        let c = case([1, 4, 8, 8], [3, 3], [1, 1], 1, 4);
        let x = m.add_source("x", f32::fact(c.input)).unwrap();
        let k = m
            .add_const("k", Tensor::zero::<f32>(&[4, 2, 3, 3]).unwrap())
            .unwrap();
        let b = m
            .add_const("b", Tensor::zero::<f32>(&[4]).unwrap())
            .unwrap();
        let y = m
            .wire_node(
                "conv",
                Conv::new(spec(&c, 4), KernelFormat::OIHW, 2, None),
                &[x, k, b],
            )
            .unwrap();
        m.select_output_outlets(&y).unwrap();
        let swapped = swap_in(m).unwrap();
        assert!(
            swapped
                .nodes()
                .iter()
                .all(|n| !n.op.name().starts_with("Verai"))
        );

        // 1 × 2048 × 2048 input, 3×3 kernel: the im2col matrix would pass MAX_SCRATCH.
        let big = case([1, 1, 2048, 2048], [3, 3], [1, 1], 1, 1);
        let swapped = swap_in(model(&big, true)).unwrap();
        assert!(
            swapped
                .nodes()
                .iter()
                .all(|n| n.op.name() != "VeraiSmallConv")
        );
    }
}
