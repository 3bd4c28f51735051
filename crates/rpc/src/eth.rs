//! The `eth_`, `net_` and `web3_` namespaces.

use crate::{
    Backend, convert,
    error::{self, INVALID_INPUT, NOT_FOUND, err, invalid_params, pool_error},
};
use alloy_consensus::Transaction as _;
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, Bytes, TxKind, U64, U256};
use alloy_rpc_types_eth::{
    Block as RpcBlock, FeeHistory, Filter, FilterBlockOption, Log as RpcLog, SyncStatus,
    Transaction as RpcTransaction, TransactionReceipt, TransactionRequest,
};
use jsonrpsee::core::RpcResult;
use std::sync::Arc;
use verai_execution::{CallOutcome, CallRequest, StateReader, call, estimate_gas};
use verai_primitives::{AccountState, RecoveredTx, StateKey};
use verai_rpc_api::{EthApiServer, NetApiServer, Web3ApiServer};
use verai_storage::{LogLocation, LogQuery, TOPIC_POSITIONS};

/// Most blocks one `eth_getLogs` may scan.
pub const MAX_LOG_RANGE: u64 = 100_000;
/// Most blocks an `eth_getLogs` without address or topics may scan (it reads receipts).
pub const MAX_UNFILTERED_LOG_RANGE: u64 = 10_000;
/// Most logs one `eth_getLogs` may return.
pub const MAX_LOGS: usize = 20_000;
/// Most blocks one `eth_feeHistory` may cover.
pub const MAX_FEE_HISTORY: u64 = 1024;
/// The priority fee suggested to clients (1 gwei, as anvil).
pub const SUGGESTED_TIP: u128 = 1_000_000_000;

/// Implementation of the three namespaces over a [`Backend`].
pub struct Eth<B> {
    pub(crate) backend: Arc<B>,
    pub(crate) client_version: String,
}

impl<B: Backend> Eth<B> {
    fn number_of(&self, tag: BlockNumberOrTag) -> u64 {
        match tag {
            BlockNumberOrTag::Earliest => 0,
            BlockNumberOrTag::Number(n) => n,
            _ => self.backend.latest(),
        }
    }

    /// State queries are served from the latest finalized state only.
    fn state_at(&self, block: Option<BlockId>) -> RpcResult<Arc<dyn StateReader>> {
        let latest = self.backend.latest();
        let ok = match block {
            None => true,
            Some(BlockId::Number(tag)) => self.number_of(tag) == latest,
            Some(BlockId::Hash(h)) => self.backend.block_number(&h.block_hash)? == Some(latest),
        };
        if !ok {
            return Err(err(
                NOT_FOUND,
                format!(
                    "historical state is not kept: only block {latest} (latest) can be queried"
                ),
            ));
        }
        Ok(self.backend.state())
    }

    fn account(&self, address: Address, block: Option<BlockId>) -> RpcResult<AccountState> {
        let state = self.state_at(block)?;
        let raw = state
            .get(&StateKey::Account(address))
            .map_err(|e| err(error::INTERNAL, e.to_string()))?;
        match raw {
            Some(raw) => {
                AccountState::decode(&raw).map_err(|e| err(error::INTERNAL, e.to_string()))
            }
            None => Ok(AccountState::default()),
        }
    }

    fn call_request(&self, r: &TransactionRequest) -> RpcResult<CallRequest> {
        let input = r.input.input().cloned().unwrap_or_default();
        let gas_price = r.gas_price.or(r.max_fee_per_gas);
        Ok(CallRequest {
            from: r.from,
            to: match r.to {
                Some(TxKind::Call(a)) => Some(a),
                _ => None,
            },
            gas: r.gas,
            gas_price,
            value: r.value,
            input,
        })
    }

    fn block_rpc(&self, number: u64, full: bool) -> RpcResult<Option<RpcBlock>> {
        Ok(self
            .backend
            .block(number)?
            .map(|b| convert::block(&b, full)))
    }
}

impl<B: Backend> Web3ApiServer for Eth<B> {
    fn client_version(&self) -> RpcResult<String> {
        Ok(self.client_version.clone())
    }
}

impl<B: Backend> NetApiServer for Eth<B> {
    fn version(&self) -> RpcResult<String> {
        Ok(self.backend.chain_id().to_string())
    }
    fn listening(&self) -> RpcResult<bool> {
        Ok(true)
    }
}

#[jsonrpsee::core::async_trait]
impl<B: Backend> EthApiServer for Eth<B> {
    fn chain_id(&self) -> RpcResult<U64> {
        Ok(U64::from(self.backend.chain_id()))
    }

