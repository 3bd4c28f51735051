//! One validator on the tokio runtime with the authenticated `lookup` p2p network on loopback
//! and on-disk storage: the production wiring the node uses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use commonware_cryptography::{Signer as _, ed25519};
use commonware_runtime::{Clock as _, Runner as _, Supervisor as _, tokio};
use commonware_utils::NZUsize;
use std::{
    net::{SocketAddr, TcpListener},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use verai_consensus::{
    Application, Timeouts, ValidatorConfig,
    network::{LookupConfig, start_lookup},
    start_validator, verify_certificate,
};
use verai_primitives::{Block, Header, MAX_BLOCK_BYTES, transactions_root};

/// (height, hash, encoded finality proof) of each applied block.
type Applied = Arc<Mutex<Vec<(u64, alloy_primitives::B256, Vec<u8>)>>>;

#[derive(Clone)]
struct EmptyBlocks {
    genesis: Block,
    applied: Applied,
}

impl Application for EmptyBlocks {
    fn genesis(&self) -> Block {
        self.genesis.clone()
    }
    fn last_applied_height(&self) -> u64 {
        self.applied.lock().unwrap().last().map_or(0, |a| a.0)
    }
    async fn propose(&self, parent: &Block, timestamp_ms: u64) -> Option<Block> {
        let header = Header {
            parent_hash: parent.hash(),
            number: parent.number() + 1,
            timestamp: (timestamp_ms / 1000).max(parent.header.timestamp),
            transactions_root: transactions_root(&[]),
            ..Default::default()
        };
        Some(Block::new(header, vec![]))
    }
    async fn verify(&self, _parent: &Block, block: &Block) -> bool {
        block.transactions.is_empty()
    }
    async fn finalized(&self, block: Arc<Block>, certificate: Vec<u8>) {
        self.applied
            .lock()
            .unwrap()
            .push((block.number(), block.hash(), certificate));
    }
}

#[test]
fn one_validator_on_tokio_and_loopback() {
    let dir = std::env::temp_dir().join(format!("verai-consensus-tokio-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = SocketAddr::from(([127, 0, 0, 1], port));

    let cfg = tokio::Config::new().with_storage_directory(dir.clone());
    let runner = tokio::Runner::new(cfg);
    runner.start(|context| async move {
        let signer = ed25519::PrivateKey::from_seed(0);
        let me = signer.public_key();
        let net = start_lookup(
            context.child("p2p"),
            signer.clone(),
            LookupConfig {
                namespace: b"verai-test".to_vec(),
                listen,
                peers: vec![(me.clone(), listen)],
                max_block_bytes: MAX_BLOCK_BYTES,
                allow_private_ips: true,
            },
        )
        .unwrap();
        let genesis = Block::new(
            Header {
                transactions_root: transactions_root(&[]),
                ..Default::default()
            },
            vec![],
        );
        let app = EmptyBlocks {
            genesis,
            applied: Arc::default(),
        };
        let validator = start_validator(
            context.child("consensus"),
            ValidatorConfig {
                signer,
                validators: vec![me.clone()],
                partition_prefix: "verai".into(),
                blocker: net.oracle.clone(),
                peer_provider: net.oracle.clone(),
                timeouts: Timeouts::dev(),
                mailbox_size: NZUsize!(1024),
                max_block_bytes: MAX_BLOCK_BYTES,
            },
            net.channels,
            app.clone(),
        )
        .await
        .unwrap();

        let start = Instant::now();
        while app.last_applied_height() < 20 {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no progress on tokio"
            );
            context.sleep(Duration::from_millis(5)).await;
        }
        let per_block = start.elapsed() / 20;
        eprintln!("tokio + lookup, 1 validator: {per_block:?} per finalized block (wall clock)");
        let applied = app.applied.lock().unwrap().clone();
        let validators = [me];
        for (height, hash, proof) in &applied {
            verify_certificate(&validators, *hash, *height, proof).unwrap();
        }
        let served = validator.handle.certificate(10).await.unwrap();
        verify_certificate(&validators, applied[9].1, 10, &served).unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}
