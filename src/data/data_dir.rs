//! Where data sets are read from and stand-ins written to.
use std::path::PathBuf;

/// The data folder: `$REPLEARN_DATA` when set; else `../data` when that is the
/// repository's data folder (a notebook running in `notebooks/`); else `data`
/// under the working folder (a headless grading run, for example).
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("REPLEARN_DATA").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let repository = PathBuf::from("../data");
    if repository.join("README.md").is_file() && PathBuf::from("../Cargo.toml").is_file() {
        repository
    } else {
        PathBuf::from("data")
    }
}
