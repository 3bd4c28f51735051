//! The Solidity ABI, from `contracts/interfaces/IProvenance.sol`, and the committed body.

alloy_sol_types::sol! {
    #![sol(all_derives)]
    "../../../contracts/interfaces/IProvenance.sol"
}

alloy_sol_types::sol! {
    /// The immutable part of a record; its ABI encoding is stored, and its keccak hash is
    /// the record's commitment slot. Contributors are two parallel arrays.
    #[derive(Debug, PartialEq, Eq)]
    struct RecordBody {
        uint8 kind;
        bytes32 contentHash;
        string uri;
        string license;
        address creator;
        address[] contributorAccounts;
        uint16[] contributorShares;
        uint64[] parents;
        uint64 timestamp;
        uint64 blockNumber;
    }
}
