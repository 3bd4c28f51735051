//! Source detectors: rules over per-function facts, one module per family.
//!
//! Every rule is about program semantics (order of calls and writes, guards, data
//! flow from block values); none names a contract, file or line. A finding groups the
//! lines of one function that show one problem, the way a reviewer would report it.

pub mod access;
pub mod arithmetic;
pub mod calls;
pub mod entropy;
pub mod gas;
pub mod misc;
pub mod reentrancy;

use crate::source::facts::{CallKind, Facts};
use crate::source::{Contract, Function, Program};
use crate::{Category, Confidence, Finding, Severity};
use std::collections::BTreeSet;

/// Runs every source detector.
pub fn run(program: &Program<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in &program.contracts {
        if c.is_interface {
            continue;
        }
        let cx = Cx {
            program,
            contract: c,
        };
        reentrancy::detect(&cx, &mut out);
        calls::detect(&cx, &mut out);
        access::detect(&cx, &mut out);
        arithmetic::detect(&cx, &mut out);
        entropy::detect(&cx, &mut out);
        misc::detect(&cx, &mut out);
    }
    dedup(out)
}

/// Context handed to detectors: the program and the contract under analysis.
pub struct Cx<'a, 'p> {
    pub program: &'a Program<'p>,
    pub contract: &'a Contract<'p>,
}

