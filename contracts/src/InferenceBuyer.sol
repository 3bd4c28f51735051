// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "interfaces/IInference.sol";
import "interfaces/IMarket.sol";

/// @notice Example: a contract that pays for in-block inferences of a listed model. Each
/// call to the inference module carries the model's per-call price (read from the market),
/// which the market splits along the model's lineage; the outputs are kept.
contract InferenceBuyer {
    IInference public constant INFERENCE = IInference(0x0000000000000000000000000000000000000a02);
    IMarket public constant MARKET = IMarket(0x0000000000000000000000000000000000000a03);

    uint256 public runs;
    int256 public lastOutput;

    error Underpaid(uint256 sent, uint256 needed);

    /// Run model `modelId` on `input` `times` times, paying its price each time from the
    /// value sent; what is left over goes back to the sender.
    function run(uint64 modelId, int256[] calldata input, uint256 times) external payable {
        uint256 price = MARKET.callPrice(modelId);
        if (msg.value < price * times) revert Underpaid(msg.value, price * times);
        for (uint256 i = 0; i < times; i++) {
            (int256[] memory output,) = INFERENCE.infer{value: price}(modelId, input);
            lastOutput = output[0];
        }
        runs += times;
        uint256 rest = msg.value - price * times;
        if (rest > 0) {
            (bool ok,) = msg.sender.call{value: rest}("");
            require(ok, "refund failed");
        }
    }
}
