//! Deterministic ONNX inference for consensus: model checks, operation counts, pinned CPU
//! features and output hashing, on `tract`.
//!
//! Every validator re-runs an in-block inference and must get the same bits, so this crate
//! fixes everything that could make two machines (or two runs) differ:
//!
//! - **Instruction set.** tract picks kernels by CPU feature, and fused multiply-add rounds
//!   once where a multiply then an add rounds twice. [`pin_isa`] removes FMA and every
//!   feature above AVX2 from what tract may use, before it probes the CPU; the set in force
//!   is [`isa`]. A golden output hash per test model (in `tests/`) catches a change.
//! - **Own kernels for small CNNs.** Eligible convolutions and max pools are swapped for
//!   Verai's kernels (`kernels`), whose sums have one documented order on every CPU; they
//!   are faster than tract's on the small nets a block can hold.
//! - **Threads.** tract runs a plan on the calling thread unless its `multithread-mm`
//!   feature is on; it is off here, so the summation order of a matrix product is one.
//! - **Operators.** Only [`ALLOWED_OPS`]: linear algebra, convolutions, pooling and
//!   piecewise-linear activations. Operators built on `exp`/`tanh` (softmax, sigmoid, GELU)
//!   are refused because tract evaluates them with per-instruction-set approximations.
//! - **Shapes.** Inputs and outputs are f32 tensors of fixed shape; nothing symbolic.
//!
//! A model is checked and compiled once by [`Model::load`] and identified by the SHA-256 of
//! its ONNX bytes. Its cost, [`Model::ops`], counts multiply-adds and divisions reported by
//! tract's operators plus one per element of every intermediate tensor: a pure function of
//! the model, which the inference module turns into gas.
//!
//! Outputs are identified by [`tensor_hash`]: SHA-256 of the little-endian f32 bytes.

mod cache;
mod check;
pub mod fixed;
mod kernels;

pub use cache::ModelCache;
pub use check::ALLOWED_OPS;

use sha2::{Digest, Sha256};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Once};
use tract_onnx::prelude::*;

/// Largest model accepted (bytes): it travels in one transaction (at most 128 KiB).
pub const MAX_MODEL_BYTES: usize = 96 * 1024;
/// Most operations one inference may cost (see [`Model::ops`]).
pub const MAX_OPS: u64 = 100_000_000;
/// Most elements of any tensor the model computes.
pub const MAX_TENSOR_ELEMENTS: u64 = 1 << 20;
/// Most elements of the input or the output.
pub const MAX_IO_ELEMENTS: u64 = 16_384;

/// Bounds a model must fit. [`Limits::BLOCK`] is consensus configuration; oracle workers,
/// which run models too large for a block, use [`Limits::OFFCHAIN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file (bytes).
    pub model_bytes: usize,
    /// Most operations per inference.
    pub ops: u64,
    /// Most elements of any tensor.
    pub tensor_elements: u64,
    /// Most elements of the input or the output.
    pub io_elements: u64,
}

impl Limits {
    /// In blocks: [`MAX_MODEL_BYTES`], [`MAX_OPS`], [`MAX_TENSOR_ELEMENTS`].
    pub const BLOCK: Limits = Limits {
        model_bytes: MAX_MODEL_BYTES,
        ops: MAX_OPS,
        tensor_elements: MAX_TENSOR_ELEMENTS,
        io_elements: MAX_IO_ELEMENTS,
    };
    /// Off chain (oracle workers): 512 MiB files, 10^12 operations, 2^28 elements.
    pub const OFFCHAIN: Limits = Limits {
        model_bytes: 512 << 20,
        ops: 1_000_000_000_000,
        tensor_elements: 1 << 28,
        io_elements: 1 << 26,
    };
}

/// Why a model file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// Bigger than [`MAX_MODEL_BYTES`].
    #[error("model is {size} bytes, the limit is {max}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not an ONNX protobuf.
    #[error("not an ONNX file: {0}")]
    NotOnnx(String),
    /// An operator outside [`ALLOWED_OPS`].
    #[error(
        "unsupported operator {op} (node {node:?}): not deterministic on every CPU or not allowed in blocks"
    )]
    UnsupportedOperator {
        /// ONNX operator type (with its domain when not the default one).
        op: String,
        /// Node name.
        node: String,
    },
    /// Weights stored outside the file.
    #[error("tensor {0:?} keeps its data outside the file; embed all weights")]
    ExternalData(String),
    /// Not exactly one input and one output.
    #[error(
        "the model has {inputs} inputs and {outputs} outputs; exactly one of each is supported"
    )]
    Arity {
        /// Inputs.
        inputs: usize,
        /// Outputs.
        outputs: usize,
    },
    /// A dimension that is not a fixed number.
    #[error("dynamic shape: the {which} has shape {shape}; export it with fixed dimensions")]
    DynamicShape {
        /// "input" or "output".
        which: &'static str,
        /// The shape as tract reads it.
        shape: String,
    },
    /// Input or output not f32.
    #[error("the {which} is {datum}, only f32 is supported")]
    NotF32 {
        /// "input" or "output".
        which: &'static str,
        /// Its type.
        datum: String,
    },
    /// Too many input or output elements.
    #[error("the {which} has {elements} elements, the limit is {max}")]
    IoTooLarge {
        /// "input" or "output".
        which: &'static str,
        /// Elements.
        elements: u64,
        /// Limit.
        max: u64,
    },
    /// An intermediate tensor over [`MAX_TENSOR_ELEMENTS`].
    #[error("node {node:?} makes a tensor of {elements} elements, the limit is {max}")]
    TensorTooLarge {
        /// Node name.
        node: String,
        /// Elements.
        elements: u64,
        /// Limit.
        max: u64,
    },
    /// Over [`MAX_OPS`] per inference.
    #[error("one inference costs {ops} operations, the limit is {max}")]
    TooManyOps {
        /// Its cost.
        ops: u64,
        /// The limit.
        max: u64,
    },
    /// tract could not analyse or compile the model.
    #[error("invalid model: {0}")]
    Invalid(String),
}

