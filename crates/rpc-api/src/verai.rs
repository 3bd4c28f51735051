//! The `verai_` state methods (proofs, certificates, deploy audits) and `debug_getRawBlock`.

use crate::types::{AuditDoc, CertificateResponse, ProofResponse};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, Bytes, U256};
use jsonrpsee::{core::RpcResult, proc_macros::rpc};

/// Most storage slots one `verai_getProof` may prove.
pub const MAX_PROOF_KEYS: usize = 256;

/// `verai_`: what a client needs to trust no single node.
#[rpc(server, client, namespace = "verai")]
pub trait VeraiApi {
    /// Prove an account and some of its storage slots (at most [`MAX_PROOF_KEYS`]) against
    /// the latest finalized state root.
    #[method(name = "getProof")]
    async fn get_proof(
        &self,
        address: Address,
        slots: Option<Vec<U256>>,
    ) -> RpcResult<ProofResponse>;
    /// The finalization certificate of a block.
    #[method(name = "getCertificate")]
    async fn get_certificate(
        &self,
        block: BlockNumberOrTag,
    ) -> RpcResult<Option<CertificateResponse>>;
    /// The auditor's report on a deployed contract (`verai node --audit-deploys`): risk
    /// level, findings by bytecode offset, the block that deployed it; `null` if none.
    #[method(name = "getAudit")]
    async fn get_audit(&self, address: Address) -> RpcResult<Option<AuditDoc>>;
}

/// Raw blocks, as geth and reth serve them.
#[rpc(server, client, namespace = "debug")]
pub trait DebugApi {
    /// The RLP encoding of a finalized block (header and transactions), `null` if unknown.
    #[method(name = "getRawBlock")]
    async fn get_raw_block(&self, block: BlockNumberOrTag) -> RpcResult<Option<Bytes>>;
}
