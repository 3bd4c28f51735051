//! The consensus view of a Verai block: a newtype with Commonware's codec and block traits.
//!
//! The consensus digest of a block is its Ethereum block hash (keccak-256 of the RLP header),
//! carried as Commonware's [`keccak256::Digest`]. Because the digest only covers the header,
//! decoding also checks that the header's `transactions_root` commits to the transactions
//! carried with it: a peer serving a block for a finalized digest (backfill) cannot swap the
//! transactions under a valid header.
//!
//! Wire format: `varint(len) || rlp(block)`, where `rlp(block)` is [`Block::encode`]. Decoding
//! is bounded by the codec configuration (a byte limit, at most [`MAX_BLOCK_BYTES`]) and
//! canonical: the RLP must re-encode to exactly the bytes received.

use alloy_primitives::B256;
use bytes::BufMut;
use commonware_codec::{
    Buf, EncodeSize, Error as CodecError, Read, ReadExt as _, Write, varint::UInt,
};
use commonware_consensus::{BoundedBlock, Heightable, types::Height};
use commonware_cryptography::{Digestible, keccak256};
use std::sync::Arc;
use verai_primitives::{Block, MAX_BLOCK_BYTES, transactions_root};

/// Consensus digest: the Ethereum block hash.
pub type Digest = keccak256::Digest;

/// Converts an Ethereum hash into a consensus digest.
pub fn to_digest(hash: B256) -> Digest {
    Digest::from(hash.0)
}

/// Converts a consensus digest into an Ethereum hash.
pub fn to_b256(digest: &Digest) -> B256 {
    B256::from(digest.0)
}

/// A block as consensus sees it. Cheap to clone (shared).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusBlock(pub Arc<Block>);

impl ConsensusBlock {
    /// Wraps a block.
    pub fn new(block: Block) -> Self {
        Self(Arc::new(block))
    }

    /// The wrapped block.
    pub fn block(&self) -> &Block {
        &self.0
    }
}

impl From<Block> for ConsensusBlock {
    fn from(block: Block) -> Self {
        Self::new(block)
    }
}

/// Length in bytes of the RLP encoding as a `u32` (the varint prefix).
fn rlp_len(block: &Block) -> u32 {
    // Blocks above u32::MAX bytes cannot be built: MAX_BLOCK_BYTES is far below.
    u32::try_from(block.encoded_len()).unwrap_or(u32::MAX)
}

impl Write for ConsensusBlock {
    fn write(&self, buf: &mut impl BufMut) {
        UInt(rlp_len(&self.0)).write(buf);
        buf.put_slice(&self.0.encode());
    }
}

impl EncodeSize for ConsensusBlock {
    fn encode_size(&self) -> usize {
        UInt(rlp_len(&self.0)).encode_size() + self.0.encoded_len()
    }
}

impl Read for ConsensusBlock {
    /// Largest accepted RLP encoding in bytes (capped at [`MAX_BLOCK_BYTES`]).
    type Cfg = usize;

    fn read_cfg(buf: &mut impl Buf, max_bytes: &usize) -> Result<Self, CodecError> {
        let len = UInt::<u32>::read(buf)?.0 as usize;
        if len > (*max_bytes).min(MAX_BLOCK_BYTES) {
            return Err(CodecError::InvalidLength(len));
        }
        if buf.remaining() < len {
            return Err(CodecError::EndOfBuffer);
        }
        let bytes = buf.copy_to_bytes(len);
        let block =
            Block::decode(&bytes).map_err(|_| CodecError::Invalid("ConsensusBlock", "bad rlp"))?;
        // Canonical encoding: exactly one byte string per block.
        if block.encode().as_slice() != bytes.as_ref() {
            return Err(CodecError::Invalid("ConsensusBlock", "non-canonical rlp"));
        }
        // The digest covers only the header: bind the transactions to it.
        if transactions_root(&block.transactions) != block.header.transactions_root {
            return Err(CodecError::Invalid(
                "ConsensusBlock",
                "transactions root mismatch",
            ));
        }
        Ok(Self::new(block))
    }
}

impl Digestible for ConsensusBlock {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        to_digest(self.0.hash())
    }
}

impl Heightable for ConsensusBlock {
    fn height(&self) -> Height {
        Height::new(self.0.number())
    }
}

impl commonware_consensus::Block for ConsensusBlock {
    fn parent(&self) -> Digest {
        to_digest(self.0.parent_hash())
    }
}

impl BoundedBlock for ConsensusBlock {
    fn max_encode_size(max_bytes: &usize) -> usize {
        let len = (*max_bytes).min(MAX_BLOCK_BYTES);
        UInt(u32::try_from(len).unwrap_or(u32::MAX)).encode_size() + len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::{Decode as _, Encode as _};
    use verai_primitives::Header;

    fn block(number: u64) -> ConsensusBlock {
        let header = Header {
            number,
            transactions_root: transactions_root(&[]),
            ..Default::default()
        };
        ConsensusBlock::new(Block::new(header, vec![]))
    }

    #[test]
    fn roundtrip_and_digest_is_block_hash() {
        let b = block(3);
        let bytes = b.encode();
        assert_eq!(bytes.len(), b.encode_size());
        let back = ConsensusBlock::decode_cfg(bytes, &MAX_BLOCK_BYTES).expect("decodes");
        assert_eq!(back, b);
        assert_eq!(to_b256(&back.digest()), b.block().hash());
        assert_eq!(back.height(), Height::new(3));
    }

    #[test]
    fn rejects_oversized_truncated_and_bad_root() {
        let b = block(1);
        let bytes = b.encode();
        assert!(ConsensusBlock::decode_cfg(bytes.clone(), &10usize).is_err());
        assert!(
            ConsensusBlock::decode_cfg(bytes.slice(..bytes.len() - 1), &MAX_BLOCK_BYTES).is_err()
        );
        let header = Header {
            number: 1,
            transactions_root: B256::repeat_byte(1),
            ..Default::default()
        };
        let bad = ConsensusBlock::new(Block::new(header, vec![]));
        assert!(ConsensusBlock::decode_cfg(bad.encode(), &MAX_BLOCK_BYTES).is_err());
    }
}
