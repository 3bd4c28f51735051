//! `verai market channel`: escrow channels to service listings, paid per call with
//! EIP-712 vouchers that the client signs and the provider claims.

use super::common::{TxArgs, format_ether, parse_value};

use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Bytes, U256};
use alloy_signer::SignerSync;
use clap::{Args, Subcommand};
use eyre::{WrapErr, eyre};
use verai_client::{api::EthApiClient, receipt_events};
use verai_market::{ADDRESS, IMarket, channel};

/// `verai market channel ...`
#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Open a channel to a service listing with a deposit.
    Open(OpenArgs),
    /// Sign a voucher for a call (cumulative amount, next nonce) and, with `--send`, post it
    /// with the request to the listing's endpoint.
    Call(CallArgs),
    /// Claim a voucher (the provider).
    Claim(ClaimArgs),
    /// Close a channel: the client after expiry, the provider any time; refunds the rest.
    Close(CloseArgs),
    /// Show a channel.
    Show(CloseArgs),
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The service listing.
    listing: u64,
    /// Deposit in VAI (or `<n>wei`).
    #[arg(long)]
    deposit: String,
    /// Seconds until the channel expires.
    #[arg(long, default_value_t = 3_600)]
    expires_in: u64,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The channel.
    channel: u64,
    /// The cumulative amount owed after this call, in VAI (or `<n>wei`).
    #[arg(long)]
    amount: String,
    /// The voucher's nonce (must exceed every nonce claimed so far).
    #[arg(long)]
    nonce: u64,
    /// Method to call (with `--send`).
    #[arg(long)]
    method: Option<String>,
    /// JSON request body for the method (with `--send`).
    #[arg(long, default_value = "null")]
    input: String,
    /// Post the voucher and the request to the listing's endpoint and print its answer.
    #[arg(long)]
    send: bool,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct ClaimArgs {
    /// The channel.
    channel: u64,
    /// The voucher's cumulative amount in wei.
    #[arg(long)]
    amount: U256,
    /// Its nonce.
    #[arg(long)]
    nonce: u64,
    /// The client's 65-byte signature (hex).
    #[arg(long)]
    signature: Bytes,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct CloseArgs {
    /// The channel.
    channel: u64,
    #[command(flatten)]
    tx: TxArgs,
}

pub async fn run(c: ChannelCommand) -> eyre::Result<()> {
    use ChannelCommand as C;
    match c {
        C::Open(a) => {
            let w = a.tx.wallet().await?;
            let deposit = parse_value(&a.deposit)?;
            let head = w
                .client
                .get_block_by_number(BlockNumberOrTag::Latest, false)
                .await?
                .map(|b| b.header.timestamp)
                .ok_or_else(|| eyre!("the node has no latest block"))?;
            // From now: an idle chain's latest block may be minutes old.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let expiry = head.max(now).saturating_add(a.expires_in);
            let r = w
                .call(
                    ADDRESS,
                    IMarket::openChannelCall {
                        listingId: a.listing,
                        expiry,
                    },
                    deposit,
                )
                .await?;
            let id = receipt_events::<IMarket::ChannelOpened>(&r)
                .first()
                .map(|e| e.id)
                .ok_or_else(|| eyre!("no ChannelOpened event in the receipt"))?;
            a.tx.rpc.print(
                serde_json::json!({ "channel": id, "deposit": deposit, "expiry": expiry }),
                || {
                    format!(
                        "channel {id} open with {} VAI until {expiry}",
                        format_ether(deposit)
                    )
                },
            );
            Ok(())
        }
        C::Call(a) => {
            let w = a.tx.wallet().await?;
            let voucher = IMarket::Voucher {
                channelId: a.channel,
                amount: parse_value(&a.amount)?,
                nonce: a.nonce,
            };
            let sig = w
                .signer
                .sign_hash_sync(&channel::voucher_hash(&voucher, w.chain_id))?;
            let signature = Bytes::from(sig.as_bytes().to_vec());
            let body = serde_json::json!({
                "channelId": a.channel,
                "amount": voucher.amount,
                "nonce": a.nonce,
                "signature": signature,
                "chainId": w.chain_id,
                "market": ADDRESS,
                "method": a.method,
                "input": serde_json::from_str::<serde_json::Value>(&a.input)
                    .wrap_err("--input is not JSON")?,
            });
            if !a.send {
                println!("{body}");
                return Ok(());
            }
            let ch = w
                .client
                .view(ADDRESS, &IMarket::getChannelCall { id: a.channel })
                .await?;
            let listing = w
                .client
                .view(ADDRESS, &IMarket::getListingCall { id: ch.listingId })
                .await?;
            let answer = post_json(&listing.endpoint, &body).await?;
            a.tx.rpc.print(answer.clone(), || answer.to_string());
            Ok(())
        }
        C::Claim(a) => {
            let w = a.tx.wallet().await?;
            let r = w
                .call(
                    ADDRESS,
                    IMarket::claimChannelCall {
                        channelId: a.channel,
                        amount: a.amount,
                        nonce: a.nonce,
                        signature: a.signature,
                    },
                    U256::ZERO,
                )
                .await?;
            let paid = receipt_events::<IMarket::ChannelClaimed>(&r)
                .first()
                .map(|e| e.paid)
                .unwrap_or_default();
            a.tx.rpc.print(
                serde_json::json!({ "channel": a.channel, "paid": paid }),
                || {
                    format!(
                        "claimed {} VAI on channel {}",
                        format_ether(paid),
                        a.channel
                    )
                },
            );
            Ok(())
        }
        C::Close(a) => {
            let w = a.tx.wallet().await?;
            let r = w
                .call(
                    ADDRESS,
                    IMarket::closeChannelCall {
                        channelId: a.channel,
                    },
                    U256::ZERO,
                )
                .await?;
            let refund = receipt_events::<IMarket::ChannelClosed>(&r)
                .first()
                .map(|e| e.refund)
                .unwrap_or_default();
            a.tx.rpc.print(
                serde_json::json!({ "channel": a.channel, "refund": refund }),
                || {
                    format!(
                        "channel {} closed; {} VAI refunded",
                        a.channel,
                        format_ether(refund)
                    )
                },
            );
            Ok(())
        }
        C::Show(a) => {
            let client = a.tx.rpc.client()?;
            let c = client
                .view(ADDRESS, &IMarket::getChannelCall { id: a.channel })
                .await?;
            let json = serde_json::json!({
                "id": c.id, "listing": c.listingId, "client": c.client, "provider": c.provider,
                "deposit": c.deposit, "claimed": c.claimed, "nonce": c.nonce, "expiry": c.expiry,
                "closed": c.closed,
            });
            a.tx.rpc.print(json, || {
                format!(
                    "channel {} on listing {}: {} -> {}\n  deposit {} VAI, claimed {} VAI (nonce {}), expires {}{}",
                    c.id,
                    c.listingId,
                    c.client,
                    c.provider,
                    format_ether(c.deposit),
                    format_ether(c.claimed),
                    c.nonce,
                    c.expiry,
                    if c.closed { ", closed" } else { "" }
                )
            });
            Ok(())
        }
    }
}

/// POST `body` as JSON to `url`; the answer as JSON (or as a string when it is not JSON).
async fn post_json(url: &str, body: &serde_json::Value) -> eyre::Result<serde_json::Value> {
    let resp = reqwest::Client::new()
        .post(url)
        .json(body)
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .wrap_err_with(|| format!("posting the call to {url}"))?;
    let status = resp.status();
    let text = resp.text().await?;
    if !status.is_success() {
        eyre::bail!("{url} answered {status}: {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}
