//! Arithmetic: integer overflow and underflow before Solidity 0.8.
//!
//! Rule: in a contract compiled without checked arithmetic (pragma below 0.8) and
//! outside libraries, an addition, subtraction or multiplication that writes state, or
//! that combines a caller-supplied value (parameter, `msg.value`) with state or by
//! multiplication, or on a narrow local or parameter (`uint8`..`uint64`, which wraps at
//! small values), and that no condition of the function compares its operands (a
//! `require(a >= b)` or `assert(c >= a)` guard). Loop counters, constant expressions and
//! additions of a constant are left out, and so are additions of `msg.value` (ether
//! amounts stay far below 2^256), overflow checks themselves (`a + b >= a`, `assert`
//! arguments) and constructors. Conditions that are themselves the unguarded
//! operation (`require(a - b >= 0)`) do not count as guards.

use super::Cx;
use crate::{Category, Confidence, Finding, Severity};

pub fn detect(cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    if !cx.program.unchecked_arithmetic() || cx.contract.is_library {
        return;
    }
    for f in &cx.contract.functions {
        // Constructors run once, with the deployer's own values.
        if (f.view && !f.public)
            || f.is_constructor
            || f.kind == solang_parser::pt::FunctionTy::Constructor
        {
            continue;
        }
        let mut lines = Vec::new();
        let mut strong = false;
        // Amounts moved between entries of one mapping (`b[from] -= v; b[to] += v`)
        // conserve the total: the credit cannot exceed what exists.
        let debited: Vec<&str> = f
            .facts
            .arith
            .iter()
            .filter(|a| a.op == "-=")
            .filter_map(|a| a.target.as_deref())
            .collect();
        for a in &f.facts.arith {
            if a.op == "+="
                && a.target.as_deref().is_some_and(|t| debited.contains(&t))
                && a.user_operand
            {
                continue;
            }
            if a.guarded
                || a.constant
                || a.loop_counter
                || a.increment
                || a.adds_msg_value
                || a.overflow_check
            {
                continue;
            }
            let risky = a.writes_state
                || (a.user_operand && (a.reads_state || a.op.starts_with('*')))
                || a.narrow;
            if !risky {
                continue;
            }
            strong |= a.user_operand;
            lines.push(a.line);
        }
        for (line, kind) in &f.facts.tautologies {
            if *kind == crate::source::facts::Tautology::Subtraction {
                lines.push(*line);
                strong = true;
            }
        }
        if lines.is_empty() {
            continue;
        }
        out.push(cx.finding(
            Some(f),
            Category::Arithmetic,
            "integer-overflow",
            Severity::High,
            if strong {
                Confidence::High
            } else {
                Confidence::Low
            },
            lines.iter().copied(),
            format!(
                "`{}` does unchecked arithmetic (pragma below 0.8, no SafeMath, no guard) at \
                 line(s) {}: a large or small enough input wraps the value around.",
                super::display_name(f),
                lines.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
            ),
            "Use SafeMath (add/sub/mul) or compile with Solidity >= 0.8, and check \
             `balance >= amount` before subtracting.",
        ));
    }
}