    fn block_number(&self) -> RpcResult<U64> {
        Ok(U64::from(self.backend.latest()))
    }

    fn syncing(&self) -> RpcResult<SyncStatus> {
        Ok(SyncStatus::None)
    }

    fn accounts(&self) -> RpcResult<Vec<Address>> {
        // The node holds no keys: clients sign locally.
        Ok(vec![])
    }

    fn get_balance(&self, address: Address, block: Option<BlockId>) -> RpcResult<U256> {
        Ok(self.account(address, block)?.balance)
    }

    fn get_transaction_count(&self, address: Address, block: Option<BlockId>) -> RpcResult<U64> {
        let pending = matches!(block, Some(BlockId::Number(BlockNumberOrTag::Pending)));
        let nonce = self.account(address, block)?.nonce;
        Ok(U64::from(if pending {
            self.backend.pending_nonce(&address, nonce)
        } else {
            nonce
        }))
    }

    fn get_code(&self, address: Address, block: Option<BlockId>) -> RpcResult<Bytes> {
        let acc = self.account(address, block)?;
        if acc.code_hash == verai_primitives::KECCAK_EMPTY {
            return Ok(Bytes::new());
        }
        let state = self.backend.state();
        let code = state
            .get(&StateKey::Code(acc.code_hash))
            .map_err(|e| err(error::INTERNAL, e.to_string()))?;
        Ok(code.map(Bytes::from).unwrap_or_default())
    }

    fn get_storage_at(
        &self,
        address: Address,
        slot: U256,
        block: Option<BlockId>,
    ) -> RpcResult<B256> {
        let state = self.state_at(block)?;
        let v = state
            .get(&StateKey::Storage(address, slot))
            .map_err(|e| err(error::INTERNAL, e.to_string()))?;
        Ok(v.map(|v| B256::from(U256::from_be_slice(&v)))
            .unwrap_or_default())
    }

    fn call(&self, request: TransactionRequest, block: Option<BlockId>) -> RpcResult<Bytes> {
        let state = self.state_at(block)?;
        let req = self.call_request(&request)?;
        let out = call(
            &state,
            &self.backend.next_block_params(),
            self.backend.modules(),
            &req,
        )
        .map_err(|e| err(INVALID_INPUT, e.to_string()))?;
        if out.success {
            Ok(out.output)
        } else {
            Err(failure(&out, self.backend.modules()))
        }
    }

    fn estimate_gas(&self, request: TransactionRequest, block: Option<BlockId>) -> RpcResult<U64> {
        let state = self.state_at(block)?;
        let req = self.call_request(&request)?;
        match estimate_gas(
            &state,
            &self.backend.next_block_params(),
            self.backend.modules(),
            &req,
        )
        .map_err(|e| err(INVALID_INPUT, e.to_string()))?
        {
            Ok(gas) => Ok(U64::from(gas)),
            Err(out) => Err(failure(&out, self.backend.modules())),
        }
    }

    fn gas_price(&self) -> RpcResult<U256> {
        Ok(U256::from(
            u128::from(self.backend.next_block_params().base_fee) + SUGGESTED_TIP,
        ))
    }

    fn max_priority_fee_per_gas(&self) -> RpcResult<U256> {
        Ok(U256::from(SUGGESTED_TIP))
    }

    fn fee_history(
        &self,
        count: U64,
        newest: BlockNumberOrTag,
        percentiles: Option<Vec<f64>>,
    ) -> RpcResult<FeeHistory> {
        let latest = self.backend.latest();
        let newest = self.number_of(newest).min(latest);
        let count = count.to::<u64>().clamp(1, MAX_FEE_HISTORY).min(newest + 1);
        let oldest = newest + 1 - count;
        if let Some(p) = &percentiles
            && (p.len() > 100
                || p.windows(2).any(|w| w[0] > w[1])
                || p.iter().any(|x| !(0.0..=100.0).contains(x)))
        {
            return Err(invalid_params(
                "reward percentiles must be at most 100 ascending values in [0, 100]",
            ));
        }
        let mut base_fee_per_gas = Vec::new();
        let mut gas_used_ratio = Vec::new();
        let mut reward = percentiles.as_ref().map(|_| Vec::new());
        for n in oldest..=newest {
            let Some(block) = self.backend.block(n)? else {
                return Err(err(error::INTERNAL, format!("block {n} missing")));
            };
            let base_fee = block.header.base_fee_per_gas.unwrap_or_default();
            base_fee_per_gas.push(u128::from(base_fee));
            gas_used_ratio
                .push(block.header.gas_used as f64 / block.header.gas_limit.max(1) as f64);
            if let (Some(reward), Some(p)) = (reward.as_mut(), percentiles.as_ref()) {
                let receipts = self.backend.receipts(n)?.unwrap_or_default();
                reward.push(rewards(&block, &receipts, base_fee, p));
            }
            if n == newest {
                let next = block
                    .header
                    .next_block_base_fee(alloy_eips::eip1559::BaseFeeParams::ethereum())
                    .unwrap_or(base_fee);
                base_fee_per_gas.push(u128::from(next));
            }
        }
        Ok(FeeHistory {
            base_fee_per_gas,
            gas_used_ratio,
            base_fee_per_blob_gas: vec![0; (count + 1) as usize],
            blob_gas_used_ratio: vec![0.0; count as usize],
            oldest_block: oldest,
            reward,
        })
    }

