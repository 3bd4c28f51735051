//! Human-readable messages for the module's revert data.

use crate::IMarket::IMarketErrors as E;
use alloy_sol_types::SolInterface;

/// A sentence for `IMarket` revert data, `None` if the data is not one of its errors.
pub fn explain(data: &[u8]) -> Option<String> {
    let e = E::abi_decode(data).ok()?;
    Some(match e {
        E::ValueNotAccepted(_) => "this market call does not accept value".into(),
        E::UnknownSelector(x) => format!("unknown function selector {}", x.selector),
        E::UnknownRecord(x) => format!("unknown record {}", x.id),
        E::NotRecordOwner(x) => format!(
            "record {} belongs to {}, not to the caller {}",
            x.recordId, x.owner, x.caller
        ),
        E::InvalidPolicy(x) => format!("invalid royalty policy: {}", x.reason),
        E::PolicyFrozen(x) => format!(
            "record {}'s royalty policy is frozen: its stack is built",
            x.recordId
        ),
        E::ParentStackMissing(x) => format!(
            "record {}'s parent {} has no royalty stack yet: build the ancestors' stacks first",
            x.recordId, x.parent
        ),
        E::StackTooLarge(x) => format!(
            "the royalty stack would have {} accounts, at most {}",
            x.accounts, x.max
        ),
        E::NoStack(x) => format!(
            "record {} has no royalty stack: list it or call buildStack first",
            x.recordId
        ),
        E::StackIncomplete(x) => format!(
            "record {}'s royalty stack {} is still being built: call buildStack again",
            x.recordId, x.stackId
        ),
        E::UnknownListing(x) => format!("unknown listing {}", x.id),
        E::ListingInactive(x) => format!("listing {} is no longer active", x.id),
        E::InvalidListing(x) => format!("invalid listing: {}", x.reason),
        E::WrongKind(x) => format!(
            "listing {} is of kind {}, not the one this call needs",
            x.listingId, x.kind
        ),
        E::WrongPayment(x) => format!("the price is {} wei; the call sent {}", x.price, x.sent),
        E::AmountTooLarge(x) => format!("amount {} overflows the books", x.amount),
        E::NoCallListing(x) => format!(
            "model {} has no per-call listing: an inference of it takes no value",
            x.modelId
        ),
        E::TokenNotSupported(x) => format!(
            "token {} is not accepted: the market takes the native token only",
            x.token
        ),
        E::UnknownTerms(x) => format!("no licence terms are registered under {}", x.termsHash),
        E::UnknownChannel(x) => format!("unknown channel {}", x.id),
        E::NotChannelParty(x) => format!(
            "{} is not the party of channel {} that may do this",
            x.caller, x.id
        ),
        E::ChannelClosedAlready(x) => format!("channel {} is closed", x.id),
        E::ChannelNotExpired(x) => format!(
            "channel {} runs until {}: the client may close it only after",
            x.id, x.expiry
        ),
        E::ChannelExpired(x) => format!("channel {} expired at {}", x.id, x.expiry),
        E::BadVoucher(x) => format!("voucher refused: {}", x.reason),
        E::VoucherOverspent(x) => format!(
            "voucher for {} exceeds the channel's deposit of {}",
            x.amount, x.deposit
        ),
        E::VoucherReplayed(x) => format!(
            "voucher nonce {} is not above the last claimed nonce {}",
            x.nonce, x.lastNonce
        ),
        E::NotPaid(x) => format!(
            "{} has paid nothing to listing {}: only paying customers rate",
            x.rater, x.listingId
        ),
        E::InvalidScore(x) => format!("score {} is not between 1 and 5", x.score),
    })
}
