// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "interfaces/IProvenance.sol";

/// @notice Example: a contract that registers a dataset and a model trained on it through
/// the provenance registry, and reads the lineage back. The contract owns what it registers.
contract ProvenanceExample {
    IProvenance public constant REGISTRY = IProvenance(0x0000000000000000000000000000000000000a01);

    uint64 public datasetId;
    uint64 public modelId;

    event Registered(uint64 dataset, uint64 model);

    function registerPair(bytes32 dataHash, bytes32 modelHash) external returns (uint64, uint64) {
        IProvenance.Contributor[] memory none = new IProvenance.Contributor[](0);
        uint64[] memory noParents = new uint64[](0);
        datasetId = REGISTRY.register(0, dataHash, "ipfs://example-data", "CC-BY-4.0", none, noParents);
        uint64[] memory parents = new uint64[](1);
        parents[0] = datasetId;
        modelId = REGISTRY.register(1, modelHash, "ipfs://example-model", "Apache-2.0", none, parents);
        emit Registered(datasetId, modelId);
        return (datasetId, modelId);
    }

    /// The parents, owner and kind of a record, as the registry reports them.
    function lineageOf(uint64 id) external view returns (uint64[] memory parents, address owner, uint8 kind) {
        IProvenance.Record memory r = REGISTRY.getRecord(id);
        return (r.parents, r.owner, r.kind);
    }

    /// Registering the same dataset twice reverts with the registry's own error.
    function registerDatasetAgain(bytes32 dataHash) external returns (uint64) {
        IProvenance.Contributor[] memory none = new IProvenance.Contributor[](0);
        uint64[] memory noParents = new uint64[](0);
        return REGISTRY.register(0, dataHash, "", "MIT", none, noParents);
    }
}
