//! Unchecked low-level calls and denial of service through calls, loops and arrays.
//!
//! - `unchecked_low_level_calls`: the boolean result of `call`, `send`, `delegatecall`,
//!   `callcode` or `staticcall` is dropped (statement expression, or stored in a local
//!   that is never read): a failed transfer goes unnoticed.
//! - `denial_of_service`: (a) a call whose failure reverts, inside a loop: one failing
//!   recipient blocks everyone; (b) an ether payment whose failure reverts, to a
//!   scalar recipient any caller can become (`leader = msg.sender`, not an owner role):
//!   that caller can block the function for good; (c) a loop that grows a state array,
//!   or walks one by its length and writes state: gas grows until the block limit;
//!   (d) clearing a dynamic state array (`= new T[](0)`, `.length = 0`, `delete`),
//!   which costs gas linear in its length.

use super::Cx;
use crate::source::facts::{CallKind, WriteOp};
use crate::source::walk::LowLevelKind as L;
use crate::{Category, Confidence, Finding, Severity};
use std::collections::BTreeSet;

pub fn detect(cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    unchecked(cx, out);
    dos(cx, out);
}

fn unchecked(cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    for f in &cx.contract.functions {
        for c in &f.facts.calls {
            let CallKind::LowLevel(kind) = c.kind else {
                continue;
            };
            if !c.unchecked || kind == L::Transfer {
                continue;
            }
            let what = match kind {
                L::Send => "send",
                L::DelegateCall => "delegatecall",
                L::CallCode => "callcode",
                L::StaticCall => "staticcall",
                _ => "call",
            };
            let severity = if c.has_value || kind != L::Call && kind != L::StaticCall {
                Severity::High
            } else {
                Severity::Medium
            };
            out.push(cx.finding(
                Some(f),
                Category::UncheckedLowLevelCalls,
                "unchecked-low-level-call",
                severity,
                Confidence::High,
                [c.line],
                format!(
                    "The result of `{what}` at line {} is not checked: if the call fails \
                     (out of gas, revert, missing code) execution continues as if it had \
                     succeeded{}.",
                    c.line,
                    if c.has_value {
                        " and the ether stays here while accounting says it left"
                    } else {
                        ""
                    }
                ),
                "Check the returned boolean (`require(ok)`), or use `transfer` / a pull-payment \
                 pattern for ether.",
            ));
        }
    }
}

fn dos(cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    // Scalar state addresses any caller can become (`leader = msg.sender`), other than
    // roles checked against the caller (taking those is an access-control problem).
    let roles = super::access::privileged_vars(cx);
    let mut takeable: BTreeSet<String> = BTreeSet::new();
    for f in &cx.contract.functions {
        for w in &f.facts.writes {
            let scalar = cx
                .contract
                .state_var(&w.var)
                .is_some_and(|v| !v.ty.contains("=>") && !v.ty.contains('['));
            if w.value_is_sender
                && scalar
                && !roles.contains(&w.var)
                && f.public
                && !f.is_constructor
                && f.kind != solang_parser::pt::FunctionTy::Constructor
            {
                takeable.insert(w.var.clone());
            }
        }
    }
    for f in cx.entry_points() {
        let facts = &f.facts;
        for c in &facts.calls {
            let external = matches!(
                c.kind,
                CallKind::LowLevel(L::Send | L::Transfer | L::Call) | CallKind::External
            );
            if !external || !c.reverts_on_fail {
                continue;
            }
            let pays = matches!(c.kind, CallKind::LowLevel(_)) && c.has_value;
            if let Some(li) = c.in_loop {
                let lp = &facts.loops[li];
                out.push(cx.finding(
                    Some(f),
                    Category::DenialOfService,
                    "dos-call-in-loop",
                    Severity::High,
                    if lp.unbounded {
                        Confidence::High
                    } else {
                        Confidence::Medium
                    },
                    [c.line],
                    format!(
                        "A call that reverts on failure (line {}) runs inside the loop at line {}: \
                         one recipient that rejects the payment (or runs out of gas) blocks \
                         every other one.",
                        c.line, lp.line
                    ),
                    "Let each recipient withdraw its own funds (pull payments) instead of \
                     paying in a loop; never revert the whole batch on one failure.",
                ));
            } else if pays
                && !c.target_is_sender
                && c.target_root.as_ref().is_some_and(|t| takeable.contains(t))
            {
                out.push(cx.finding(
                    Some(f),
                    Category::DenialOfService,
                    "dos-revert-recipient",
                    Severity::High,
                    Confidence::Medium,
                    [c.line],
                    format!(
                        "The payment at line {} must succeed for `{}` to proceed, and its \
                         recipient `{}` is whoever called last: a contract that rejects ether \
                         can block the function forever.",
                        c.line,
                        super::display_name(f),
                        c.target_root.as_deref().unwrap_or("?")
                    ),
                    "Record the refund and let the recipient withdraw it (pull payment).",
                ));
            }
        }
        // Loops that grow a state array, or that walk one (bounded by its length) and
        // write state: gas grows with data other callers add.
        for (i, lp) in facts.loops.iter().enumerate() {
            let grows = facts
                .writes
                .iter()
                .any(|w| w.in_loop == Some(i) && matches!(w.op, WriteOp::Push | WriteOp::Resize));
            if !grows && !lp.over_state {
                continue;
            }
            let writes: Vec<u32> = facts
                .writes
                .iter()
                .filter(|w| w.in_loop == Some(i))
                .map(|w| w.line)
                .collect();
            if writes.is_empty() {
                continue;
            }
            out.push(cx.finding(
                Some(f),
                Category::DenialOfService,
                "dos-unbounded-loop",
                Severity::Medium,
                Confidence::Medium,
                std::iter::once(lp.line).chain(writes.iter().copied()),
                format!(
                    "The loop at line {} {}: its gas grows with the data until the function \
                     no longer fits in a block.",
                    lp.line,
                    if grows {
                        "grows a storage array"
                    } else {
                        "walks a storage array and writes storage"
                    },
                ),
                "Bound the loop by a constant, process the work in batches across \
                 transactions, or use a mapping instead of a growing array.",
            ));
        }
        for w in &facts.writes {
            if w.clears
                && cx
                    .contract
                    .state_var(&w.var)
                    .is_some_and(|v| v.ty.ends_with("[]"))
            {
                out.push(cx.finding(
                    Some(f),
                    Category::DenialOfService,
                    "dos-array-reset",
                    Severity::Medium,
                    Confidence::Medium,
                    [w.line],
                    format!(
                        "Line {} clears or resizes the dynamic array `{}`: the cost is linear \
                         in its length, so once the array is large enough the call exceeds \
                         the block gas limit.",
                        w.line, w.var
                    ),
                    "Keep a length counter and overwrite entries, or use a mapping with an \
                     epoch counter instead of clearing the array.",
                ));
            }
        }
    }
}
