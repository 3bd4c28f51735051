//! The checks a model passes before it may run in a block, and its operation count.

use crate::{Limits, ModelError, Plan};
use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::Framework;

/// ONNX operators (default domain) allowed in blocks: exact in IEEE arithmetic up to the
/// summation order, which the single-threaded plan fixes. `exp`/`tanh`-based operators
/// (Softmax, Sigmoid, Tanh, Gelu, Erf, Exp, Log, Pow) and anything that makes tensors from
/// a shape given at run time are left out.
pub const ALLOWED_OPS: &[&str] = &[
    "Add",
    "AveragePool",
    "BatchNormalization",
    "Clip",
    "Concat",
    "Constant",
    "Conv",
    "Div",
    "Dropout",
    "Flatten",
    "Gemm",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Identity",
    "LeakyRelu",
    "MatMul",
    "Max",
    "MaxPool",
    "Min",
    "Mul",
    "Neg",
    "Relu",
    "Reshape",
    "Squeeze",
    "Sub",
    "Transpose",
    "Unsqueeze",
];

/// What the checks found out.
pub(crate) struct Checked {
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
    pub ops: u64,
}

fn invalid(e: impl std::fmt::Display) -> ModelError {
    ModelError::Invalid(format!("{e:#}"))
}

/// Operators and weights, read from the protobuf before tract interprets anything.
fn check_proto(proto: &ModelProto) -> Result<(), ModelError> {
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| ModelError::NotOnnx("no graph".into()))?;
    for node in &graph.node {
        let default_domain = node.domain.is_empty() || node.domain == "ai.onnx";
        if !default_domain || !ALLOWED_OPS.contains(&node.op_type.as_str()) {
            let op = if default_domain {
                node.op_type.clone()
            } else {
                format!("{}:{}", node.domain, node.op_type)
            };
            return Err(ModelError::UnsupportedOperator {
                op,
                node: node.name.clone(),
            });
        }
    }
    if let Some(t) = graph
        .initializer
        .iter()
        .find(|t| !t.external_data.is_empty())
    {
        return Err(ModelError::ExternalData(t.name.clone()));
    }
    Ok(())
}

fn concrete(fact: &TypedFact, which: &'static str, max: u64) -> Result<Vec<usize>, ModelError> {
    if fact.datum_type != f32::datum_type() {
        return Err(ModelError::NotF32 {
            which,
            datum: format!("{:?}", fact.datum_type),
        });
    }
    let shape = fact
        .shape
        .as_concrete()
        .map(|s| s.to_vec())
        .ok_or_else(|| ModelError::DynamicShape {
            which,
            shape: format!("{:?}", fact.shape),
        })?;
    let elements = shape.iter().map(|d| *d as u64).product::<u64>();
    if elements > max {
        return Err(ModelError::IoTooLarge {
            which,
            elements,
            max,
        });
    }
    Ok(shape)
}

/// Sum of the compute costs tract's operators declare, plus one per element of every node
/// output; bounded tensor sizes on the way.
fn count_ops(model: &TypedModel, limits: Limits) -> Result<u64, ModelError> {
    let mut ops: u64 = 0;
    for node in model.nodes() {
        let inputs = model.node_input_facts(node.id).map_err(invalid)?;
        for (cost, n) in node.op.cost(&inputs).map_err(invalid)? {
            if cost.is_compute() {
                let n = n.to_i64().map_err(invalid)?.max(0) as u64;
                ops = ops.saturating_add(n);
            }
        }
        for out in &node.outputs {
            let elements = out
                .fact
                .shape
                .volume()
                .to_i64()
                .map_err(|_| ModelError::DynamicShape {
                    which: "intermediate",
                    shape: format!("{:?} at node {:?}", out.fact.shape, node.name),
                })?
                .max(0) as u64;
            if elements > limits.tensor_elements {
                return Err(ModelError::TensorTooLarge {
                    node: node.name.clone(),
                    elements,
                    max: limits.tensor_elements,
                });
            }
            ops = ops.saturating_add(elements);
        }
    }
    if ops > limits.ops {
        return Err(ModelError::TooManyOps {
            ops,
            max: limits.ops,
        });
    }
    Ok(ops)
}

pub(crate) fn load(bytes: &[u8], limits: Limits) -> Result<(Checked, Plan), ModelError> {
    let onnx = tract_onnx::onnx();
    let proto = onnx
        .proto_model_for_read(&mut &bytes[..])
        .map_err(|e| ModelError::NotOnnx(format!("{e:#}")))?;
    check_proto(&proto)?;
    let inference = onnx.model_for_proto_model(&proto).map_err(invalid)?;
    let (inputs, outputs) = (inference.inputs.len(), inference.outputs.len());
    if inputs != 1 || outputs != 1 {
        return Err(ModelError::Arity { inputs, outputs });
    }
    let typed = inference
        .into_typed()
        .and_then(|m| m.into_decluttered())
        .map_err(invalid)?;
    let input_shape = concrete(
        typed.input_fact(0).map_err(invalid)?,
        "input",
        limits.io_elements,
    )?;
    let output_shape = concrete(
        typed.output_fact(0).map_err(invalid)?,
        "output",
        limits.io_elements,
    )?;
    let ops = count_ops(&typed, limits)?;
    let plan = crate::kernels::swap_in(typed)
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .map_err(invalid)?;
    Ok((
        Checked {
            input_shape,
            output_shape,
            ops,
        },
        plan,
    ))
}
