//! What the tests that drive Python scripts from the venv share.
// Each test crate includes this module and uses only part of it.
#![allow(dead_code)]
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// replearn's cache, as `make` sets it (`REPLEARN_CACHE`, else `~/.cache/replearn`).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("REPLEARN_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/replearn"))
}

/// Runs `kernels/tests/<script>` with the venv's Python and `args`, and
/// returns whether it succeeded and its stdout and stderr together.
pub fn run_venv_script(script: &str, args: &[&OsStr]) -> (bool, String) {
    let root = root();
    let python = root.join(".venv/bin/python");
    assert!(python.exists(), "{} is missing: run `make test` (it installs the venv)", python.display());
    let out = Command::new(&python)
        .arg(root.join("kernels/tests").join(script))
        .args(args)
        .env("PYTHONUNBUFFERED", "1")
        .output()
        .expect("run the venv's python");
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}
