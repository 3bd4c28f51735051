//! Content-addressed blob store: files named by the SHA-256 of their bytes.
//!
//! Layout: `<dir>/<first two hex digits>/<64 hex digits>`; private blobs under
//! `<dir>/private/` the same way. A blob is written to a temporary file in `<dir>/tmp/` while
//! its hash is computed chunk by chunk, then renamed into place, so a reader never sees a
//! partial blob and a crash leaves only a stray temporary file. Blobs larger than the store's
//! limit are refused before anything is kept.
//!
//! Private blobs are never returned by [`BlobStore::get`], so nothing that serves public
//! blobs (JSON-RPC, peers, a follower's upstream) can hand them out; only
//! [`BlobStore::get_private`] reads them, for a caller that has checked the request.

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
    /// The store is full.
    #[error("the blob store is full: {used} of {capacity} bytes used")]
    Full {
        /// Bytes stored.
        used: u64,
        /// The store's capacity.
        capacity: u64,
    },
    /// The same bytes are already public on this node: they cannot be made private.
    #[error("this blob is already public on this node")]
    AlreadyPublic,
    /// The same bytes are private on this node: they are not published by a public put.
    #[error("this blob is private on this node")]
    Private,
    /// File system failure.
    #[error("blob store I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// A blob store in a directory.
#[derive(Debug)]
pub struct BlobStore {
    dir: PathBuf,
    max_bytes: u64,
    capacity: u64,
    used: AtomicU64,
    tmp_seq: AtomicU64,
}

/// Default capacity of a store: 10 GiB.
pub const DEFAULT_CAPACITY: u64 = 10 * 1024 * 1024 * 1024;

impl BlobStore {
    /// Open (creating) the store in `dir`, refusing blobs over `max_bytes`, with the
    /// default capacity.
    pub fn open(dir: impl Into<PathBuf>, max_bytes: u64) -> Result<Self, BlobError> {
        Self::open_with(dir, max_bytes, DEFAULT_CAPACITY)
    }

    /// Open (creating) the store in `dir`, refusing blobs over `max_bytes` and any blob that
    /// would take the store past `capacity` bytes. Stray temporary files of a crash are
    /// removed; what is stored is counted.
    pub fn open_with(
        dir: impl Into<PathBuf>,
        max_bytes: u64,
        capacity: u64,
    ) -> Result<Self, BlobError> {
        let dir = dir.into();
        let tmp = dir.join("tmp");
        fs::create_dir_all(&tmp)?;
        for e in fs::read_dir(&tmp)? {
            let _ = fs::remove_file(e?.path());
        }
        let used = size_of_tree(&dir)?;
        Ok(Self {
            dir,
            max_bytes,
            capacity,
            used: AtomicU64::new(used),
            tmp_seq: AtomicU64::new(0),
        })
    }

