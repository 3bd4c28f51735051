//! The node's own p2p protocols beside consensus: the genesis handshake and mempool gossip
//! ([`peers`]), and the blob exchange ([`blobs`]).

pub mod blobs;
pub mod peers;
