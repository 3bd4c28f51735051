//! Access control: who may call what.
//!
//! - `tx.origin` compared for authorization (a phishing contract passes it).
//! - `selfdestruct` reachable from a public function without a caller check.
//! - Privileged state (compared with `msg.sender` somewhere, a membership mapping of
//!   callers, or an address/role variable named like an owner) written by a public
//!   function that does not check its caller; this covers misnamed constructors and
//!   unprotected initializers.
//! - `delegatecall` from a public function: the callee runs with this contract's storage.
//! - Arbitrary storage writes: a dynamic array resized from input then written at an
//!   input index (before 0.6), and bounds checks that are always true (`len >= 0`).

use super::Cx;
use crate::source::Function;
use crate::source::facts::{CallKind, Tautology, WriteOp};
use crate::source::walk::LowLevelKind as L;
use crate::{Category, Confidence, Finding, Severity};
use solang_parser::pt::FunctionTy;
use std::collections::BTreeSet;

pub fn detect(cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    origin(cx, out);
    let privileged = privileged_vars(cx);
    for f in cx.entry_points() {
        let ctor = f.is_constructor || f.kind == FunctionTy::Constructor;
        if ctor || f.view {
            continue;
        }
        let guarded = cx.guarded(f);
        if !guarded {
            selfdestruct(cx, f, out);
            setters(cx, f, &privileged, out);
        }
        delegatecall(cx, f, guarded, out);
        arbitrary_write(cx, f, out);
    }
    for f in &cx.contract.functions {
        for (line, kind) in &f.facts.tautologies {
            if *kind == Tautology::Length {
                out.push(cx.finding(
                    Some(f),
                    Category::AccessControl,
                    "tautological-bounds-check",
                    Severity::High,
                    Confidence::Medium,
                    [*line],
                    format!(
                        "The check at line {line} compares an unsigned length with zero and is \
                         always true: it does not bound the index it is meant to protect."
                    ),
                    "Compare the index with the length (`require(i < arr.length)`).",
                ));
            }
        }
    }
}

fn origin(cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    for f in cx.contract.functions.iter().chain(&cx.contract.modifiers) {
        if f.facts.origin_checks.is_empty() {
            continue;
        }
        out.push(
            cx.finding(
                Some(f),
                Category::AccessControl,
                "tx-origin-auth",
                Severity::High,
                Confidence::High,
                f.facts.origin_checks.iter().copied(),
                "Authorization uses `tx.origin`: any contract the owner interacts with can call \
             this function on the owner's behalf (phishing)."
                    .to_string(),
                "Use `msg.sender` for authorization.",
            ),
        );
    }
}

/// State that decides who is privileged.
pub fn privileged_vars(cx: &Cx<'_, '_>) -> BTreeSet<String> {
    let mut v = BTreeSet::new();
    for c in cx.lineage() {
        for f in c.functions.iter().chain(&c.modifiers) {
            v.extend(f.facts.sender_vars.iter().cloned());
            if f.kind == FunctionTy::Modifier {
                v.extend(f.facts.sender_maps.iter().cloned());
            }
        }
        for s in &c.state {
            let n = s.name.to_ascii_lowercase();
            let role = ["owner", "admin", "creator", "ceo", "governor", "controller"]
                .iter()
                .any(|k| n.contains(k));
            // A role variable or list, not per-record data (`childOwner[id]`).
            let addressy = !s.ty.contains("=>") && (s.ty.contains("address") || s.ty.contains('['));
            if role && addressy {
                v.insert(s.name.clone());
            }
        }
    }
    v
}

fn selfdestruct(cx: &Cx<'_, '_>, f: &Function<'_>, out: &mut Vec<Finding>) {
    let mut lines: Vec<u32> = f.facts.selfdestructs.clone();
    for (call_line, g) in cx.reach(f, 2) {
        if !g.facts.selfdestructs.is_empty() && !cx.guarded(g) {
            lines.push(call_line);
        }
    }
    if lines.is_empty() {
        return;
    }
    out.push(cx.finding(
        Some(f),
        Category::AccessControl,
        "unprotected-selfdestruct",
        Severity::Critical,
        Confidence::High,
        std::iter::once(f.line).chain(lines),
        format!(
            "`{}` is public, does not check its caller, and destroys the contract: anyone can \
             kill it and take its balance.",
            super::display_name(f)
        ),
        "Restrict the function to the owner (`require(msg.sender == owner)` or an onlyOwner \
         modifier), or remove selfdestruct.",
    ));
}

