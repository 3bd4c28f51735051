//! `verai sentinel alerts`: a node's sentinel alerts, oldest first, page by page; with
//! `--follow`, then the alert stream over WebSocket.

use super::common::RpcArgs;
use alloy_primitives::Address;
use clap::Args;
use eyre::WrapErr;
use serde_json::{Value, json};
use verai_client::{
    api::{ALERTS_SUBSCRIPTION, EthPubSubApiClient, SentinelApiClient},
    connect_ws,
    types::{Alert, AlertAction, AlertFilter, MAX_ALERTS_PAGE},
};

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
pub fn line(a: &Alert) -> String {
    let s = a.scores_json();
    let f = |v: &Value| v.as_f64().map_or("-".into(), |x| format!("{x:.3}"));
    let list = |key: &str, item: &dyn Fn(&Value) -> String| -> Vec<String> {
        s[key]
            .as_array()
            .map(|t| t.iter().map(item).collect())
            .unwrap_or_default()
    };
    let str_of = |v: &Value| v.as_str().unwrap_or("?").to_owned();
    let mut parts = Vec::new();
    let novel = list("anomalyFeatures", &|c| {
        format!(
            "{}={:.2}",
            str_of(&c["feature"]),
            c["value"].as_f64().unwrap_or(0.0)
        )
    });
    if !novel.is_empty() {
        parts.push(format!("novel: {}", novel.join(", ")));
    }
    parts.extend(list("top", &|c| {
        format!(
            "{}:{} {:+.2}",
            str_of(&c["party"]),
            str_of(&c["feature"]),
            c["logOdds"].as_f64().unwrap_or(0.0)
        )
    }));
    let action = match a.action {
        AlertAction::Allow => "allow",
        AlertAction::Flag => "flag",
        AlertAction::Hold => "hold",
    };
    format!(
        "#{} {action} block {} tx {} {} -> {} value {} | sender {} recipient {} anomaly {} | {}",
        a.id,
        a.block_number,
        a.tx_hash,
        a.from,
        a.to.map_or("(create)".into(), |t| t.to_string()),
        a.value,
        f(&s["senderRisk"]),
        f(&s["recipientRisk"]),
        f(&s["anomaly"]),
        parts.join(", ")
    )
}

pub async fn run(a: AlertsArgs) -> eyre::Result<()> {
    let client = a.rpc.client()?;
    let mut cursor = None;
    let mut listed = Vec::new();
    while listed.len() < a.limit {
        let page = client
            .get_alerts(Some(AlertFilter {
                address: a.address,
                from_block: a.from_block,
                to_block: a.to_block,
                from_time: a.from_time,
                to_time: a.to_time,
                cursor,
                limit: Some((a.limit - listed.len()).min(MAX_ALERTS_PAGE)),
            }))
            .await?;
        for alert in page.alerts {
            if !a.rpc.json {
                println!("{}", line(&alert));
            }
            listed.push(alert);
        }
        match page.next_cursor {
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
    let ws = connect_ws(&a.rpc.rpc).await?;
    let params = a.address.map(|addr| json!({ "address": addr }));
    let mut sub = ws
        .eth_subscribe(ALERTS_SUBSCRIPTION.into(), params)
        .await
        .wrap_err("subscribing to the sentinel's alerts")?;
    loop {
        tokio::select! {
            next = sub.next() => match next {
                Some(Ok(v)) => {
                    let alert: Alert = serde_json::from_value(v).wrap_err("bad alert notification")?;
                    if a.rpc.json {
                        println!("{}", serde_json::to_string(&alert)?);
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
