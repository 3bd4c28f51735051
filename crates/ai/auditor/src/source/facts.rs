//! Per-function facts: what a function calls, writes, reads and checks, with lines.
//!
//! Collected once per function in source order; detectors only read them. "State" means
//! a state variable of the contract (inherited ones included) or a local storage
//! pointer into one (`Acc storage a = accounts[x]`, or 0.4's `var a = accounts[x]`).

mod exprs;

use super::walk::{self, EnvKind, LowLevelKind};
use super::{Contract, Lines, Program, end, start};
use solang_parser::helpers::CodeLocation;
use solang_parser::pt::{self, Expression, Statement};
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
    /// Whether the call is made (see [`walk::LowLevel::invoked`]); always true for
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

#[derive(Clone, Default)]
struct Ctx {
    in_cond: bool,
    in_require: bool,
    reverting_if: bool,
    in_sink: bool,
    in_loop: Option<usize>,
    loop_header: bool,
    assign_target: Option<String>,
    /// Operands of the enclosing comparison (overflow-check idiom detection).
    compared_with: Vec<String>,
    in_assert: bool,
    in_equality: bool,
    in_modulo: bool,
    /// The expression being visited is the whole right-hand side of an assignment.
    direct: bool,
}

struct Collector<'p> {
    program: &'p Program<'p>,
    contract: &'p Contract<'p>,
    lines: &'p Lines,
    facts: Facts,
    /// Every condition's text, for arithmetic guards.
    conditions: Vec<String>,
    /// Reads of names with their offsets, to tell whether a call result is used.
    reads: Vec<(String, usize)>,
    /// Locals holding a low-level call's result: (name, call start).
    pending_results: Vec<(String, usize)>,
    /// Locals derived from `msg.sender` (`uint idx = ownerIndex[msg.sender]`).
    sender_locals: BTreeSet<String>,
}

const BUILTINS: &[&str] = &[
    "require",
    "assert",
    "revert",
    "keccak256",
    "sha3",
    "sha256",
    "ripemd160",
    "ecrecover",
    "addmod",
    "mulmod",
    "selfdestruct",
    "suicide",
    "blockhash",
    "gasleft",
    "address",
    "payable",
    "uint",
    "uint256",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "uint128",
    "int",
    "int256",
    "bytes32",
    "bytes4",
    "bytes",
    "string",
    "bool",
    "byte",
    "type",
    "abi",
];

impl Facts {
    pub fn collect<'p>(
        program: &'p Program<'p>,
        contract: &'p Contract<'p>,
        f: &pt::FunctionDefinition,
    ) -> Facts {
        let mut facts = Facts::default();
        for (_, p) in f.params.iter().chain(&f.returns) {
            if let Some(p) = p
                && let Some(n) = &p.name
                && is_narrow(&p.ty)
            {
                facts.narrow.insert(n.name.clone());
            }
        }
        for (_, p) in &f.params {
            if let Some(n) = p.as_ref().and_then(|p| p.name.as_ref()) {
                facts.params.insert(n.name.clone());
            }
        }
        for (_, p) in &f.returns {
            if let Some(n) = p.as_ref().and_then(|p| p.name.as_ref()) {
                facts.locals.insert(n.name.clone());
            }
        }
        let Some(body) = &f.body else {
            return facts;
        };
        let mut c = Collector {
            program,
            contract,
            lines: &program.lines,
            facts,
            conditions: Vec::new(),
            reads: Vec::new(),
            pending_results: Vec::new(),
            sender_locals: BTreeSet::new(),
        };
        c.declare(body);
        c.collect_conditions(body);
        c.stmt(body, &Ctx::default());
        // A call result stored in a local that is never read again is unchecked.
        for (name, at) in std::mem::take(&mut c.pending_results) {
            let read = c.reads.iter().any(|(n, off)| *n == name && *off > at);
            if !read && let Some(call) = c.facts.calls.iter_mut().find(|cs| cs.start == at) {
                call.unchecked = true;
            }
        }
        c.facts
    }

    /// Whether the function checks `msg.sender` anywhere in its body.
    pub fn checks_sender(&self) -> bool {
        !self.sender_checks.is_empty()
    }
}

