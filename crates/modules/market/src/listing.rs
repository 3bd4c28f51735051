//! Listings, sales and licence grants, royalty policies, per-call fees and ratings.
//!
//! Every check precedes the first write, so a refused call leaves nothing behind even
//! before the executor rolls the frame back.

use crate::{
    IMarket::{self, Method},
    Kind, ListingBody, MAX_ENDPOINT_BYTES, MAX_METHOD_NAME_BYTES, MAX_METHODS,
    earnings::{self, Payment, PaymentKind},
    host::{emit, record, require_owner, revert},
    layout::{self, Head},
    read::{self, PERPETUAL},
    split::Policy,
    stack,
};
use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolValue;
use verai_primitives::{Host, ModuleError, with_module};
use verai_provenance::{IProvenance::Record, Kind as RecordKind, licence};

fn invalid(reason: impl Into<String>) -> ModuleError {
    revert(IMarket::InvalidListing {
        reason: reason.into(),
    })
}

/// Set the royalty policy of `record_id` (owner only, before its first stack).
pub fn set_policy(host: &mut dyn Host, record_id: u64, p: Policy) -> Result<(), ModuleError> {
    let r = record(host, record_id)?;
    require_owner(host, &r)?;
    p.check().map_err(|reason| {
        revert(IMarket::InvalidPolicy {
            reason: reason.into(),
        })
    })?;
    if read::stack_of(host, record_id)? != 0
        || read::get_u64(host, layout::building(record_id))? != 0
    {
        return Err(revert(IMarket::PolicyFrozen {
            recordId: record_id,
        }));
    }
    host.sstore(layout::policy(record_id), read::pack_policy(p))?;
    emit(
        host,
        IMarket::PolicySet {
            recordId: record_id,
            ownerBps: p.owner_bps,
            upstreamBps: p.upstream_bps,
            allAncestors: p.all_ancestors,
        },
    )
}

/// What a new listing offers.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The record sold.
    pub record: u64,
    /// What is sold.
    pub kind: Kind,
    /// Payment token (zero: native).
    pub token: Address,
    /// Per access or per call.
    pub price: U256,
    /// Licence terms of an Access listing.
    pub terms: B256,
    /// Service endpoint.
    pub endpoint: String,
    /// Service methods.
    pub methods: Vec<Method>,
}

fn check_offer(host: &mut dyn Host, r: &Record, o: &Offer) -> Result<(), ModuleError> {
    if r.deprecated {
        return Err(invalid(format!("record {} is deprecated", r.id)));
    }
    if !o.token.is_zero() {
        return Err(revert(IMarket::TokenNotSupported { token: o.token }));
    }
    let kind = RecordKind::from_u8(r.kind);
    match o.kind {
        Kind::Access => {
            if !matches!(kind, Some(RecordKind::Dataset | RecordKind::Model)) {
                return Err(invalid("only datasets and models sell access"));
            }
            let known = with_module(host, verai_provenance::ADDRESS, |h| {
                licence::terms(h, o.terms)
            })?;
            if known.is_none() {
                return Err(revert(IMarket::UnknownTerms { termsHash: o.terms }));
            }
        }
        Kind::PerCall => {
            if kind != Some(RecordKind::Model) {
                return Err(invalid("only models are paid per call"));
            }
            let current = read::get_u64(host, layout::call_listing(r.id))?;
            if current != 0 {
                return Err(invalid(format!(
                    "model {} is already paid per call through listing {current}; delist it first",
                    r.id
                )));
            }
        }
        Kind::Service => {
            if o.endpoint.is_empty() || o.endpoint.len() > MAX_ENDPOINT_BYTES {
                return Err(invalid(format!(
                    "a service needs an endpoint of 1 to {MAX_ENDPOINT_BYTES} bytes"
                )));
            }
            if o.methods.is_empty() || o.methods.len() > MAX_METHODS {
                return Err(invalid(format!(
                    "a service needs 1 to {MAX_METHODS} methods"
                )));
            }
            for (i, m) in o.methods.iter().enumerate() {
                if m.name.is_empty() || m.name.len() > MAX_METHOD_NAME_BYTES {
                    return Err(invalid(format!(
                        "method names are 1 to {MAX_METHOD_NAME_BYTES} bytes"
                    )));
                }
                if o.methods[..i].iter().any(|x| x.name == m.name) {
                    return Err(invalid(format!("method {} is listed twice", m.name)));
                }
            }
        }
    }
    if o.kind != Kind::Access && !o.terms.is_zero() {
        return Err(invalid("only Access listings carry licence terms"));
    }
    if o.kind != Kind::Service && (!o.endpoint.is_empty() || !o.methods.is_empty()) {
        return Err(invalid(
            "only Service listings have an endpoint and methods",
        ));
    }
    Ok(())
}

