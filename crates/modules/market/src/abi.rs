//! The Solidity ABI, from `contracts/interfaces/IMarket.sol`, and the stored listing body.

alloy_sol_types::sol! {
    #![sol(all_derives)]
    "../../../contracts/interfaces/IMarket.sol"
}

alloy_sol_types::sol! {
    /// The immutable part of a listing, stored ABI-encoded once.
    #[derive(Debug, PartialEq, Eq)]
    struct ListingBody {
        uint64 recordId;
        uint8 kind;
        address seller;
        address token;
        uint256 price;
        bytes32 termsHash;
        string endpoint;
        IMarket.Method[] methods;
        uint64 createdAt;
    }
}