impl Collector<'_> {
    /// Records locals, storage aliases and uninitialized storage pointers.
    fn declare(&mut self, body: &Statement) {
        let mut decls = Vec::new();
        walk::stmts(body, &mut |s| {
            if let Statement::VariableDefinition(loc, decl, init) = s {
                decls.push((*loc, decl.clone(), init.clone()));
            }
        });
        for (loc, decl, init) in decls {
            let Some(name) = decl.name.as_ref().map(|n| n.name.clone()) else {
                continue;
            };
            self.facts.locals.insert(name.clone());
            if is_narrow(&decl.ty) {
                self.facts.narrow.insert(name.clone());
            }
            let ty = decl.ty.to_string();
            let elementary = matches!(decl.ty, Expression::Type(..));
            let is_storage = matches!(decl.storage, Some(pt::StorageLocation::Storage(_)));
            let is_memory = matches!(
                decl.storage,
                Some(pt::StorageLocation::Memory(_) | pt::StorageLocation::Calldata(_))
            );
            match &init {
                Some(e) => {
                    if (is_storage || (!elementary && !is_memory))
                        && let Some(root) = walk::root_var(e)
                        && self.is_state(root)
                    {
                        let target = self
                            .facts
                            .aliases
                            .get(root)
                            .cloned()
                            .unwrap_or_else(|| root.to_string());
                        self.facts.aliases.insert(name, target);
                    }
                }
                None => {
                    if self.program.before_0_5() && !is_memory && self.program.structs.contains(&ty)
                    {
                        self.facts
                            .uninit_storage
                            .push((self.lines.of(&loc), name.clone()));
                        // Writes through it land in slot 0.. of the contract's storage.
                        self.facts.aliases.insert(name, String::new());
                    }
                }
            }
        }
    }

    fn collect_conditions(&mut self, body: &Statement) {
        let mut conds = Vec::new();
        walk::stmts(body, &mut |s| match s {
            Statement::If(_, c, _, _) | Statement::While(_, c, _) => conds.push(c.to_string()),
            _ => {
                for e in walk::stmt_exprs(s) {
                    walk::exprs(e, &mut |x| {
                        if matches!(walk::callee_name(x), Some("require" | "assert"))
                            && let Expression::FunctionCall(_, _, args) = x
                            && let Some(a) = args.first()
                        {
                            conds.push(a.to_string());
                        }
                    });
                }
            }
        });
        self.conditions = conds;
    }

    /// A name that denotes state: a state variable not shadowed, or a storage alias.
    fn is_state(&self, name: &str) -> bool {
        if self.facts.aliases.contains_key(name) {
            return true;
        }
        !self.facts.params.contains(name)
            && !self.facts.locals.contains(name)
            && self.contract.state_var(name).is_some_and(|v| !v.constant)
    }

    /// The state variable an access path writes or reads, through aliases.
    fn state_root(&self, e: &Expression) -> Option<String> {
        let r = walk::root_var(e)?;
        if !self.is_state(r) {
            return None;
        }
        match self.facts.aliases.get(r) {
            Some(target) if !target.is_empty() => Some(target.clone()),
            Some(_) => Some(format!("<uninitialized pointer {r}>")),
            None => Some(r.to_string()),
        }
    }

    fn user_controlled(&self, e: &Expression) -> bool {
        walk::any(e, &|x| {
            matches!(x, Expression::Variable(id) if self.facts.params.contains(&id.name))
                || walk::is_msg(x, "value")
                || walk::is_msg(x, "data")
        })
    }

    fn is_constant(&self, e: &Expression) -> bool {
        match walk::strip(e) {
            Expression::NumberLiteral(..)
            | Expression::HexNumberLiteral(..)
            | Expression::RationalNumberLiteral(..) => true,
            Expression::Variable(id) => self
                .contract
                .state_var(&id.name)
                .is_some_and(|v| v.constant),
            Expression::Power(_, a, b) | Expression::Multiply(_, a, b) => {
                self.is_constant(a) && self.is_constant(b)
            }
            _ => false,
        }
    }

    /// Type name of the value an expression denotes, when it is a named variable/field.
    fn type_of(&self, e: &Expression) -> Option<String> {
        match walk::strip(e) {
            Expression::Variable(id) => {
                if let Some(v) = self.contract.state_var(&id.name) {
                    return Some(v.ty.clone());
                }
                self.program.types.get(&id.name).cloned()
            }
            Expression::MemberAccess(_, _, id) => self.program.types.get(&id.name).cloned(),
            Expression::ArraySubscript(_, a, _) => {
                let t = self.type_of(a)?;
                // `mapping(k => T)` or `T[]`: the element type's name.
                let inner = t.rsplit("=>").next().unwrap_or(&t);
                Some(
                    inner
                        .trim()
                        .trim_end_matches(')')
                        .trim_end_matches("[]")
                        .trim()
                        .to_string(),
                )
            }
            // `Token(addr).f()`: a cast to a contract type.
            Expression::FunctionCall(_, f, args) if args.len() == 1 => match walk::strip(f) {
                Expression::Variable(id) => Some(id.name.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    fn is_contract_type(&self, ty: &str) -> bool {
        let ty = ty.trim();
        self.program.contract_names.contains(ty)
            || (ty.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && !self.program.structs.contains(ty))
    }

    fn stmt(&mut self, s: &Statement, ctx: &Ctx) {
        match s {
            Statement::Block { statements, .. } => {
                for st in statements {
                    self.stmt(st, ctx);
                }
            }
            Statement::If(_, cond, then, els) => {
                self.membership(cond);
                let c = Ctx {
                    in_cond: true,
                    reverting_if: reverts(then),
                    ..ctx.clone()
                };
                self.expr(cond, &c);
                self.stmt(then, ctx);
                if let Some(e) = els {
                    self.stmt(e, ctx);
                }
            }
            Statement::While(loc, cond, body) | Statement::DoWhile(loc, body, cond) => {
                let idx = self.push_loop(loc, Some(cond));
                let inner = Ctx {
                    in_loop: Some(idx),
                    ..ctx.clone()
                };
                self.expr(
                    cond,
                    &Ctx {
                        in_cond: true,
                        ..inner.clone()
                    },
                );
                self.stmt(body, &inner);
            }
            Statement::For(loc, init, cond, next, body) => {
                let idx = self.push_loop(loc, cond.as_deref());
                let inner = Ctx {
                    in_loop: Some(idx),
                    ..ctx.clone()
                };
                let header = Ctx {
                    loop_header: true,
                    ..inner.clone()
                };
                if let Some(i) = init {
                    self.stmt(i, &header);
                }
                if let Some(c) = cond {
                    self.expr(
                        c,
                        &Ctx {
                            in_cond: true,
                            ..header.clone()
                        },
                    );
                }
                if let Some(n) = next {
                    self.expr(n, &header);
                }
                if let Some(b) = body {
                    self.stmt(b, &inner);
                }
            }
            Statement::Expression(_, e) => {
                if matches!(walk::strip(e), Expression::Variable(id) if id.name == "_") {
                    self.facts.placeholder = Some(start(&e.loc()));
                    return;
                }
                if let Some(ll) = walk::low_level(e) {
                    // The result of a statement-level call is dropped.
                    let at = start(&walk::strip(e).loc());
                    self.expr(e, ctx);
                    if ll.kind != LowLevelKind::Transfer
                        && let Some(cs) = self.facts.calls.iter_mut().find(|c| c.start == at)
                    {
                        cs.unchecked = true;
                    }
                    return;
                }
                // `(bool ok, ) = a.call(..)`: remember `ok` to check it is read later.
                if let Expression::Assign(_, lhs, rhs) = walk::strip(e)
                    && walk::low_level(rhs).is_some()
                    && let Expression::List(_, params) = walk::strip(lhs)
                    && let Some(name) = params
                        .first()
                        .and_then(|(_, p)| p.as_ref())
                        .and_then(|p| p.name.as_ref().map(|n| n.name.clone()))
                {
                    self.facts.locals.insert(name.clone());
                    self.pending_results
                        .push((name, start(&walk::strip(rhs).loc())));
                }
                self.expr(e, ctx);
            }
            Statement::VariableDefinition(_, decl, Some(init)) => {
                let name = decl.name.as_ref().map(|n| n.name.clone());
                if let Some(n) = &name
                    && walk::any(init, &walk::is_msg_sender)
                {
                    self.sender_locals.insert(n.clone());
                }
                if walk::low_level(init).is_some()
                    && let Some(n) = &name
                {
                    self.pending_results
                        .push((n.clone(), start(&walk::strip(init).loc())));
                }
                let c = Ctx {
                    assign_target: name,
                    direct: true,
                    ..ctx.clone()
                };
                self.expr(init, &c);
            }
            Statement::Return(_, Some(e)) => {
                let before = self.facts.env.len();
                self.expr(e, ctx);
                for u in &mut self.facts.env[before..] {
                    u.returned = true;
                }
            }
            Statement::Revert(_, _, args) => {
                for a in args {
                    self.expr(a, ctx);
                }
            }
            Statement::Try(_, e, ret, catches) => {
                self.expr(e, ctx);
                if let Some((_, b)) = ret {
                    self.stmt(b, ctx);
                }
                for c in catches {
                    match c {
                        pt::CatchClause::Simple(_, _, b) | pt::CatchClause::Named(_, _, _, b) => {
                            self.stmt(b, ctx)
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn push_loop(&mut self, loc: &pt::Loc, cond: Option<&Expression>) -> usize {
        let over_state = cond.is_some_and(|c| {
            walk::any(c, &|x| {
                matches!(x, Expression::MemberAccess(_, o, id)
                    if id.name == "length" && walk::root_var(o).is_some_and(|r| self.is_state(r)))
            })
        });
        let unbounded = cond.is_some_and(|c| {
            walk::any(c, &|x| {
                matches!(x, Expression::MemberAccess(_, o, id)
                    if id.name == "length" && walk::root_var(o).is_some_and(|r| self.is_state(r)))
                    || matches!(x, Expression::Variable(id) if self.facts.params.contains(&id.name))
            })
        });
        self.facts.loops.push(Loop {
            line: self.lines.of(loc),
            start: start(loc),
            end: end(loc),
            unbounded,
            over_state,
        });
        self.facts.loops.len() - 1
    }
}

/// `uint8` .. `uint64`, `int8` .. `int64`.
fn is_narrow(ty: &Expression) -> bool {
    matches!(ty, Expression::Type(_, pt::Type::Uint(n) | pt::Type::Int(n)) if *n <= 64)
}

/// Whether a branch reverts (`revert()`, a rewritten `throw`, `revert("..")`).
fn reverts(s: &Statement) -> bool {
    let mut hit = false;
    walk::stmts(s, &mut |st| {
        if matches!(st, Statement::Revert(..)) {
            hit = true;
        }
        if let Statement::Expression(_, e) = st
            && matches!(walk::callee_name(e), Some("revert"))
        {
            hit = true;
        }
    });
    hit
}
