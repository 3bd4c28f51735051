//! Content-addressed blob store: files named by the SHA-256 of their bytes.
//!
//! Layout: `<dir>/<first two hex digits>/<64 hex digits>`. A blob is written to a temporary
//! file in `<dir>/tmp/` while its hash is computed chunk by chunk, then renamed into place,
//! so a reader never sees a partial blob and a crash leaves only a stray temporary file.
//! Blobs larger than the store's limit are refused before anything is kept.

use sha2::{Digest, Sha256};
use std::{
    fs,
    io::{Read, Write},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

/// Default size limit of one blob (2 MiB: hex-encoded it still fits one 5 MiB JSON-RPC request).
pub const DEFAULT_MAX_BLOB_BYTES: u64 = 2 * 1024 * 1024;

/// Blob store errors.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// Larger than the limit.
    #[error("blob exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// Empty blobs are refused (their hash names nothing useful).
    #[error("empty blob")]
    Empty,
    /// The bytes do not hash to the name they were expected under.
    #[error(
        "the bytes hash to 0x{}, not to the expected blob 0x{}",
        hex::encode(got),
        hex::encode(expected)
    )]
    WrongHash {
        /// The name asked for.
        expected: [u8; 32],
        /// What the bytes hash to.
        got: [u8; 32],
    },
    /// File system failure.
    #[error("blob store I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// A blob store in a directory.
#[derive(Debug)]
pub struct BlobStore {
    dir: PathBuf,
    max_bytes: u64,
    tmp_seq: AtomicU64,
}

impl BlobStore {
    /// Open (creating) the store in `dir`, refusing blobs over `max_bytes`.
    pub fn open(dir: impl Into<PathBuf>, max_bytes: u64) -> Result<Self, BlobError> {
        let dir = dir.into();
        fs::create_dir_all(dir.join("tmp"))?;
        Ok(Self {
            dir,
            max_bytes,
            tmp_seq: AtomicU64::new(0),
        })
    }

    /// The size limit.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    fn path(&self, hash: &[u8; 32]) -> PathBuf {
        let h = hex::encode(hash);
        self.dir.join(&h[..2]).join(h)
    }

    /// Store bytes read from `src`; returns (SHA-256, size). Reads at most the limit + 1.
    pub fn put(&self, src: impl Read) -> Result<([u8; 32], u64), BlobError> {
        self.put_checked(src, None)
    }

    /// Store bytes fetched under the name `expected` (from a peer): refused, and nothing
    /// kept, unless they hash to it. Returns the size.
    pub fn put_expecting(&self, expected: &[u8; 32], src: impl Read) -> Result<u64, BlobError> {
        self.put_checked(src, Some(expected)).map(|(_, size)| size)
    }

    fn put_checked(
        &self,
        src: impl Read,
        expected: Option<&[u8; 32]>,
    ) -> Result<([u8; 32], u64), BlobError> {
        let seq = self.tmp_seq.fetch_add(1, Ordering::Relaxed);
        let tmp = self
            .dir
            .join("tmp")
            .join(format!("{}-{seq}", std::process::id()));
        let result = self
            .write_tmp(src, &tmp)
            .and_then(|(hash, size)| match expected {
                Some(e) if *e != hash => Err(BlobError::WrongHash {
                    expected: *e,
                    got: hash,
                }),
                _ => Ok((hash, size)),
            });
        let (hash, size) = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let dest = self.path(&hash);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::rename(&tmp, &dest)?;
        Ok((hash, size))
    }

    fn write_tmp(&self, src: impl Read, tmp: &Path) -> Result<([u8; 32], u64), BlobError> {
        let mut limited = src.take(self.max_bytes + 1);
        let mut file = fs::File::create(tmp)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut size = 0u64;
        loop {
            let n = limited.read(&mut buf)?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > self.max_bytes {
                return Err(BlobError::TooLarge {
                    limit: self.max_bytes,
                });
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n])?;
        }
        if size == 0 {
            return Err(BlobError::Empty);
        }
        file.sync_all()?;
        Ok((hasher.finalize().into(), size))
    }

    /// The bytes of blob `hash`, `None` if absent.
    pub fn get(&self, hash: &[u8; 32]) -> Result<Option<Vec<u8>>, BlobError> {
        match fs::read(self.path(hash)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether blob `hash` is stored.
    pub fn contains(&self, hash: &[u8; 32]) -> bool {
        self.path(hash).is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_and_limits() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path(), 1000).unwrap();
        let data = b"hello blobs".to_vec();
        let (hash, size) = store.put(&data[..]).unwrap();
        assert_eq!(size, data.len() as u64);
        assert_eq!(hash, <[u8; 32]>::from(Sha256::digest(&data)));
        assert_eq!(store.get(&hash).unwrap().unwrap(), data);
        assert!(store.get(&[0u8; 32]).unwrap().is_none());
        // Same content, same name: idempotent.
        assert_eq!(store.put(&data[..]).unwrap().0, hash);

        let big = vec![7u8; 1001];
        assert!(matches!(
            store.put(&big[..]),
            Err(BlobError::TooLarge { limit: 1000 })
        ));
        assert!(store.get(&Sha256::digest(&big).into()).unwrap().is_none());
        assert!(matches!(store.put(&b""[..]), Err(BlobError::Empty)));
        // Nothing left behind by refused blobs.
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        // Exactly at the limit is accepted.
        assert!(store.put(&vec![1u8; 1000][..]).is_ok());

        // Fetched bytes under another name are refused and not kept.
        let other = b"not the blob asked for";
        assert!(matches!(
            store.put_expecting(&[9u8; 32], &other[..]),
            Err(BlobError::WrongHash { expected, .. }) if expected == [9u8; 32]
        ));
        assert!(!store.contains(&Sha256::digest(other).into()));
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        let fetched = b"the blob asked for";
        let name: [u8; 32] = Sha256::digest(fetched).into();
        assert_eq!(store.put_expecting(&name, &fetched[..]).unwrap(), 18);
        assert!(store.contains(&name));
    }
}
