//! Crediting payments to stacks and paying accounts out.
//!
//! A payment touches a fixed number of slots whatever the lineage behind the record: the
//! stack's cumulative revenue, and the listing's counters when it comes through one.
//! `claimAll` walks the caller's earner index and pays, in one transfer, the difference
//! between each entitlement and what was claimed before; stacks with nothing new are only
//! read.
//!
//! Solvency: the module's balance in a token is at least the sum of every stack's revenue
//! less everything claimed, because entitlements never sum to more than a stack's revenue
//! (see [`crate::split`]) and claims never exceed entitlements.

use crate::{
    IMarket,
    host::{emit, revert},
    layout, read, split,
};
use alloy_primitives::{Address, U256};
use verai_primitives::{Host, ModuleError};

/// Why a payment was made, as the `Paid` event's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PaymentKind {
    /// A licence sale.
    Access = 0,
    /// An inference fee (in block or by the oracle quorum).
    Call = 1,
    /// A settled service voucher.
    Service = 2,
    /// A direct payment (`pay`).
    Direct = 3,
}

fn add(host: &mut dyn Host, slot: U256, amount: U256) -> Result<(), ModuleError> {
    let v = host.sload(slot)?;
    let sum = v
        .checked_add(amount)
        .ok_or_else(|| revert(IMarket::AmountTooLarge { amount }))?;
    host.sstore(slot, sum)
}

/// One payment for record `record`.
#[derive(Debug, Clone, Copy)]
pub struct Payment {
    /// The paid record.
    pub record: u64,
    /// The listing it came through (0: none).
    pub listing: u64,
    /// Who paid.
    pub payer: Address,
    /// Token (zero: native). The amount must already be in the module's account.
    pub token: Address,
    /// How much.
    pub amount: U256,
    /// Why.
    pub kind: PaymentKind,
}

/// Credit `p` to the record's current stack; returns the stack id.
pub fn credit(host: &mut dyn Host, p: Payment) -> Result<u64, ModuleError> {
    let stack = read::stack_of(host, p.record)?;
    if stack == 0 {
        let pending = read::get_u64(host, layout::building(p.record))?;
        return Err(if pending != 0 {
            revert(IMarket::StackIncomplete {
                recordId: p.record,
                stackId: pending,
            })
        } else {
            revert(IMarket::NoStack { recordId: p.record })
        });
    }
    add(host, layout::revenue(stack, p.token), p.amount)?;
    if p.listing != 0 {
        add(host, layout::listing_revenue(p.listing), p.amount)?;
        add(host, layout::sales(p.listing), U256::from(1))?;
        add(host, layout::paid(p.listing, p.payer), p.amount)?;
    }
    emit(
        host,
        IMarket::Paid {
            recordId: p.record,
            stackId: stack,
            payer: p.payer,
            token: p.token,
            amount: p.amount,
            kind: p.kind as u8,
        },
    )?;
    Ok(stack)
}

/// Pay the caller everything it may claim in `token`; returns the amount.
pub fn claim_all(host: &mut dyn Host, token: Address) -> Result<U256, ModuleError> {
    if !token.is_zero() {
        return Err(revert(IMarket::TokenNotSupported { token }));
    }
    let account = host.caller();
    let (_, entries) = read::earner_entries(host, account, 0, u64::MAX)?;
    let mut total = U256::ZERO;
    let mut stacks = 0u32;
    for (stack, weight) in entries {
        let revenue = read::revenue(host, stack, token)?;
        if revenue.is_zero() {
            continue;
        }
        let entitled = split::entitled(revenue, weight);
        let slot = layout::claimed(stack, account, token);
        let claimed = host.sload(slot)?;
        if entitled > claimed {
            host.sstore(slot, entitled)?;
            total += entitled - claimed;
            stacks += 1;
        }
    }
    if !total.is_zero() {
        host.transfer(account, total)?;
    }
    emit(
        host,
        IMarket::Claimed {
            account,
            token,
            amount: total,
            stacks,
        },
    )?;
    Ok(total)
}