/// Why an inference failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// Wrong number of input values.
    #[error("the model takes {expected} input values, got {got}")]
    InputLength {
        /// What the model takes.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// NaN or infinity in the input.
    #[error("input value {index} is not finite")]
    NonFiniteInput {
        /// Its position.
        index: usize,
    },
    /// tract failed while running.
    #[error("inference failed: {0}")]
    Engine(String),
}

type Plan = Arc<TypedRunnableModel>;

/// A checked, compiled model.
pub struct Model {
    hash: [u8; 32],
    size: usize,
    input_shape: Vec<usize>,
    output_shape: Vec<usize>,
    ops: u64,
    plan: Plan,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("hash", &hex(&self.hash))
            .field("input_shape", &self.input_shape)
            .field("output_shape", &self.output_shape)
            .field("ops", &self.ops)
            .finish()
    }
}

/// Instruction-set features tract may not use on any validator: FMA (one rounding instead
/// of two) and everything above AVX2 (other kernels, other tiling).
const FORBIDDEN_ISA: &str =
    "-fma,-f16c,-avx512f,-avx512vnni,-avx512fp16,-avxvnni,-amx-int8,-amx-bf16";

/// Fix tract's instruction set before anything in this process asks tract for a kernel.
/// Idempotent; every entry point of this crate calls it.
pub fn pin_isa() {
    static PIN: Once = Once::new();
    PIN.call_once(|| {
        tract_linalg::knobs::TRACT_CPU_ISA.set(Some(FORBIDDEN_ISA.to_string()));
    });
}

/// The instruction set tract uses here, after [`pin_isa`] (e.g. `x86_64,avx,avx2`).
pub fn isa() -> String {
    pin_isa();
    format!("{:?}", tract_linalg::isa::native())
}

/// SHA-256 of bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// SHA-256 of f32 values as little-endian bytes: how inputs and outputs are identified.
pub fn tensor_hash(values: &[f32]) -> [u8; 32] {
    let mut h = Sha256::new();
    for v in values {
        h.update(v.to_le_bytes());
    }
    h.finalize().into()
}

/// Little-endian f32 bytes of values.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Values from little-endian f32 bytes; `None` when the length is not a multiple of 4.
pub fn f32_values(bytes: &[u8]) -> Option<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

impl Model {
    /// Check and compile an ONNX file. Deterministic: the same bytes give the same verdict,
    /// shapes and operation count on every machine.
    pub fn load(bytes: &[u8]) -> Result<Model, ModelError> {
        Self::load_with(bytes, Limits::BLOCK)
    }

    /// [`Model::load`] under other bounds (same checks otherwise).
    pub fn load_with(bytes: &[u8], limits: Limits) -> Result<Model, ModelError> {
        pin_isa();
        if bytes.len() > limits.model_bytes {
            return Err(ModelError::TooLarge {
                size: bytes.len(),
                max: limits.model_bytes,
            });
        }
        // tract is not written for hostile input: a panic inside it is a refusal, not a crash.
        catch_unwind(AssertUnwindSafe(|| check::load(bytes, limits)))
            .unwrap_or_else(|p| Err(ModelError::Invalid(panic_message(p))))
            .map(|(typed, plan)| Model {
                hash: sha256(bytes),
                size: bytes.len(),
                input_shape: typed.input_shape,
                output_shape: typed.output_shape,
                ops: typed.ops,
                plan,
            })
    }

    /// SHA-256 of the ONNX bytes.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    /// Size of the ONNX file (bytes).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Shape of the input.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// Shape of the output.
    pub fn output_shape(&self) -> &[usize] {
        &self.output_shape
    }

    /// Values in the input.
    pub fn input_len(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// Values in the output.
    pub fn output_len(&self) -> usize {
        self.output_shape.iter().product()
    }

    /// Operations per inference (multiply-adds, divisions, and one per computed element).
    pub fn ops(&self) -> u64 {
        self.ops
    }

    /// Run one inference on the calling thread.
    pub fn run(&self, input: &[f32]) -> Result<Vec<f32>, RunError> {
        if input.len() != self.input_len() {
            return Err(RunError::InputLength {
                expected: self.input_len(),
                got: input.len(),
            });
        }
        if let Some(index) = input.iter().position(|v| !v.is_finite()) {
            return Err(RunError::NonFiniteInput { index });
        }
        catch_unwind(AssertUnwindSafe(|| {
            let tensor = Tensor::from_shape(&self.input_shape, input)
                .map_err(|e| RunError::Engine(e.to_string()))?;
            let out = self
                .plan
                .run(tvec![tensor.into()])
                .map_err(|e| RunError::Engine(format!("{e:#}")))?;
            let first = out
                .first()
                .ok_or_else(|| RunError::Engine("no output".into()))?;
            let view = first
                .to_plain_array_view::<f32>()
                .map_err(|e| RunError::Engine(e.to_string()))?;
            Ok(view.iter().copied().collect())
        }))
        .unwrap_or_else(|p| Err(RunError::Engine(panic_message(p))))
    }
}
