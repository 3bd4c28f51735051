// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Verai market: listings, royalties along lineage, licence grants, service channels
/// @notice Native module at 0x0000000000000000000000000000000000000a03. The Rust
/// implementation is crates/modules/market; this file is its ABI (read by `sol!`).
///
/// Royalties. Every payment for a record (a licence sale, an inference fee on either
/// inference path, a settled service voucher) is credited to the record's royalty *stack*:
/// a list of accounts with weights summing to 1e27, built once from the record's policy,
/// its owner and contributors, and its parents' stacks. A payment adds to the stack's
/// cumulative revenue (one slot, whatever the size of the lineage); an account's credit in
/// a stack is floor(revenue * weight / 1e27), and `claimAll` pays the difference to what it
/// already claimed, over every stack it is in. No wei is lost: the sub-wei carry of each
/// account stays in the stack's revenue and is paid as soon as it adds up to a wei.
///
/// Value: calls that take none revert with `ValueNotAccepted`; payments must send exactly
/// the price.
interface IMarket {
    /// What a listing sells. Access: a licence grant on the record. PerCall: a fee on every
    /// inference of the model (in block or by the oracle quorum). Service: calls to an
    /// off-chain endpoint, paid with vouchers over an escrow channel.
    enum Kind {
        Access,
        PerCall,
        Service
    }

    /// One method of a service, its price per call and the calls each client gets free.
    struct Method {
        string name;
        uint256 price;
        uint32 freeCalls;
    }

    struct Listing {
        uint64 id;
        uint64 recordId;
        uint8 kind;
        address seller;
        /// Zero for the native token (VAI).
        address token;
        /// Per access (Access), per call (PerCall); unused for Service (see `methods`).
        uint256 price;
        /// Licence terms registered in the provenance registry (Access; zero otherwise).
        bytes32 termsHash;
        string endpoint;
        Method[] methods;
        bool active;
        uint64 createdAt;
        uint64 sales;
        uint256 revenue;
        /// Ratings: the sum of weights (amounts paid by raters) and of weight * score.
        uint256 ratingWeight;
        uint256 ratingSum;
    }

    /// How a record's revenue is split. `ownerBps` goes to the record's owner,
    /// `upstreamBps` to its parents in equal parts, the rest to its contributors by their
    /// recorded shares (to them too when it has no parents). With `allAncestors`, a
    /// parent's part is split by the parent's own stack (so every ancestor is paid, each
    /// generation by its own policy); without it, by the parent's owner and contributors
    /// only.
    struct RoyaltyPolicy {
        uint16 ownerBps;
        uint16 upstreamBps;
        bool allAncestors;
    }

    /// One account of a stack and its weight, out of 1e27.
    struct Share {
        address account;
        uint128 weight;
    }

    /// A licence grant. `expiry` is a timestamp; type(uint64).max is perpetual.
    struct Grant {
        uint64 listingId;
        bytes32 termsHash;
        uint64 expiry;
    }

    /// An escrow channel from a client to a service provider.
    struct Channel {
        uint64 id;
        uint64 listingId;
        address client;
        address provider;
        uint256 deposit;
        uint256 claimed;
        uint64 nonce;
        uint64 expiry;
        bool closed;
    }

    /// A voucher the client signs (EIP-712, domain "Verai Market", version "1", the chain
    /// id and this module's address): the provider may claim up to `amount` in total.
    struct Voucher {
        uint64 channelId;
        uint256 amount;
        uint64 nonce;
    }

    event PolicySet(uint64 indexed recordId, uint16 ownerBps, uint16 upstreamBps, bool allAncestors);
    event StackBuilt(uint64 indexed recordId, uint64 indexed stackId, uint32 accounts);
    event Listed(uint64 indexed id, uint64 indexed recordId, address indexed seller, uint8 kind, address token, uint256 price);
    event Delisted(uint64 indexed id);
    event Sold(uint64 indexed listingId, address indexed buyer, uint64 indexed recordId, uint256 price, uint64 expiry);
    /// A payment split by `stackId` (see the stack for each account's weight).
    event Paid(uint64 indexed recordId, uint64 indexed stackId, address indexed payer, address token, uint256 amount, uint8 kind);
    event Claimed(address indexed account, address indexed token, uint256 amount, uint32 stacks);
    event ChannelOpened(uint64 indexed id, address indexed client, address indexed provider, uint64 listingId, uint256 deposit, uint64 expiry);
    event ChannelClaimed(uint64 indexed id, uint256 amount, uint64 nonce, uint256 paid);
    event ChannelClosed(uint64 indexed id, uint256 refund);
    event Rated(uint64 indexed listingId, address indexed rater, uint8 score, uint256 weight);

