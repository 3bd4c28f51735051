//! `verai sentinel simulate`: drive a dev node running the sentinel with normal users and a
//! phishing collector, and report what the sentinel made of it (`verai_workload::phishing`).

use super::common::RpcArgs;
use clap::Args;
use verai_workload::phishing::{Params, run as simulate};

/// `verai sentinel simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    /// Normal transactions.
    #[arg(long, default_value_t = 200)]
    normal: usize,
    /// Normal transactions per round (a round is finalized before the next starts).
    #[arg(long, default_value_t = 10)]
    round: usize,
    /// Victims paying the phishing collector.
    #[arg(long, default_value_t = 20)]
    victims: usize,
    /// Seed of amounts, choices and new keys.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub async fn run(a: SimulateArgs) -> eyre::Result<()> {
    let params = Params {
        normal: a.normal,
        round: a.round,
        victims: a.victims,
        seed: a.seed,
    };
    let r = simulate(a.rpc.client()?, &params).await?;
    a.rpc.print(serde_json::to_value(&r)?, || {
        let n = &r.normal;
        let v = &r.victims;
        let mut out = format!(
            "normal traffic: {} transactions, {} alerted: false-positive rate {:.2} %\n",
            n.sent,
            n.alerted,
            n.false_positive_rate * 100.0
        );
        let s = &r.sweep;
        if !s.sent {
            out += &format!(
                "victims' payments to the collector: {} sent, {} alerted, {} held: no sweep (the collector received nothing)",
                v.sent, v.alerted, v.held
            );
            return out;
        }
        out += &format!(
            "victims' payments to the collector: {} sent, {} alerted\n",
            v.sent, v.alerted
        );
        let tx = s.tx.unwrap_or_default();
        out += &match (&s.action, &s.scores) {
            (Some(action), Some(scores)) => {
                format!("sweep {tx:#x}: {action:?}, scores {}\n", scores.get())
            }
            _ => format!("sweep {tx:#x}: NOT alerted\n"),
        };
        out += &match (s.held, s.included_in_block) {
            (true, _) => "sweep is held out of blocks".to_string(),
            (false, Some(b)) => format!("sweep included in block {b}"),
            (false, None) => "sweep not included yet".to_string(),
        };
        out
    });
    Ok(())
}
