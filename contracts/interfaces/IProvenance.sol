// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Verai provenance registry
/// @notice Native module at 0x0000000000000000000000000000000000000a01. Records datasets,
/// models, training runs and inferences with their lineage. Records are immutable; a new
/// version is a new record whose parent is the old one. The Rust implementation is
/// crates/modules/provenance; this file is its ABI (read by `alloy-sol-types` `sol!`).
interface IProvenance {
    /// A contributor and its share of the record, in basis points (all shares sum to 10,000).
    struct Contributor {
        address account;
        uint16 shareBps;
    }

    /// A record as stored. `kind`: 0 dataset, 1 model, 2 training run, 3 inference.
    /// `parents` are fixed at registration; `links` are parents added later by
    /// `recordTraining` (the training run that produced a model).
    struct Record {
        uint64 id;
        uint8 kind;
        bytes32 contentHash;
        string uri;
        string license;
        address owner;
        address creator;
        Contributor[] contributors;
        uint64[] parents;
        uint64[] links;
        uint64 timestamp;
        uint64 blockNumber;
        bool deprecated;
    }

    /// One use of a model (an inference, a licence grant).
    struct Usage {
        address user;
        uint64 blockNumber;
        uint64 timestamp;
        bytes32 ref;
    }

    /// Licence terms, stored once under their hash (keccak256 of their ABI encoding). A
    /// record whose `license` is "terms:0x<hash>" is under these terms; so are the grants a
    /// market listing sells. There is no default duration: a grant lasts `duration`
    /// seconds, or forever only when `perpetual` says so.
    struct LicenseTerms {
        string spdx;
        bool commercialUse;
        bool derivatives;
        bool attribution;
        uint64 duration;
        bool perpetual;
    }

    event RecordRegistered(uint64 indexed id, uint8 indexed kind, address indexed owner, bytes32 contentHash);
    event LineageLinked(uint64 indexed child, uint64 indexed parent);
    event OwnershipTransferred(uint64 indexed id, address indexed from, address indexed to);
    event RecordDeprecated(uint64 indexed id, address indexed by);
    event UsageRecorded(uint64 indexed id, address indexed user, uint64 index, bytes32 ref);
    event TermsRegistered(bytes32 indexed termsHash, string spdx);

    error EmptyHash();
    error InvalidKind(uint8 kind);
    error UriTooLong(uint256 length, uint256 max);
    error EmptyLicense();
    error LicenseTooLong(uint256 length, uint256 max);
    error TooManyParents(uint256 count, uint256 max);
    error TooManyContributors(uint256 count, uint256 max);
    error DuplicateParent(uint64 id);
    error UnknownRecord(uint64 id);
    error DuplicateRecord(uint64 existing);
    error SharesNotTenThousand(uint256 total);
    error ZeroContributor();
    error LineageCycle(uint64 id);
    error LineageTooDeep(uint256 visited);
    error NotOwner(uint64 id, address owner, address caller);
    error ZeroOwner();
    error AlreadyDeprecated(uint64 id);
    error NotAModel(uint64 id);
    error NotATrainingOutput(uint64 id);
    error InvalidTerms(string reason);
    error UnknownTerms(bytes32 termsHash);
    /// A parent's licence forbids derivative works (an -ND licence, or terms without
    /// `derivatives`); only the parent's owner may register one.
    error DerivativesNotAllowed(uint64 parent, string license);
    /// A parent's licence is non-commercial and the new record's licence is not.
    error CommercialUseNotAllowed(uint64 parent, string license);
    error ValueNotAccepted();
    error UnknownSelector(bytes4 selector);

    /// Register a record owned by the caller. An empty `contributors` list means the caller
    /// holds all 10,000 basis points. Refused: empty hash, unknown or repeated parent, a
    /// record with the same kind and hash, shares not summing to 10,000, URI over 2048 bytes,
    /// a parent whose licence forbids derivatives (unless the caller owns it), a
    /// non-commercial parent under a licence that is not.
    function register(
        uint8 kind,
        bytes32 contentHash,
        string calldata uri,
        string calldata license,
        Contributor[] calldata contributors,
        uint64[] calldata parents
    ) external returns (uint64 id);

    /// Register a training run (content hash: its parameters) with `inputs` as parents, and
    /// link it as a parent of the model `output`. Refused when `output` is not a model or is
    /// an ancestor of an input (a cycle).
    function recordTraining(
        bytes32 paramsHash,
        string calldata uri,
        string calldata license,
        uint64[] calldata inputs,
        uint64 output
    ) external returns (uint64 id);

    /// Give a record to another owner (owner only).
    function transferOwnership(uint64 id, address newOwner) external returns (bool);

    /// Mark a record deprecated (owner only; records are never deleted).
    function deprecate(uint64 id) external returns (bool);

    /// Log one use of a model; returns the entry's index.
    function recordUsage(uint64 modelId, bytes32 ref) external returns (uint64 index);

    /// Store licence terms (idempotent) and return their hash. Refused: an empty or long
    /// SPDX id, a zero duration that is not perpetual, a perpetual one with a duration.
    function registerTerms(LicenseTerms calldata terms) external returns (bytes32 termsHash);

    function recordCount() external view returns (uint64);
    function getTerms(bytes32 termsHash) external view returns (LicenseTerms memory);
    function getRecord(uint64 id) external view returns (Record memory);
    function findByHash(uint8 kind, bytes32 contentHash) external view returns (uint64 id);
    function childrenOf(uint64 id) external view returns (uint64[] memory);
    function usageCount(uint64 id) external view returns (uint64);
    function usageAt(uint64 id, uint64 index) external view returns (Usage memory);
}
