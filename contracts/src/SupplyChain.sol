// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "interfaces/IInference.sol";

/// @notice Example: a supply-chain contract that asks a demand-forecast model (run in the
/// block by every validator) for tomorrow's sales of a product and requests a reorder when
/// the forecast passes a threshold. The model is models/demand_forecast.onnx: the last seven
/// days' sales (hundreds of units) and a promotion flag in, the next day's sales out.
contract SupplyChain {
    IInference public constant INFERENCE = IInference(0x0000000000000000000000000000000000000a02);
    int256 public constant ONE = 1e6; // fixed point: six decimals

    uint64 public immutable model;
    /// Reorder when the forecast (fixed point, hundreds of units) is above this.
    int256 public immutable threshold;

    mapping(bytes32 => int256) public lastForecast;
    mapping(bytes32 => uint64) public lastInference;

    event Forecast(bytes32 indexed sku, int256 forecast, uint64 inferenceId);
    event ReorderRequested(bytes32 indexed sku, int256 forecast, int256 threshold, uint64 inferenceId);

    constructor(uint64 model_, int256 threshold_) {
        model = model_;
        threshold = threshold_;
    }

    /// Forecast tomorrow's demand for `sku` from last week's sales (fixed point, oldest
    /// first) and request a reorder when it passes the threshold.
    function checkStock(bytes32 sku, int256[7] calldata lastWeek, bool promotion)
        external
        returns (int256 forecast, bool reorder)
    {
        int256[] memory input = new int256[](8);
        for (uint256 i = 0; i < 7; i++) {
            input[i] = lastWeek[i];
        }
        input[7] = promotion ? ONE : int256(0);
        (int256[] memory output, uint64 inferenceId) = INFERENCE.infer(model, input);
        forecast = output[0];
        lastForecast[sku] = forecast;
        lastInference[sku] = inferenceId;
        emit Forecast(sku, forecast, inferenceId);
        if (forecast > threshold) {
            reorder = true;
            emit ReorderRequested(sku, forecast, threshold, inferenceId);
        }
    }

    /// The forecast without recording anything (an `eth_call` preview).
    function preview(int256[7] calldata lastWeek, bool promotion) external view returns (int256) {
        int256[] memory input = new int256[](8);
        for (uint256 i = 0; i < 7; i++) {
            input[i] = lastWeek[i];
        }
        input[7] = promotion ? ONE : int256(0);
        return INFERENCE.predict(model, input)[0];
    }
}
