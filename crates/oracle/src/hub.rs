//! The oracle hub contract: its ABI, deployment and views.

use crate::OracleError;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolType, sol_data::Uint};
use serde::Serialize;
use verai_client::{Client, Tx};

alloy_sol_types::sol! {
    /// The parts of `contracts/src/OracleHub.sol` used off chain.
    interface IOracleHub {
        error NotAnOracle();
        error BondTooSmall(uint256 sent, uint256 min);
        error UnknownRequest(uint256 id);
        error NotOpen(uint256 id);
        error AlreadySubmitted(uint256 id);
        error NotExpired(uint256 id, uint64 deadline);
        error NothingToWithdraw();
        error EmptyInput();
        error FeeBelowModelPrice(uint256 sent, uint256 price);
        event InferenceRequested(uint256 indexed id, uint64 indexed modelId, address indexed requester, bytes input, bytes32 inputBlob, uint256 fee, uint64 deadline);
        event InferenceFinalized(uint256 indexed id, bytes32 outputHash, bytes output, uint64 recordId, bool callbackOk);
        function register() external payable;
        function requestInference(uint64 modelId, bytes calldata input, address callback) external payable returns (uint256 id);
        function requestInferenceBlob(uint64 modelId, bytes32 inputBlob, address callback) external payable returns (uint256 id);
        function submitResult(uint256 id, bytes calldata output) external;
        function refund(uint256 id) external;
        function withdraw() external;
        function requests(uint256 id) external view returns (address requester, uint64 modelId, uint64 deadline, uint8 status, bytes32 inputHash, address callback, uint256 fee, bytes32 outputHash, uint64 recordId, uint256 modelFee);
        function submitted(uint256 id, address oracle) external view returns (bytes32);
        function bond(address oracle) external view returns (uint256);
        function credit(address who) external view returns (uint256);
        function disagreements(address oracle) external view returns (uint256);
    }
}

/// A sentence for the hub's revert data; `None` when it is none of its errors.
pub fn explain(data: &[u8]) -> Option<String> {
    use IOracleHub::IOracleHubErrors as E;
    use alloy_sol_types::SolInterface;
    Some(match E::abi_decode(data).ok()? {
        E::NotAnOracle(_) => "the sender is not a registered oracle of this hub".into(),
        E::BondTooSmall(e) => format!("bond {} wei is below the hub's minimum {}", e.sent, e.min),
        E::UnknownRequest(e) => format!("no request {}", e.id),
        E::NotOpen(e) => format!("request {} is not open", e.id),
        E::AlreadySubmitted(e) => format!("this oracle already answered request {}", e.id),
        E::NotExpired(e) => format!("request {} is open until block {}", e.id, e.deadline),
        E::NothingToWithdraw(_) => "nothing to withdraw".into(),
        E::EmptyInput(_) => "the input is empty".into(),
        E::FeeBelowModelPrice(e) => format!(
            "the request sent {} wei, below the model's per-call price of {}",
            e.sent, e.price
        ),
    })
}

/// The hub's compiled artifact (committed; `node tests/e2e/compile.mjs` rebuilds it).
const HUB_ARTIFACT: &str = include_str!("../../../contracts/out/OracleHub.json");

/// The hub's constructor arguments.
#[derive(Debug, Clone)]
pub struct DeployParams {
    /// Matching results needed to finalize.
    pub quorum: u8,
    /// Smallest bond, in wei.
    pub min_bond: U256,
    /// Blocks after which an unanswered request can be refunded.
    pub timeout_blocks: u64,
    /// Share of a dissenting oracle's bond it loses (basis points).
    pub slash_bps: u16,
}

/// The hub's init code with `p` as constructor arguments.
pub fn init_code(p: &DeployParams) -> Result<Bytes, OracleError> {
    let artifact: serde_json::Value = serde_json::from_str(HUB_ARTIFACT)
        .map_err(|e| OracleError::Invalid(format!("OracleHub artifact: {e}")))?;
    let code = artifact["bytecode"]
        .as_str()
        .and_then(|c| c.parse::<Bytes>().ok())
        .ok_or_else(|| OracleError::Invalid("OracleHub artifact has no bytecode".into()))?;
    type Ctor = (Uint<8>, Uint<256>, Uint<64>, Uint<16>);
    let args = Ctor::abi_encode_params(&(p.quorum, p.min_bond, p.timeout_blocks, p.slash_bps));
    let mut init = code.to_vec();
    init.extend(args);
    Ok(init.into())
}

/// Deploy a hub; returns its address and the deploying transaction.
pub async fn deploy(
    client: &Client,
    signer: &PrivateKeySigner,
    chain_id: u64,
    p: &DeployParams,
    tx: Tx,
) -> Result<(Address, B256), OracleError> {
    let r = client
        .transact(
            signer,
            chain_id,
            Tx {
                to: None,
                input: init_code(p)?,
                ..tx
            },
        )
        .await?;
    let hub = r
        .contract_address
        .ok_or_else(|| OracleError::Invalid("the deployment created no contract".into()))?;
    Ok((hub, r.transaction_hash))
}

/// A request, as the hub keeps it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestStatus {
    /// The request id.
    pub request: u64,
    /// `none`, `open`, `final` or `refunded`.
    pub status: &'static str,
    /// The model.
    pub model: u64,
    /// Who asked.
    pub requester: Address,
    /// Block after which it can be refunded.
    pub deadline: u64,
    /// Fee for the agreeing oracles, in wei.
    pub fee: String,
    /// The agreed output's hash (zero until final).
    pub output_hash: B256,
    /// The inference audit record (zero until final).
    pub record: u64,
    /// The contract called back with the output.
    pub callback: Address,
}

/// The hub's view of request `id`.
pub async fn status(client: &Client, hub: Address, id: u64) -> Result<RequestStatus, OracleError> {
    let r = client
        .view(hub, &IOracleHub::requestsCall { id: U256::from(id) })
        .await?;
    Ok(RequestStatus {
        request: id,
        status: ["none", "open", "final", "refunded"]
            .get(r.status as usize)
            .copied()
            .unwrap_or("?"),
        model: r.modelId,
        requester: r.requester,
        deadline: r.deadline,
        fee: r.fee.to_string(),
        output_hash: r.outputHash,
        record: r.recordId,
        callback: r.callback,
    })
}