    /// Bytes stored.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// The size limit.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    fn path(&self, hash: &[u8; 32]) -> PathBuf {
        let h = hex::encode(hash);
        self.dir.join(&h[..2]).join(h)
    }

    fn private_path(&self, hash: &[u8; 32]) -> PathBuf {
        let h = hex::encode(hash);
        self.dir.join("private").join(&h[..2]).join(h)
    }

    /// Store bytes read from `src`; returns (SHA-256, size). Reads at most the limit + 1.
    /// Refused when the same bytes are private here.
    pub fn put(&self, src: impl Read) -> Result<([u8; 32], u64), BlobError> {
        self.put_checked(src, None, false)
    }

    /// Store bytes as a private blob; refused when the same bytes are already public here.
    pub fn put_private(&self, src: impl Read) -> Result<([u8; 32], u64), BlobError> {
        self.put_checked(src, None, true)
    }

    /// Store bytes fetched under the name `expected` (from a peer): refused, and nothing
    /// kept, unless they hash to it. Returns the size.
    pub fn put_expecting(&self, expected: &[u8; 32], src: impl Read) -> Result<u64, BlobError> {
        self.put_checked(src, Some(expected), false)
            .map(|(_, size)| size)
    }

    fn put_checked(
        &self,
        src: impl Read,
        expected: Option<&[u8; 32]>,
        private: bool,
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
                _ if private && self.path(&hash).is_file() => Err(BlobError::AlreadyPublic),
                _ if !private && self.private_path(&hash).is_file() => Err(BlobError::Private),
                _ => Ok((hash, size)),
            });
        let (hash, size) = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let dest = if private {
            self.private_path(&hash)
        } else {
            self.path(&hash)
        };
        if dest.is_file() {
            let _ = fs::remove_file(&tmp);
            return Ok((hash, size));
        }
        let used = self.used.fetch_add(size, Ordering::Relaxed);
        if used.saturating_add(size) > self.capacity {
            self.used.fetch_sub(size, Ordering::Relaxed);
            let _ = fs::remove_file(&tmp);
            return Err(BlobError::Full {
                used,
                capacity: self.capacity,
            });
        }
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

    /// The bytes of public blob `hash`, `None` if absent (or private).
    pub fn get(&self, hash: &[u8; 32]) -> Result<Option<Vec<u8>>, BlobError> {
        read(&self.path(hash))
    }

    /// The bytes of private blob `hash`, `None` if absent. Only for a request that was
    /// checked (the owner or a grantee of the record the blob is the content of).
    pub fn get_private(&self, hash: &[u8; 32]) -> Result<Option<Vec<u8>>, BlobError> {
        read(&self.private_path(hash))
    }

    /// Whether blob `hash` is stored, public or private (what admitting a record that names
    /// it needs; serving it is another matter).
    pub fn contains(&self, hash: &[u8; 32]) -> bool {
        self.path(hash).is_file() || self.is_private(hash)
    }

    /// Whether blob `hash` is stored privately.
    pub fn is_private(&self, hash: &[u8; 32]) -> bool {
        self.private_path(hash).is_file()
    }
}

/// Total size of the files under `dir`, skipping `tmp/`.
fn size_of_tree(dir: &Path) -> Result<u64, BlobError> {
    let mut total = 0;
    for e in fs::read_dir(dir)? {
        let e = e?;
        let ty = e.file_type()?;
        if ty.is_dir() {
            if e.file_name() != "tmp" {
                total += size_of_tree(&e.path())?;
            }
        } else if ty.is_file() {
            total += e.metadata()?.len();
        }
    }
    Ok(total)
}

fn read(path: &Path) -> Result<Option<Vec<u8>>, BlobError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
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

    #[test]
    fn the_store_never_grows_past_its_capacity() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open_with(dir.path(), 100, 250).unwrap();
        store.put(&[1u8; 100][..]).unwrap();
        store.put(&[2u8; 100][..]).unwrap();
        // The same bytes again take no room.
        store.put(&[2u8; 100][..]).unwrap();
        assert!(matches!(
            store.put(&[3u8; 100][..]),
            Err(BlobError::Full {
                used: 200,
                capacity: 250
            })
        ));
        store.put(&[4u8; 50][..]).unwrap();
        assert_eq!(store.used(), 250);
        // Counted again after a restart.
        drop(store);
        let again = BlobStore::open_with(dir.path(), 100, 250).unwrap();
        assert_eq!(again.used(), 250);
        assert!(again.put(&[5u8; 1][..]).is_err());
    }

    #[test]
    fn private_blobs_are_never_served_as_public() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path(), 1000).unwrap();
        let secret = b"patient records";
        let (hash, _) = store.put_private(&secret[..]).unwrap();
        assert!(store.contains(&hash) && store.is_private(&hash));
        assert!(store.get(&hash).unwrap().is_none());
        assert_eq!(store.get_private(&hash).unwrap().unwrap(), secret);
        // Publishing the same bytes is refused; so is making public bytes private.
        assert!(matches!(store.put(&secret[..]), Err(BlobError::Private)));
        let open = b"open data";
        store.put(&open[..]).unwrap();
        assert!(matches!(
            store.put_private(&open[..]),
            Err(BlobError::AlreadyPublic)
        ));
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }
}
