//! Generic traversal of solang parse trees and small expression classifiers.
//!
//! Traversals are pre-order and follow source order, which detectors use as an
//! approximation of program order inside a function.

use solang_parser::pt::{Expression, Statement};

/// Calls `f` on `e` and every sub-expression, pre-order.
pub fn exprs(e: &Expression, f: &mut dyn FnMut(&Expression)) {
    f(e);
    for c in children(e) {
        exprs(c, f);
    }
}

/// Direct sub-expressions of `e`, in source order.
pub fn children(e: &Expression) -> Vec<&Expression> {
    use Expression::*;
    match e {
        PostIncrement(_, a)
        | PostDecrement(_, a)
        | New(_, a)
        | Parenthesis(_, a)
        | MemberAccess(_, a, _)
        | Not(_, a)
        | BitwiseNot(_, a)
        | Delete(_, a)
        | PreIncrement(_, a)
        | PreDecrement(_, a)
        | UnaryPlus(_, a)
        | Negate(_, a) => {
            vec![a.as_ref()]
        }
        ArraySubscript(_, a, b) => {
            let mut v = vec![a.as_ref()];
            if let Some(b) = b {
                v.push(b.as_ref());
            }
            v
        }
        ArraySlice(_, a, b, c) => {
            let mut v = vec![a.as_ref()];
            v.extend(b.as_deref());
            v.extend(c.as_deref());
            v
        }
        FunctionCall(_, f, args) => {
            let mut v = vec![f.as_ref()];
            v.extend(args.iter());
            v
        }
        FunctionCallBlock(_, f, block) => {
            let mut v = vec![f.as_ref()];
            if let Statement::Args(_, args) = block.as_ref() {
                v.extend(args.iter().map(|a| &a.expr));
            }
            v
        }
        NamedFunctionCall(_, f, args) => {
            let mut v = vec![f.as_ref()];
            v.extend(args.iter().map(|a| &a.expr));
            v
        }
        Power(_, a, b)
        | Multiply(_, a, b)
        | Divide(_, a, b)
        | Modulo(_, a, b)
        | Add(_, a, b)
        | Subtract(_, a, b)
        | ShiftLeft(_, a, b)
        | ShiftRight(_, a, b)
        | BitwiseAnd(_, a, b)
        | BitwiseXor(_, a, b)
        | BitwiseOr(_, a, b)
        | Less(_, a, b)
        | More(_, a, b)
        | LessEqual(_, a, b)
        | MoreEqual(_, a, b)
        | Equal(_, a, b)
        | NotEqual(_, a, b)
        | And(_, a, b)
        | Or(_, a, b)
        | Assign(_, a, b)
        | AssignOr(_, a, b)
        | AssignAnd(_, a, b)
        | AssignXor(_, a, b)
        | AssignShiftLeft(_, a, b)
        | AssignShiftRight(_, a, b)
        | AssignAdd(_, a, b)
        | AssignSubtract(_, a, b)
        | AssignMultiply(_, a, b)
        | AssignDivide(_, a, b)
        | AssignModulo(_, a, b) => vec![a.as_ref(), b.as_ref()],
        ConditionalOperator(_, a, b, c) => vec![a.as_ref(), b.as_ref(), c.as_ref()],
        ArrayLiteral(_, v) => v.iter().collect(),
        List(_, params) => params
            .iter()
            .filter_map(|(_, p)| p.as_ref().map(|p| &p.ty))
            .collect(),
        _ => Vec::new(),
    }
}

/// Expressions directly held by a statement (not by its sub-statements).
pub fn stmt_exprs(s: &Statement) -> Vec<&Expression> {
    match s {
        Statement::If(_, c, _, _) | Statement::While(_, c, _) | Statement::DoWhile(_, _, c) => {
            vec![c]
        }
        Statement::Expression(_, e) | Statement::Emit(_, e) => vec![e],
        Statement::VariableDefinition(_, _, Some(e)) => vec![e],
        Statement::For(_, _, c, n, _) => c.iter().chain(n.iter()).map(|b| b.as_ref()).collect(),
        Statement::Return(_, Some(e)) => vec![e],
        Statement::Revert(_, _, args) => args.iter().collect(),
        Statement::Try(_, e, _, _) => vec![e],
        _ => Vec::new(),
    }
}

