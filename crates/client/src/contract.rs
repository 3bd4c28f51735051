//! Solidity calls (`eth_call` of an ABI-encoded call) and decoded logs.

use crate::{Client, ClientError, transact::revert_error};
use alloy_primitives::Address;
use alloy_rpc_types_eth::{Log, TransactionInput, TransactionReceipt, TransactionRequest};
use alloy_sol_types::{SolCall, SolEvent};
use verai_rpc_api::EthApiClient;

impl Client {
    /// Call a view function of `to` on the latest finalized state and decode its result; a
    /// revert is explained (module errors, `Error(string)`, panics).
    pub async fn view<C: SolCall>(&self, to: Address, call: &C) -> Result<C::Return, ClientError> {
        let req = TransactionRequest {
            to: Some(to.into()),
            input: TransactionInput::new(call.abi_encode().into()),
            ..Default::default()
        };
        let out = EthApiClient::call(self, req, None)
            .await
            .map_err(revert_error)?;
        C::abi_decode_returns(&out).map_err(|e| ClientError::BadAnswer(e.to_string()))
    }
}

/// The events of type `E` among `logs`, in order (other logs are skipped).
pub fn events<E: SolEvent>(logs: &[Log]) -> Vec<E> {
    logs.iter()
        .filter(|l| l.topics().first() == Some(&E::SIGNATURE_HASH))
        .filter_map(|l| E::decode_log_data(l.data()).ok())
        .collect()
}

/// The events of type `E` a receipt holds.
pub fn receipt_events<E: SolEvent>(receipt: &TransactionReceipt) -> Vec<E> {
    events(receipt.inner.logs())
}
