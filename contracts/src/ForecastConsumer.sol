// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "interfaces/IInferenceConsumer.sol";

interface IOracleHub {
    function requestInference(uint64 modelId, bytes calldata input, address callback)
        external
        payable
        returns (uint256 id);
}

/// @notice Example: a contract that asks the oracle hub for an inference and reacts to the
/// quorum's answer in its callback.
contract ForecastConsumer is IInferenceConsumer {
    address public immutable hub;
    mapping(uint256 => bytes) public results;
    uint256 public lastRequest;
    uint256 public answered;

    event Answered(uint256 indexed requestId, bytes output);

    constructor(address hub_) {
        hub = hub_;
    }

    function ask(uint64 modelId, bytes calldata input) external payable returns (uint256 id) {
        id = IOracleHub(hub).requestInference{value: msg.value}(modelId, input, address(this));
        lastRequest = id;
    }

    function onInference(uint256 requestId, bytes calldata output) external {
        require(msg.sender == hub, "only the hub");
        results[requestId] = output;
        answered++;
        emit Answered(requestId, output);
    }
}
