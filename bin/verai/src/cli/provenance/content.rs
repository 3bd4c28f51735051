//! Content hashing for registration: a file's SHA-256, or a directory's manifest hash.
//!
//! A directory hashes as SHA-256 of its manifest: one line per regular file, sorted by
//! relative path (`/`-separated), `<path>\0<size>\0<hex sha256>\n`. Symlinks are not
//! followed, so the hash depends only on the bytes under the directory.

use eyre::{WrapErr, bail};
use sha2::{Digest, Sha256};
use std::{
    io::{IsTerminal, Read, Write},
    path::{Path, PathBuf},
};

/// Files at least this large get a progress bar on stderr.
const PROGRESS_FROM: u64 = 32 * 1024 * 1024;

/// SHA-256 of a file or directory, with the number of bytes hashed.
pub fn hash_path(path: &Path) -> eyre::Result<([u8; 32], u64)> {
    let meta = std::fs::metadata(path).wrap_err_with(|| format!("reading {}", path.display()))?;
    if meta.is_file() {
        return hash_file(path, true);
    }
    if !meta.is_dir() {
        bail!("{} is neither a file nor a directory", path.display());
    }
    let mut files = Vec::new();
    collect(path, path, &mut files)?;
    files.sort();
    if files.is_empty() {
        bail!("{} holds no files", path.display());
    }
    let total: u64 = files
        .iter()
        .map(|(_, p)| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let mut progress = Progress::new(total, total >= PROGRESS_FROM);
    let mut manifest = Sha256::new();
    for (rel, p) in &files {
        let (h, n) = hash_reader(
            std::fs::File::open(p).wrap_err_with(|| format!("reading {}", p.display()))?,
            &mut progress,
        )?;
        manifest.update(format!("{rel}\0{n}\0{}\n", hex::encode(h)).as_bytes());
    }
    progress.finish();
    Ok((manifest.finalize().into(), total))
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> eyre::Result<()> {
    for entry in std::fs::read_dir(dir).wrap_err_with(|| format!("listing {}", dir.display()))? {
        let entry = entry?;
        let ty = entry.file_type()?;
        let p = entry.path();
        if ty.is_dir() {
            collect(root, &p, out)?;
        } else if ty.is_file() {
            let rel = p
                .strip_prefix(root)
                .wrap_err("path outside the directory")?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, p));
        }
    }
    Ok(())
}

/// SHA-256 of one file.
pub fn hash_file(path: &Path, show_progress: bool) -> eyre::Result<([u8; 32], u64)> {
    let f = std::fs::File::open(path).wrap_err_with(|| format!("reading {}", path.display()))?;
    let len = f.metadata()?.len();
    let mut progress = Progress::new(len, show_progress && len >= PROGRESS_FROM);
    let r = hash_reader(f, &mut progress)?;
    progress.finish();
    Ok(r)
}

fn hash_reader(mut r: impl Read, progress: &mut Progress) -> eyre::Result<([u8; 32], u64)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
        progress.advance(k as u64);
    }
    Ok((h.finalize().into(), n))
}

/// A one-line progress bar on stderr (redrawn in place on a terminal, one final line
/// otherwise).
struct Progress {
    total: u64,
    done: u64,
    shown_pct: u64,
    on: bool,
    tty: bool,
}

impl Progress {
    fn new(total: u64, on: bool) -> Self {
        Self {
            total,
            done: 0,
            shown_pct: u64::MAX,
            on,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        if !self.on || !self.tty || self.total == 0 {
            return;
        }
        let pct = self.done.saturating_mul(100) / self.total;
        if pct != self.shown_pct {
            self.shown_pct = pct;
            let bar = "#".repeat((pct / 4) as usize);
            eprint!(
                "\rhashing [{bar:<25}] {pct:>3}% {} / {} MiB",
                self.done >> 20,
                self.total >> 20
            );
            let _ = std::io::stderr().flush();
        }
    }

    fn finish(&self) {
        if self.on {
            if self.tty {
                eprintln!();
            } else {
                eprintln!("hashed {} MiB", self.done >> 20);
            }
        }
    }
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
        let (h1, n) = hash_path(a.path()).unwrap();
        assert_eq!(n, 8);
        let b = tempfile::tempdir().unwrap();
        std::fs::create_dir(b.path().join("sub")).unwrap();
        std::fs::write(b.path().join("sub/y.csv"), b"3,4\n").unwrap();
        std::fs::write(b.path().join("x.csv"), b"1,2\n").unwrap();
        assert_eq!(hash_path(b.path()).unwrap().0, h1);
        std::fs::write(b.path().join("x.csv"), b"1,3\n").unwrap();
        assert_ne!(hash_path(b.path()).unwrap().0, h1);
        let (f, _) = hash_path(&a.path().join("x.csv")).unwrap();
        assert_eq!(f, <[u8; 32]>::from(Sha256::digest(b"1,2\n")));
    }
}
