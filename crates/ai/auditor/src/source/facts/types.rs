//! The per-function fact records: call sites, state writes, arithmetic, uses of the
//! block environment, loops, and the [`Facts`] of one function body that holds them.

use crate::source::walk::{EnvKind, LowLevelKind};
use std::collections::{BTreeMap, BTreeSet};

/// What kind of call a call site is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallKind {
    LowLevel(LowLevelKind),
    /// A call on a contract-typed value (`token.transfer(a, b)`).
    External,
    /// A call to a function of this contract (by name).
    Internal(String),
}

#[derive(Debug, Clone)]
pub struct CallSite {
    pub kind: CallKind,
    pub line: u32,
    pub start: usize,
    pub end: usize,
    /// The result is dropped (statement expression, or assigned and never read).
    pub unchecked: bool,
    /// A failure reverts the whole call (`transfer`, inside `require`/`assert`, or an
    /// `if` whose branch reverts).
    pub reverts_on_fail: bool,
    pub has_value: bool,
    pub gas_limited: bool,
    pub target_root: Option<String>,
    pub target_is_sender: bool,
    /// The target or the call data comes from a parameter or `msg.data`.
    pub caller_controlled: bool,
    /// State variable the amount of a `send`/`transfer` is read from.
    pub amount_var: Option<String>,
    /// Whether the call is made (see [`walk::LowLevel::invoked`](crate::source::walk::LowLevel::invoked)); always true for
    /// non-low-level calls.
    pub invoked: bool,
    /// The amount is (a fraction of) `msg.value`.
    pub value_from_msg: bool,
    pub in_loop: Option<usize>,
}

/// How a state variable is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOp {
    Assign,
    Compound,
    IncDec,
    Delete,
    Push,
    /// `.length` assignment or `new T[](..)` (resets or resizes a dynamic array).
    Resize,
}

#[derive(Debug, Clone)]
pub struct Write {
    pub var: String,
    pub line: u32,
    pub start: usize,
    pub op: WriteOp,
    pub in_loop: Option<usize>,
    /// The value written is `msg.sender`.
    pub value_is_sender: bool,
    /// The value written mentions a parameter.
    pub value_from_param: bool,
    /// The written slot is indexed by `msg.sender`.
    pub keyed_by_sender: bool,
    /// The written slot is indexed by a parameter.
    pub index_from_param: bool,
    /// Clears the variable: `delete x`, `x = new T[](0)`, `x.length = 0`.
    pub clears: bool,
}

/// An arithmetic operation that can wrap (+, -, *, and their assignments).
#[derive(Debug, Clone)]
pub struct Arith {
    pub line: u32,
    pub start: usize,
    pub op: &'static str,
    /// Assignment to state (`x += y`, `x = x + y` on a state variable).
    pub writes_state: bool,
    pub reads_state: bool,
    /// An operand comes from a parameter or `msg.value`.
    pub user_operand: bool,
    /// Both operands are literals or constants.
    pub constant: bool,
    /// An addition of a constant (a counter or a deadline).
    pub increment: bool,
    /// A condition in the function compares the operands (or the result).
    pub guarded: bool,
    /// Inside a loop header (`i++`) or a loop counter update.
    pub loop_counter: bool,
    /// An addition of (a fraction of) `msg.value`: ether amounts cannot reach 2^256.
    pub adds_msg_value: bool,
    /// An operand is a local or parameter of a narrow integer type (8 to 64 bits),
    /// which wraps at small values.
    pub narrow: bool,
    /// For compound assignments, the state variable assigned.
    pub target: Option<String>,
    /// Inside an `assert`/comparison that checks for overflow (`a + b >= a`).
    pub overflow_check: bool,
}

#[derive(Debug, Clone)]
pub struct EnvUse {
    pub kind: EnvKind,
    pub line: u32,
    pub start: usize,
    /// Inside an `if`/`require`/`while` condition, a comparison or a ternary.
    pub in_condition: bool,
    /// Inside a hash, `%` or a `blockhash(..)` argument.
    pub in_entropy_sink: bool,
    /// Assigned to this variable (local or state).
    pub assigned_to: Option<String>,
    /// The assigned value is the block value itself (`last = now`, not `now + 1 days`).
    pub direct: bool,
    pub returned: bool,
    /// Inside an `==`/`!=` comparison.
    pub in_equality: bool,
    /// Inside a `%` operand.
    pub in_modulo: bool,
}

/// What an always-true unsigned comparison was meant to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tautology {
    Length,
    Subtraction,
    Other,
}

#[derive(Debug, Clone)]
pub struct Loop {
    pub line: u32,
    pub start: usize,
    pub end: usize,
    /// The bound reads a dynamic state array's `.length` or a parameter.
    pub unbounded: bool,
    /// The bound reads a state array's `.length`.
    pub over_state: bool,
}

/// Everything detectors need to know about one function body.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub calls: Vec<CallSite>,
    pub writes: Vec<Write>,
    pub arith: Vec<Arith>,
    pub env: Vec<EnvUse>,
    pub loops: Vec<Loop>,
    /// Lines of conditions comparing `msg.sender` (or a mapping keyed by it).
    pub sender_checks: Vec<u32>,
    /// State variables compared for equality with `msg.sender`.
    pub sender_vars: BTreeSet<String>,
    /// State mappings used as membership tests of `msg.sender` (`require(admins[msg.sender])`).
    pub sender_maps: BTreeSet<String>,
    /// Lines where `tx.origin` is compared.
    pub origin_checks: Vec<u32>,
    /// Uninitialized local struct declarations (storage pointers before 0.5): line, name.
    pub uninit_storage: Vec<(u32, String)>,
    /// Lines of `selfdestruct`/`suicide`.
    pub selfdestructs: Vec<u32>,
    /// Hashes of parameters compared with state (`sha3(p) == hash`): lines.
    pub hash_checks: Vec<u32>,
    /// Hashes compared with the caller's own stored commitment (commit-reveal).
    pub commitment_checks: usize,
    /// Tautologies on unsigned values (`x >= 0`, `0 <= x`): line, and whether the
    /// compared value is an array length (a bounds check) or a subtraction.
    pub tautologies: Vec<(u32, Tautology)>,
    /// Lines reading `msg.data.length` (payload-size checks).
    pub payload_checks: usize,
    /// State variables compared with the timestamp in a condition.
    pub timed_vars: BTreeSet<String>,
    /// Variables read inside an entropy sink (hash, `%`, `blockhash`): name, line.
    pub sink_vars: Vec<(String, u32)>,
    /// Position of the modifier placeholder `_` (modifiers only).
    pub placeholder: Option<usize>,
    pub params: BTreeSet<String>,
    pub locals: BTreeSet<String>,
    /// Local storage pointer -> state variable it points into.
    pub aliases: BTreeMap<String, String>,
    /// Locals and parameters of integer types of 64 bits or fewer.
    pub narrow: BTreeSet<String>,
}

impl Facts {
    /// Whether the function checks `msg.sender` anywhere in its body.
    pub fn checks_sender(&self) -> bool {
        !self.sender_checks.is_empty()
    }
}
