//! EIP-1767's objects (geth's schema), resolved through the JSON-RPC handlers, so every
//! field holds what the matching JSON-RPC call returns on the same chain.

use super::{
    Gql, gql_err,
    scalars::{Address, BigInt, Bytes, Bytes32, Long},
};
use alloy_consensus::{Transaction as _, Typed2718 as _};
use alloy_eips::{BlockId, BlockNumberOrTag, eip2718::Encodable2718};
use alloy_primitives::{B256, U256};
use alloy_rpc_types_eth::{Filter, FilterBlockOption, TransactionInput, TransactionRequest};
use async_graphql::{InputObject, Object, Result, SimpleObject};
use std::sync::Arc;
use verai_primitives::StateKey;
use verai_rpc::{Backend, api::EthApiServer};

/// EIP-1767 `Block`.
pub struct Block<B> {
    pub(crate) x: Gql<B>,
    pub(crate) b: Arc<alloy_rpc_types_eth::Block>,
}

/// EIP-1767 `Transaction`.
pub struct Transaction<B> {
    pub(crate) x: Gql<B>,
    pub(crate) t: Arc<alloy_rpc_types_eth::Transaction>,
}

/// EIP-1767 `Log`.
pub struct Log<B> {
    pub(crate) x: Gql<B>,
    pub(crate) l: alloy_rpc_types_eth::Log,
}

/// EIP-1767 `Account` (the latest finalized state: the node keeps no historical state).
pub struct Account<B> {
    pub(crate) x: Gql<B>,
    pub(crate) a: alloy_primitives::Address,
}

/// EIP-1767 `CallResult`.
#[derive(SimpleObject)]
pub struct CallResult {
    data: Bytes,
    gas_used: Long,
    status: Long,
}

/// EIP-1767 `CallData`.
#[derive(InputObject, Default)]
pub struct CallData {
    from: Option<Address>,
    to: Option<Address>,
    gas: Option<Long>,
    gas_price: Option<BigInt>,
    max_fee_per_gas: Option<BigInt>,
    max_priority_fee_per_gas: Option<BigInt>,
    value: Option<BigInt>,
    data: Option<Bytes>,
}

impl CallData {
    fn request(&self) -> TransactionRequest {
        TransactionRequest {
            from: self.from.map(|a| a.0),
            to: self.to.map(|a| a.0.into()),
            gas: self.gas.map(|g| g.0),
            gas_price: self.gas_price.map(|g| g.0.saturating_to()),
            max_fee_per_gas: self.max_fee_per_gas.map(|g| g.0.saturating_to()),
            max_priority_fee_per_gas: self.max_priority_fee_per_gas.map(|g| g.0.saturating_to()),
            value: self.value.map(|v| v.0),
            input: TransactionInput::new(self.data.clone().map(|d| d.0).unwrap_or_default()),
            ..Default::default()
        }
    }
}

/// EIP-1767 `FilterCriteria`.
#[derive(InputObject, Default)]
pub struct FilterCriteria {
    pub(crate) from_block: Option<Long>,
    pub(crate) to_block: Option<Long>,
    pub(crate) addresses: Option<Vec<Address>>,
    pub(crate) topics: Option<Vec<Vec<Bytes32>>>,
}

/// EIP-1767 `BlockFilterCriteria`.
#[derive(InputObject, Default)]
pub struct BlockFilterCriteria {
    addresses: Option<Vec<Address>>,
    topics: Option<Vec<Vec<Bytes32>>>,
}

/// A JSON-RPC filter from GraphQL's criteria.
pub(crate) fn filter(
    option: FilterBlockOption,
    addresses: &Option<Vec<Address>>,
    topics: &Option<Vec<Vec<Bytes32>>>,
) -> Filter {
    let mut f = Filter::new().select(option);
    if let Some(a) = addresses {
        f = f.address(a.iter().map(|a| a.0).collect::<Vec<_>>());
    }
    for (i, t) in topics.iter().flatten().enumerate().take(4) {
        let set: Vec<B256> = t.iter().map(|t| t.0).collect();
        f.topics[i] = set.into();
    }
    f
}

