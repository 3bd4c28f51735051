//! The `eth_`, `net_` and `web3_` namespaces, and `eth_subscribe`.

use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use alloy_rpc_types_eth::{
    Block, FeeHistory, Filter, Log, SyncStatus, Transaction, TransactionReceipt, TransactionRequest,
};
use jsonrpsee::{core::RpcResult, proc_macros::rpc};

/// `web3_`.
#[rpc(server, client, namespace = "web3")]
pub trait Web3Api {
    /// The node's name and version.
    #[method(name = "clientVersion")]
    fn client_version(&self) -> RpcResult<String>;
}

/// `net_`.
#[rpc(server, client, namespace = "net")]
pub trait NetApi {
    /// The chain id, in decimal.
    #[method(name = "version")]
    fn version(&self) -> RpcResult<String>;
    /// Always true.
    #[method(name = "listening")]
    fn listening(&self) -> RpcResult<bool>;
}

/// `eth_`: Ethereum's methods, as geth serves them.
#[rpc(server, client, namespace = "eth")]
pub trait EthApi {
    /// EIP-155 chain id.
    #[method(name = "chainId")]
    fn chain_id(&self) -> RpcResult<U64>;
    /// Height of the latest finalized block.
    #[method(name = "blockNumber")]
    fn block_number(&self) -> RpcResult<U64>;
    /// Always `false`: a node serves what it has finalized.
    #[method(name = "syncing")]
    fn syncing(&self) -> RpcResult<SyncStatus>;
    /// Empty: the node holds no keys.
    #[method(name = "accounts")]
    fn accounts(&self) -> RpcResult<Vec<Address>>;
    /// Balance in wei.
    #[method(name = "getBalance")]
    fn get_balance(&self, address: Address, block: Option<BlockId>) -> RpcResult<U256>;
    /// Nonce (`pending` counts pooled transactions).
    #[method(name = "getTransactionCount")]
    fn get_transaction_count(&self, address: Address, block: Option<BlockId>) -> RpcResult<U64>;
    /// Deployed code.
    #[method(name = "getCode")]
    fn get_code(&self, address: Address, block: Option<BlockId>) -> RpcResult<Bytes>;
    /// One storage word.
    #[method(name = "getStorageAt")]
    fn get_storage_at(
        &self,
        address: Address,
        slot: U256,
        block: Option<BlockId>,
    ) -> RpcResult<B256>;
    /// Simulate a message on the latest finalized state.
    #[method(name = "call")]
    fn call(&self, request: TransactionRequest, block: Option<BlockId>) -> RpcResult<Bytes>;
    /// Gas a message needs.
    #[method(name = "estimateGas")]
    fn estimate_gas(&self, request: TransactionRequest, block: Option<BlockId>) -> RpcResult<U64>;
    /// Next block's base fee plus the suggested tip.
    #[method(name = "gasPrice")]
    fn gas_price(&self) -> RpcResult<U256>;
    /// The suggested tip.
    #[method(name = "maxPriorityFeePerGas")]
    fn max_priority_fee_per_gas(&self) -> RpcResult<U256>;
    /// Base fees, gas used ratios and reward percentiles of recent blocks.
    #[method(name = "feeHistory")]
    fn fee_history(
        &self,
        count: U64,
        newest: BlockNumberOrTag,
        percentiles: Option<Vec<f64>>,
    ) -> RpcResult<FeeHistory>;
    /// Submit a signed EIP-2718 transaction.
    #[method(name = "sendRawTransaction")]
    async fn send_raw_transaction(&self, raw: Bytes) -> RpcResult<B256>;
    /// A finalized or pooled transaction.
    #[method(name = "getTransactionByHash")]
    fn get_transaction_by_hash(&self, hash: B256) -> RpcResult<Option<Transaction>>;
    /// The receipt of a finalized transaction.
    #[method(name = "getTransactionReceipt")]
    fn get_transaction_receipt(&self, hash: B256) -> RpcResult<Option<TransactionReceipt>>;
    /// A finalized block by number or tag.
    #[method(name = "getBlockByNumber")]
    fn get_block_by_number(&self, block: BlockNumberOrTag, full: bool) -> RpcResult<Option<Block>>;
    /// A finalized block by hash.
    #[method(name = "getBlockByHash")]
    fn get_block_by_hash(&self, hash: B256, full: bool) -> RpcResult<Option<Block>>;
    /// Transactions in a block, by number.
    #[method(name = "getBlockTransactionCountByNumber")]
    fn get_block_transaction_count_by_number(
        &self,
        block: BlockNumberOrTag,
    ) -> RpcResult<Option<U64>>;
    /// Transactions in a block, by hash.
    #[method(name = "getBlockTransactionCountByHash")]
    fn get_block_transaction_count_by_hash(&self, hash: B256) -> RpcResult<Option<U64>>;
    /// Logs matching a filter (bounded: see the server's limits).
    #[method(name = "getLogs")]
    fn get_logs(&self, filter: Filter) -> RpcResult<Vec<Log>>;
}

/// `eth_subscribe` over WebSocket: `newHeads`, `logs`, `newPendingTransactions`, and
/// [`crate::ALERTS_SUBSCRIPTION`] (sentinel alerts; params `{"address": A}` keep those
/// concerning one sender or recipient).
#[rpc(server, client, namespace = "eth")]
pub trait EthPubSubApi {
    /// Subscribe to a stream.
    #[subscription(name = "subscribe" => "subscription", unsubscribe = "unsubscribe", item = serde_json::Value)]
    async fn eth_subscribe(
        &self,
        kind: String,
        params: Option<serde_json::Value>,
    ) -> jsonrpsee::core::SubscriptionResult;
}
