//! Reentrancy: state written after a call that hands control to another contract.
//!
//! Rule: in a public function, a call that forwards enough gas to re-enter (a
//! low-level `call` without a gas stipend, `delegatecall`, or a call on a
//! contract-typed value), followed in program order by a write to state, directly or
//! in an internal function called afterwards. The same holds for a modifier that
//! calls out before the function body (`_`) writes state. A mutex modifier (one that
//! writes a state flag before and after `_`) suppresses the finding.

use super::{Cx, reentrant_call};
use crate::source::Function;
use crate::source::facts::CallKind;
use crate::{Category, Confidence, Finding, Severity};

const FIX: &str = "Follow checks-effects-interactions: update state (e.g. zero the balance) \
before the external call, or guard the function with a reentrancy lock (nonReentrant).";

pub fn detect(cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    for f in cx.entry_points() {
        // Owner-only functions call where a trusted party says.
        if f.view || has_mutex(cx, f) || cx.owner_only(f) {
            continue;
        }
        body_rule(cx, f, out);
        modifier_rule(cx, f, out);
    }
}

/// (line, start, end, carries value, low-level) of every call that can re-enter,
/// including calls made inside internal functions (reported at the caller's line).
fn reentrant_sites(cx: &Cx<'_, '_>, f: &Function<'_>) -> Vec<(u32, usize, usize, bool, bool)> {
    let mut v: Vec<_> = reentrant_call(&f.facts)
        .map(|c| {
            (
                c.line,
                c.start,
                c.end,
                c.has_value,
                matches!(c.kind, CallKind::LowLevel(_)),
            )
        })
        .collect();
    for c in &f.facts.calls {
        if let CallKind::Internal(n) = &c.kind
            && let Some(g) = cx.function(n)
            && g.name != f.name
        {
            let inner = std::iter::once(g).chain(cx.reach(g, 2).into_iter().map(|(_, h)| h));
            for h in inner {
                if let Some(rc) = reentrant_call(&h.facts).next() {
                    let low = matches!(rc.kind, CallKind::LowLevel(_));
                    v.push((c.line, c.start, c.end, rc.has_value, low));
                    break;
                }
            }
        }
    }
    v
}

fn body_rule(cx: &Cx<'_, '_>, f: &Function<'_>, out: &mut Vec<Finding>) {
    let sites = reentrant_sites(cx, f);
    for (line, _start, end, value, low) in sites {
        // Writes after the call: own writes, and writes of internal functions called later.
        let mut writes: Vec<(u32, String)> = f
            .facts
            .writes
            .iter()
            .filter(|w| w.start > end)
            .map(|w| (w.line, w.var.clone()))
            .collect();
        for c in &f.facts.calls {
            if c.start > end
                && let CallKind::Internal(n) = &c.kind
                && let Some(g) = cx.function(n)
                && let Some(w) = g.facts.writes.first()
            {
                writes.push((c.line, w.var.clone()));
            }
        }
        if writes.is_empty() {
            continue;
        }
        let vars: Vec<&str> = writes.iter().map(|(_, v)| v.as_str()).collect();
        let (severity, confidence) = match (value, low) {
            (true, _) => (Severity::Critical, Confidence::High),
            (false, true) => (Severity::High, Confidence::Medium),
            (false, false) => (Severity::High, Confidence::Medium),
        };
        out.push(cx.finding(
            Some(f),
            Category::Reentrancy,
            "reentrancy-state-after-call",
            severity,
            confidence,
            std::iter::once(line).chain(writes.iter().map(|(l, _)| *l)),
            format!(
                "`{}` makes an external call at line {line} that can re-enter the contract, and \
                 writes `{}` only afterwards: a re-entrant call sees the old value.",
                super::display_name(f),
                vars.join("`, `"),
            ),
            FIX,
        ));
    }
}

fn modifier_rule(cx: &Cx<'_, '_>, f: &Function<'_>, out: &mut Vec<Finding>) {
    if f.facts.writes.is_empty() {
        return;
    }
    for m in &f.modifiers {
        let Some(md) = cx.modifier(m) else { continue };
        let Some(ph) = md.facts.placeholder else {
            continue;
        };
        if let Some(c) = reentrant_call(&md.facts).find(|c| c.end <= ph) {
            out.push(cx.finding(
                Some(f),
                Category::Reentrancy,
                "reentrancy-modifier",
                Severity::High,
                Confidence::Medium,
                [f.line, c.line],
                format!(
                    "Modifier `{m}` calls another contract (line {}) before `{}` runs and \
                     writes state: the callee can re-enter while the modifier's checks still \
                     pass.",
                    c.line,
                    super::display_name(f)
                ),
                FIX,
            ));
        }
    }
}

/// A modifier that sets a state flag before `_` and resets it after (a lock).
fn has_mutex(cx: &Cx<'_, '_>, f: &Function<'_>) -> bool {
    f.modifiers.iter().any(|m| {
        cx.modifier(m).is_some_and(|md| {
            md.facts.placeholder.is_some_and(|ph| {
                let before = md.facts.writes.iter().filter(|w| w.start < ph);
                before.into_iter().any(|w| {
                    md.facts
                        .writes
                        .iter()
                        .any(|w2| w2.start > ph && w2.var == w.var)
                })
            })
        })
    })
}