    error ValueNotAccepted();
    error UnknownSelector(bytes4 selector);
    error UnknownRecord(uint64 id);
    error NotRecordOwner(uint64 recordId, address owner, address caller);
    error InvalidPolicy(string reason);
    error PolicyFrozen(uint64 recordId);
    error ParentStackMissing(uint64 recordId, uint64 parent);
    error StackTooLarge(uint256 accounts, uint256 max);
    error NoStack(uint64 recordId);
    error StackIncomplete(uint64 recordId, uint64 stackId);
    error UnknownListing(uint64 id);
    error ListingInactive(uint64 id);
    error InvalidListing(string reason);
    error WrongKind(uint64 listingId, uint8 kind);
    error WrongPayment(uint256 price, uint256 sent);
    error AmountTooLarge(uint256 amount);
    error NoCallListing(uint64 modelId);
    error TokenNotSupported(address token);
    error UnknownTerms(bytes32 termsHash);
    error UnknownChannel(uint64 id);
    error NotChannelParty(uint64 id, address caller);
    error ChannelClosedAlready(uint64 id);
    error ChannelNotExpired(uint64 id, uint64 expiry);
    error ChannelExpired(uint64 id, uint64 expiry);
    error BadVoucher(string reason);
    error VoucherOverspent(uint256 amount, uint256 deposit);
    error VoucherReplayed(uint64 nonce, uint64 lastNonce);
    error NotPaid(uint64 listingId, address rater);
    error InvalidScore(uint8 score);

    /// Set how record `recordId`'s revenue is split (owner only, before its stack is built).
    function setRoyaltyPolicy(uint64 recordId, RoyaltyPolicy calldata policy) external returns (bool);

    /// Build the royalty stack of `recordId` from its policy and its parents' stacks (with
    /// `allAncestors` they must exist: build ancestors first). Anyone may call it; the
    /// result depends only on state that no longer changes. A stack of more than 512
    /// accounts takes one more call per 512: `complete` says when it is payable. Building
    /// again is a no-op unless the record gained lineage edges since.
    function buildStack(uint64 recordId) external returns (uint64 stackId, bool complete);

    /// List record `recordId` (owner only; builds its stack when missing).
    function list(
        uint64 recordId,
        uint8 kind,
        address token,
        uint256 price,
        bytes32 termsHash,
        string calldata endpoint,
        Method[] calldata methods
    ) external returns (uint64 id);

    /// Stop selling (the seller only). Grants and channels already open stay valid.
    function delist(uint64 id) external returns (bool);

    /// Buy an Access listing: pay exactly its price, receive a grant under its terms.
    function buy(uint64 listingId) external payable returns (uint64 expiry);

    /// Pay `msg.value` to record `recordId`'s stack (a tip, a fee collected elsewhere).
    function pay(uint64 recordId) external payable returns (uint64 stackId);

    /// Pull everything the caller has earned in `token` over all its stacks.
    function claimAll(address token) external returns (uint256 amount);

    /// Open an escrow channel to Service listing `listingId` (the deposit is `msg.value`).
    function openChannel(uint64 listingId, uint64 expiry) external payable returns (uint64 id);

    /// Claim a voucher (the provider only): pays `amount - claimed` through the record's
    /// stack. `signature` is the client's 65-byte EIP-712 signature of the voucher.
    function claimChannel(uint64 channelId, uint256 amount, uint64 nonce, bytes calldata signature)
        external
        returns (uint256 paid);

    /// Close a channel: the client after expiry, or the provider at any time; the client
    /// gets `deposit - claimed` back.
    function closeChannel(uint64 channelId) external returns (uint256 refund);

    /// Rate a listing from 1 to 5; weighs by what the caller has paid to it.
    function rate(uint64 listingId, uint8 score) external returns (bool);

    function listingCount() external view returns (uint64);
    function getListing(uint64 id) external view returns (Listing memory);
    function callPrice(uint64 modelId) external view returns (uint256);
    function policyOf(uint64 recordId) external view returns (RoyaltyPolicy memory);
    function stackOf(uint64 recordId) external view returns (uint64 stackId, Share[] memory shares);
    function revenueOf(uint64 stackId, address token) external view returns (uint256);
    function claimable(address account, address token) external view returns (uint256);
    function grantOf(uint64 recordId, address account) external view returns (Grant memory);
    function hasAccess(uint64 recordId, address account) external view returns (bool);
    function getChannel(uint64 id) external view returns (Channel memory);
    function paidBy(uint64 listingId, address account) external view returns (uint256);
}
