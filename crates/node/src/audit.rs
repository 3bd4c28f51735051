//! Auditing every contract a finalized block deploys, off the consensus path.
//!
//! A thread follows finalized heights; for each successful creation it reads the deployed
//! code from the finalized state, runs the auditor the binary supplied (the node does not
//! depend on the auditor crate), and stores the JSON report in the index, where
//! `verai_getAudit` serves it. Nothing here affects block validity or timing: a slow audit
//! only delays its own report, and the thread stops when the node stops.

use crate::chain::Chain;
use alloy_primitives::Address;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tracing::{info, warn};
use verai_primitives::StateKey;
use verai_storage::StateContext;

/// Audits deployed bytecode; returns the report as JSON.
pub type DeployAuditor = Arc<dyn Fn(&[u8]) -> serde_json::Value + Send + Sync>;

/// Largest report stored (bytes): findings beyond it are cut by the auditor's caller.
const MAX_REPORT_BYTES: usize = 256 * 1024;

/// Start the auditing thread for blocks above the current height.
pub(crate) fn spawn<E: StateContext>(chain: &Arc<Chain<E>>, auditor: DeployAuditor) {
    let weak: Weak<Chain<E>> = Arc::downgrade(chain);
    let mut done = chain.latest();
    let spawned = std::thread::Builder::new()
        .name("deploy-audit".into())
        .spawn(move || {
            while let Some(chain) = weak.upgrade() {
                let latest = chain.latest();
                for n in done + 1..=latest {
                    audit_block(&chain, &auditor, n);
                }
                done = latest;
                drop(chain);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
    if let Err(e) = spawned {
        warn!(%e, "cannot start the deploy auditor");
    }
}

fn audit_block<E: StateContext>(chain: &Chain<E>, auditor: &DeployAuditor, number: u64) {
    let receipts = match chain.block_and_receipts(number) {
        Ok(Some((_, r))) => r,
        Ok(None) => return,
        Err(e) => {
            warn!(%e, number, "deploy auditor cannot read the block");
            return;
        }
    };
    for r in receipts.iter() {
        let Some(address) = r.contract_address else {
            continue;
        };
        if let Err(e) = audit_contract(chain, auditor, number, address) {
            warn!(%e, %address, "deploy audit failed");
        }
    }
}

fn audit_contract<E: StateContext>(
    chain: &Chain<E>,
    auditor: &DeployAuditor,
    number: u64,
    address: Address,
) -> Result<(), crate::NodeError> {
    let account = chain.account(&address)?;
    let code = chain
        .store
        .get(&StateKey::Code(account.code_hash))?
        .unwrap_or_default();
    let report = auditor(&code);
    let risk = report["risk"]["level"].clone();
    let doc = serde_json::json!({
        "address": address,
        "blockNumber": number,
        "codeHash": account.code_hash,
        "codeSize": code.len(),
        "report": report,
    });
    let bytes = serde_json::to_vec(&doc).unwrap_or_default();
    if bytes.len() > MAX_REPORT_BYTES {
        warn!(%address, size = bytes.len(), "audit report too large; not stored");
        return Ok(());
    }
    chain.index.put_audit(&address, &bytes)?;
    info!(%address, number, %risk, "audited deployed contract");
    Ok(())
}
