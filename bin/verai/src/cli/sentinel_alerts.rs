//! `verai sentinel alerts`: a node's sentinel alerts, oldest first, page by page through
//! `verai_getAlerts`; with `--follow`, then the `verai_alerts` stream over WebSocket.

use super::client::{RpcArgs, call, connect};
use alloy_primitives::Address;
use clap::Args;
use eyre::WrapErr;
use jsonrpsee::{
    core::client::{Subscription, SubscriptionClientT},
    rpc_params,
    ws_client::WsClientBuilder,
};
use serde_json::{Value, json};

/// `verai sentinel alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    /// Only alerts whose sender or recipient is this address.
    #[arg(long)]
    address: Option<Address>,
    /// Raised while the finalized head was at least this height.
    #[arg(long)]
    from_block: Option<u64>,
    /// Raised while the finalized head was at most this height.
    #[arg(long)]
    to_block: Option<u64>,
    /// Raised at or after this time (unix seconds).
    #[arg(long)]
    from_time: Option<u64>,
    /// Raised at or before this time (unix seconds).
    #[arg(long)]
    to_time: Option<u64>,
    /// Most alerts listed.
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// After the list, keep printing new alerts as they are raised (until Ctrl-C).
    #[arg(long)]
    follow: bool,
}

/// One line per alert.
pub fn line(a: &Value) -> String {
    let f = |v: &Value| v.as_f64().map_or("-".into(), |x| format!("{x:.3}"));
    let s = &a["scores"];
    let top: Vec<String> = s["top"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|c| {
                    format!(
                        "{}:{} {:+.2}",
                        c["party"].as_str().unwrap_or("?"),
                        c["feature"].as_str().unwrap_or("?"),
                        c["logOdds"].as_f64().unwrap_or(0.0)
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let novel: Vec<String> = s["anomalyFeatures"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|c| {
                    format!(
                        "{}={:.2}",
                        c["feature"].as_str().unwrap_or("?"),
                        c["value"].as_f64().unwrap_or(0.0)
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let top = if novel.is_empty() {
        top
    } else {
        let mut t = vec![format!("novel: {}", novel.join(", "))];
        t.extend(top);
        t
    };
    format!(
        "#{} {} block {} tx {} {} -> {} value {} | sender {} recipient {} anomaly {} | {}",
        a["id"],
        a["action"].as_str().unwrap_or("?"),
        a["blockNumber"],
        a["txHash"].as_str().unwrap_or("?"),
        a["from"].as_str().unwrap_or("?"),
        a["to"].as_str().unwrap_or("(create)"),
        a["value"].as_str().unwrap_or("?"),
        f(&s["senderRisk"]),
        f(&s["recipientRisk"]),
        f(&s["anomaly"]),
        top.join(", ")
    )
}

pub async fn run(a: AlertsArgs) -> eyre::Result<()> {
    let client = connect(&a.rpc.rpc)?;
    let mut cursor: Option<u64> = None;
    let mut listed = Vec::new();
    while listed.len() < a.limit {
        let filter = json!({
            "address": a.address,
            "fromBlock": a.from_block,
            "toBlock": a.to_block,
            "fromTime": a.from_time,
            "toTime": a.to_time,
            "cursor": cursor,
            "limit": (a.limit - listed.len()).min(verai_rpc::MAX_ALERTS_PAGE),
        });
        let page: Value = call(&client, &a.rpc.rpc, "verai_getAlerts", rpc_params![filter]).await?;
        let alerts = page["alerts"].as_array().cloned().unwrap_or_default();
        for alert in alerts {
            if !a.rpc.json {
                println!("{}", line(&alert));
            }
            listed.push(alert);
        }
        match page["nextCursor"].as_u64() {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    if a.rpc.json && !a.follow {
        println!("{}", json!({ "alerts": listed }));
    }
    if !a.follow {
        return Ok(());
    }
    let ws_url = a
        .rpc
        .rpc
        .replacen("http://", "ws://", 1)
        .replacen("https://", "wss://", 1);
    let ws = WsClientBuilder::default()
        .build(&ws_url)
        .await
        .wrap_err_with(|| format!("connecting to {ws_url}"))?;
    let params = match a.address {
        Some(addr) => rpc_params!["verai_alerts", json!({ "address": addr })],
        None => rpc_params!["verai_alerts"],
    };
    let mut sub: Subscription<Value> = ws
        .subscribe("eth_subscribe", params, "eth_unsubscribe")
        .await
        .wrap_err("eth_subscribe(verai_alerts)")?;
    loop {
        tokio::select! {
            next = sub.next() => match next {
                Some(Ok(alert)) => {
                    if a.rpc.json {
                        println!("{alert}");
                    } else {
                        println!("{}", line(&alert));
                    }
                }
                Some(Err(e)) => return Err(e).wrap_err("bad alert notification"),
                None => return Ok(()),
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}