    async fn send_raw_transaction(&self, raw: Bytes) -> RpcResult<B256> {
        let tx = RecoveredTx::decode(&raw).map_err(|e| invalid_params(e.to_string()))?;
        self.backend.prepare(&tx).await?;
        self.backend.submit(tx).map_err(pool_error)
    }

    fn get_transaction_by_hash(&self, hash: B256) -> RpcResult<Option<RpcTransaction>> {
        if let Some((number, index)) = self.backend.tx_location(&hash)?
            && let Some(block) = self.backend.block(number)?
            && let Some(tx) = block.transactions.get(index as usize)
        {
            let rec = RecoveredTx::recover(tx.clone())
                .map_err(|e| err(error::INTERNAL, e.to_string()))?;
            return Ok(Some(convert::tx_in_block(&block, index as usize, rec)));
        }
        Ok(self
            .backend
            .pooled(&hash)
            .map(|tx| convert::pending_tx((*tx).clone())))
    }

    fn get_transaction_receipt(&self, hash: B256) -> RpcResult<Option<TransactionReceipt>> {
        let Some((number, index)) = self.backend.tx_location(&hash)? else {
            return Ok(None);
        };
        let (Some(block), Some(receipts)) =
            (self.backend.block(number)?, self.backend.receipts(number)?)
        else {
            return Ok(None);
        };
        Ok(convert::receipt(&block, &receipts, index as usize))
    }

    fn get_block_by_number(
        &self,
        block: BlockNumberOrTag,
        full: bool,
    ) -> RpcResult<Option<RpcBlock>> {
        self.block_rpc(self.number_of(block), full)
    }

    fn get_block_by_hash(&self, hash: B256, full: bool) -> RpcResult<Option<RpcBlock>> {
        match self.backend.block_number(&hash)? {
            Some(n) => self.block_rpc(n, full),
            None => Ok(None),
        }
    }

    fn get_block_transaction_count_by_number(
        &self,
        block: BlockNumberOrTag,
    ) -> RpcResult<Option<U64>> {
        Ok(self
            .backend
            .block(self.number_of(block))?
            .map(|b| U64::from(b.transactions.len())))
    }

    fn get_block_transaction_count_by_hash(&self, hash: B256) -> RpcResult<Option<U64>> {
        match self.backend.block_number(&hash)? {
            Some(n) => Ok(self
                .backend
                .block(n)?
                .map(|b| U64::from(b.transactions.len()))),
            None => Ok(None),
        }
    }

    fn get_logs(&self, filter: Filter) -> RpcResult<Vec<RpcLog>> {
        logs(&*self.backend, &filter)
    }
}

/// The error for a simulated message that failed: a revert (code 3, with its data) or a halt.
fn failure(
    out: &CallOutcome,
    modules: &verai_execution::ModuleSet,
) -> jsonrpsee::types::ErrorObjectOwned {
    match &out.halt {
        Some(halt) => err(INVALID_INPUT, format!("execution halted: {halt}")),
        None => error::reverted(&out.output, modules),
    }
}

/// A block, its receipts and the block-wide index of each receipt's first log.
type CachedBlock = (
    u64,
    Arc<verai_primitives::Block>,
    Arc<Vec<verai_primitives::StoredReceipt>>,
    Vec<u64>,
);

