//! Per-function facts: what a function calls, writes, reads and checks, with lines.
//!
//! Collected once per function in source order; detectors only read them. "State" means
//! a state variable of the contract (inherited ones included) or a local storage
//! pointer into one (`Acc storage a = accounts[x]`, or 0.4's `var a = accounts[x]`).

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
    "require", "assert", "revert", "keccak256", "sha3", "sha256", "ripemd160", "ecrecover",
    "addmod", "mulmod", "selfdestruct", "suicide", "blockhash", "gasleft", "address",
    "payable", "uint", "uint256", "uint8", "uint16", "uint32", "uint64", "uint128", "int",
    "int256", "bytes32", "bytes4", "bytes", "string", "bool", "byte", "type", "abi",
];

impl Facts {
    pub fn collect<'p>(
        program: &'p Program<'p>,
        contract: &'p Contract<'p>,
        f: &pt::FunctionDefinition,
    ) -> Facts {
        let mut facts = Facts::default();
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
                decls.push((loc.clone(), decl.clone(), init.clone()));
            }
        });
        for (loc, decl, init) in decls {
            let Some(name) = decl.name.as_ref().map(|n| n.name.clone()) else {
                continue;
            };
            self.facts.locals.insert(name.clone());
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

    fn from_param(&self, e: &Expression) -> bool {
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
                Some(inner.trim().trim_end_matches(')').trim_end_matches("[]").trim().to_string())
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

    fn expr(&mut self, e: &Expression, ctx: &Ctx) {
        let loc = e.loc();
        let line = self.lines.of(&loc);
        let at = start(&loc);
        use Expression as E;
        let direct_ctx;
        let ctx = if ctx.direct && walk::env_kind(e).is_none() && !matches!(e, E::Parenthesis(..)) {
            direct_ctx = Ctx { direct: false, ..ctx.clone() };
            &direct_ctx
        } else {
            ctx
        };
        if let Some(k) = walk::env_kind(e) {
            self.facts.env.push(EnvUse {
                kind: k,
                line,
                start: at,
                in_condition: ctx.in_cond,
                in_entropy_sink: ctx.in_sink,
                assigned_to: ctx.assign_target.clone(),
                direct: ctx.direct,
                returned: false,
                in_equality: ctx.in_equality,
                in_modulo: ctx.in_modulo,
            });
        }
        if walk::is_msg(e, "data")
            || matches!(e, E::MemberAccess(_, o, id) if id.name == "length" && walk::is_msg(o, "data"))
        {
            self.facts.payload_checks += 1;
        }
        match e {
            E::Variable(id) => {
                self.reads.push((id.name.clone(), at));
                if ctx.in_sink {
                    self.facts.sink_vars.push((id.name.clone(), line));
                }
            }
            E::FunctionCall(..) | E::FunctionCallBlock(..) | E::NamedFunctionCall(..) => {
                self.call(e, ctx);
                return;
            }
            E::Assign(_, lhs, rhs)
            | E::AssignAdd(_, lhs, rhs)
            | E::AssignSubtract(_, lhs, rhs)
            | E::AssignMultiply(_, lhs, rhs)
            | E::AssignDivide(_, lhs, rhs)
            | E::AssignModulo(_, lhs, rhs)
            | E::AssignOr(_, lhs, rhs)
            | E::AssignAnd(_, lhs, rhs)
            | E::AssignXor(_, lhs, rhs)
            | E::AssignShiftLeft(_, lhs, rhs)
            | E::AssignShiftRight(_, lhs, rhs) => {
                let compound = !matches!(e, E::Assign(..));
                if let Some(var) = self.state_root(lhs) {
                    let resize = matches!(walk::strip(lhs), E::MemberAccess(_, _, id) if id.name == "length")
                        || matches!(walk::strip(rhs), E::FunctionCall(_, f, _) if matches!(walk::strip(f), E::New(..)));
                    self.facts.writes.push(Write {
                        var,
                        line,
                        start: at,
                        op: if resize {
                            WriteOp::Resize
                        } else if compound {
                            WriteOp::Compound
                        } else {
                            WriteOp::Assign
                        },
                        in_loop: ctx.in_loop,
                        value_is_sender: walk::is_msg_sender(rhs),
                        value_from_param: self.from_param(rhs),
                        keyed_by_sender: keyed_by_sender(lhs),
                        index_from_param: self.index_from_param(lhs),
                        clears: !compound
                            && (walk::is_zero(rhs) && resize
                                || matches!(walk::strip(rhs), E::FunctionCall(_, f, args)
                                    if matches!(walk::strip(f), E::New(..)) && args.first().is_some_and(walk::is_zero))),
                    });
                }
                let op = match e {
                    E::AssignAdd(..) => Some("+="),
                    E::AssignSubtract(..) => Some("-="),
                    E::AssignMultiply(..) => Some("*="),
                    _ => None,
                };
                if let Some(op) = op {
                    self.arith(op, lhs, rhs, line, at, ctx, true);
                }
                // Index expressions of the target are reads.
                for c in walk::children(lhs) {
                    self.expr(c, ctx);
                }
                let target = walk::root_var(lhs).map(str::to_string);
                let c = Ctx {
                    assign_target: target,
                    direct: !compound,
                    ..ctx.clone()
                };
                self.expr(rhs, &c);
                return;
            }
            E::PostIncrement(_, a)
            | E::PostDecrement(_, a)
            | E::PreIncrement(_, a)
            | E::PreDecrement(_, a)
            | E::Delete(_, a) => {
                if let Some(var) = self.state_root(a) {
                    let op = if matches!(e, E::Delete(..)) {
                        WriteOp::Delete
                    } else if matches!(walk::strip(a), E::MemberAccess(_, _, id) if id.name == "length")
                    {
                        WriteOp::Resize
                    } else {
                        WriteOp::IncDec
                    };
                    self.facts.writes.push(Write {
                        var,
                        line,
                        start: at,
                        op,
                        in_loop: ctx.in_loop,
                        value_is_sender: false,
                        value_from_param: false,
                        keyed_by_sender: keyed_by_sender(a),
                        index_from_param: self.index_from_param(a),
                        clears: matches!(e, E::Delete(..)) && matches!(walk::strip(a), E::Variable(..)),
                    });
                }
            }
            E::Add(_, a, b) => self.arith("+", a, b, line, at, ctx, false),
            E::Subtract(_, a, b) => self.arith("-", a, b, line, at, ctx, false),
            E::Multiply(_, a, b) => self.arith("*", a, b, line, at, ctx, false),
            E::Modulo(_, a, b) => {
                let c = Ctx {
                    in_sink: true,
                    in_modulo: true,
                    ..ctx.clone()
                };
                self.expr(a, &c);
                self.expr(b, ctx);
                return;
            }
            E::Equal(_, a, b)
            | E::NotEqual(_, a, b)
            | E::Less(_, a, b)
            | E::More(_, a, b)
            | E::LessEqual(_, a, b)
            | E::MoreEqual(_, a, b) => {
                self.comparison(e, a, b, line);
                let c = Ctx {
                    in_cond: true,
                    compared_with: vec![a.to_string(), b.to_string()],
                    in_equality: matches!(e, E::Equal(..) | E::NotEqual(..)),
                    ..ctx.clone()
                };
                self.expr(a, &c);
                self.expr(b, &c);
                return;
            }
            E::ConditionalOperator(_, c, a, b) => {
                self.expr(
                    c,
                    &Ctx {
                        in_cond: true,
                        ..ctx.clone()
                    },
                );
                self.expr(a, ctx);
                self.expr(b, ctx);
                return;
            }
            _ => {}
        }
        for c in walk::children(e) {
            self.expr(c, ctx);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn arith(
        &mut self,
        op: &'static str,
        a: &Expression,
        b: &Expression,
        line: u32,
        at: usize,
        ctx: &Ctx,
        compound: bool,
    ) {
        let (ta, tb) = (a.to_string(), b.to_string());
        let plain = format!("{ta} {} {tb}", &op[..1]);
        let guarded = self.conditions.iter().any(|c| {
            (c.contains(&ta) && c.contains(&tb) && !c.contains(&plain))
                || ctx
                    .assign_target
                    .as_ref()
                    .is_some_and(|t| !compound && c.contains(t.as_str()))
        });
        let reads_state = self.state_root(a).is_some() || self.state_root(b).is_some();
        self.facts.arith.push(Arith {
            line,
            start: at,
            op,
            writes_state: compound && self.state_root(a).is_some()
                || (!compound
                    && ctx
                        .assign_target
                        .as_ref()
                        .is_some_and(|t| self.is_state(t))),
            reads_state,
            user_operand: self.from_param(a) || self.from_param(b),
            constant: self.is_constant(a) && self.is_constant(b),
            increment: op.starts_with('+') && (self.is_constant(a) || self.is_constant(b)),
            guarded,
            loop_counter: ctx.loop_header,
            target: if compound { self.state_root(a) } else { None },
            adds_msg_value: op.starts_with('+')
                && (only_msg_value(a) || only_msg_value(b)),
            overflow_check: ctx.in_assert
                || ctx.compared_with.iter().any(|c| *c == ta || *c == tb),
        });
    }

    /// `require(admins[msg.sender])`, `if (!owners[msg.sender]) throw`: membership keyed
    /// by the caller.
    fn membership(&mut self, cond: &Expression) {
        let c = match walk::strip(cond) {
            Expression::Not(_, a) => walk::strip(a),
            c => c,
        };
        if let Expression::ArraySubscript(loc, base, Some(idx)) = c
            && walk::any(idx, &walk::is_msg_sender)
            && let Some(v) = self.state_root(base)
        {
            self.facts.sender_checks.push(self.lines.of(loc));
            self.facts.sender_maps.insert(v);
        }
    }

    fn index_from_param(&self, e: &Expression) -> bool {
        match walk::strip(e) {
            Expression::ArraySubscript(_, base, Some(i)) => {
                self.from_param(i) || self.index_from_param(base)
            }
            Expression::MemberAccess(_, base, _) => self.index_from_param(base),
            _ => false,
        }
    }

    fn comparison(&mut self, e: &Expression, a: &Expression, b: &Expression, line: u32) {
        let from_sender = |x: &Expression| {
            walk::is_msg_sender(x)
                || matches!(x, Expression::Variable(id) if self.sender_locals.contains(&id.name))
        };
        let sender_a = walk::any(a, &from_sender);
        let sender_b = walk::any(b, &from_sender);
        if (sender_a || sender_b) && matches!(e, Expression::Equal(..) | Expression::NotEqual(..)) {
            self.facts.sender_checks.push(line);
            let (mine, other) = if sender_a { (a, b) } else { (b, a) };
            if walk::is_msg_sender(mine) {
                // Only a role held in one variable (`owner`); `parties[id].addr` is a
                // per-record check.
                let scalar = !walk::any(other, &|x| matches!(x, Expression::ArraySubscript(..)));
                if scalar && let Some(v) = self.state_root(other) {
                    self.facts.sender_vars.insert(v);
                }
            } else if let Some(v) = self.state_root(mine) {
                // `owners[msg.sender] != 0`: membership.
                self.facts.sender_maps.insert(v);
            }
        }
        let origin = |x: &Expression| walk::env_kind(x) == Some(EnvKind::Origin);
        // `msg.sender == tx.origin` rejects contracts; it authorizes nobody.
        if (walk::any(a, &origin) || walk::any(b, &origin)) && !(sender_a || sender_b) {
            self.facts.origin_checks.push(line);
        }
        let is_time = |x: &Expression| walk::env_kind(x) == Some(EnvKind::Timestamp);
        if walk::any(a, &is_time) || walk::any(b, &is_time) {
            for side in [a, b] {
                walk::exprs(side, &mut |x| {
                    if let Expression::Variable(id) = x
                        && self.is_state(&id.name)
                    {
                        self.facts.timed_vars.insert(id.name.clone());
                    }
                    if let Expression::MemberAccess(_, _, id) = x {
                        self.facts.timed_vars.insert(id.name.clone());
                    }
                });
            }
        }
        let zero_side = match e {
            Expression::MoreEqual(..) => Some(b),
            Expression::LessEqual(..) => Some(a),
            _ => None,
        };
        if zero_side.is_some_and(walk::is_zero) {
            let other = if matches!(e, Expression::MoreEqual(..)) { a } else { b };
            let kind = if walk::any(other, &|x| matches!(x, Expression::MemberAccess(_, _, id) if id.name == "length")) {
                Tautology::Length
            } else if matches!(walk::strip(other), Expression::Subtract(..)) {
                Tautology::Subtraction
            } else {
                Tautology::Other
            };
            self.facts.tautologies.push((line, kind));
        }
        if matches!(e, Expression::Equal(..)) {
            let hashed_param = |x: &Expression| {
                walk::any(x, &|h| walk::is_hash_call(h) && self.from_param(h))
            };
            if hashed_param(a) || hashed_param(b) {
                self.facts.hash_checks.push(line);
            }
        }
    }

    fn call(&mut self, e: &Expression, ctx: &Ctx) {
        let loc = e.loc();
        let line = self.lines.of(&loc);
        let at = start(&loc);
        let name = walk::callee_name(e).map(str::to_string);
        let (callee, args): (&Expression, Vec<&Expression>) = match e {
            Expression::FunctionCall(_, f, args) => (f, args.iter().collect()),
            Expression::FunctionCallBlock(_, f, _) => (f, Vec::new()),
            Expression::NamedFunctionCall(_, f, args) => (f, args.iter().map(|a| &a.expr).collect()),
            _ => return,
        };
        if let Some(ll) = walk::low_level(e) {
            if !self.facts.calls.iter().any(|c| c.start == at) {
                let data_from_caller = args.iter().any(|a| self.from_param(a));
                self.facts.calls.push(CallSite {
                    kind: CallKind::LowLevel(ll.kind),
                    line,
                    start: at,
                    end: end(&loc),
                    unchecked: false,
                    reverts_on_fail: ll.kind == LowLevelKind::Transfer
                        || ctx.in_require
                        || (ctx.in_cond && ctx.reverting_if),
                    has_value: ll.has_value,
                    gas_limited: ll.gas_limited,
                    target_root: walk::root_var(ll.target).map(str::to_string),
                    target_is_sender: walk::is_msg_sender(ll.target),
                    caller_controlled: self.from_param(ll.target) || data_from_caller,
                    invoked: ll.invoked,
                    value_from_msg: false,
                    amount_var: match ll.kind {
                        LowLevelKind::Send | LowLevelKind::Transfer => {
                            args.first().and_then(|a| self.state_root(a))
                        }
                        _ => None,
                    },
                    in_loop: ctx.in_loop,
                });
            }
        } else if let Expression::MemberAccess(_, obj, member) = walk::strip(callee) {
            let ty = self.type_of(obj);
            if member.name == "push"
                && let Some(var) = self.state_root(obj)
            {
                self.facts.writes.push(Write {
                    var,
                    line,
                    start: at,
                    op: WriteOp::Push,
                    in_loop: ctx.in_loop,
                    value_is_sender: args.iter().any(|a| walk::is_msg_sender(a)),
                    value_from_param: args.iter().any(|a| self.from_param(a)),
                    keyed_by_sender: false,
                    index_from_param: false,
                    clears: false,
                });
            } else if ty.as_deref().is_some_and(|t| self.is_contract_type(t))
                && !walk::root_var(obj).is_some_and(|r| self.program.libraries.contains(r))
                && !matches!(walk::strip(obj), Expression::Variable(v) if v.name == "this" || v.name == "super")
            {
                self.facts.calls.push(CallSite {
                    kind: CallKind::External,
                    line,
                    start: at,
                    end: end(&loc),
                    unchecked: false,
                    reverts_on_fail: true,
                    has_value: false,
                    gas_limited: false,
                    target_root: walk::root_var(obj).map(str::to_string),
                    target_is_sender: false,
                    caller_controlled: self.from_param(obj) || walk::any(obj, &walk::is_msg_sender),
                    amount_var: None,
                    invoked: true,
                    value_from_msg: false,
                    in_loop: ctx.in_loop,
                });
            }
        } else if let Some(n) = &name {
            match n.as_str() {
                "selfdestruct" | "suicide" => self.facts.selfdestructs.push(line),
                _ if BUILTINS.contains(&n.as_str())
                    || self.program.structs.contains(n)
                    || self.program.contract_names.contains(n) => {}
                _ => self.facts.calls.push(CallSite {
                    kind: CallKind::Internal(n.clone()),
                    line,
                    start: at,
                    end: end(&loc),
                    unchecked: false,
                    reverts_on_fail: true,
                    has_value: false,
                    gas_limited: false,
                    target_root: None,
                    target_is_sender: false,
                    caller_controlled: false,
                    amount_var: None,
                    invoked: true,
                    value_from_msg: false,
                    in_loop: ctx.in_loop,
                }),
            }
        }
        if matches!(name.as_deref(), Some("require" | "assert"))
            && let Some(a) = args.first()
        {
            self.membership(a);
        }
        // Arguments: require/assert make conditions, hashes and blockhash entropy sinks.
        let arg_ctx = match name.as_deref() {
            Some("require" | "assert") => Ctx {
                in_cond: true,
                in_require: true,
                in_assert: name.as_deref() == Some("assert"),
                ..ctx.clone()
            },
            Some("keccak256" | "sha3" | "sha256" | "ripemd160" | "blockhash") => Ctx {
                in_sink: true,
                ..ctx.clone()
            },
            _ => ctx.clone(),
        };
        self.expr(callee, ctx);
        for a in args {
            self.expr(a, &arg_ctx);
        }
        if let Expression::FunctionCallBlock(_, _, block) = e
            && let Statement::Args(_, named) = block.as_ref()
        {
            for a in named {
                self.expr(&a.expr, ctx);
            }
        }
    }
}

/// `msg.value`, or `msg.value` scaled by constants (`msg.value / 20`).
fn only_msg_value(e: &Expression) -> bool {
    match walk::strip(e) {
        x if walk::is_msg(x, "value") => true,
        Expression::Divide(_, a, b) | Expression::Multiply(_, a, b) => {
            (only_msg_value(a) && matches!(walk::strip(b), Expression::NumberLiteral(..)))
                || (only_msg_value(b) && matches!(walk::strip(a), Expression::NumberLiteral(..)))
        }
        _ => false,
    }
}

fn keyed_by_sender(e: &Expression) -> bool {
    walk::any(e, &|x| {
        matches!(x, Expression::ArraySubscript(_, _, Some(i)) if walk::is_msg_sender(i))
    })
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