/// EIP-1767 `SyncState` (never returned: a node serves what it has finalized).
#[derive(SimpleObject)]
pub struct SyncState {
    starting_block: Long,
    current_block: Long,
    highest_block: Long,
}

/// EIP-1767 `Pending`: the pool, and calls on the latest state.
pub struct Pending<B> {
    pub(crate) x: Gql<B>,
}

fn call_result<B: Backend>(x: &Gql<B>, data: &CallData) -> Result<Option<CallResult>> {
    let req = data.request();
    let gas = x.rpc.eth.estimate_gas(req.clone(), None);
    match x.rpc.eth.call(req, None) {
        Ok(out) => Ok(Some(CallResult {
            data: Bytes(out),
            gas_used: Long(gas.map(|g| g.to()).unwrap_or_default()),
            status: Long(1),
        })),
        Err(e) if e.code() == verai_rpc::api::codes::REVERTED => Ok(Some(CallResult {
            data: Bytes(
                e.data()
                    .and_then(|d| serde_json::from_str(d.get()).ok())
                    .unwrap_or_default(),
            ),
            gas_used: Long(0),
            status: Long(0),
        })),
        Err(e) => Err(gql_err(e.into())),
    }
}

#[Object(name = "Pending")]
impl<B: Backend> Pending<B> {
    async fn transaction_count(&self) -> Long {
        Long(self.x.backend.pool_len() as u64)
    }
    async fn transactions(&self) -> Option<Vec<Transaction<B>>> {
        None
    }
    async fn account(&self, address: Address) -> Account<B> {
        Account {
            x: self.x.clone(),
            a: address.0,
        }
    }
    async fn call(&self, data: CallData) -> Result<Option<CallResult>> {
        call_result(&self.x, &data)
    }
    async fn estimate_gas(&self, data: CallData) -> Result<Long> {
        let g = self.x.rpc.eth.estimate_gas(data.request(), None);
        g.map(|g| Long(g.to())).map_err(|e| gql_err(e.into()))
    }
}

#[Object(name = "Account")]
impl<B: Backend> Account<B> {
    async fn address(&self) -> Address {
        Address(self.a)
    }
    async fn balance(&self) -> BigInt {
        BigInt(self.x.account(&self.a).balance)
    }
    async fn transaction_count(&self) -> Long {
        Long(self.x.account(&self.a).nonce)
    }
    async fn code(&self) -> Result<Bytes> {
        let code = self
            .x
            .rpc
            .eth
            .get_code(self.a, None)
            .map_err(|e| gql_err(e.into()))?;
        Ok(Bytes(code))
    }
    async fn storage(&self, slot: Bytes32) -> Result<Bytes32> {
        let v = self
            .x
            .backend
            .state()
            .get(&StateKey::Storage(self.a, U256::from_be_bytes(slot.0.0)))
            .map_err(|e| async_graphql::Error::new(e.to_string()))?;
        Ok(Bytes32(
            v.map(|v| B256::from(U256::from_be_slice(&v)))
                .unwrap_or_default(),
        ))
    }
}

#[Object(name = "Log")]
impl<B: Backend> Log<B> {
    async fn index(&self) -> Long {
        Long(self.l.log_index.unwrap_or_default())
    }
    async fn account(&self, _block: Option<Long>) -> Account<B> {
        Account {
            x: self.x.clone(),
            a: self.l.address(),
        }
    }
    async fn topics(&self) -> Vec<Bytes32> {
        self.l.topics().iter().copied().map(Bytes32).collect()
    }
    async fn data(&self) -> Bytes {
        Bytes(self.l.data().data.clone())
    }
    async fn transaction(&self) -> Result<Transaction<B>> {
        let hash = self.l.transaction_hash.unwrap_or_default();
        self.x
            .transaction(hash)?
            .ok_or_else(|| async_graphql::Error::new(format!("transaction {hash} not found")))
    }
}