fn setters(
    cx: &Cx<'_, '_>,
    f: &Function<'_>,
    privileged: &BTreeSet<String>,
    out: &mut Vec<Finding>,
) {
    let mut lines = Vec::new();
    let mut vars = BTreeSet::new();
    for w in &f.facts.writes {
        // Adding oneself to a membership mapping by paying is a sale, not a takeover;
        // overwriting someone else's entry or a role variable is.
        if privileged.contains(&w.var) && !(w.keyed_by_sender && f.payable) {
            lines.push(w.line);
            vars.insert(w.var.clone());
        }
    }
    for (call_line, g) in cx.reach(f, 2) {
        if cx.guarded(g) {
            continue;
        }
        for w in &g.facts.writes {
            if privileged.contains(&w.var) {
                lines.push(call_line);
                lines.push(w.line);
                vars.insert(w.var.clone());
            }
        }
    }
    if lines.is_empty() {
        return;
    }
    let vars: Vec<String> = vars.into_iter().collect();
    out.push(cx.finding(
        Some(f),
        Category::AccessControl,
        "unprotected-privileged-write",
        Severity::Critical,
        Confidence::High,
        std::iter::once(f.line).chain(lines),
        format!(
            "`{}` is callable by anyone and writes `{}`, which decides who is privileged: a \
             caller can make itself the owner.",
            super::display_name(f),
            vars.join("`, `")
        ),
        "Make it a constructor (with the `constructor` keyword), or restrict it to the \
         current owner; initializers must run once, at deployment.",
    ));
}

fn delegatecall(cx: &Cx<'_, '_>, f: &Function<'_>, guarded: bool, out: &mut Vec<Finding>) {
    for c in &f.facts.calls {
        if !matches!(c.kind, CallKind::LowLevel(L::DelegateCall | L::CallCode)) {
            continue;
        }
        let (sev, conf) = match (c.caller_controlled, guarded) {
            (true, false) => (Severity::Critical, Confidence::High),
            (true, true) | (false, false) => (Severity::High, Confidence::Medium),
            (false, true) => continue,
        };
        out.push(cx.finding(
            Some(f),
            Category::AccessControl,
            "delegatecall",
            sev,
            conf,
            [c.line],
            format!(
                "`delegatecall` at line {} runs other code with this contract's storage and \
                 balance{}: the callee can overwrite the owner or self-destruct.",
                c.line,
                if c.caller_controlled {
                    ", and the caller chooses what runs"
                } else {
                    ""
                }
            ),
            "Delegate only to a fixed, trusted library, with a whitelisted function selector, \
             and keep storage layouts identical.",
        ));
    }
}

fn arbitrary_write(cx: &Cx<'_, '_>, f: &Function<'_>, out: &mut Vec<Finding>) {
    if cx.program.version.is_some_and(|(_, m)| m >= 6) {
        return;
    }
    let dynamic = |v: &str| {
        cx.contract
            .state_var(v)
            .is_some_and(|s| s.ty.ends_with("[]"))
    };
    let resized: BTreeSet<&str> = f
        .facts
        .writes
        .iter()
        .filter(|w| w.op == WriteOp::Resize && (w.value_from_param || w.in_loop.is_none()))
        .map(|w| w.var.as_str())
        .collect();
    for w in &f.facts.writes {
        if w.index_from_param
            && dynamic(&w.var)
            && resized.contains(w.var.as_str())
            && w.op != WriteOp::Resize
        {
            out.push(cx.finding(
                Some(f),
                Category::AccessControl,
                "arbitrary-storage-write",
                Severity::Critical,
                Confidence::Medium,
                [w.line],
                format!(
                    "`{}` grows `{}` to a caller-chosen length and writes at a caller-chosen \
                     index (line {}): with a huge index the write wraps around storage and can \
                     overwrite any slot, the owner included.",
                    super::display_name(f),
                    w.var,
                    w.line
                ),
                "Never set an array's length from input; use push, or a mapping.",
            ));
        }
    }
}
