//! Content hashing for registration: a file's SHA-256, or a directory's manifest hash.
//!
//! A directory hashes as SHA-256 of its manifest: one line per regular file, sorted by
//! relative path (`/`-separated), `<path>\0<size>\0<hex sha256>\n`. Symlinks are not
//! followed, so the hash depends only on the bytes under the directory.
//!
//! Hashing reports progress as `(bytes done, bytes in all)` to a callback, after each MiB.

use crate::ClientError;
use sha2::{Digest, Sha256};
use std::{
    io::Read,
    path::{Path, PathBuf},
};

/// A progress callback: `(bytes done, bytes in all)`.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ClientError + '_ {
    move |source| ClientError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// SHA-256 of a file or directory, with the number of bytes hashed.
pub fn hash_path(path: &Path, progress: Progress<'_>) -> Result<([u8; 32], u64), ClientError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if meta.is_file() {
        return hash_file(path, progress);
    }
    if !meta.is_dir() {
        return Err(ClientError::Input(format!(
            "{} is neither a file nor a directory",
            path.display()
        )));
    }
    let mut files = Vec::new();
    collect(path, path, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(ClientError::Input(format!(
            "{} holds no files",
            path.display()
        )));
    }
    let total: u64 = files
        .iter()
        .map(|(_, p)| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let mut done = 0u64;
    let mut manifest = Sha256::new();
    for (rel, p) in &files {
        let file = std::fs::File::open(p).map_err(io(p))?;
        let (h, n) = hash_reader(file, p, &mut |k| {
            done += k;
            progress(done, total)
        })?;
        manifest.update(format!("{rel}\0{n}\0{}\n", hex(&h)).as_bytes());
    }
    Ok((manifest.finalize().into(), total))
}

fn hex(h: &[u8; 32]) -> String {
    alloy_primitives::hex::encode(h)
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), ClientError> {
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let ty = entry.file_type().map_err(io(dir))?;
        let p = entry.path();
        if ty.is_dir() {
            collect(root, &p, out)?;
        } else if ty.is_file() {
            let rel = p
                .strip_prefix(root)
                .map_err(|_| ClientError::Input("path outside the directory".into()))?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, p));
        }
    }
    Ok(())
}

/// SHA-256 of one file, with its size.
pub fn hash_file(path: &Path, progress: Progress<'_>) -> Result<([u8; 32], u64), ClientError> {
    let f = std::fs::File::open(path).map_err(io(path))?;
    let len = f.metadata().map_err(io(path))?.len();
    let mut done = 0u64;
    hash_reader(f, path, &mut |k| {
        done += k;
        progress(done, len)
    })
}

fn hash_reader(
    mut r: impl Read,
    path: &Path,
    advance: &mut dyn FnMut(u64),
) -> Result<([u8; 32], u64), ClientError> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf).map_err(io(path))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
        advance(k as u64);
    }
    Ok((h.finalize().into(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_hash_is_order_independent_and_content_sensitive() {
        let a = tempfile::tempdir().unwrap();
        std::fs::create_dir(a.path().join("sub")).unwrap();
        std::fs::write(a.path().join("x.csv"), b"1,2\n").unwrap();
        std::fs::write(a.path().join("sub/y.csv"), b"3,4\n").unwrap();
        let (h1, n) = hash_path(a.path(), &mut |_, _| {}).unwrap();
        assert_eq!(n, 8);
        let b = tempfile::tempdir().unwrap();
        std::fs::create_dir(b.path().join("sub")).unwrap();
        std::fs::write(b.path().join("sub/y.csv"), b"3,4\n").unwrap();
        std::fs::write(b.path().join("x.csv"), b"1,2\n").unwrap();
        assert_eq!(hash_path(b.path(), &mut |_, _| {}).unwrap().0, h1);
        std::fs::write(b.path().join("x.csv"), b"1,3\n").unwrap();
        assert_ne!(hash_path(b.path(), &mut |_, _| {}).unwrap().0, h1);
        let (f, _) = hash_path(&a.path().join("x.csv"), &mut |_, _| {}).unwrap();
        assert_eq!(f, <[u8; 32]>::from(Sha256::digest(b"1,2\n")));
    }
}