fn push(host: &mut dyn Host, base: U256, v: u64) -> Result<(), ModuleError> {
    let n = read::get_u64(host, base)?;
    host.sstore(base + U256::from(n + 1), U256::from(v))?;
    host.sstore(base, U256::from(n + 1))
}

/// List `o` (the record's owner only); builds the record's stack when it has none.
pub fn list(host: &mut dyn Host, o: Offer) -> Result<u64, ModuleError> {
    let r = record(host, o.record)?;
    require_owner(host, &r)?;
    check_offer(host, &r, &o)?;
    let (stack_id, complete) = stack::build(host, o.record)?;
    if !complete {
        return Err(revert(IMarket::StackIncomplete {
            recordId: o.record,
            stackId: stack_id,
        }));
    }
    let id = read::listing_count(host)? + 1;
    let seller = host.caller();
    let body = ListingBody {
        recordId: o.record,
        kind: o.kind as u8,
        seller,
        token: o.token,
        price: o.price,
        termsHash: o.terms,
        endpoint: o.endpoint,
        methods: o.methods,
        createdAt: host.timestamp(),
    };
    host.sstore(layout::listings(), U256::from(id))?;
    let bytes = body.abi_encode();
    let base = layout::body(id);
    host.sstore(base, U256::from(bytes.len()))?;
    for (i, chunk) in bytes.chunks(32).enumerate() {
        let mut w = [0u8; 32];
        w[..chunk.len()].copy_from_slice(chunk);
        host.sstore_immutable(base + U256::from(i + 1), U256::from_be_bytes(w))?;
    }
    let head = Head {
        record: o.record,
        kind: o.kind as u8,
        active: true,
        token: o.token,
    };
    host.sstore(layout::head(id), head.pack())?;
    host.sstore(layout::price(id), o.price)?;
    push(host, layout::by_record(o.record), id)?;
    push(host, layout::by_seller(seller), id)?;
    push(host, layout::by_kind(o.kind as u8), id)?;
    if o.kind == Kind::PerCall {
        host.sstore(layout::call_listing(o.record), U256::from(id))?;
    }
    emit(
        host,
        IMarket::Listed {
            id,
            recordId: o.record,
            seller,
            kind: o.kind as u8,
            token: o.token,
            price: o.price,
        },
    )?;
    Ok(id)
}

/// The head of listing `id`, or `UnknownListing`.
pub(crate) fn head(host: &mut dyn Host, id: u64) -> Result<Head, ModuleError> {
    read::head(host, id)?.ok_or_else(|| revert(IMarket::UnknownListing { id }))
}

/// The head of an active listing `id` of `kind`.
pub(crate) fn active(host: &mut dyn Host, id: u64, kind: Kind) -> Result<Head, ModuleError> {
    let h = head(host, id)?;
    if !h.active {
        return Err(revert(IMarket::ListingInactive { id }));
    }
    if h.kind != kind as u8 {
        return Err(revert(IMarket::WrongKind {
            listingId: id,
            kind: h.kind,
        }));
    }
    Ok(h)
}

/// Stop selling listing `id` (its seller only).
pub fn delist(host: &mut dyn Host, id: u64) -> Result<(), ModuleError> {
    let mut h = head(host, id)?;
    let seller = read::body(host, id)?.map(|b| b.seller).unwrap_or_default();
    let caller = host.caller();
    if seller != caller {
        return Err(revert(IMarket::NotRecordOwner {
            recordId: h.record,
            owner: seller,
            caller,
        }));
    }
    if !h.active {
        return Err(revert(IMarket::ListingInactive { id }));
    }
    h.active = false;
    host.sstore(layout::head(id), h.pack())?;
    if h.kind == Kind::PerCall as u8 {
        host.sstore(layout::call_listing(h.record), U256::ZERO)?;
    }
    emit(host, IMarket::Delisted { id })
}

