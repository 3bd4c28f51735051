//! Cheap gas-saving suggestions (not vulnerabilities).
//!
//! - A state variable initialized at declaration and never written by any function can
//!   be `constant` (or `immutable`): each read then costs no SLOAD.
//! - A loop whose condition reads a storage array's `.length` pays an SLOAD per
//!   iteration: cache the length in a local.

use crate::GasHint;
use crate::source::Program;
use std::collections::BTreeSet;

pub fn hints(program: &Program<'_>) -> Vec<GasHint> {
    let mut out = Vec::new();
    for c in &program.contracts {
        let written: BTreeSet<&str> = program
            .contracts
            .iter()
            .flat_map(|c| c.functions.iter().chain(&c.modifiers))
            .flat_map(|f| f.facts.writes.iter().map(|w| w.var.as_str()))
            .collect();
        for v in &c.state {
            if v.initialized
                && !v.constant
                && !written.contains(v.name.as_str())
                && c.line <= v.line
            {
                out.push(GasHint {
                    line: v.line,
                    message: format!(
                        "`{}` is never written after initialization: declare it `constant` (or \
                         `immutable` from 0.6.5) to save an SLOAD (2,100 gas cold) per read.",
                        v.name
                    ),
                });
            }
        }
        for f in &c.functions {
            for l in f.facts.loops.iter().filter(|l| l.over_state) {
                out.push(GasHint {
                    line: l.line,
                    message: "The loop condition reads a storage array's length on every \
                              iteration: copy it to a local first."
                        .to_string(),
                });
            }
        }
    }
    out.sort_by_key(|h| h.line);
    out.dedup();
    out
}
