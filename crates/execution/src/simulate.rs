//! `eth_call` and `eth_estimateGas`: run a message against a state without committing.

use crate::{BlockParams, ExecutionError, ReadError, StateReader, db::RevmDb};
use alloy_primitives::{Address, Bytes, TxKind, U256};
use revm::{
    Context, ExecuteEvm, MainBuilder, MainContext,
    context::{
        TxEnv,
        result::{EVMError, ExecutionResult},
    },
    database_interface::WrapDatabaseRef,
};
use verai_primitives::ModuleSet;

/// A message to simulate, as in an `eth_call` request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallRequest {
    /// Sender (zero address when absent).
    pub from: Option<Address>,
    /// Recipient; `None` simulates a contract creation.
    pub to: Option<Address>,
    /// Gas limit (the block gas limit when absent).
    pub gas: Option<u64>,
    /// Gas price; when absent, fees and the balance check are off, as in geth.
    pub gas_price: Option<u128>,
    /// Value sent.
    pub value: Option<U256>,
    /// Call data or init code.
    pub input: Bytes,
}

/// The outcome of a simulated message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    /// Whether it succeeded.
    pub success: bool,
    /// Return data, or revert data.
    pub output: Bytes,
    /// Gas used.
    pub gas_used: u64,
    /// Why it halted, for failures that are not reverts.
    pub halt: Option<String>,
}

/// Simulate `req` on top of `state` in a block with `params`.
pub fn call<R: StateReader>(
    state: &R,
    params: &BlockParams,
    modules: &ModuleSet,
    req: &CallRequest,
) -> Result<CallOutcome, ExecutionError> {
    let gas_limit = req.gas.unwrap_or(params.gas_limit).min(params.gas_limit);
    run(state, params, modules, req, gas_limit)
}

fn run<R: StateReader>(
    state: &R,
    params: &BlockParams,
    modules: &ModuleSet,
    req: &CallRequest,
    gas_limit: u64,
) -> Result<CallOutcome, ExecutionError> {
    let mut cfg = params.cfg_env();
    cfg.disable_nonce_check = true;
    let no_fees = req.gas_price.unwrap_or(0) == 0;
    cfg.disable_base_fee = no_fees;
    cfg.disable_balance_check = no_fees;
    cfg.disable_fee_charge = no_fees;
    let mut evm = Context::mainnet()
        .with_db(WrapDatabaseRef(RevmDb(state)))
        .with_block(params.block_env())
        .with_cfg(cfg)
        .build_mainnet()
        .with_precompiles(crate::VeraiPrecompiles::new(crate::SPEC, modules.clone()));
    let tx = TxEnv {
        tx_type: 0,
        caller: req.from.unwrap_or_default(),
        gas_limit,
        gas_price: req.gas_price.unwrap_or(0),
        kind: req.to.map(TxKind::Call).unwrap_or(TxKind::Create),
        value: req.value.unwrap_or_default(),
        data: req.input.clone(),
        chain_id: Some(params.chain_id),
        ..Default::default()
    };
    let result = match evm.transact(tx) {
        Ok(r) => r.result,
        Err(EVMError::Transaction(e)) => {
            return Err(ExecutionError::InvalidTransaction {
                hash: Default::default(),
                reason: e.to_string(),
            });
        }
        Err(EVMError::Database(e)) => return Err(ReadError(format!("{e:?}")).into()),
        Err(e) => return Err(ExecutionError::Evm(e.to_string())),
    };
    let gas_used = result.tx_gas_used();
    Ok(match result {
        ExecutionResult::Success { output, .. } => CallOutcome {
            success: true,
            output: output.into_data(),
            gas_used,
            halt: None,
        },
        ExecutionResult::Revert { output, .. } => CallOutcome {
            success: false,
            output,
            gas_used,
            halt: None,
        },
        ExecutionResult::Halt { reason, .. } => CallOutcome {
            success: false,
            output: Bytes::new(),
            gas_used,
            halt: Some(format!("{reason:?}")),
        },
    })
}

/// The smallest gas limit with which `req` succeeds, found by binary search as geth does.
/// Returns the failing outcome when it fails even with the block gas limit.
pub fn estimate_gas<R: StateReader>(
    state: &R,
    params: &BlockParams,
    modules: &ModuleSet,
    req: &CallRequest,
) -> Result<Result<u64, CallOutcome>, ExecutionError> {
    let cap = req.gas.unwrap_or(params.gas_limit).min(params.gas_limit);
    let first = run(state, params, modules, req, cap)?;
    if !first.success {
        return Ok(Err(first));
    }
    // Gas refunds and the 63/64 rule mean gas_used can be too low a limit; search above it.
    let mut lo = first.gas_used.saturating_sub(1);
    let mut hi = cap;
    let guess = (first.gas_used * 64 / 63)
        .max(first.gas_used + 2300)
        .min(cap);
    if run(state, params, modules, req, guess)?.success {
        hi = guess;
    }
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if run(state, params, modules, req, mid)?.success {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(Ok(hi))
}
