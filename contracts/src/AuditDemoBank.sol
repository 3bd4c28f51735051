// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @notice DELIBERATELY VULNERABLE: the auditor's demo and test contract (`verai node
/// --audit-deploys` must flag it). Never deploy it with real funds.
contract AuditDemoBank {
    mapping(address => uint256) public balances;
    address public owner;

    constructor() {
        owner = msg.sender;
    }

    function deposit() external payable {
        balances[msg.sender] += msg.value;
    }

    /// Reentrancy: the balance is cleared after the external call.
    function withdraw() external {
        uint256 amount = balances[msg.sender];
        (bool ok,) = msg.sender.call{value: amount}("");
        require(ok, "send failed");
        balances[msg.sender] = 0;
    }

    /// Access control by tx.origin.
    function sweep(address payable to) external {
        require(tx.origin == owner, "not owner");
        to.transfer(address(this).balance);
    }

    /// Anyone can destroy it.
    function kill() external {
        selfdestruct(payable(msg.sender));
    }
}
