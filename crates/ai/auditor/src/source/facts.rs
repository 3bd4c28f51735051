//! Per-function facts: what a function calls, writes, reads and checks, with lines.
//!
//! Collected once per function in source order; detectors only read them. "State" means
//! a state variable of the contract (inherited ones included) or a local storage
//! pointer into one (`Acc storage a = accounts[x]`, or 0.4's `var a = accounts[x]`).

mod exprs;
mod stmts;
mod types;

pub use types::{Arith, CallKind, CallSite, EnvUse, Facts, Loop, Tautology, Write, WriteOp};

use super::walk;
use super::{Contract, Lines, Program};
use solang_parser::pt::{self, Expression, Statement};
use std::collections::BTreeSet;

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
}

/// `uint8` .. `uint64`, `int8` .. `int64`.
fn is_narrow(ty: &Expression) -> bool {
    matches!(ty, Expression::Type(_, pt::Type::Uint(n) | pt::Type::Int(n)) if *n <= 64)
}
