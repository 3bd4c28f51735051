//! `verai market`: list and buy datasets, models and services; licence terms and grants;
//! royalty policies and stacks; earnings and claims. Channels are in `market_channel.rs`.

use super::{
    common::{RpcArgs, TxArgs, Wallet, address, format_ether, parse_value},
    market_channel::{self, ChannelCommand},
};

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolCall;
use clap::{Args, Subcommand, ValueEnum};
use eyre::{bail, eyre};
use verai_client::types::{GrantFilter, ListingFilter, ListingView};
use verai_client::{Tx, api::MarketApiClient, receipt_events, verify};
use verai_market::{ADDRESS, IMarket, Kind};
use verai_provenance::{IProvenance, LicenseTerms};

/// `verai market ...`
#[derive(Debug, Subcommand)]
pub enum MarketCommand {
    /// Listings, newest last: filter by kind, record or seller.
    List(ListArgs),
    /// Show a listing.
    Show(ShowArgs),
    /// List a record you own: access under licence terms, a fee per inference, or a service.
    Sell(SellArgs),
    /// Stop selling a listing.
    Delist(IdArgs),
    /// Buy an Access listing: a licence grant under its terms.
    Buy(IdArgs),
    /// Licence grants held by an account (yours by default) or on a record.
    Grants(GrantsArgs),
    /// Register licence terms in the provenance registry; prints their hash.
    Terms(TermsArgs),
    /// Set how a record's revenue is split (before its stack is built).
    Policy(PolicyArgs),
    /// Show a record's royalty stack; `--build` builds it (ancestors' stacks first).
    Stack(StackArgs),
    /// What an account (yours by default) has earned, per stack.
    Earnings(EarningsArgs),
    /// Claim everything you have earned.
    Claim(TxArgs),
    /// Rate a listing you have paid for (1-5, weighted by what you paid).
    Rate(RateArgs),
    /// Download a record's private content with your grant (or as its owner).
    Fetch(FetchArgs),
    /// Escrow channels for service calls paid by signed vouchers.
    #[command(subcommand)]
    Channel(ChannelCommand),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// `access`, `per-call` or `service`.
    #[arg(long)]
    kind: Option<String>,
    /// Listings of this record.
    #[arg(long)]
    record: Option<u64>,
    /// Listings by this seller.
    #[arg(long)]
    seller: Option<String>,
    /// Include listings that no longer sell.
    #[arg(long)]
    all: bool,
    /// Start after this listing id (the previous page's cursor).
    #[arg(long)]
    after: Option<u64>,
    /// Page size (at most 100).
    #[arg(long, default_value_t = 20)]
    limit: u64,
    #[command(flatten)]
    rpc: RpcArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The listing.
    id: u64,
    #[command(flatten)]
    rpc: RpcArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SellKind {
    Access,
    PerCall,
    Service,
}

#[derive(Debug, Args)]
pub struct SellArgs {
    /// The record (dataset or model) to sell.
    record: u64,
    /// What is sold.
    #[arg(long, value_enum)]
    kind: SellKind,
    /// Price per access or per call, in VAI (or `<n>wei`).
    #[arg(long, default_value = "0")]
    price: String,
    /// Licence terms hash (Access; see `verai market terms`).
    #[arg(long)]
    terms: Option<B256>,
    /// Service endpoint URL.
    #[arg(long)]
    endpoint: Option<String>,
    /// Service method as NAME:PRICE[:FREE_CALLS] (repeat).
    #[arg(long = "method")]
    methods: Vec<String>,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// The listing.
    id: u64,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct GrantsArgs {
    /// Grants held by this account (default: yours).
    #[arg(long, conflicts_with = "record")]
    account: Option<String>,
    /// Grants on this record.
    #[arg(long)]
    record: Option<u64>,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct TermsArgs {
    /// SPDX id of the licence.
    #[arg(long)]
    spdx: String,
    /// Forbid commercial use.
    #[arg(long)]
    no_commercial: bool,
    /// Forbid derivative works.
    #[arg(long)]
    no_derivatives: bool,
    /// Do not require attribution.
    #[arg(long)]
    no_attribution: bool,
    /// Grant length, e.g. `3600`, `30d`, `12h` (seconds unless suffixed).
    #[arg(
        long,
        conflicts_with = "perpetual",
        required_unless_present = "perpetual"
    )]
    duration: Option<String>,
    /// Grants never expire.
    #[arg(long)]
    perpetual: bool,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// The record (yours).
    record: u64,
    /// Basis points of revenue to the record's owner.
    #[arg(long, default_value_t = 0)]
    owner_bps: u16,
    /// Basis points to its parents, in equal parts.
    #[arg(long, default_value_t = 0)]
    upstream_bps: u16,
    /// Parents' parts follow their own stacks, reaching every ancestor.
    #[arg(long)]
    all_ancestors: bool,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct StackArgs {
    /// The record.
    record: u64,
    /// Build it (and missing ancestors' stacks it needs) if it is missing or stale.
    #[arg(long)]
    build: bool,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct EarningsArgs {
    /// The account (default: yours).
    account: Option<String>,
    /// Check the earnings against the validators' certificate, trusting no node.
    #[arg(long)]
    verify: bool,
    /// The network's genesis file, for `--verify` (not needed on the dev chain).
    #[arg(long)]
    genesis: Option<std::path::PathBuf>,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The record whose content to fetch.
    record: u64,
    /// Where to write it.
    #[arg(long)]
    out: std::path::PathBuf,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct RateArgs {
    /// The listing.
    id: u64,
    /// 1 to 5.
    score: u8,
    #[command(flatten)]
    tx: TxArgs,
}

/// A duration like `90`, `15m`, `12h`, `30d` in seconds.
fn parse_duration(s: &str) -> eyre::Result<u64> {
    let (n, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c),
        _ => (s, 's'),
    };
    let n: u64 = n.parse().map_err(|_| eyre!("{s:?} is not a duration"))?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => bail!("{s:?}: use s, m, h or d"),
    };
    n.checked_mul(scale)
        .filter(|&d| d > 0)
        .ok_or_else(|| eyre!("{s:?} is not a positive duration"))
}

fn methods(v: &[String]) -> eyre::Result<Vec<IMarket::Method>> {
    v.iter()
        .map(|m| {
            let mut parts = m.splitn(3, ':');
            let name = parts.next().unwrap_or_default().to_string();
            let price = parse_value(
                parts
                    .next()
                    .ok_or_else(|| eyre!("method {m:?} is not NAME:PRICE[:FREE_CALLS]"))?,
            )?;
            let free = parts
                .next()
                .map(|f| {
                    f.parse::<u32>()
                        .map_err(|_| eyre!("{f:?} is not a number of calls"))
                })
                .transpose()?
                .unwrap_or(0);
            Ok(IMarket::Method {
                name,
                price,
                freeCalls: free,
            })
        })
        .collect()
}

fn listing_text(l: &ListingView) -> String {
    let mut out = format!(
        "listing {} ({}){}: record {} by {}\n  price    {} VAI{}",
        l.id,
        l.kind,
        if l.active { "" } else { " [inactive]" },
        l.record_id,
        l.seller,
        format_ether(l.price),
        if l.kind == "per-call" {
            " per call"
        } else {
            ""
        },
    );
    if let Some(t) = &l.terms {
        out += &format!(
            "\n  terms    {} ({}; commercial {}, derivatives {}, {})",
            t.hash,
            t.spdx,
            t.commercial_use,
            t.derivatives,
            if t.perpetual {
                "perpetual".to_string()
            } else {
                format!("{} s", t.duration)
            }
        );
    }
    if let Some(e) = &l.endpoint {
        out += &format!("\n  endpoint {e}");
    }
    for m in &l.methods {
        out += &format!(
            "\n  method   {} {} VAI ({} free calls)",
            m.name,
            format_ether(m.price),
            m.free_calls
        );
    }
    out += &format!(
        "\n  sales    {} for {} VAI; rating {}",
        l.sales,
        format_ether(l.revenue),
        l.rating
            .map(|r| format!("{r:.2} / 5 (weight {} VAI)", format_ether(l.rating_weight)))
            .unwrap_or_else(|| "none".into())
    );
    out
}

pub async fn run(c: MarketCommand) -> eyre::Result<()> {
    use MarketCommand as M;
    match c {
        M::List(a) => {
            let filter = ListingFilter {
                kind: a.kind,
                record_id: a.record,
                seller: a.seller.as_deref().map(address).transpose()?,
                active: (!a.all).then_some(true),
                after: a.after,
                limit: Some(a.limit),
            };
            let page = a.rpc.client()?.list_listings(Some(filter)).await?;
            a.rpc.print(serde_json::to_value(&page)?, || {
                let mut out: Vec<String> = page
                    .listings
                    .iter()
                    .map(|l| {
                        format!(
                            "{:>6}  {:<8}  record {:<6} {:>14} VAI  {} sales  {}",
                            l.id,
                            l.kind,
                            l.record_id,
                            format_ether(l.price),
                            l.sales,
                            if l.active { "" } else { "inactive" }
                        )
                    })
                    .collect();
                if out.is_empty() {
                    out.push("no listings".into());
                }
                if let Some(c) = page.next_cursor {
                    out.push(format!("more: --after {c}"));
                }
                out.join("\n")
            });
            Ok(())
        }
        M::Show(a) => {
            let client = a.rpc.client()?;
            let l = client
                .get_listing(a.id)
                .await?
                .ok_or_else(|| eyre!("no listing {} on {}", a.id, client.url()))?;
            a.rpc.print(serde_json::to_value(&l)?, || listing_text(&l));
            Ok(())
        }
        M::Sell(a) => sell(a).await,
        M::Delist(a) => {
            let w = a.tx.wallet().await?;
            w.call(ADDRESS, IMarket::delistCall { id: a.id }, U256::ZERO)
                .await?;
            a.tx.rpc.print(serde_json::json!({ "id": a.id }), || {
                format!("listing {} delisted", a.id)
            });
            Ok(())
        }
        M::Buy(a) => {
            let w = a.tx.wallet().await?;
            let l = w
                .client
                .get_listing(a.id)
                .await?
                .ok_or_else(|| eyre!("no listing {}", a.id))?;
            let r = w
                .call(ADDRESS, IMarket::buyCall { listingId: a.id }, l.price)
                .await?;
            let sold = receipt_events::<IMarket::Sold>(&r);
            let expiry = sold.first().map(|s| s.expiry).unwrap_or_default();
            a.tx.rpc.print(
                serde_json::json!({ "listing": a.id, "record": l.record_id, "expiry": expiry, "price": l.price }),
                || {
                    format!(
                        "bought listing {} (record {}) for {} VAI; access {}",
                        a.id,
                        l.record_id,
                        format_ether(l.price),
                        if expiry == u64::MAX {
                            "forever".to_string()
                        } else {
                            format!("until {expiry}")
                        }
                    )
                },
            );
            Ok(())
        }
        M::Grants(a) => {
            let filter = match (a.record, a.account.as_deref()) {
                (Some(r), _) => GrantFilter {
                    record_id: Some(r),
                    account: None,
                },
                (None, Some(acc)) => GrantFilter {
                    account: Some(address(acc)?),
                    record_id: None,
                },
                (None, None) => GrantFilter {
                    account: Some(a.tx.wallet().await?.signer.address()),
                    record_id: None,
                },
            };
            let grants = a.tx.rpc.client()?.get_grants(filter).await?;
            a.tx.rpc.print(serde_json::to_value(&grants)?, || {
                if grants.is_empty() {
                    return "no grants".into();
                }
                grants
                    .iter()
                    .map(|g| {
                        format!(
                            "record {} to {}: listing {}, {}{}",
                            g.record_id,
                            g.account,
                            g.listing_id,
                            g.expiry
                                .map(|e| format!("until {e}"))
                                .unwrap_or_else(|| "perpetual".into()),
                            if g.valid { "" } else { " [expired]" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(())
        }
        M::Terms(a) => {
            let terms = LicenseTerms {
                spdx: a.spdx,
                commercialUse: !a.no_commercial,
                derivatives: !a.no_derivatives,
                attribution: !a.no_attribution,
                duration: a
                    .duration
                    .as_deref()
                    .map(parse_duration)
                    .transpose()?
                    .unwrap_or(0),
                perpetual: a.perpetual,
            };
            let w = a.tx.wallet().await?;
            let call = IProvenance::registerTermsCall {
                terms: terms.clone(),
            };
            w.send(Tx::call(verai_provenance::ADDRESS, call.abi_encode()))
                .await?;
            let hash = verai_provenance::licence::terms_hash(&terms);
            a.tx.rpc.print(
                serde_json::json!({ "termsHash": hash, "license": verai_provenance::licence::terms_licence(hash) }),
                || format!("licence terms {hash}\n(a record under them has licence {})", verai_provenance::licence::terms_licence(hash)),
            );
            Ok(())
        }
        M::Policy(a) => {
            let w = a.tx.wallet().await?;
            let call = IMarket::setRoyaltyPolicyCall {
                recordId: a.record,
                policy: IMarket::RoyaltyPolicy {
                    ownerBps: a.owner_bps,
                    upstreamBps: a.upstream_bps,
                    allAncestors: a.all_ancestors,
                },
            };
            w.call(ADDRESS, call, U256::ZERO).await?;
            a.tx.rpc
                .print(serde_json::json!({ "record": a.record }), || {
                    format!("royalty policy of record {} set", a.record)
                });
            Ok(())
        }
        M::Stack(a) => stack(a).await,
        M::Earnings(a) => {
            let account = match a.account.as_deref() {
                Some(s) => address(s)?,
                None => a.tx.wallet().await?.signer.address(),
            };
            if a.verify {
                let client = a.tx.rpc.client()?;
                let validators =
                    verify::validators(a.genesis.as_deref(), client.chain_id().await?)?;
                let r = verify::market::fetch_and_verify(&client, account, &validators).await?;
                a.tx.rpc.print(serde_json::to_value(&r)?, || {
                    let mut out = format!(
                        "earnings of {account} VERIFIED at block {} ({} stacks): claimable {} VAI, claimed {} VAI",
                        r.block_number,
                        r.stacks,
                        format_ether(r.claimable),
                        format_ether(r.claimed)
                    );
                    for c in &r.checks {
                        out += &format!("\n  ok  {c}");
                    }
                    out
                });
                return Ok(());
            }
            let e =
                a.tx.rpc
                    .client()?
                    .get_earnings(account, None, None, None)
                    .await?;
            a.tx.rpc.print(serde_json::to_value(&e)?, || {
                let mut out = format!(
                    "{account}: claimable {} VAI, claimed {} VAI, in {} stack(s) (block {})",
                    format_ether(e.claimable),
                    format_ether(e.claimed),
                    e.total_stacks,
                    e.block_number
                );
                for s in &e.stacks {
                    out += &format!(
                        "\n  record {:<6} stack {:<6} share {:>9.5} %  revenue {} VAI  claimable {} wei  claimed {} wei",
                        s.record_id,
                        s.stack_id,
                        f64::from(&s.weight) / 1e25,
                        format_ether(s.revenue),
                        s.claimable,
                        s.claimed
                    );
                }
                out
            });
            Ok(())
        }
        M::Claim(a) => {
            let w = a.wallet().await?;
            let r = w
                .call(
                    ADDRESS,
                    IMarket::claimAllCall {
                        token: Address::ZERO,
                    },
                    U256::ZERO,
                )
                .await?;
            let c = receipt_events::<IMarket::Claimed>(&r);
            let (amount, stacks) = c.first().map(|c| (c.amount, c.stacks)).unwrap_or_default();
            a.rpc.print(
                serde_json::json!({ "amount": amount, "stacks": stacks, "transactionHash": r.transaction_hash }),
                || format!("claimed {} VAI from {stacks} stack(s)", format_ether(amount)),
            );
            Ok(())
        }
        M::Rate(a) => {
            let w = a.tx.wallet().await?;
            w.call(
                ADDRESS,
                IMarket::rateCall {
                    listingId: a.id,
                    score: a.score,
                },
                U256::ZERO,
            )
            .await?;
            a.tx.rpc.print(
                serde_json::json!({ "listing": a.id, "score": a.score }),
                || format!("rated listing {} {}/5", a.id, a.score),
            );
            Ok(())
        }
        M::Channel(c) => market_channel::run(c).await,
        M::Fetch(a) => fetch(a).await,
    }
}

async fn sell(a: SellArgs) -> eyre::Result<()> {
    let kind = match a.kind {
        SellKind::Access => Kind::Access,
        SellKind::PerCall => Kind::PerCall,
        SellKind::Service => Kind::Service,
    };
    if kind == Kind::Access && a.terms.is_none() {
        bail!("an access listing needs --terms (register them with `verai market terms`)");
    }
    let w = a.tx.wallet().await?;
    build_stack(&w, a.record).await?;
    let call = IMarket::listCall {
        recordId: a.record,
        kind: kind as u8,
        token: Address::ZERO,
        price: parse_value(&a.price)?,
        termsHash: a.terms.unwrap_or_default(),
        endpoint: a.endpoint.unwrap_or_default(),
        methods: methods(&a.methods)?,
    };
    let r = w.call(ADDRESS, call, U256::ZERO).await?;
    let id = receipt_events::<IMarket::Listed>(&r)
        .first()
        .map(|e| e.id)
        .ok_or_else(|| eyre!("no Listed event in the receipt"))?;
    a.tx.rpc.print(
        serde_json::json!({ "id": id, "record": a.record, "kind": kind.name() }),
        || {
            format!(
                "listed record {} as listing {id} ({})",
                a.record,
                kind.name()
            )
        },
    );
    Ok(())
}

/// Build the stack of `record` and, first, those of the ancestors it needs, deepest first;
/// a stack of many accounts takes several calls.
async fn build_stack(w: &Wallet, record: u64) -> eyre::Result<()> {
    let mut todo = vec![record];
    let mut order = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        order.push(id);
        let policy = w
            .client
            .view(ADDRESS, &IMarket::policyOfCall { recordId: id })
            .await?;
        if !policy.allAncestors || policy.upstreamBps == 0 {
            continue;
        }
        let rec = w
            .client
            .view(
                verai_provenance::ADDRESS,
                &IProvenance::getRecordCall { id },
            )
            .await?;
        todo.extend(rec.parents.iter().chain(&rec.links));
    }
    for id in order.into_iter().rev() {
        loop {
            let done = w
                .client
                .view(ADDRESS, &IMarket::buildStackCall { recordId: id })
                .await?;
            let existing = w
                .client
                .view(ADDRESS, &IMarket::stackOfCall { recordId: id })
                .await?;
            if done.complete && existing.stackId == done.stackId {
                break;
            }
            w.call(
                ADDRESS,
                IMarket::buildStackCall { recordId: id },
                U256::ZERO,
            )
            .await?;
        }
    }
    Ok(())
}

async fn stack(a: StackArgs) -> eyre::Result<()> {
    if a.build {
        build_stack(&a.tx.wallet().await?, a.record).await?;
    }
    let client = a.tx.rpc.client()?;
    let s = client.get_stack(a.record).await?.ok_or_else(|| {
        eyre!(
            "record {} has no royalty stack (build it with --build)",
            a.record
        )
    })?;
    a.tx.rpc.print(serde_json::to_value(&s)?, || {
        let mut out = format!(
            "record {} stack {}: owner {} bps, upstream {} bps{}; revenue {} VAI",
            s.record_id,
            s.stack_id,
            s.owner_bps,
            s.upstream_bps,
            if s.all_ancestors {
                ", every ancestor"
            } else {
                ", parents only"
            },
            format_ether(s.revenue)
        );
        for (acc, w) in &s.shares {
            out += &format!("\n  {acc}  {:>10.6} %", f64::from(w) / 1e25);
        }
        out
    });
    Ok(())
}

/// Sign a `BlobAccess` for the record's content, fetch it, check it hashes to the record's
/// content hash, write it.
async fn fetch(a: FetchArgs) -> eyre::Result<()> {
    use alloy_signer::SignerSync;
    use verai_client::api::ProvenanceApiClient;
    let w = a.tx.wallet().await?;
    let record = w
        .client
        .get_record(a.record)
        .await?
        .ok_or_else(|| eyre!("no record {}", a.record))?;
    let signed_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let req = verai_market::access::BlobAccess {
        blob: record.content_hash,
        recordId: a.record,
        signedAt: signed_at,
    };
    let sig = w
        .signer
        .sign_hash_sync(&verai_market::access::signing_hash(&req, w.chain_id))?;
    let bytes = w
        .client
        .get_private_blob(verai_client::types::PrivateBlobRequest {
            hash: record.content_hash,
            record_id: a.record,
            signed_at,
            signature: sig.as_bytes().to_vec().into(),
        })
        .await?;
    let got = B256::from(verai_inference::sha256(&bytes));
    if got != record.content_hash {
        bail!(
            "the node sent bytes hashing to {got}, not record {}'s content hash {}",
            a.record,
            record.content_hash
        );
    }
    std::fs::write(&a.out, &bytes)?;
    a.tx.rpc.print(
        serde_json::json!({ "record": a.record, "bytes": bytes.len(), "out": a.out }),
        || {
            format!(
                "record {}: {} bytes, hash checked, written to {}",
                a.record,
                bytes.len(),
                a.out.display()
            )
        },
    );
    Ok(())
}
