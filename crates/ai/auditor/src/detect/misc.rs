//! Front running, short addresses and other (uninitialized storage pointers).
//!
//! - `front_running`: (a) an ERC-20 style `approve` that overwrites a non-zero
//!   allowance (the spender can spend old and new allowance by racing the change);
//!   (b) a secret checked by hashing a parameter (`sha3(solution) == hash`): the
//!   solution is visible in the mempool and can be resubmitted with a higher fee;
//!   (c) an ether payment whose amount is a state variable another public function
//!   changes (transaction order decides what is paid).
//! - `short_addresses`: before 0.5, a public function taking an address and an amount
//!   that credits the address, with no `msg.data.length` check.
//! - `other`: a local struct declared without location or initializer before 0.5 is a
//!   storage pointer to slot 0: writes through it overwrite unrelated state.

use super::Cx;
use crate::source::facts::{CallKind, WriteOp};
use crate::source::walk::LowLevelKind as L;
use crate::{Category, Confidence, Finding, Severity};

pub fn detect(cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    front_running(cx, out);
    short_address(cx, out);
    uninitialized_pointer(cx, out);
}

fn front_running(cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    for f in cx.entry_points() {
        if f.name.eq_ignore_ascii_case("approve") && f.params.len() == 2 {
            let w = f
                .facts
                .writes
                .iter()
                .find(|w| w.op == WriteOp::Assign && w.keyed_by_sender && w.value_from_param);
            if let Some(w) = w
                && f.facts.sender_checks.is_empty()
                && !f.facts.arith.iter().any(|_| false)
            {
                out.push(
                    cx.finding(
                        Some(f),
                        Category::FrontRunning,
                        "erc20-approve-race",
                        Severity::Medium,
                        Confidence::Medium,
                        [f.line, w.line],
                        "`approve` overwrites the allowance: a spender watching the mempool can \
                     spend the old allowance before the change lands and the new one after."
                            .to_string(),
                        "Require the allowance to be zero before setting a new value, or offer \
                     increaseAllowance/decreaseAllowance.",
                    ),
                );
            }
        }
        // A reveal checked against the caller's own commitment is commit-reveal.
        if !f.facts.hash_checks.is_empty() && f.facts.commitment_checks == 0 {
            out.push(cx.finding(
                Some(f),
                Category::FrontRunning,
                "plaintext-secret",
                Severity::High,
                Confidence::High,
                f.facts.hash_checks.iter().copied(),
                format!(
                    "`{}` rewards whoever submits a value whose hash matches: the value travels \
                     in clear in the transaction, so anyone can copy it with a higher fee.",
                    super::display_name(f)
                ),
                "Use commit-reveal: first commit hash(value, sender, salt), reveal later.",
            ));
        }
        for c in &f.facts.calls {
            if !matches!(c.kind, CallKind::LowLevel(L::Transfer | L::Send)) {
                continue;
            }
            let Some(var) = &c.amount_var else { continue };
            let scalar = cx
                .contract
                .state_var(var)
                .is_some_and(|s| !s.ty.contains("=>") && !s.ty.contains('['));
            let changed_elsewhere = cx.contract.functions.iter().any(|g| {
                g.public
                    && !g.is_constructor
                    && g.name != f.name
                    && g.facts
                        .writes
                        .iter()
                        .any(|w| &w.var == var && w.op == WriteOp::Assign)
            });
            if scalar && changed_elsewhere {
                out.push(cx.finding(
                    Some(f),
                    Category::FrontRunning,
                    "transaction-order-dependence",
                    Severity::Medium,
                    Confidence::Medium,
                    [c.line],
                    format!(
                        "The amount paid at line {} is `{var}`, which another public function \
                         changes: whichever transaction is mined first decides the payout.",
                        c.line
                    ),
                    "Let the caller state the amount it expects and revert if it changed, or \
                     lock the value once claims are open.",
                ));
            }
        }
    }
}

fn short_address(cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    if !cx.program.before_0_5() {
        return;
    }
    for f in cx.entry_points() {
        if f.view || f.facts.payload_checks > 0 || f.params.len() != 2 {
            continue;
        }
        let (addr, amount) = (&f.params[0], &f.params[1]);
        if !addr.1.starts_with("address") || !amount.1.starts_with("uint") {
            continue;
        }
        let checked_by_modifier = f
            .modifiers
            .iter()
            .any(|m| cx.modifier(m).is_some_and(|md| md.facts.payload_checks > 0));
        let credits = f
            .facts
            .writes
            .iter()
            .any(|w| w.index_from_param && matches!(w.op, WriteOp::Compound | WriteOp::Assign));
        if credits && !checked_by_modifier {
            out.push(cx.finding(
                Some(f),
                Category::ShortAddresses,
                "short-address",
                Severity::Low,
                Confidence::Low,
                [f.line],
                format!(
                    "`{}(address, uint)` does not check `msg.data.length`: a client that sends a \
                     truncated address shifts the amount left (x256) when the EVM pads the call \
                     data.",
                    super::display_name(f)
                ),
                "Check `msg.data.length == 4 + 2 * 32` (an onlyPayloadSize modifier), and \
                 validate addresses in clients.",
            ));
        }
    }
}

fn uninitialized_pointer(cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    for f in &cx.contract.functions {
        for (line, name) in &f.facts.uninit_storage {
            let marker = format!("<uninitialized pointer {name}>");
            let writes = f
                .facts
                .writes
                .iter()
                .filter(|w| w.var == marker)
                .map(|w| w.line);
            out.push(cx.finding(
                Some(f),
                Category::Other,
                "uninitialized-storage-pointer",
                Severity::High,
                Confidence::High,
                std::iter::once(*line).chain(writes),
                format!(
                    "`{name}` is a local struct with no location and no initializer: before \
                     Solidity 0.5 it points at storage slot 0, so writing its fields overwrites \
                     the contract's first state variables."
                ),
                "Declare it `memory`, or point it at a real storage entry.",
            ));
        }
    }
}
