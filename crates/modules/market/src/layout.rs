//! Storage layout of the module's account: where every value lives.
//!
//! Every slot is `keccak256("verai.market." ‖ tag ‖ arg₁ ‖ arg₂ …)`, each argument a
//! 32-byte big-endian word, so slots of different tags never collide and a list's entries
//! can sit at `base + i`.
//!
//! | value | slot | content |
//! |---|---|---|
//! | listing count | [`listings`] | ids run `1..=count` |
//! | listing body | [`body`]`(id)` | byte length; the ABI-encoded [`crate::ListingBody`] at `+1…` |
//! | listing head | [`head`]`(id)` | [`Head`]: record, kind, active, token (what a payment reads) |
//! | price | [`price`]`(id)` | per access or per call |
//! | sales, revenue | [`sales`]`(id)`, [`listing_revenue`]`(id)` | counters |
//! | ratings | [`rating_weight`]`(id)`, [`rating_sum`]`(id)`; [`rating`]`(id, rater)` | sums; the rater's `score(8) ‖ weight(248)` |
//! | paid | [`paid`]`(id, account)` | what `account` has paid to listing `id` (settled) |
//! | indexes | [`by_record`], [`by_seller`], [`by_kind`] | count; listing ids at `+1+i` |
//! | per-call listing | [`call_listing`]`(model)` | the model's active PerCall listing (0: none) |
//! | policy | [`policy`]`(record)` | `set(8) ‖ allAncestors(8) ‖ upstreamBps(16) ‖ ownerBps(16)` (low bits) |
//! | stack of a record | [`stack_of`]`(record)` | current stack id (0: none) |
//! | stack being built | [`building`]`(record)` | its id until every account is indexed (0: none) |
//! | stack count | [`stacks`] | ids run `1..=count` |
//! | stack state | [`stack_state`]`(s)` | [`StackState`]: record, accounts, written, parents used |
//! | stack owner | [`stack_owner`]`(s)` | the record owner when the build started |
//! | stack entries | [`stack_entries`]`(s)` | entry `i` at `+i`: `account(160) ‖ weight(96)`, sorted by account |
//! | revenue | [`revenue`]`(s, token)` | cumulative revenue of stack `s` in `token` |
//! | earner index | [`earner`]`(account)` | count; entry `i` at `+1+i`: `stack(64) ‖ weight(96)` |
//! | claimed | [`claimed`]`(s, account, token)` | what `account` has claimed from `s` in `token` |
//! | grant | [`grant`]`(record, account)` | `listing(64) ‖ expiry(64)` |
//! | grant indexes | [`grants_of`]`(account)`, [`grantees`]`(record)` | count; records / accounts at `+1+i` |
//! | channel count | [`channels`] | ids run `1..=count` |
//! | channel | [`channel`]`(id)` | `+0`: `listing(64) ‖ nonce(64) ‖ expiry(64) ‖ closed(8)`; `+1` client; `+2` provider; `+3` deposit; `+4` claimed |

use alloy_primitives::{Address, B256, U256};

fn slot(tag: &str, args: &[B256]) -> U256 {
    verai_primitives::module::storage_slot("verai.market.", tag, args)
}

use verai_primitives::module::word;

