// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @notice What a contract implements to receive an oracle inference result.
interface IInferenceConsumer {
    /// Called by the oracle hub once a quorum of oracles agreed on `output`
    /// (little-endian f32 bytes) for request `requestId`.
    function onInference(uint256 requestId, bytes calldata output) external;
}
