//! The `verai_` namespace (state proofs, finalization certificates) and `debug_getRawBlock`
//! (what a follower syncs from).

use crate::{
    Backend, ProofKey,
    error::{NOT_FOUND, err, invalid_params},
};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, Bytes, U256};
use jsonrpsee::core::RpcResult;
use std::sync::Arc;
use verai_rpc_api::{
    DebugApiServer, MAX_PROOF_KEYS, VeraiApiServer,
    types::{AuditDoc, CertificateResponse, ProofResponse},
};

#[jsonrpsee::core::async_trait]
impl<B: Backend> DebugApiServer for Verai<B> {
    async fn get_raw_block(&self, block: BlockNumberOrTag) -> RpcResult<Option<Bytes>> {
        let latest = self.backend.latest();
        let number = match block {
            BlockNumberOrTag::Number(n) => n,
            BlockNumberOrTag::Earliest => 0,
            _ => latest,
        };
        if number > latest {
            return Ok(None);
        }
        Ok(self.backend.block(number)?.map(|b| Bytes::from(b.encode())))
    }
}

/// Implementation over a [`Backend`].
pub struct Verai<B> {
    pub(crate) backend: Arc<B>,
}

#[jsonrpsee::core::async_trait]
impl<B: Backend> VeraiApiServer for Verai<B> {
    async fn get_proof(
        &self,
        address: Address,
        slots: Option<Vec<U256>>,
    ) -> RpcResult<ProofResponse> {
        let slots = slots.unwrap_or_default();
        if slots.len() > MAX_PROOF_KEYS {
            return Err(invalid_params(format!(
                "at most {MAX_PROOF_KEYS} slots per proof request"
            )));
        }
        let mut keys = vec![ProofKey::Account(address)];
        keys.extend(slots.into_iter().map(|s| ProofKey::Storage(address, s)));
        Ok(self.backend.prove(keys).await?)
    }

    async fn get_audit(&self, address: Address) -> RpcResult<Option<AuditDoc>> {
        Ok(self.backend.audit(&address)?)
    }

    async fn get_certificate(
        &self,
        block: BlockNumberOrTag,
    ) -> RpcResult<Option<CertificateResponse>> {
        let latest = self.backend.latest();
        let number = match block {
            BlockNumberOrTag::Number(n) => n,
            BlockNumberOrTag::Earliest => 0,
            _ => latest,
        };
        if number > latest {
            return Ok(None);
        }
        let Some(b) = self.backend.block(number)? else {
            return Err(err(NOT_FOUND, format!("block {number} not found")));
        };
        let Some(certificate) = self.backend.certificate(number).await? else {
            return Ok(None);
        };
        Ok(Some(CertificateResponse {
            block_number: number,
            block_hash: b.hash(),
            certificate,
        }))
    }
}