impl<B: Backend> Gql<B> {
    /// A finalized (or pooled) transaction by hash.
    pub(crate) fn transaction(&self, hash: B256) -> Result<Option<Transaction<B>>> {
        let t = self
            .rpc
            .eth
            .get_transaction_by_hash(hash)
            .map_err(|e| gql_err(e.into()))?;
        Ok(t.map(|t| Transaction {
            x: self.clone(),
            t: Arc::new(t),
        }))
    }

    /// A finalized block by number.
    pub(crate) fn block_at(&self, n: u64) -> Result<Option<Block<B>>> {
        let b = self
            .rpc
            .eth
            .get_block_by_number(BlockNumberOrTag::Number(n), false)
            .map_err(|e| gql_err(e.into()))?;
        Ok(b.map(|b| Block {
            x: self.clone(),
            b: Arc::new(b),
        }))
    }
}

impl<B: Backend> Transaction<B> {
    fn receipt(&self) -> Result<Option<alloy_rpc_types_eth::TransactionReceipt>> {
        self.x
            .rpc
            .eth
            .get_transaction_receipt(*self.t.inner.tx_hash())
            .map_err(|e| gql_err(e.into()))
    }
}

#[Object(name = "Transaction")]
impl<B: Backend> Transaction<B> {
    async fn hash(&self) -> Bytes32 {
        Bytes32(*self.t.inner.tx_hash())
    }
    async fn nonce(&self) -> Long {
        Long(self.t.inner.nonce())
    }
    async fn index(&self) -> Option<Long> {
        self.t.transaction_index.map(Long)
    }
    async fn from(&self, _block: Option<Long>) -> Account<B> {
        Account {
            x: self.x.clone(),
            a: self.t.inner.signer(),
        }
    }
    async fn to(&self, _block: Option<Long>) -> Option<Account<B>> {
        self.t.inner.to().map(|a| Account {
            x: self.x.clone(),
            a,
        })
    }
    async fn value(&self) -> BigInt {
        BigInt(self.t.inner.value())
    }
    async fn gas_price(&self) -> BigInt {
        let p = self
            .t
            .effective_gas_price
            .unwrap_or_else(|| self.t.inner.max_fee_per_gas());
        BigInt(U256::from(p))
    }
    async fn max_fee_per_gas(&self) -> Option<BigInt> {
        Some(BigInt(U256::from(self.t.inner.max_fee_per_gas())))
    }
    async fn max_priority_fee_per_gas(&self) -> Option<BigInt> {
        self.t
            .inner
            .max_priority_fee_per_gas()
            .map(|p| BigInt(U256::from(p)))
    }
    async fn max_fee_per_blob_gas(&self) -> Option<BigInt> {
        None
    }
    async fn effective_tip(&self) -> Result<Option<BigInt>> {
        let Some(n) = self.t.block_number else {
            return Ok(None);
        };
        let base = self
            .x
            .backend
            .block(n)
            .map_err(|e| gql_err(e.into()))?
            .and_then(|b| b.header.base_fee_per_gas)
            .unwrap_or_default();
        Ok(self
            .t
            .inner
            .effective_tip_per_gas(base)
            .map(|t| BigInt(U256::from(t))))
    }
    async fn gas(&self) -> Long {
        Long(self.t.inner.gas_limit())
    }
    async fn input_data(&self) -> Bytes {
        Bytes(self.t.inner.input().clone())
    }
    async fn block(&self) -> Result<Option<Block<B>>> {
        match self.t.block_number {
            Some(n) => self.x.block_at(n),
            None => Ok(None),
        }
    }
    async fn status(&self) -> Result<Option<Long>> {
        Ok(self.receipt()?.map(|r| Long(u64::from(r.status()))))
    }
    async fn gas_used(&self) -> Result<Option<Long>> {
        Ok(self.receipt()?.map(|r| Long(r.gas_used)))
    }
    async fn cumulative_gas_used(&self) -> Result<Option<Long>> {
        Ok(self.receipt()?.map(|r| Long(r.inner.cumulative_gas_used())))
    }
    async fn effective_gas_price(&self) -> Result<Option<BigInt>> {
        Ok(self
            .receipt()?
            .map(|r| BigInt(U256::from(r.effective_gas_price))))
    }
    async fn blob_gas_used(&self) -> Option<Long> {
        None
    }
    async fn blob_gas_price(&self) -> Option<BigInt> {
        None
    }
    async fn created_contract(&self, _block: Option<Long>) -> Result<Option<Account<B>>> {
        Ok(self
            .receipt()?
            .and_then(|r| r.contract_address)
            .map(|a| Account {
                x: self.x.clone(),
                a,
            }))
    }
    #[graphql(complexity = "super::LIST_TX_LOGS * child_complexity")]
    async fn logs(&self) -> Result<Option<Vec<Log<B>>>> {
        Ok(self.receipt()?.map(|r| {
            r.inner
                .logs()
                .iter()
                .map(|l| Log {
                    x: self.x.clone(),
                    l: l.clone(),
                })
                .collect()
        }))
    }
    async fn r(&self) -> BigInt {
        BigInt(self.t.inner.signature().r())
    }
    async fn s(&self) -> BigInt {
        BigInt(self.t.inner.signature().s())
    }
    async fn v(&self) -> BigInt {
        BigInt(U256::from(u8::from(self.t.inner.signature().v())))
    }
    async fn y_parity(&self) -> Option<BigInt> {
        Some(BigInt(U256::from(u8::from(self.t.inner.signature().v()))))
    }
    #[graphql(name = "type")]
    async fn ty(&self) -> Option<Long> {
        Some(Long(u64::from(self.t.inner.ty())))
    }
    async fn access_list(&self) -> Option<Vec<AccessTuple>> {
        self.t.inner.access_list().map(|l| {
            l.iter()
                .map(|i| AccessTuple {
                    address: Address(i.address),
                    storage_keys: i.storage_keys.iter().copied().map(Bytes32).collect(),
                })
                .collect()
        })
    }
    async fn raw(&self) -> Bytes {
        Bytes(self.t.inner.inner().encoded_2718().into())
    }
    async fn raw_receipt(&self) -> Result<Bytes> {
        let Some((n, i)) = self
            .x
            .backend
            .tx_location(self.t.inner.tx_hash())
            .map_err(|e| gql_err(e.into()))?
        else {
            return Ok(Bytes(Default::default()));
        };
        let receipts = self
            .x
            .backend
            .receipts(n)
            .map_err(|e| gql_err(e.into()))?
            .unwrap_or_default();
        Ok(Bytes(
            receipts
                .get(i as usize)
                .map(|r| r.receipt.encoded_2718().into())
                .unwrap_or_default(),
        ))
    }
    async fn blob_versioned_hashes(&self) -> Option<Vec<Bytes32>> {
        None
    }
}