/// Logs matching `filter`, through the index, each checked against the filter exactly.
pub(crate) fn logs<B: Backend>(backend: &B, filter: &Filter) -> RpcResult<Vec<RpcLog>> {
    let latest = backend.latest();
    let resolve = |tag: Option<&BlockNumberOrTag>| match tag {
        Some(BlockNumberOrTag::Number(n)) => *n,
        Some(BlockNumberOrTag::Earliest) => 0,
        _ => latest,
    };
    let (from, to) = match &filter.block_option {
        FilterBlockOption::AtBlockHash(h) => match backend.block_number(h)? {
            Some(n) => (n, n),
            None => return Err(err(NOT_FOUND, format!("unknown block {h}"))),
        },
        FilterBlockOption::Range {
            from_block,
            to_block,
        } => (
            resolve(from_block.as_ref()),
            resolve(to_block.as_ref()).min(latest),
        ),
    };
    if from > to {
        return Ok(vec![]);
    }
    if to - from >= MAX_LOG_RANGE {
        return Err(err(
            error::LIMIT_EXCEEDED,
            format!("block range {from}..={to} exceeds {MAX_LOG_RANGE} blocks"),
        ));
    }
    let mut topics: [Vec<B256>; TOPIC_POSITIONS] = Default::default();
    for (i, t) in filter.topics.iter().enumerate().take(TOPIC_POSITIONS) {
        topics[i] = t.iter().copied().collect();
    }
    let query = LogQuery {
        from,
        to,
        addresses: filter.address.iter().copied().collect(),
        topics,
    };
    let unfiltered = query.addresses.is_empty() && query.topics.iter().all(Vec::is_empty);
    let locations = if unfiltered {
        // No address or topic to look up: read the receipts of the range.
        if to - from >= MAX_UNFILTERED_LOG_RANGE {
            return Err(err(
                error::LIMIT_EXCEEDED,
                format!(
                    "a query without address or topics may span at most {MAX_UNFILTERED_LOG_RANGE} blocks"
                ),
            ));
        }
        let mut all = Vec::new();
        for n in from..=to {
            let Some(receipts) = backend.receipts(n)? else {
                continue;
            };
            let mut log_index = 0u32;
            for (tx_index, r) in receipts.iter().enumerate() {
                for _ in r.receipt.logs() {
                    all.push(LogLocation {
                        block: n,
                        tx_index: tx_index as u32,
                        log_index,
                    });
                    log_index += 1;
                }
            }
            if all.len() > MAX_LOGS {
                return Err(err(
                    error::LIMIT_EXCEEDED,
                    format!("query returns more than {MAX_LOGS} logs"),
                ));
            }
        }
        all
    } else {
        match backend.logs(&query, MAX_LOGS)? {
            Some(l) => l,
            None => {
                return Err(err(
                    error::LIMIT_EXCEEDED,
                    format!("query returns more than {MAX_LOGS} logs"),
                ));
            }
        }
    };
    let mut out = Vec::with_capacity(locations.len());
    let mut cached: Option<CachedBlock> = None;
    for loc in locations {
        if cached.as_ref().is_none_or(|c| c.0 != loc.block) {
            let (Some(b), Some(r)) = (backend.block(loc.block)?, backend.receipts(loc.block)?)
            else {
                continue;
            };
            let firsts = convert::first_log_indexes(&r);
            cached = Some((loc.block, b, r, firsts));
        }
        let Some((_, block, receipts, firsts)) = cached.as_ref() else {
            continue;
        };
        let tx = loc.tx_index as usize;
        let (Some(r), Some(first)) = (receipts.get(tx), firsts.get(tx)) else {
            continue;
        };
        let i = (u64::from(loc.log_index) - first) as usize;
        if let Some(log) = convert::log(block, r, tx, u64::from(loc.log_index), i)
            && filter.matches(&log.inner)
        {
            out.push(log);
        }
    }
    Ok(out)
}

/// Tips at the given gas-weighted percentiles of a block, as geth computes them.
fn rewards(
    block: &verai_primitives::Block,
    receipts: &[verai_primitives::StoredReceipt],
    base_fee: u64,
    p: &[f64],
) -> Vec<u128> {
    let mut tips: Vec<(u128, u64)> = block
        .transactions
        .iter()
        .zip(receipts)
        .map(|(tx, r)| {
            (
                tx.effective_tip_per_gas(base_fee).unwrap_or_default(),
                r.gas_used,
            )
        })
        .collect();
    if tips.is_empty() {
        return vec![0; p.len()];
    }
    tips.sort_unstable();
    let total: u64 = tips.iter().map(|t| t.1).sum();
    let mut out = Vec::with_capacity(p.len());
    let (mut i, mut sum) = (0usize, tips[0].1);
    for pct in p {
        let threshold = (total as f64 * pct / 100.0) as u64;
        while sum < threshold && i + 1 < tips.len() {
            i += 1;
            sum += tips[i].1;
        }
        out.push(tips[i].0);
    }
    out
}
