//! Shared by the auditor's integration tests.

/// This crate's directory, read when the test runs: cargo and nextest set it, and a build
/// cache shared between clones at different paths would keep the compile-time one.
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}