/// Direct sub-statements, in source order.
pub fn sub_stmts(s: &Statement) -> Vec<&Statement> {
    match s {
        Statement::Block { statements, .. } => statements.iter().collect(),
        Statement::If(_, _, t, e) => {
            let mut v = vec![t.as_ref()];
            v.extend(e.as_deref());
            v
        }
        Statement::While(_, _, b) | Statement::DoWhile(_, b, _) => vec![b.as_ref()],
        Statement::For(_, init, _, _, body) => {
            init.iter().chain(body.iter()).map(|b| b.as_ref()).collect()
        }
        Statement::Try(_, _, ret, catches) => {
            let mut v: Vec<&Statement> = ret.iter().map(|(_, b)| b.as_ref()).collect();
            for c in catches {
                match c {
                    solang_parser::pt::CatchClause::Simple(_, _, b)
                    | solang_parser::pt::CatchClause::Named(_, _, _, b) => v.push(b),
                }
            }
            v
        }
        _ => Vec::new(),
    }
}

/// Calls `f` on every statement under `s` (itself included), pre-order.
pub fn stmts(s: &Statement, f: &mut dyn FnMut(&Statement)) {
    f(s);
    for c in sub_stmts(s) {
        stmts(c, f);
    }
}

/// Calls `f` on every expression anywhere under `s`.
pub fn all_exprs(s: &Statement, f: &mut dyn FnMut(&Expression)) {
    stmts(s, &mut |st| {
        for e in stmt_exprs(st) {
            exprs(e, f);
        }
    });
}

/// Strips parentheses.
pub fn strip(e: &Expression) -> &Expression {
    match e {
        Expression::Parenthesis(_, a) => strip(a),
        _ => e,
    }
}

/// The variable at the root of an lvalue or access path: `a` in `a[b].c`.
pub fn root_var(e: &Expression) -> Option<&str> {
    match e {
        Expression::Variable(id) => Some(&id.name),
        Expression::ArraySubscript(_, a, _)
        | Expression::MemberAccess(_, a, _)
        | Expression::Parenthesis(_, a)
        | Expression::ArraySlice(_, a, _, _) => root_var(a),
        _ => None,
    }
}

/// Whether `pred` holds for `e` or any sub-expression.
pub fn any(e: &Expression, pred: &dyn Fn(&Expression) -> bool) -> bool {
    let mut hit = false;
    exprs(e, &mut |x| hit = hit || pred(x));
    hit
}

/// Whether `e` mentions the variable `name`.
pub fn mentions(e: &Expression, name: &str) -> bool {
    any(
        e,
        &|x| matches!(x, Expression::Variable(id) if id.name == name),
    )
}

/// Kind of a low-level call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LowLevelKind {
    Call,
    DelegateCall,
    CallCode,
    StaticCall,
    Send,
    Transfer,
}

/// A low-level call chain such as `a.call.value(v).gas(g)(data)` or `a.call{value: v}(d)`.
#[derive(Debug, Clone, Copy)]
pub struct LowLevel<'e> {
    pub kind: LowLevelKind,
    /// The address expression (`a`).
    pub target: &'e Expression,
    pub has_value: bool,
    /// Gas limited to the 2,300 stipend or less (`send`, `transfer`, `.gas(2300)`):
    /// too little to re-enter.
    pub gas_limited: bool,
    /// The chain is actually called (`a.call.value(v)()`); `a.call.value(v);` alone
    /// only builds the function value and sends nothing.
    pub invoked: bool,
}

/// Recognizes the outermost expression of a low-level call chain.
pub fn low_level(e: &Expression) -> Option<LowLevel<'_>> {
    match strip(e) {
        Expression::FunctionCall(_, f, args) => {
            if let Expression::MemberAccess(_, obj, id) = strip(f) {
                let kind = match id.name.as_str() {
                    "call" => Some(LowLevelKind::Call),
                    "delegatecall" => Some(LowLevelKind::DelegateCall),
                    "callcode" => Some(LowLevelKind::CallCode),
                    "staticcall" => Some(LowLevelKind::StaticCall),
                    "send" if args.len() == 1 => Some(LowLevelKind::Send),
                    "transfer" if args.len() == 1 => Some(LowLevelKind::Transfer),
                    _ => None,
                };
                if let Some(kind) = kind {
                    let has_value = matches!(kind, LowLevelKind::Send | LowLevelKind::Transfer)
                        && !is_zero(&args[0]);
                    return Some(LowLevel {
                        kind,
                        target: obj,
                        has_value,
                        gas_limited: matches!(kind, LowLevelKind::Send | LowLevelKind::Transfer),
                        invoked: true,
                    });
                }
                // `x.call.value(v)` / `.gas(g)`: a modifier applied to the chain.
                if id.name == "value" || id.name == "gas" {
                    let mut inner = chain_base(obj)?;
                    if id.name == "value" {
                        inner.has_value |= !args.first().is_some_and(is_zero);
                    } else {
                        inner.gas_limited = args.first().is_some_and(stipend);
                    }
                    inner.invoked = false;
                    return Some(inner);
                }
            }
            // `x.call.value(v)(data)`: the call of a chain.
            let mut inner = chain_base(f)?;
            inner.invoked = true;
            Some(inner)
        }
        Expression::FunctionCallBlock(_, f, block) => {
            let mut inner = chain_base(f)?;
            if let Statement::Args(_, args) = block.as_ref() {
                for a in args {
                    match a.name.name.as_str() {
                        "value" => inner.has_value |= !is_zero(&a.expr),
                        "gas" => inner.gas_limited = stipend(&a.expr),
                        _ => {}
                    }
                }
            }
            inner.invoked = true;
            Some(inner)
        }
        _ => None,
    }
}

