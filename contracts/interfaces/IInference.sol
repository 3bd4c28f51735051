// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Verai in-consensus inference
/// @notice Native module at 0x0000000000000000000000000000000000000a02. Runs small ONNX
/// models inside block execution on every validator (tract, one thread, FMA off), so a
/// result is as final as the block. The Rust implementation is crates/modules/inference;
/// this file is its ABI (read by `alloy-sol-types` `sol!`).
///
/// Numbers: `infer` and `predict` take and return fixed-point values with six decimals
/// (1.5 is 1500000); `inferRaw` takes and returns little-endian f32 bytes.
///
/// Fees: a model listed per call in the market (0x…0a03) costs exactly its price per
/// inference, on either path: `infer`/`inferRaw` take it as value, the oracle hub sends it
/// with `recordOracle`. It is split along the model's lineage by the market; a model with no
/// per-call listing takes no value.
///
/// Gas: a call costs a base fee plus one gas per 32 operations of the model (`Model.ops`),
/// plus the audit record's writes; registering costs 200 gas per byte of the model (the
/// price of contract code) plus the provenance record.
interface IInference {
    /// A model as registered. `modelId` is its provenance record id (kind model).
    struct Model {
        uint64 modelId;
        bytes32 contentHash;
        uint32 size;
        uint64 ops;
        uint64 gasPerCall;
        uint32[] inputShape;
        uint32[] outputShape;
    }

    /// The audit record of one inference. `path`: 0 in consensus, 1 oracle quorum;
    /// `reporter`: zero in consensus, the oracle hub that reached the quorum otherwise.
    struct Inference {
        uint64 id;
        uint64 modelId;
        bytes32 modelHash;
        bytes32 inputHash;
        bytes32 outputHash;
        address requester;
        uint64 blockNumber;
        uint8 path;
        address reporter;
    }

    event ModelRegistered(uint64 indexed modelId, bytes32 indexed contentHash, uint64 ops);
    /// Input and output as little-endian f32 bytes; their SHA-256 hashes are in the record.
    event InferenceRecorded(
        uint64 indexed id, uint64 indexed modelId, address indexed requester, bytes input, bytes output
    );
    /// An inference agreed off chain, recorded by the oracle hub `reporter`.
    event OracleInferenceRecorded(
        uint64 indexed id, uint64 indexed modelId, address indexed reporter, address requester, bytes32 outputHash
    );

    error ModelRejected(string reason);
    error UnknownModel(uint64 modelId);
    error BadInput(string reason);
    error InferenceFailed(string reason);
    error UnknownInference(uint64 id);
    error ValueNotAccepted();
    error UnknownSelector(bytes4 selector);

    /// Check an ONNX model (operators, fixed f32 shapes, size, cost), register it in the
    /// provenance registry as a model owned by the caller, and store its bytes on chain.
    /// Refused with `ModelRejected` naming the problem; nothing is recorded then.
    function registerModel(
        bytes calldata onnx,
        string calldata uri,
        string calldata license,
        uint64[] calldata parents
    ) external returns (uint64 modelId);

    /// Run the model and record the inference; fixed-point in and out.
    function infer(uint64 modelId, int256[] calldata input)
        external
        payable
        returns (int256[] memory output, uint64 inferenceId);

    /// Run the model and record the inference; f32 bytes in and out.
    function inferRaw(uint64 modelId, bytes calldata input)
        external
        payable
        returns (bytes memory output, uint64 inferenceId);

    /// Run the model without recording anything (for `eth_call` and view functions).
    function predict(uint64 modelId, int256[] calldata input) external view returns (int256[] memory output);

    /// Record an inference a quorum of oracles agreed on; the caller (an oracle hub) is the
    /// reporter. `modelId` must be a model record in the provenance registry.
    function recordOracle(uint64 modelId, bytes32 inputHash, bytes32 outputHash, address requester)
        external
        payable
        returns (uint64 inferenceId);

    function getModel(uint64 modelId) external view returns (Model memory);
    function modelBytes(uint64 modelId) external view returns (bytes memory);
    function inferenceCount() external view returns (uint64);
    function getInference(uint64 id) external view returns (Inference memory);
}
