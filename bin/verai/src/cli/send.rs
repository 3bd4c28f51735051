//! `verai send --to ADDR --value AMOUNT`: sign an EIP-1559 transfer locally and wait for it.

use super::client::{RpcArgs, SignerArgs, address, call, chain_id, connect};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{B256, Bytes, TxKind, U64, U256};
use alloy_signer::SignerSync;
use clap::Args;
use eyre::{WrapErr, bail};
use jsonrpsee::rpc_params;
use std::time::{Duration, Instant};

/// Arguments of `verai send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Recipient.
    #[arg(long)]
    to: String,
    /// Amount: VAI with decimals (`1.5`), or wei with a `wei` suffix (`1000wei`).
    #[arg(long)]
    value: String,
    /// Seconds to wait for the receipt (0: do not wait).
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    #[command(flatten)]
    signer: SignerArgs,
    #[command(flatten)]
    rpc: RpcArgs,
}

/// Parse an amount in VAI (18 decimals) or in wei.
pub fn parse_value(s: &str) -> eyre::Result<U256> {
    let s = s.trim();
    if let Some(wei) = s.strip_suffix("wei") {
        return wei
            .trim()
            .parse::<U256>()
            .wrap_err_with(|| format!("{s:?} is not an amount of wei"));
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 18 || whole.is_empty() && frac.is_empty() {
        bail!("{s:?} is not an amount of VAI (at most 18 decimals)");
    }
    let digits = format!("{whole}{frac:0<18}");
    digits
        .parse::<U256>()
        .wrap_err_with(|| format!("{s:?} is not an amount of VAI"))
}

pub async fn run(a: SendArgs) -> eyre::Result<()> {
    let to = address(&a.to)?;
    let value = parse_value(&a.value)?;
    let rpc = &a.rpc.rpc;
    let client = connect(rpc)?;
    let chain_id = chain_id(&client, rpc).await?;
    let signer = a.signer.signer(chain_id)?;
    let from = signer.address();
    let nonce: U64 = call(
        &client,
        rpc,
        "eth_getTransactionCount",
        rpc_params![from, "pending"],
    )
    .await?;
    let gas_price: U256 = call(&client, rpc, "eth_gasPrice", rpc_params![]).await?;
    let tip: U256 = call(&client, rpc, "eth_maxPriorityFeePerGas", rpc_params![]).await?;
    let tx = TxEip1559 {
        chain_id,
        nonce: nonce.to(),
        gas_limit: 21_000,
        // Room for the base fee to double before inclusion.
        max_fee_per_gas: gas_price.saturating_mul(U256::from(2)).to(),
        max_priority_fee_per_gas: tip.to(),
        to: TxKind::Call(to),
        value,
        input: Bytes::new(),
        access_list: Default::default(),
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash())?;
    let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
    let hash: B256 = call(
        &client,
        rpc,
        "eth_sendRawTransaction",
        rpc_params![Bytes::from(raw)],
    )
    .await?;
    if a.timeout == 0 {
        print_result(&a.rpc, hash, None);
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(a.timeout);
    loop {
        let receipt: Option<serde_json::Value> =
            call(&client, rpc, "eth_getTransactionReceipt", rpc_params![hash]).await?;
        if let Some(r) = receipt {
            let ok = r.get("status").and_then(|s| s.as_str()) == Some("0x1");
            print_result(&a.rpc, hash, Some(&r));
            if !ok {
                bail!("transaction {hash} failed");
            }
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("transaction {hash} not included within {} s", a.timeout);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn print_result(rpc: &RpcArgs, hash: B256, receipt: Option<&serde_json::Value>) {
    let block = receipt
        .and_then(|r| r.get("blockNumber"))
        .and_then(|b| b.as_str())
        .and_then(|b| u64::from_str_radix(b.trim_start_matches("0x"), 16).ok());
    if rpc.json {
        println!(
            "{}",
            serde_json::json!({ "id": hash, "transactionHash": hash, "blockNumber": block })
        );
    } else {
        match block {
            Some(b) => println!("{hash} included in block {b}"),
            None => println!("{hash}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(parse_value("1").unwrap(), U256::from(10u64.pow(18)));
        assert_eq!(parse_value("0.5").unwrap(), U256::from(5 * 10u64.pow(17)));
        assert_eq!(parse_value("7wei").unwrap(), U256::from(7));
        assert!(parse_value("1.0000000000000000001").is_err());
        assert!(parse_value("abc").is_err());
        assert!(parse_value(".").is_err());
    }
}
