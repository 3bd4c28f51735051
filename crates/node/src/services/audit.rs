//! Auditing every contract a finalized block deploys, off the consensus path.
//!
//! A thread follows finalized blocks (the chain's finalized channel); for each successful
//! creation it reads the deployed code from the finalized state, runs the auditor the binary
//! supplied (the node does not depend on the auditor crate), and stores the report in the
//! index, where `verai_getAudit` serves it. With an operator key the audit is an AI decision
//! on record: an inference record of the auditor's risk model, content-addressed by the
//! report's bytes. Nothing here affects block validity or timing: a slow audit only delays
//! its own report, and the thread stops when the node stops.

use super::registrar::{Job, OwnModel, Registrar};
use crate::chain::Chain;
use alloy_primitives::{Address, B256};
use sha2::Digest as _;
use std::sync::{Arc, Weak};
use tokio::sync::broadcast::error::RecvError;
use tracing::{info, warn};
use verai_primitives::StateKey;
use verai_rpc::types::AuditDoc;
use verai_storage::StateContext;

/// Audits deployed bytecode; returns the report as JSON.
pub type DeployAuditor = Arc<dyn Fn(&[u8]) -> serde_json::Value + Send + Sync>;

/// The auditor and the model it decides with.
#[derive(Clone)]
pub struct DeployAudits {
    /// The auditor.
    pub auditor: DeployAuditor,
    /// Its risk model, recorded in provenance with an operator key.
    pub model: OwnModel,
}

impl std::fmt::Debug for DeployAudits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeployAudits")
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

/// Largest report stored (bytes): findings beyond it are cut by the auditor's caller.
const MAX_REPORT_BYTES: usize = 256 * 1024;

/// Start the auditing thread for blocks above the current height.
pub(crate) fn spawn<E: StateContext>(
    chain: &Arc<Chain<E>>,
    audits: DeployAudits,
    registrar: Option<Registrar>,
) {
    let weak: Weak<Chain<E>> = Arc::downgrade(chain);
    let mut finalized = chain.subscribe_finalized();
    let mut done = chain.latest();
    if let Some(r) = &registrar {
        r.submit(Job::Model(audits.model.clone()));
    }
    let spawned = std::thread::Builder::new()
        .name("deploy-audit".into())
        .spawn(move || {
            loop {
                match finalized.blocking_recv() {
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                }
                let Some(chain) = weak.upgrade() else {
                    return;
                };
                let latest = chain.latest();
                for n in done + 1..=latest {
                    audit_block(&chain, &audits, registrar.as_ref(), n);
                }
                done = latest;
            }
        });
    if let Err(e) = spawned {
        warn!(%e, "cannot start the deploy auditor");
    }
}

fn audit_block<E: StateContext>(
    chain: &Chain<E>,
    audits: &DeployAudits,
    registrar: Option<&Registrar>,
    number: u64,
) {
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
        if let Err(e) = audit_contract(chain, audits, registrar, number, address) {
            warn!(%e, %address, "deploy audit failed");
        }
    }
}

fn audit_contract<E: StateContext>(
    chain: &Chain<E>,
    audits: &DeployAudits,
    registrar: Option<&Registrar>,
    number: u64,
    address: Address,
) -> Result<(), crate::NodeError> {
    let account = chain.account(&address)?;
    let code = chain
        .store()
        .get(&StateKey::Code(account.code_hash))?
        .unwrap_or_default();
    let mut report = (audits.auditor)(&code);
    if let (Some(r), serde_json::Value::Object(m)) = (registrar, &mut report) {
        // The audit is an AI decision: an inference record of the risk model,
        // content-addressed by the report's bytes (serde_json sorts keys).
        let bytes = serde_json::to_vec(&*m).unwrap_or_default();
        let hash: [u8; 32] = sha2::Sha256::digest(&bytes).into();
        r.submit(Job::Decision {
            model: audits.model.id.clone(),
            hash,
            uri: format!("verai-audit:code/{}", account.code_hash),
        });
        m.insert(
            "provenance".into(),
            serde_json::json!({ "kind": "inference", "contentHash": B256::from(hash) }),
        );
    }
    let risk = report["risk"]["level"].clone();
    let doc = AuditDoc {
        address,
        block_number: number,
        code_hash: account.code_hash,
        code_size: code.len(),
        report,
    };
    let bytes = serde_json::to_vec(&doc).unwrap_or_default();
    if bytes.len() > MAX_REPORT_BYTES {
        warn!(%address, size = bytes.len(), "audit report too large; not stored");
        return Ok(());
    }
    chain.index().put_audit(&address, &bytes)?;
    info!(%address, number, %risk, "audited deployed contract");
    Ok(())
}