/// Listing count.
pub fn listings() -> U256 {
    slot("listings", &[])
}
/// Body of listing `id`.
pub fn body(id: u64) -> U256 {
    slot("body", &[word(id)])
}
/// Head of listing `id`.
pub fn head(id: u64) -> U256 {
    slot("head", &[word(id)])
}
/// Price of listing `id`.
pub fn price(id: u64) -> U256 {
    slot("price", &[word(id)])
}
/// Sales count of listing `id`.
pub fn sales(id: u64) -> U256 {
    slot("sales", &[word(id)])
}
/// Revenue of listing `id`.
pub fn listing_revenue(id: u64) -> U256 {
    slot("listing-revenue", &[word(id)])
}
/// Sum of rating weights of listing `id`.
pub fn rating_weight(id: u64) -> U256 {
    slot("rating-weight", &[word(id)])
}
/// Sum of weight × score of listing `id`.
pub fn rating_sum(id: u64) -> U256 {
    slot("rating-sum", &[word(id)])
}
/// The rating `rater` gave listing `id`.
pub fn rating(id: u64, rater: Address) -> U256 {
    slot("rating", &[word(id), rater.into_word()])
}
/// What `account` has paid to listing `id`.
pub fn paid(id: u64, account: Address) -> U256 {
    slot("paid", &[word(id), account.into_word()])
}
/// Listings of record `record` (list).
pub fn by_record(record: u64) -> U256 {
    slot("by-record", &[word(record)])
}
/// Listings by `seller` (list).
pub fn by_seller(seller: Address) -> U256 {
    slot("by-seller", &[seller.into_word()])
}
/// Listings of a kind (list).
pub fn by_kind(kind: u8) -> U256 {
    slot("by-kind", &[word(u64::from(kind))])
}
/// The active per-call listing of model `model`.
pub fn call_listing(model: u64) -> U256 {
    slot("call-listing", &[word(model)])
}
/// Royalty policy of `record`.
pub fn policy(record: u64) -> U256 {
    slot("policy", &[word(record)])
}
/// Current stack of `record`.
pub fn stack_of(record: u64) -> U256 {
    slot("stack-of", &[word(record)])
}
/// The stack of `record` being built (0: none).
pub fn building(record: u64) -> U256 {
    slot("building", &[word(record)])
}
/// Stack count.
pub fn stacks() -> U256 {
    slot("stacks", &[])
}
/// State of stack `s`.
pub fn stack_state(s: u64) -> U256 {
    slot("stack-state", &[word(s)])
}
/// Owner snapshot of stack `s`.
pub fn stack_owner(s: u64) -> U256 {
    slot("stack-owner", &[word(s)])
}
/// Entries of stack `s`.
pub fn stack_entries(s: u64) -> U256 {
    slot("stack-entries", &[word(s)])
}
/// Cumulative revenue of stack `s` in `token`.
pub fn revenue(s: u64, token: Address) -> U256 {
    slot("revenue", &[word(s), token.into_word()])
}
/// Stacks `account` earns from (list).
pub fn earner(account: Address) -> U256 {
    slot("earner", &[account.into_word()])
}
/// Claimed by `account` from stack `s` in `token`.
pub fn claimed(s: u64, account: Address, token: Address) -> U256 {
    slot(
        "claimed",
        &[word(s), account.into_word(), token.into_word()],
    )
}
/// Grant of `record` to `account`.
pub fn grant(record: u64, account: Address) -> U256 {
    slot("grant", &[word(record), account.into_word()])
}
/// Records `account` holds grants on (list).
pub fn grants_of(account: Address) -> U256 {
    slot("grants-of", &[account.into_word()])
}
/// Accounts holding grants on `record` (list).
pub fn grantees(record: u64) -> U256 {
    slot("grantees", &[word(record)])
}
/// Channel count.
pub fn channels() -> U256 {
    slot("channels", &[])
}
/// Channel `id` (five words).
pub fn channel(id: u64) -> U256 {
    slot("channel", &[word(id)])
}

/// A word as an address (its low 20 bytes).
pub fn to_address(w: U256) -> Address {
    Address::from_word(B256::from(w))
}
/// An address as a word.
pub fn from_address(a: Address) -> U256 {
    U256::from_be_bytes(a.into_word().0)
}

/// Bits `[at, at+width)` of `w` as a u64 (width ≤ 64).
fn bits(w: U256, at: usize, width: usize) -> u64 {
    let mask = if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    (w >> at).as_limbs()[0] & mask
}

/// What a payment reads of a listing, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The listed record.
    pub record: u64,
    /// [`crate::Kind`] as a number.
    pub kind: u8,
    /// Whether it still sells.
    pub active: bool,
    /// Payment token (zero: native).
    pub token: Address,
}

impl Head {
    /// `token(160) ‖ active(8) ‖ kind(8) ‖ record(64)`, high to low.
    pub fn pack(&self) -> U256 {
        (from_address(self.token) << 80)
            | (U256::from(u8::from(self.active)) << 72)
            | (U256::from(self.kind) << 64)
            | U256::from(self.record)
    }
    /// Inverse of [`Self::pack`].
    pub fn unpack(w: U256) -> Self {
        Self {
            record: bits(w, 0, 64),
            kind: bits(w, 64, 8) as u8,
            active: bits(w, 72, 8) != 0,
            token: to_address(w >> 80),
        }
    }
}