/// EIP-2930 access list entry.
#[derive(SimpleObject)]
pub struct AccessTuple {
    address: Address,
    storage_keys: Vec<Bytes32>,
}

/// EIP-4895 withdrawal (none on Verai).
#[derive(SimpleObject)]
pub struct Withdrawal {
    index: Long,
    validator: Long,
    address: Address,
    amount: Long,
}

#[Object(name = "Block")]
impl<B: Backend> Block<B> {
    async fn number(&self) -> Long {
        Long(self.b.header.number)
    }
    async fn hash(&self) -> Bytes32 {
        Bytes32(self.b.header.hash)
    }
    async fn parent(&self) -> Result<Option<Block<B>>> {
        match self.b.header.number.checked_sub(1) {
            Some(n) => self.x.block_at(n),
            None => Ok(None),
        }
    }
    async fn nonce(&self) -> Bytes {
        Bytes(self.b.header.nonce.to_vec().into())
    }
    async fn transactions_root(&self) -> Bytes32 {
        Bytes32(self.b.header.transactions_root)
    }
    async fn transaction_count(&self) -> Option<Long> {
        Some(Long(self.b.transactions.len() as u64))
    }
    async fn state_root(&self) -> Bytes32 {
        Bytes32(self.b.header.state_root)
    }
    async fn receipts_root(&self) -> Bytes32 {
        Bytes32(self.b.header.receipts_root)
    }
    async fn miner(&self, _block: Option<Long>) -> Account<B> {
        Account {
            x: self.x.clone(),
            a: self.b.header.beneficiary,
        }
    }
    async fn extra_data(&self) -> Bytes {
        Bytes(self.b.header.extra_data.clone())
    }
    async fn gas_limit(&self) -> Long {
        Long(self.b.header.gas_limit)
    }
    async fn gas_used(&self) -> Long {
        Long(self.b.header.gas_used)
    }
    async fn base_fee_per_gas(&self) -> Option<BigInt> {
        self.b
            .header
            .base_fee_per_gas
            .map(|f| BigInt(U256::from(f)))
    }
    async fn next_base_fee_per_gas(&self) -> Option<BigInt> {
        Some(BigInt(U256::from(verai_execution::rules::next_base_fee(
            &self.b.header.inner,
        ))))
    }
    async fn timestamp(&self) -> Long {
        Long(self.b.header.timestamp)
    }
    async fn logs_bloom(&self) -> Bytes {
        Bytes(self.b.header.logs_bloom.to_vec().into())
    }
    async fn mix_hash(&self) -> Bytes32 {
        Bytes32(self.b.header.mix_hash)
    }
    async fn difficulty(&self) -> BigInt {
        BigInt(self.b.header.difficulty)
    }
    async fn ommer_count(&self) -> Option<Long> {
        Some(Long(0))
    }
    async fn ommers(&self) -> Option<Vec<Option<Block<B>>>> {
        Some(Vec::new())
    }
    async fn ommer_at(&self, _index: Long) -> Option<Block<B>> {
        None
    }
    async fn ommer_hash(&self) -> Bytes32 {
        Bytes32(self.b.header.ommers_hash)
    }
    #[graphql(complexity = "super::LIST_TXS * child_complexity")]
    async fn transactions(&self) -> Result<Option<Vec<Transaction<B>>>> {
        let mut out = Vec::new();
        for h in self.b.transactions.hashes() {
            if let Some(t) = self.x.transaction(h)? {
                out.push(t);
            }
        }
        Ok(Some(out))
    }
    async fn transaction_at(&self, index: Long) -> Result<Option<Transaction<B>>> {
        match self.b.transactions.hashes().nth(index.0 as usize) {
            Some(h) => self.x.transaction(h),
            None => Ok(None),
        }
    }
    #[graphql(complexity = "super::LIST_TXS * child_complexity")]
    async fn logs(&self, filter: BlockFilterCriteria) -> Result<Vec<Log<B>>> {
        let f = self::filter(
            FilterBlockOption::AtBlockHash(self.b.header.hash),
            &filter.addresses,
            &filter.topics,
        );
        self.x.logs(f)
    }
    async fn account(&self, address: Address) -> Result<Account<B>> {
        self.x.latest_only(self.b.header.number)?;
        Ok(Account {
            x: self.x.clone(),
            a: address.0,
        })
    }
    async fn call(&self, data: CallData) -> Result<Option<CallResult>> {
        self.x.latest_only(self.b.header.number)?;
        call_result(&self.x, &data)
    }
    async fn estimate_gas(&self, data: CallData) -> Result<Long> {
        let id = Some(BlockId::Number(BlockNumberOrTag::Number(
            self.b.header.number,
        )));
        let g = self.x.rpc.eth.estimate_gas(data.request(), id);
        g.map(|g| Long(g.to())).map_err(|e| gql_err(e.into()))
    }
    async fn raw_header(&self) -> Bytes {
        Bytes(alloy_rlp::encode(&self.b.header.inner).into())
    }
    async fn raw(&self) -> Result<Bytes> {
        let b = self
            .x
            .backend
            .block(self.b.header.number)
            .map_err(|e| gql_err(e.into()))?;
        Ok(Bytes(b.map(|b| b.encode().into()).unwrap_or_default()))
    }
    async fn withdrawals_root(&self) -> Option<Bytes32> {
        None
    }
    async fn withdrawals(&self) -> Option<Vec<Withdrawal>> {
        None
    }
    async fn blob_gas_used(&self) -> Option<Long> {
        None
    }
    async fn excess_blob_gas(&self) -> Option<Long> {
        None
    }
}