/// A literal gas amount of at most the 2,300 stipend.
fn stipend(e: &Expression) -> bool {
    matches!(strip(e), Expression::NumberLiteral(_, n, _, _) if n.parse::<u64>().is_ok_and(|g| g <= 2300))
}

/// `a.call` (not yet called), or a chain already recognized by [`low_level`].
fn chain_base(e: &Expression) -> Option<LowLevel<'_>> {
    match strip(e) {
        Expression::MemberAccess(_, obj, id) => {
            let kind = match id.name.as_str() {
                "call" => LowLevelKind::Call,
                "delegatecall" => LowLevelKind::DelegateCall,
                "callcode" => LowLevelKind::CallCode,
                "staticcall" => LowLevelKind::StaticCall,
                _ => return None,
            };
            Some(LowLevel {
                kind,
                target: obj,
                has_value: false,
                gas_limited: false,
                invoked: false,
            })
        }
        other => low_level(other),
    }
}

/// Whether `e` is a zero literal (`0`, `0 wei`).
pub fn is_zero(e: &Expression) -> bool {
    matches!(strip(e), Expression::NumberLiteral(_, n, _, _) if n.chars().all(|c| c == '0'))
}

/// Block and transaction values a miner or caller controls or can predict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EnvKind {
    Timestamp,
    Number,
    Blockhash,
    Difficulty,
    Coinbase,
    GasLimit,
    Origin,
}

/// Recognizes `block.timestamp`, `now`, `block.number`, `blockhash`, `tx.origin`, ...
pub fn env_kind(e: &Expression) -> Option<EnvKind> {
    match e {
        Expression::Variable(id) => match id.name.as_str() {
            "now" => Some(EnvKind::Timestamp),
            "blockhash" => Some(EnvKind::Blockhash),
            _ => None,
        },
        Expression::MemberAccess(_, obj, id) => match (strip(obj), id.name.as_str()) {
            (Expression::Variable(o), m) if o.name == "block" => match m {
                "timestamp" => Some(EnvKind::Timestamp),
                "number" => Some(EnvKind::Number),
                "blockhash" => Some(EnvKind::Blockhash),
                "difficulty" | "prevrandao" => Some(EnvKind::Difficulty),
                "coinbase" => Some(EnvKind::Coinbase),
                "gaslimit" => Some(EnvKind::GasLimit),
                _ => None,
            },
            (Expression::Variable(o), "origin") if o.name == "tx" => Some(EnvKind::Origin),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `e` is `msg.sender` (or `tx.origin`, which detectors treat separately).
pub fn is_msg_sender(e: &Expression) -> bool {
    matches!(strip(e), Expression::MemberAccess(_, o, id)
        if id.name == "sender" && matches!(strip(o), Expression::Variable(v) if v.name == "msg"))
}

/// Whether `e` is `msg.<member>`.
pub fn is_msg(e: &Expression, member: &str) -> bool {
    matches!(strip(e), Expression::MemberAccess(_, o, id)
        if id.name == member && matches!(strip(o), Expression::Variable(v) if v.name == "msg"))
}

/// Name of a called function: `f` in `f(..)`, `x.f(..)`.
pub fn callee_name(e: &Expression) -> Option<&str> {
    match strip(e) {
        Expression::FunctionCall(_, f, _)
        | Expression::FunctionCallBlock(_, f, _)
        | Expression::NamedFunctionCall(_, f, _) => match strip(f) {
            Expression::Variable(id) => Some(&id.name),
            Expression::MemberAccess(_, _, id) => Some(&id.name),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `e` is a call to a hash function (`keccak256`, `sha3`, `sha256`, `ripemd160`).
pub fn is_hash_call(e: &Expression) -> bool {
    matches!(strip(e), Expression::FunctionCall(_, f, _)
        if matches!(strip(f), Expression::Variable(id)
            if matches!(id.name.as_str(), "keccak256" | "sha3" | "sha256" | "ripemd160")))
}