impl<'a, 'p> Cx<'a, 'p> {
    /// The contract and its bases defined in the file, most derived first.
    pub fn lineage(&self) -> Vec<&'a Contract<'p>> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut stack = vec![self.contract];
        while let Some(c) = stack.pop() {
            if !seen.insert(c.name.as_str()) {
                continue;
            }
            out.push(c);
            for b in &c.bases {
                if let Some(bc) = self.program.contracts.iter().find(|x| &x.name == b) {
                    stack.push(bc);
                }
            }
        }
        out
    }

    /// Resolves a function (not modifier) by name in the contract or its bases.
    pub fn function(&self, name: &str) -> Option<&'a Function<'p>> {
        self.lineage()
            .into_iter()
            .find_map(|c| c.functions.iter().find(|f| f.name == name))
    }

    pub fn modifier(&self, name: &str) -> Option<&'a Function<'p>> {
        self.lineage()
            .into_iter()
            .find_map(|c| c.modifiers.iter().find(|f| f.name == name))
    }

    /// Whether `f` restricts its caller: a `msg.sender`/`tx.origin` check in its body,
    /// in a modifier, or in an internal function it calls first; or a modifier whose
    /// name says so when its body is not in this file.
    pub fn guarded(&self, f: &Function<'_>) -> bool {
        if f.facts.checks_sender() || !f.facts.origin_checks.is_empty() {
            return true;
        }
        for m in &f.modifiers {
            match self.modifier(m) {
                Some(md) => {
                    if md.facts.checks_sender() || !md.facts.origin_checks.is_empty() {
                        return true;
                    }
                    // A modifier that delegates the check (`confirmAndCheck(..)`).
                    if self
                        .reach(md, 2)
                        .iter()
                        .any(|(_, g)| g.facts.checks_sender())
                    {
                        return true;
                    }
                }
                None => {
                    let l = m.to_ascii_lowercase();
                    if ["only", "owner", "admin", "auth", "restricted"]
                        .iter()
                        .any(|k| l.contains(k))
                    {
                        return true;
                    }
                }
            }
        }
        // A guard in a helper called by the function (`checkOwner()`).
        f.facts.calls.iter().any(|c| match &c.kind {
            CallKind::Internal(n) => self.function(n).is_some_and(|g| {
                !std::ptr::eq(g, f) && g.facts.checks_sender() && g.facts.writes.is_empty()
            }),
            _ => false,
        })
    }

    /// Whether only a privileged role can call `f`: it (or a modifier) compares the
    /// caller with a role variable (`msg.sender == owner`), or uses an `only*`/owner
    /// modifier defined elsewhere.
    pub fn owner_only(&self, f: &Function<'_>) -> bool {
        let mut roles: BTreeSet<&str> = f.facts.sender_vars.iter().map(String::as_str).collect();
        let mut guarded = !f.facts.origin_checks.is_empty() || !roles.is_empty();
        for m in &f.modifiers {
            match self.modifier(m) {
                Some(md) => {
                    roles.extend(md.facts.sender_vars.iter().map(String::as_str));
                    roles.extend(md.facts.sender_maps.iter().map(String::as_str));
                    guarded |= !md.facts.sender_vars.is_empty()
                        || !md.facts.sender_maps.is_empty()
                        || self
                            .reach(md, 2)
                            .iter()
                            .any(|(_, g)| g.facts.checks_sender());
                }
                None => {
                    let l = m.to_ascii_lowercase();
                    guarded |= ["only", "owner", "admin", "auth"]
                        .iter()
                        .any(|k| l.contains(k));
                }
            }
        }
        // A guard on a role anyone can take (`initOwner()` open to all) protects nothing.
        let takeable = self.takeable_state();
        guarded && (roles.is_empty() || !roles.iter().all(|r| takeable.contains(*r)))
    }

    /// State written by public functions that check no caller (constructors aside).
    pub fn takeable_state(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for c in self.lineage() {
            for f in &c.functions {
                let ctor = f.is_constructor || f.kind == solang_parser::pt::FunctionTy::Constructor;
                if f.public && !ctor && !f.view && !self.guarded(f) {
                    out.extend(f.facts.writes.iter().map(|w| w.var.clone()));
                }
            }
        }
        out
    }

    /// Facts of `f` plus those of internal functions it calls (two levels deep), with
    /// call sites of the callee reported at the caller's call line.
    pub fn reach(&self, f: &Function<'_>, depth: usize) -> Vec<(u32, &'a Function<'p>)> {
        let mut out = Vec::new();
        if depth == 0 {
            return out;
        }
        for c in &f.facts.calls {
            if let CallKind::Internal(n) = &c.kind
                && let Some(g) = self.function(n)
                && g.name != f.name
            {
                out.push((c.line, g));
                for (_, h) in self.reach(g, depth - 1) {
                    out.push((c.line, h));
                }
            }
        }
        out
    }

    /// Whether a public entry point exists: skips internal/private helpers.
    pub fn entry_points(&self) -> impl Iterator<Item = &'a Function<'p>> {
        self.contract
            .functions
            .iter()
            .filter(|f| f.public && f.def.body.is_some())
    }

    #[allow(clippy::too_many_arguments)]
    pub fn finding(
        &self,
        f: Option<&Function<'_>>,
        category: Category,
        detector: &str,
        severity: Severity,
        confidence: Confidence,
        lines: impl IntoIterator<Item = u32>,
        explanation: String,
        fix: &str,
    ) -> Finding {
        let mut lines: Vec<u32> = lines.into_iter().filter(|l| *l > 0).collect();
        lines.sort_unstable();
        lines.dedup();
        Finding {
            category,
            detector: detector.to_string(),
            severity,
            confidence,
            lines,
            offsets: Vec::new(),
            contract: Some(self.contract.name.clone()),
            function: f.map(|f| display_name(f)),
            explanation,
            fix: fix.to_string(),
        }
    }
}

/// A function's name for messages (`constructor`, `fallback`, ...).
pub fn display_name(f: &Function<'_>) -> String {
    if f.name.is_empty() {
        format!("{:?}", f.kind).to_lowercase()
    } else {
        f.name.clone()
    }
}

/// Whether facts show a call that hands control to another contract with ether or
/// enough gas to re-enter.
pub fn reentrant_call(facts: &Facts) -> impl Iterator<Item = &crate::source::facts::CallSite> {
    use crate::source::walk::LowLevelKind as L;
    facts.calls.iter().filter(|c| match c.kind {
        CallKind::LowLevel(L::Call | L::CallCode | L::DelegateCall) => c.invoked && !c.gas_limited,
        // A fixed contract is trusted code; one the caller picks is not.
        CallKind::External => c.caller_controlled,
        _ => false,
    })
}

/// Drops findings whose category and lines repeat an earlier one (inherited functions
/// are analysed once per contract that defines them, not per derived contract).
fn dedup(mut v: Vec<Finding>) -> Vec<Finding> {
    let mut seen = BTreeSet::new();
    v.retain(|f| seen.insert((f.category, f.detector.clone(), f.lines.clone())));
    v
}
