//! Where things are: the checkout, the venv's libtorch, the build cache.
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The checkout these binaries belong to: `REPLEARN_ROOT` if set; else, for a
/// binary installed as `<root>/.venv/bin/NAME`, that `<root>`; else the
/// checkout they were built from.
pub fn repo_root() -> PathBuf {
    if let Some(root) = std::env::var_os(crate::protocol::env::ROOT) {
        return PathBuf::from(root);
    }
    if let Ok(exe) = std::env::current_exe() {
        let bin = exe.parent();
        let venv = bin.and_then(Path::parent);
        if bin.and_then(Path::file_name) == Some("bin".as_ref())
            && venv.and_then(Path::file_name) == Some(".venv".as_ref())
        {
            if let Some(root) = venv.and_then(Path::parent) {
                if root.join("kernels/startup.evcxr").exists() {
                    return root.to_path_buf();
                }
            }
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("kernels/ has a parent")
        .to_path_buf()
}

/// Heavy caches kept outside the checkout (`REPLEARN_CACHE`, else `~/.cache/replearn`).
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(crate::protocol::env::CACHE) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("replearn")
}

/// The project venv (`<root>/.venv`).
pub fn venv_dir(root: &Path) -> PathBuf {
    root.join(".venv")
}

/// `<venv>/lib/python3.*/site-packages/torch/lib`, where libtorch lives.
pub fn torch_lib_dir(root: &Path) -> Result<PathBuf> {
    let lib = venv_dir(root).join("lib");
    let entries = std::fs::read_dir(&lib).with_context(|| {
        format!(
            "{} is missing: run `make lab` or `make test` to create the venv",
            lib.display()
        )
    })?;
    for entry in entries.flatten() {
        let candidate = entry.path().join("site-packages/torch/lib");
        if candidate.join("libtorch_cpu.so").exists() {
            return Ok(candidate);
        }
    }
    anyhow::bail!(
        "no torch in {}: run `make lab` or `make test` to install torch==2.11.0",
        lib.display()
    )
}

/// FNV-1a, 64 bits: the same on every machine and Rust version, unlike
/// `DefaultHasher` (cache keys, shards and fingerprints must not change).
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// A short stable hash in hex ([`fnv1a`]): keys caches by checkout path,
/// marks cells and source notebooks.
pub fn short_hash(data: &[u8]) -> String {
    format!("{:016x}", fnv1a(data))
}