/// Progress and shape of a stack, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StackState {
    /// The record it splits revenue for.
    pub record: u64,
    /// How many accounts it has.
    pub accounts: u32,
    /// How many entries are written (complete when equal to `accounts`).
    pub written: u32,
    /// How many of the record's lineage edges it was built from.
    pub parents: u32,
}

impl StackState {
    /// `parents(32) ‖ written(32) ‖ accounts(32) ‖ record(64)`, high to low.
    pub fn pack(&self) -> U256 {
        (U256::from(self.parents) << 128)
            | (U256::from(self.written) << 96)
            | (U256::from(self.accounts) << 64)
            | U256::from(self.record)
    }
    /// Inverse of [`Self::pack`].
    pub fn unpack(w: U256) -> Self {
        Self {
            record: bits(w, 0, 64),
            accounts: bits(w, 64, 32) as u32,
            written: bits(w, 96, 32) as u32,
            parents: bits(w, 128, 32) as u32,
        }
    }
    /// Whether every entry is written.
    pub fn complete(&self) -> bool {
        self.record != 0 && self.written == self.accounts
    }
}

/// A stack entry or an earner entry: `key(160) ‖ weight(96)`; the key is an account or a
/// stack id.
pub fn pack_entry(key: U256, weight: u128) -> U256 {
    (key << 96) | U256::from(weight)
}

/// Inverse of [`pack_entry`].
pub fn unpack_entry(w: U256) -> (U256, u128) {
    let mask: U256 = (U256::from(1) << 96usize) - U256::from(1);
    let weight = (w & mask).to::<u128>();
    (w >> 96, weight)
}

/// A grant: `listing(64) ‖ expiry(64)`, high to low.
pub fn pack_grant(listing: u64, expiry: u64) -> U256 {
    (U256::from(listing) << 64) | U256::from(expiry)
}

/// Inverse of [`pack_grant`]: (listing, expiry).
pub fn unpack_grant(w: U256) -> (u64, u64) {
    (bits(w, 64, 64), bits(w, 0, 64))
}

/// A channel's first word: `closed(8) ‖ expiry(64) ‖ nonce(64) ‖ listing(64)`, high to low.
pub fn pack_channel(listing: u64, nonce: u64, expiry: u64, closed: bool) -> U256 {
    (U256::from(u8::from(closed)) << 192)
        | (U256::from(expiry) << 128)
        | (U256::from(nonce) << 64)
        | U256::from(listing)
}

/// Inverse of [`pack_channel`]: (listing, nonce, expiry, closed).
pub fn unpack_channel(w: U256) -> (u64, u64, u64, bool) {
    (
        bits(w, 0, 64),
        bits(w, 64, 64),
        bits(w, 128, 64),
        bits(w, 192, 8) != 0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips() {
        let h = Head {
            record: u64::MAX - 3,
            kind: 2,
            active: true,
            token: Address::repeat_byte(0xfe),
        };
        assert_eq!(Head::unpack(h.pack()), h);
        let s = StackState {
            record: 77,
            accounts: 4096,
            written: 17,
            parents: 9,
        };
        assert_eq!(StackState::unpack(s.pack()), s);
        let key = from_address(Address::repeat_byte(0xff));
        let w = (1u128 << 96) - 1;
        assert_eq!(unpack_entry(pack_entry(key, w)), (key, w));
        assert_eq!(unpack_grant(pack_grant(5, u64::MAX)), (5, u64::MAX));
        assert_eq!(
            unpack_channel(pack_channel(1, u64::MAX, 3, true)),
            (1, u64::MAX, 3, true)
        );
    }

    #[test]
    fn slots_are_distinct() {
        let a = Address::repeat_byte(1);
        let all = [
            listings(),
            body(1),
            head(1),
            price(1),
            sales(1),
            listing_revenue(1),
            rating_weight(1),
            rating_sum(1),
            rating(1, a),
            paid(1, a),
            by_record(1),
            by_seller(a),
            by_kind(1),
            call_listing(1),
            policy(1),
            stack_of(1),
            building(1),
            stacks(),
            stack_state(1),
            stack_owner(1),
            stack_entries(1),
            revenue(1, a),
            earner(a),
            claimed(1, a, a),
            grant(1, a),
            grants_of(a),
            grantees(1),
            channels(),
            channel(1),
        ];
        let set: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(set.len(), all.len());
    }
}
