//! The native module: decodes a call, refuses value where none is due, dispatches.

use crate::{
    ADDRESS,
    IMarket::{self, IMarketCalls},
    Kind, channel, earnings,
    earnings::{Payment, PaymentKind},
    host::revert,
    listing::{self, Offer},
    read,
    split::Policy,
    stack,
};
use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::{SolCall, SolInterface};
use verai_primitives::{Host, ModuleError, NativeModule};

/// The market module.
#[derive(Debug, Clone, Copy, Default)]
pub struct Market;

/// Calls that take value: the payments.
fn payable(call: &IMarketCalls) -> bool {
    matches!(
        call,
        IMarketCalls::buy(_) | IMarketCalls::pay(_) | IMarketCalls::openChannel(_)
    )
}

impl NativeModule for Market {
    fn address(&self) -> Address {
        ADDRESS
    }

    fn name(&self) -> &'static str {
        "market"
    }

    fn explain(&self, data: &[u8]) -> Option<String> {
        crate::explain(data)
    }

    fn call(&self, host: &mut dyn Host, input: &[u8]) -> Result<Bytes, ModuleError> {
        let call = IMarketCalls::abi_decode(input).map_err(|_| {
            let mut sel = [0u8; 4];
            let n = input.len().min(4);
            sel[..n].copy_from_slice(&input[..n]);
            revert(IMarket::UnknownSelector {
                selector: sel.into(),
            })
        })?;
        if !payable(&call) && !host.value().is_zero() {
            return Err(revert(IMarket::ValueNotAccepted {}));
        }
        use IMarketCalls as C;
        Ok(match call {
            C::setRoyaltyPolicy(c) => {
                let p = Policy {
                    owner_bps: c.policy.ownerBps,
                    upstream_bps: c.policy.upstreamBps,
                    all_ancestors: c.policy.allAncestors,
                };
                listing::set_policy(host, c.recordId, p)?;
                IMarket::setRoyaltyPolicyCall::abi_encode_returns(&true).into()
            }
            C::buildStack(c) => {
                let (stack_id, complete) = stack::build(host, c.recordId)?;
                IMarket::buildStackCall::abi_encode_returns(&IMarket::buildStackReturn {
                    stackId: stack_id,
                    complete,
                })
                .into()
            }
            C::list(c) => {
                let kind = Kind::from_u8(c.kind).ok_or_else(|| {
                    revert(IMarket::InvalidListing {
                        reason: format!("unknown listing kind {}", c.kind),
                    })
                })?;
                let id = listing::list(
                    host,
                    Offer {
                        record: c.recordId,
                        kind,
                        token: c.token,
                        price: c.price,
                        terms: c.termsHash,
                        endpoint: c.endpoint,
                        methods: c.methods,
                    },
                )?;
                IMarket::listCall::abi_encode_returns(&id).into()
            }
            C::delist(c) => {
                listing::delist(host, c.id)?;
                IMarket::delistCall::abi_encode_returns(&true).into()
            }
            C::buy(c) => {
                let expiry = listing::buy(host, c.listingId)?;
                IMarket::buyCall::abi_encode_returns(&expiry).into()
            }
            C::pay(c) => {
                let amount = host.value();
                if amount.is_zero() {
                    return Err(revert(IMarket::WrongPayment {
                        price: U256::from(1),
                        sent: amount,
                    }));
                }
                let payer = host.caller();
                let id = earnings::credit(
                    host,
                    Payment {
                        record: c.recordId,
                        listing: 0,
                        payer,
                        token: Address::ZERO,
                        amount,
                        kind: PaymentKind::Direct,
                    },
                )?;
                IMarket::payCall::abi_encode_returns(&id).into()
            }
            C::claimAll(c) => {
                let amount = earnings::claim_all(host, c.token)?;
                IMarket::claimAllCall::abi_encode_returns(&amount).into()
            }
            C::openChannel(c) => {
                let id = channel::open(host, c.listingId, c.expiry)?;
                IMarket::openChannelCall::abi_encode_returns(&id).into()
            }
            C::claimChannel(c) => {
                let chain = host.chain_id();
                let paid =
                    channel::claim(host, c.channelId, c.amount, c.nonce, &c.signature, chain)?;
                IMarket::claimChannelCall::abi_encode_returns(&paid).into()
            }
            C::closeChannel(c) => {
                let refund = channel::close(host, c.channelId)?;
                IMarket::closeChannelCall::abi_encode_returns(&refund).into()
            }
            C::rate(c) => {
                listing::rate(host, c.listingId, c.score)?;
                IMarket::rateCall::abi_encode_returns(&true).into()
            }
            C::listingCount(_) => {
                IMarket::listingCountCall::abi_encode_returns(&read::listing_count(host)?).into()
            }
            C::getListing(c) => {
                let l = read::listing(host, c.id)?
                    .ok_or_else(|| revert(IMarket::UnknownListing { id: c.id }))?;
                IMarket::getListingCall::abi_encode_returns(&l).into()
            }
            C::callPrice(c) => {
                let (_, price) = read::call_price(host, c.modelId)?;
                IMarket::callPriceCall::abi_encode_returns(&price).into()
            }
            C::policyOf(c) => {
                let p = read::policy_abi(read::policy(host, c.recordId)?);
                IMarket::policyOfCall::abi_encode_returns(&p).into()
            }
            C::stackOf(c) => {
                let id = read::stack_of(host, c.recordId)?;
                let shares = read::stack(host, id)?
                    .into_iter()
                    .map(|(account, weight)| IMarket::Share { account, weight })
                    .collect();
                IMarket::stackOfCall::abi_encode_returns(&IMarket::stackOfReturn {
                    stackId: id,
                    shares,
                })
                .into()
            }
            C::revenueOf(c) => {
                let r = read::revenue(host, c.stackId, c.token)?;
                IMarket::revenueOfCall::abi_encode_returns(&r).into()
            }
            C::claimable(c) => {
                let r = read::claimable(host, c.account, c.token)?;
                IMarket::claimableCall::abi_encode_returns(&r).into()
            }
            C::grantOf(c) => {
                let g = read::grant(host, c.recordId, c.account)?;
                IMarket::grantOfCall::abi_encode_returns(&g).into()
            }
            C::hasAccess(c) => {
                let ok = has_access(host, c.recordId, c.account)?;
                IMarket::hasAccessCall::abi_encode_returns(&ok).into()
            }
            C::getChannel(c) => {
                let ch = read::channel(host, c.id)?
                    .ok_or_else(|| revert(IMarket::UnknownChannel { id: c.id }))?;
                IMarket::getChannelCall::abi_encode_returns(&ch).into()
            }
            C::paidBy(c) => {
                let p = host.sload(crate::layout::paid(c.listingId, c.account))?;
                IMarket::paidByCall::abi_encode_returns(&p).into()
            }
        })
    }
}

/// Whether `account` may use record `record` now: its owner, or a current grantee.
pub fn has_access(host: &mut dyn Host, record: u64, account: Address) -> Result<bool, ModuleError> {
    let r = crate::host::record(host, record)?;
    if r.owner == account {
        return Ok(true);
    }
    let g = read::grant(host, record, account)?;
    Ok(read::grant_valid(&g, host.timestamp()))
}
