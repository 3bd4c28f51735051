//! Expression-level fact collection: calls, writes, arithmetic, comparisons.

use super::{
    Arith, BUILTINS, CallKind, CallSite, Collector, Ctx, EnvUse, Tautology, Write, WriteOp,
};
use crate::source::walk::{self, EnvKind, LowLevelKind};
use crate::source::{end, start};
use solang_parser::helpers::CodeLocation;
use solang_parser::pt::{Expression, Statement};

impl Collector<'_> {
    pub(super) fn expr(&mut self, e: &Expression, ctx: &Ctx) {
        let loc = e.loc();
        let line = self.lines.of(&loc);
        let at = start(&loc);
        use Expression as E;
        let direct_ctx;
        let ctx = if ctx.direct && walk::env_kind(e).is_none() && !matches!(e, E::Parenthesis(..)) {
            direct_ctx = Ctx {
                direct: false,
                ..ctx.clone()
            };
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
                        || matches!(walk::strip(rhs), E::New(..));
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
                        value_from_param: self.user_controlled(rhs),
                        keyed_by_sender: keyed_by_sender(lhs),
                        index_from_param: self.index_from_param(lhs),
                        clears: !compound && (walk::is_zero(rhs) && resize || new_empty_array(rhs)),
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
                        clears: matches!(e, E::Delete(..))
                            && matches!(walk::strip(a), E::Variable(..)),
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
    pub(super) fn arith(
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
                || (!compound && ctx.assign_target.as_ref().is_some_and(|t| self.is_state(t))),
            reads_state,
            user_operand: self.user_controlled(a) || self.user_controlled(b),
            constant: self.is_constant(a) && self.is_constant(b),
            increment: op.starts_with('+') && (self.is_constant(a) || self.is_constant(b)),
            guarded,
            loop_counter: ctx.loop_header,
            target: if compound { self.state_root(a) } else { None },
            narrow: [a, b]
                .iter()
                .any(|x| walk::root_var(x).is_some_and(|r| self.facts.narrow.contains(r))),
            adds_msg_value: op.starts_with('+') && (only_msg_value(a) || only_msg_value(b)),
            overflow_check: ctx.in_assert || ctx.compared_with.iter().any(|c| *c == ta || *c == tb),
        });
    }

    /// `require(admins[msg.sender])`, `if (!owners[msg.sender]) throw`: membership keyed
    /// by the caller.
    pub(super) fn membership(&mut self, cond: &Expression) {
        let c = match walk::strip(cond) {
            Expression::Not(_, a) => walk::strip(a),
            c => c,
        };
        if let Expression::ArraySubscript(loc, base, Some(idx)) = c
            && walk::any(idx, &walk::is_msg_sender)
            && let Some(v) = self.state_root(base)
            && self.role_map(&v)
        {
            self.facts.sender_checks.push(self.lines.of(loc));
            self.facts.sender_maps.insert(v);
        }
    }

    /// A mapping whose value says who someone is (`=> bool`, `=> address`), as opposed
    /// to how much it holds: keyed by the caller, it is a role test.
    fn role_map(&self, var: &str) -> bool {
        self.contract.state_var(var).is_some_and(|s| {
            let t: String = s.ty.chars().filter(|c| !c.is_whitespace()).collect();
            t.ends_with("=>bool)") || t.ends_with("=>address)")
        })
    }

    pub(super) fn index_from_param(&self, e: &Expression) -> bool {
        match walk::strip(e) {
            Expression::ArraySubscript(_, base, Some(i)) => {
                self.user_controlled(i) || self.index_from_param(base)
            }
            Expression::MemberAccess(_, base, _) => self.index_from_param(base),
            _ => false,
        }
    }

    pub(super) fn comparison(&mut self, e: &Expression, a: &Expression, b: &Expression, line: u32) {
        let from_sender = |x: &Expression| {
            walk::is_msg_sender(x)
                || matches!(x, Expression::Variable(id) if self.sender_locals.contains(&id.name))
        };
        let sender_a = walk::any(a, &from_sender);
        let sender_b = walk::any(b, &from_sender);
        if (sender_a || sender_b) && matches!(e, Expression::Equal(..) | Expression::NotEqual(..)) {
            let (mine, other) = if sender_a { (a, b) } else { (b, a) };
            // `balances[msg.sender] == 0` tests an amount, not who the caller is.
            let amount = !walk::any(mine, &from_sender_direct(&self.sender_locals))
                && self.state_root(mine).is_some_and(|v| !self.role_map(&v));
            if !amount {
                self.facts.sender_checks.push(line);
            }
            if walk::is_msg_sender(mine) {
                // Only a role held in one variable (`owner`); `parties[id].addr` is a
                // per-record check.
                let scalar = !walk::any(other, &|x| matches!(x, Expression::ArraySubscript(..)));
                if scalar && let Some(v) = self.state_root(other) {
                    self.facts.sender_vars.insert(v);
                }
            } else if let Some(v) = self.state_root(mine)
                && self.role_map(&v)
            {
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
            let other = if matches!(e, Expression::MoreEqual(..)) {
                a
            } else {
                b
            };
            let kind = if walk::any(
                other,
                &|x| matches!(x, Expression::MemberAccess(_, _, id) if id.name == "length"),
            ) {
                Tautology::Length
            } else if matches!(walk::strip(other), Expression::Subtract(..)) {
                Tautology::Subtraction
            } else {
                Tautology::Other
            };
            self.facts.tautologies.push((line, kind));
        }
        if matches!(e, Expression::Equal(..))
            && (keyed_by_sender(a) && walk::any(b, &walk::is_hash_call)
                || keyed_by_sender(b) && walk::any(a, &walk::is_hash_call))
        {
            // `commits[msg.sender] == keccak256(value, salt)`: a reveal.
            self.facts.commitment_checks += 1;
        }
        if matches!(e, Expression::Equal(..)) {
            let hashed_param = |x: &Expression| {
                walk::any(x, &|h| walk::is_hash_call(h) && self.user_controlled(h))
            };
            if hashed_param(a) || hashed_param(b) {
                self.facts.hash_checks.push(line);
            }
        }
    }

    pub(super) fn call(&mut self, e: &Expression, ctx: &Ctx) {
        let loc = e.loc();
        let line = self.lines.of(&loc);
        let at = start(&loc);
        let name = walk::callee_name(e).map(str::to_string);
        let (callee, args): (&Expression, Vec<&Expression>) = match e {
            Expression::FunctionCall(_, f, args) => (f, args.iter().collect()),
            Expression::FunctionCallBlock(_, f, _) => (f, Vec::new()),
            Expression::NamedFunctionCall(_, f, args) => {
                (f, args.iter().map(|a| &a.expr).collect())
            }
            _ => return,
        };
        if let Some(ll) = walk::low_level(e) {
            if !self.facts.calls.iter().any(|c| c.start == at) {
                let data_from_caller = args.iter().any(|a| self.user_controlled(a));
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
                    caller_controlled: self.user_controlled(ll.target) || data_from_caller,
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
                    value_from_param: args.iter().any(|a| self.user_controlled(a)),
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
                    caller_controlled: self.user_controlled(obj)
                        || walk::any(obj, &walk::is_msg_sender),
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

/// `x` itself is `msg.sender` or a local derived from it (not a lookup keyed by it).
fn from_sender_direct(
    locals: &std::collections::BTreeSet<String>,
) -> impl Fn(&Expression) -> bool + '_ {
    move |x| {
        matches!(walk::strip(x), e if walk::is_msg_sender(e))
            || matches!(walk::strip(x), Expression::Variable(id) if locals.contains(&id.name))
    }
}

/// `new T[](0)`: an empty dynamic array.
fn new_empty_array(e: &Expression) -> bool {
    match walk::strip(e) {
        Expression::New(_, inner) => matches!(walk::strip(inner),
            Expression::FunctionCall(_, _, args) if args.first().is_some_and(walk::is_zero)),
        Expression::FunctionCall(_, f, args) => {
            matches!(walk::strip(f), Expression::New(..)) && args.first().is_some_and(walk::is_zero)
        }
        _ => false,
    }
}

fn keyed_by_sender(e: &Expression) -> bool {
    walk::any(
        e,
        &|x| matches!(x, Expression::ArraySubscript(_, _, Some(i)) if walk::is_msg_sender(i)),
    )
}
