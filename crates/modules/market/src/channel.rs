//! Escrow channels for service calls, paid by EIP-712 vouchers.
//!
//! A client opens a channel to a Service listing with a deposit and an expiry. For each
//! call it signs a voucher for the *cumulative* amount owed so far, with a nonce that grows;
//! the provider keeps the highest and claims it on chain, once or several times. A claim
//! pays `amount - claimed` through the listed record's stack, so vouchers signed
//! concurrently (100 calls in flight) settle as one. The client recovers `deposit -
//! claimed` by closing the channel after expiry (the provider may close it any time), so
//! a provider that disappears costs nothing.
//!
//! A voucher binds the channel, the amount and the nonce; the EIP-712 domain binds the
//! chain id and this module's address, so a voucher is good on one chain's market only.

use crate::{
    ADDRESS,
    IMarket::{self, Voucher},
    Kind,
    earnings::{self, Payment, PaymentKind},
    host::{emit, revert},
    layout, listing, read,
};
use alloy_primitives::{Address, B256, Signature, U256};
use alloy_sol_types::{Eip712Domain, SolStruct, eip712_domain};
use verai_primitives::{Host, ModuleError, module::gas};

/// The EIP-712 domain of vouchers on chain `chain_id`.
pub fn domain(chain_id: u64) -> Eip712Domain {
    eip712_domain! {
        name: "Verai Market",
        version: "1",
        chain_id: chain_id,
        verifying_contract: ADDRESS,
    }
}

/// The hash a client signs for `voucher` on chain `chain_id`.
pub fn voucher_hash(voucher: &Voucher, chain_id: u64) -> B256 {
    voucher.eip712_signing_hash(&domain(chain_id))
}

/// The signer of `voucher` by its 65-byte `signature`, `None` when it is malformed.
pub fn voucher_signer(voucher: &Voucher, chain_id: u64, signature: &[u8]) -> Option<Address> {
    let sig = Signature::from_raw(signature).ok()?;
    sig.recover_address_from_prehash(&voucher_hash(voucher, chain_id))
        .ok()
}

fn bad(reason: &str) -> ModuleError {
    revert(IMarket::BadVoucher {
        reason: reason.into(),
    })
}

/// Open a channel from the caller to Service listing `listing_id`, with the call's value
/// as deposit, until `expiry`.
pub fn open(host: &mut dyn Host, listing_id: u64, expiry: u64) -> Result<u64, ModuleError> {
    listing::active(host, listing_id, Kind::Service)?;
    let deposit = host.value();
    if deposit.is_zero() {
        return Err(revert(IMarket::WrongPayment {
            price: U256::from(1),
            sent: deposit,
        }));
    }
    let now = host.timestamp();
    if expiry <= now {
        return Err(revert(IMarket::ChannelExpired { id: 0, expiry }));
    }
    let provider = read::body(host, listing_id)?
        .map(|b| b.seller)
        .unwrap_or_default();
    let client = host.caller();
    let id = read::get_u64(host, layout::channels())? + 1;
    host.sstore(layout::channels(), U256::from(id))?;
    let base = layout::channel(id);
    host.sstore(base, layout::pack_channel(listing_id, 0, expiry, false))?;
    host.sstore(base + U256::from(1), layout::from_address(client))?;
    host.sstore(base + U256::from(2), layout::from_address(provider))?;
    host.sstore(base + U256::from(3), deposit)?;
    emit(
        host,
        IMarket::ChannelOpened {
            id,
            client,
            provider,
            listingId: listing_id,
            deposit,
            expiry,
        },
    )?;
    Ok(id)
}

fn load(host: &mut dyn Host, id: u64) -> Result<IMarket::Channel, ModuleError> {
    read::channel(host, id)?.ok_or_else(|| revert(IMarket::UnknownChannel { id }))
}

/// Claim voucher (`amount`, `nonce`) of channel `id` (its provider only); returns what was
/// paid now.
pub fn claim(
    host: &mut dyn Host,
    id: u64,
    amount: U256,
    nonce: u64,
    signature: &[u8],
    chain_id: u64,
) -> Result<U256, ModuleError> {
    let c = load(host, id)?;
    let caller = host.caller();
    if caller != c.provider {
        return Err(revert(IMarket::NotChannelParty { id, caller }));
    }
    if c.closed {
        return Err(revert(IMarket::ChannelClosedAlready { id }));
    }
    if host.timestamp() >= c.expiry {
        return Err(revert(IMarket::ChannelExpired {
            id,
            expiry: c.expiry,
        }));
    }
    if amount > c.deposit {
        return Err(revert(IMarket::VoucherOverspent {
            amount,
            deposit: c.deposit,
        }));
    }
    if nonce <= c.nonce {
        return Err(revert(IMarket::VoucherReplayed {
            nonce,
            lastNonce: c.nonce,
        }));
    }
    if amount <= c.claimed {
        return Err(bad("the amount is not above what was already claimed"));
    }
    if signature.len() != 65 {
        return Err(bad("a signature is 65 bytes"));
    }
    host.charge(gas::ECRECOVER)?;
    let voucher = Voucher {
        channelId: id,
        amount,
        nonce,
    };
    match voucher_signer(&voucher, chain_id, signature) {
        Some(s) if s == c.client => {}
        Some(_) => return Err(bad("not signed by the channel's client for this chain")),
        None => return Err(bad("malformed signature")),
    }
    let paid = amount - c.claimed;
    let base = layout::channel(id);
    host.sstore(
        base,
        layout::pack_channel(c.listingId, nonce, c.expiry, false),
    )?;
    host.sstore(base + U256::from(4), amount)?;
    let h = listing::head(host, c.listingId)?;
    earnings::credit(
        host,
        Payment {
            record: h.record,
            listing: c.listingId,
            payer: c.client,
            token: h.token,
            amount: paid,
            kind: PaymentKind::Service,
        },
    )?;
    emit(
        host,
        IMarket::ChannelClaimed {
            id,
            amount,
            nonce,
            paid,
        },
    )?;
    Ok(paid)
}

/// Close channel `id` and refund the client what was not claimed: the client after
/// expiry, the provider any time.
pub fn close(host: &mut dyn Host, id: u64) -> Result<U256, ModuleError> {
    let c = load(host, id)?;
    let caller = host.caller();
    if c.closed {
        return Err(revert(IMarket::ChannelClosedAlready { id }));
    }
    if caller == c.client {
        if host.timestamp() < c.expiry {
            return Err(revert(IMarket::ChannelNotExpired {
                id,
                expiry: c.expiry,
            }));
        }
    } else if caller != c.provider {
        return Err(revert(IMarket::NotChannelParty { id, caller }));
    }
    let refund = c.deposit - c.claimed;
    host.sstore(
        layout::channel(id),
        layout::pack_channel(c.listingId, c.nonce, c.expiry, true),
    )?;
    host.transfer(c.client, refund)?;
    emit(host, IMarket::ChannelClosed { id, refund })?;
    Ok(refund)
}