fn require_price(host: &mut dyn Host, id: u64, sent: U256) -> Result<U256, ModuleError> {
    let price = host.sload(layout::price(id))?;
    if sent != price {
        return Err(revert(IMarket::WrongPayment { price, sent }));
    }
    Ok(price)
}

/// Buy Access listing `id` with the call's value: a grant to the caller under the listing's
/// terms, extending a grant still running. Returns the new expiry.
pub fn buy(host: &mut dyn Host, id: u64) -> Result<u64, ModuleError> {
    let h = active(host, id, Kind::Access)?;
    let sent = host.value();
    let price = require_price(host, id, sent)?;
    let terms_hash = read::body(host, id)?
        .map(|b| b.termsHash)
        .unwrap_or_default();
    let terms = with_module(host, verai_provenance::ADDRESS, |h| {
        licence::terms(h, terms_hash)
    })?
    .ok_or_else(|| {
        revert(IMarket::UnknownTerms {
            termsHash: terms_hash,
        })
    })?;
    let buyer = host.caller();
    let now = host.timestamp();
    let slot = layout::grant(h.record, buyer);
    let (had, old_expiry) = layout::unpack_grant(host.sload(slot)?);
    let expiry = if terms.perpetual || old_expiry == PERPETUAL {
        PERPETUAL
    } else {
        old_expiry.max(now).saturating_add(terms.duration)
    };
    host.sstore(slot, layout::pack_grant(id, expiry))?;
    if had == 0 {
        push(host, layout::grants_of(buyer), h.record)?;
        let base = layout::grantees(h.record);
        let n = read::get_u64(host, base)?;
        host.sstore(base + U256::from(n + 1), layout::from_address(buyer))?;
        host.sstore(base, U256::from(n + 1))?;
    }
    earnings::credit(
        host,
        Payment {
            record: h.record,
            listing: id,
            payer: buyer,
            token: h.token,
            amount: price,
            kind: PaymentKind::Access,
        },
    )?;
    emit(
        host,
        IMarket::Sold {
            listingId: id,
            buyer,
            recordId: h.record,
            price,
            expiry,
        },
    )?;
    Ok(expiry)
}

/// The inference fee of model `model` paid by `payer` with `value`, already moved into the
/// market's account: the model's per-call price, exactly (no listing: no fee, and value is
/// refused).
pub fn charge_call(
    host: &mut dyn Host,
    model: u64,
    payer: Address,
    value: U256,
) -> Result<(), ModuleError> {
    let (id, _) = read::call_price(host, model)?;
    if id == 0 {
        if value.is_zero() {
            return Ok(());
        }
        return Err(revert(IMarket::NoCallListing { modelId: model }));
    }
    let h = active(host, id, Kind::PerCall)?;
    let price = require_price(host, id, value)?;
    if price.is_zero() {
        return Ok(());
    }
    earnings::credit(
        host,
        Payment {
            record: model,
            listing: id,
            payer,
            token: h.token,
            amount: price,
            kind: PaymentKind::Call,
        },
    )?;
    Ok(())
}

/// Rate listing `id` from 1 to 5, weighted by what the caller has paid to it; a second
/// rating replaces the first.
pub fn rate(host: &mut dyn Host, id: u64, score: u8) -> Result<(), ModuleError> {
    head(host, id)?;
    if !(1..=5).contains(&score) {
        return Err(revert(IMarket::InvalidScore { score }));
    }
    let rater = host.caller();
    // The low 248 bits hold the weight; no real payment total comes near them.
    let weight = host
        .sload(layout::paid(id, rater))?
        .min(U256::MAX >> 8usize);
    if weight.is_zero() {
        return Err(revert(IMarket::NotPaid {
            listingId: id,
            rater,
        }));
    }
    let slot = layout::rating(id, rater);
    let old = host.sload(slot)?;
    let (old_score, old_weight) = (old >> 248usize, old & (U256::MAX >> 8usize));
    let w_slot = layout::rating_weight(id);
    let s_slot = layout::rating_sum(id);
    let total_w = host.sload(w_slot)?.saturating_sub(old_weight) + weight;
    let total_s =
        host.sload(s_slot)?.saturating_sub(old_weight * old_score) + weight * U256::from(score);
    host.sstore(w_slot, total_w)?;
    host.sstore(s_slot, total_s)?;
    host.sstore(slot, (U256::from(score) << 248usize) | weight)?;
    emit(
        host,
        IMarket::Rated {
            listingId: id,
            rater,
            score,
            weight,
        },
    )
}
