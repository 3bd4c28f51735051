// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "interfaces/IInference.sol";
import "interfaces/IInferenceConsumer.sol";
import "interfaces/IMarket.sol";

/// @title Oracle quorum for inference jobs too large for a block
/// @notice Oracles stake a bond and run requested models off chain (`verai oracle run`).
/// A result is final once `quorum` oracles submit the same output hash; then the fee is
/// split among those oracles, the requester's callback gets the output, and the inference
/// module records the audit entry (path 1, this hub as reporter). An oracle whose output
/// differs from the final one loses `slashBps` of its bond to the agreeing oracles. A
/// request not final within `timeoutBlocks` can be refunded. Payments are credited and
/// withdrawn (pull), so every wei is accounted for in `credit`, bonds and open fees.
///
/// A model listed per call in the market costs its price on this path too: a request must
/// send at least the price (read at request time and held apart from the oracles' fee), and
/// the hub pays it with `recordOracle` when the result is final. If the price has risen by
/// then, or the record cannot be written, the held price goes back to the requester.
contract OracleHub {
    IInference public constant INFERENCE = IInference(0x0000000000000000000000000000000000000a02);
    IMarket public constant MARKET = IMarket(0x0000000000000000000000000000000000000a03);

    uint8 public immutable quorum;
    uint256 public immutable minBond;
    uint64 public immutable timeoutBlocks;
    uint16 public immutable slashBps;
    uint32 public constant CALLBACK_GAS = 500_000;

    struct Request {
        address requester;
        uint64 modelId;
        uint64 deadline;
        uint8 status; // 0 none, 1 open, 2 final, 3 refunded
        bytes32 inputHash;
        address callback;
        uint256 fee;
        bytes32 outputHash;
        uint64 recordId;
        uint256 modelFee;
    }

    mapping(address => uint256) public bond;
    address[] public oracles;
    mapping(uint256 => Request) public requests;
    mapping(uint256 => mapping(address => bytes32)) public submitted;
    mapping(uint256 => address[]) internal submitters;
    mapping(uint256 => mapping(bytes32 => uint256)) public votes;
    mapping(address => uint256) public credit;
    mapping(address => uint256) public disagreements;
    uint256 public requestCount;
    uint256 public openFees;

    event OracleRegistered(address indexed oracle, uint256 bond);
    /// `input` holds the f32 bytes, or is empty when the input is the blob `inputBlob`
    /// (its SHA-256, fetched with `verai_getBlob`).
    event InferenceRequested(uint256 indexed id, uint64 indexed modelId, address indexed requester, bytes input, bytes32 inputBlob, uint256 fee, uint64 deadline);
    event ResultSubmitted(uint256 indexed id, address indexed oracle, bytes32 outputHash);
    event InferenceFinalized(uint256 indexed id, bytes32 outputHash, bytes output, uint64 recordId, bool callbackOk);
    event OracleSlashed(uint256 indexed id, address indexed oracle, bytes32 outputHash, uint256 amount);
    event RequestRefunded(uint256 indexed id, uint256 fee);

    error NotAnOracle();
    error BondTooSmall(uint256 sent, uint256 min);
    error UnknownRequest(uint256 id);
    error NotOpen(uint256 id);
    error AlreadySubmitted(uint256 id);
    error NotExpired(uint256 id, uint64 deadline);
    error NothingToWithdraw();
    error EmptyInput();
    error FeeBelowModelPrice(uint256 sent, uint256 price);

    constructor(uint8 quorum_, uint256 minBond_, uint64 timeoutBlocks_, uint16 slashBps_) {
        require(quorum_ > 0 && slashBps_ <= 10_000, "bad config");
        quorum = quorum_;
        minBond = minBond_;
        timeoutBlocks = timeoutBlocks_;
        slashBps = slashBps_;
    }

    /// Join (or add to your bond).
    function register() external payable {
        if (bond[msg.sender] == 0) {
            if (msg.value < minBond) revert BondTooSmall(msg.value, minBond);
            oracles.push(msg.sender);
        }
        bond[msg.sender] += msg.value;
        emit OracleRegistered(msg.sender, bond[msg.sender]);
    }

    function oracleCount() external view returns (uint256) {
        return oracles.length;
    }

    /// Ask the oracles to run `modelId` on `input` (little-endian f32 bytes); the value sent
    /// is the model's per-call price (if listed) plus the oracles' fee. `callback` (may be zero) receives the output.
    function requestInference(uint64 modelId, bytes calldata input, address callback)
        external
        payable
        returns (uint256 id)
    {
        if (input.length == 0) revert EmptyInput();
        id = _request(modelId, sha256(input), callback);
        emit InferenceRequested(id, modelId, msg.sender, input, bytes32(0), msg.value, requests[id].deadline);
    }

    /// The same with an input too large for a transaction: `inputBlob` is the SHA-256 of
    /// the f32 bytes, stored in the nodes' blob store (`verai_putBlob`).
    function requestInferenceBlob(uint64 modelId, bytes32 inputBlob, address callback)
        external
        payable
        returns (uint256 id)
    {
        if (inputBlob == bytes32(0)) revert EmptyInput();
        id = _request(modelId, inputBlob, callback);
        emit InferenceRequested(id, modelId, msg.sender, "", inputBlob, msg.value, requests[id].deadline);
    }

    function _request(uint64 modelId, bytes32 inputHash, address callback) internal returns (uint256 id) {
        uint256 price = MARKET.callPrice(modelId);
        if (msg.value < price) revert FeeBelowModelPrice(msg.value, price);
        id = ++requestCount;
        uint64 deadline = uint64(block.number) + timeoutBlocks;
        requests[id] = Request(msg.sender, modelId, deadline, 1, inputHash, callback, msg.value - price, 0, 0, price);
        openFees += msg.value;
    }

    /// An oracle's result for request `id`.
    function submitResult(uint256 id, bytes calldata output) external {
        if (bond[msg.sender] == 0) revert NotAnOracle();
        Request storage r = requests[id];
        if (r.status == 0) revert UnknownRequest(id);
        if (submitted[id][msg.sender] != bytes32(0)) revert AlreadySubmitted(id);
        bytes32 h = sha256(output);
        submitted[id][msg.sender] = h;
        submitters[id].push(msg.sender);
        emit ResultSubmitted(id, msg.sender, h);
        if (r.status == 2) {
            // Late: agreeing earns nothing more; disagreeing is slashed.
            if (h != r.outputHash) _slash(id, msg.sender, h, r.outputHash);
            return;
        }
        if (r.status != 1) revert NotOpen(id);
        if (++votes[id][h] < quorum) return;
        _finalize(id, h, output);
    }

    function _finalize(uint256 id, bytes32 h, bytes calldata output) internal {
        Request storage r = requests[id];
        r.status = 2;
        r.outputHash = h;
        openFees -= r.fee + r.modelFee;
        address[] storage subs = submitters[id];
        // The fee goes to the agreeing oracles in equal shares; the remainder to the last.
        uint256 share = r.fee / quorum;
        uint256 paid;
        uint256 agreeing;
        for (uint256 i = 0; i < subs.length; i++) {
            address o = subs[i];
            if (submitted[id][o] == h) {
                agreeing++;
                uint256 amount = agreeing == quorum ? r.fee - paid : share;
                credit[o] += amount;
                paid += amount;
            }
        }
        for (uint256 i = 0; i < subs.length; i++) {
            address o = subs[i];
            bytes32 theirs = submitted[id][o];
            if (theirs != h) _slash(id, o, theirs, h);
        }
        uint256 price = MARKET.callPrice(r.modelId);
        uint256 paying = price <= r.modelFee ? price : 0;
        try INFERENCE.recordOracle{value: paying}(r.modelId, r.inputHash, h, r.requester) returns (uint64 rid) {
            r.recordId = rid;
            credit[r.requester] += r.modelFee - paying;
        } catch {
            credit[r.requester] += r.modelFee;
        }
        bool ok = true;
        if (r.callback != address(0)) {
            try IInferenceConsumer(r.callback).onInference{gas: CALLBACK_GAS}(id, output) {}
            catch {
                ok = false;
            }
        }
        emit InferenceFinalized(id, h, output, r.recordId, ok);
    }

    /// Take `slashBps` of a dissenting oracle's bond and credit it to the agreeing oracles.
    function _slash(uint256 id, address o, bytes32 theirs, bytes32 h) internal {
        uint256 amount = bond[o] * slashBps / 10_000;
        bond[o] -= amount;
        disagreements[o] += 1;
        address[] storage subs = submitters[id];
        uint256 n;
        for (uint256 i = 0; i < subs.length; i++) {
            if (submitted[id][subs[i]] == h) n++;
        }
        uint256 share = amount / n;
        uint256 given;
        uint256 seen;
        for (uint256 i = 0; i < subs.length; i++) {
            if (submitted[id][subs[i]] == h) {
                seen++;
                uint256 a = seen == n ? amount - given : share;
                credit[subs[i]] += a;
                given += a;
            }
        }
        emit OracleSlashed(id, o, theirs, amount);
    }

    /// Refund a request that did not reach a quorum before its deadline.
    function refund(uint256 id) external {
        Request storage r = requests[id];
        if (r.status == 0) revert UnknownRequest(id);
        if (r.status != 1) revert NotOpen(id);
        if (block.number <= r.deadline) revert NotExpired(id, r.deadline);
        r.status = 3;
        openFees -= r.fee + r.modelFee;
        credit[r.requester] += r.fee + r.modelFee;
        emit RequestRefunded(id, r.fee + r.modelFee);
    }

    /// Withdraw everything credited to you.
    function withdraw() external {
        uint256 a = credit[msg.sender];
        if (a == 0) revert NothingToWithdraw();
        credit[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: a}("");
        require(ok, "transfer failed");
    }

    /// Sum of all bonds (for the accounting check: balance = bonds + credits + open fees).
    function totalBonds() external view returns (uint256 t) {
        for (uint256 i = 0; i < oracles.length; i++) {
            t += bond[oracles[i]];
        }
    }
}
