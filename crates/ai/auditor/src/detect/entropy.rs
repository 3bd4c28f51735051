//! Bad randomness and time manipulation: block values used as entropy or in decisions.
//!
//! Sources: `block.timestamp`/`now`, `block.number`, `blockhash`, `block.difficulty`,
//! `block.coinbase`, `block.gaslimit`. Sinks: hash arguments, `%`, `blockhash`
//! arguments. A source reaches a sink directly, or through a local or state variable
//! assigned from it. `blockhash` itself is always entropy. When the only source is the
//! timestamp, the finding is `time_manipulation` (a miner shifts it by seconds);
//! otherwise `bad_randomness`. Timestamp uses in conditions and return values that are
//! not entropy are `time_manipulation` too, and so are timestamps stored in state that
//! some condition of the contract reads (a stored time nobody tests decides nothing).

use super::Cx;
use crate::source::walk::EnvKind;
use crate::{Category, Confidence, Finding, Severity};
use std::collections::{BTreeMap, BTreeSet};

pub fn detect(cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    // State variables holding a block value, with the lines that assign them.
    let mut tainted_state: BTreeMap<String, (Vec<u32>, BTreeSet<EnvKind>)> = BTreeMap::new();
    for v in &cx.contract.state {
        for k in v.init_env.iter().filter(|k| **k != EnvKind::Origin) {
            let e = tainted_state.entry(v.name.clone()).or_default();
            e.0.push(v.line);
            e.1.insert(*k);
        }
    }
    for f in &cx.contract.functions {
        for u in &f.facts.env {
            if u.kind == EnvKind::Origin {
                continue;
            }
            if let Some(t) = &u.assigned_to
                && !f.facts.locals.contains(t)
                && cx.contract.state_var(t).is_some()
            {
                let e = tainted_state.entry(t.clone()).or_default();
                e.0.push(u.line);
                e.1.insert(u.kind);
            }
        }
    }
    // State variables some condition compares with the timestamp.
    let timed_state: BTreeSet<&str> = cx
        .contract
        .functions
        .iter()
        .flat_map(|f| f.facts.timed_vars.iter().map(String::as_str))
        .collect();
    for f in &cx.contract.functions {
        let facts = &f.facts;
        let mut lines = Vec::new();
        let mut kinds = BTreeSet::new();
        // Locals assigned from a block value.
        let mut tainted_local: BTreeMap<&str, Vec<(u32, EnvKind)>> = BTreeMap::new();
        for u in &facts.env {
            if let Some(t) = &u.assigned_to
                && facts.locals.contains(t)
            {
                tainted_local
                    .entry(t.as_str())
                    .or_default()
                    .push((u.line, u.kind));
            }
        }
        for u in &facts.env {
            if u.kind == EnvKind::Origin {
                continue;
            }
            if u.in_entropy_sink || u.kind == EnvKind::Blockhash {
                lines.push(u.line);
                kinds.insert(u.kind);
            }
        }
        for (v, line) in &facts.sink_vars {
            if let Some(srcs) = tainted_local.get(v.as_str()) {
                lines.push(*line);
                for (l, k) in srcs {
                    lines.push(*l);
                    kinds.insert(*k);
                }
            } else if !facts.locals.contains(v)
                && !facts.params.contains(v)
                && let Some((ls, ks)) = tainted_state.get(v)
            {
                lines.push(*line);
                lines.extend(ls);
                kinds.extend(ks);
            }
        }
        let random_lines: BTreeSet<u32> = lines.iter().copied().collect();
        if !lines.is_empty() {
            let time_only = kinds.iter().all(|k| *k == EnvKind::Timestamp);
            let (cat, det) = if time_only {
                (Category::TimeManipulation, "timestamp-entropy")
            } else {
                (Category::BadRandomness, "weak-randomness")
            };
            // Timestamp-only hashes are usually state digests, not dice; `%` and `==`
            // on the timestamp are dice.
            let dice = facts
                .env
                .iter()
                .any(|u| u.kind == EnvKind::Timestamp && (u.in_modulo || u.in_equality));
            out.push(cx.finding(
                Some(f),
                cat,
                det,
                Severity::High,
                match (time_only, dice) {
                    (false, _) => Confidence::High,
                    (true, true) => Confidence::High,
                    (true, false) => Confidence::Low,
                },
                lines,
                format!(
                    "`{}` derives a random-looking value from block data ({}): miners and other \
                     contracts in the same block can predict or influence it.",
                    super::display_name(f),
                    kinds.iter().map(|k| format!("{k:?}").to_lowercase()).collect::<Vec<_>>().join(", ")
                ),
                "Use a commit-reveal scheme or a verifiable random function (e.g. an oracle \
                 with proofs); never block values.",
            ));
        }
        // Timestamp in decisions and state.
        let uses: Vec<&crate::source::facts::EnvUse> = facts
            .env
            .iter()
            .filter(|u| u.kind == EnvKind::Timestamp && !random_lines.contains(&u.line))
            .filter(|u| {
                u.in_condition
                    || u.returned
                    || u.assigned_to.as_ref().is_some_and(|t| {
                        !facts.locals.contains(t) && timed_state.contains(t.as_str())
                    })
            })
            .collect();
        let time_lines: Vec<u32> = uses.iter().map(|u| u.line).collect();
        // Exact comparisons, exported time, and "last action" times that the next
        // caller races against are what a few seconds' shift changes; long deadlines
        // (`now > unlockTime`) mostly are not.
        let sharp = uses.iter().any(|u| {
            u.in_equality
                || u.returned
                || (u.direct
                    && u.assigned_to
                        .as_ref()
                        .is_some_and(|t| timed_state.contains(t.as_str())))
        });
        if !time_lines.is_empty() {
            out.push(cx.finding(
                Some(f),
                Category::TimeManipulation,
                "timestamp-dependence",
                Severity::Medium,
                if sharp {
                    Confidence::Medium
                } else {
                    Confidence::Low
                },
                time_lines.iter().copied(),
                format!(
                    "`{}` makes decisions on `block.timestamp`/`now`, which the block producer \
                     can shift by several seconds.",
                    super::display_name(f)
                ),
                "Do not rely on the timestamp for anything that a few seconds' shift would \
                 change; use block numbers for ordering and tolerate drift in deadlines.",
            ));
        }
    }
}
