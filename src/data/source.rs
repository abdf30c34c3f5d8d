//! Where data sets are read from, and the choice between a real data set and
//! its offline stand-in.
use crate::protocol::env;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The data folder: `$REPLEARN_DATA` when set; else `../data` when that is the
/// repository's data folder (a notebook running in `notebooks/`); else `data`
/// under the working folder (a headless grading run, for example).
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(env::DATA).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let repository = PathBuf::from("../data");
    if repository.join("README.md").is_file() && PathBuf::from("../Cargo.toml").is_file() {
        repository
    } else {
        PathBuf::from("data")
    }
}

/// Which copy of a data set a notebook uses: the real one, or the stand-in the
/// kit generates in the same file format when the real one is not there.
/// Every `*_or_*` picker of [`crate::data`] returns one.
#[derive(Debug, Clone, PartialEq)]
pub struct DataChoice {
    /// The folder to read (pass it to the data set's `load`).
    pub dir: PathBuf,
    /// True for the generated stand-in, false for the real data set.
    pub stand_in: bool,
    /// The real data set's name, e.g. "STL-10".
    pub name: &'static str,
    /// What the stand-in is, e.g. "shapes at 96 px in nine classes".
    pub stand_in_name: &'static str,
}

impl DataChoice {
    /// One line for a notebook: which data ran, and how to get the real one.
    pub fn describe(&self, how_to_get_it: &str) -> String {
        if self.stand_in {
            format!(
                "the offline stand-in for {} ({}), in {}. {how_to_get_it}",
                self.name,
                self.stand_in_name,
                self.dir.display()
            )
        } else {
            format!("{} from {}", self.name, self.dir.display())
        }
    }
}

/// Writes a stand-in data set into `dir` with `write`, unless `dir` already holds
/// one made with the same `config` (recorded in `dir/stand_in.json`).
pub(crate) fn write_stand_in_once<C: serde::Serialize>(
    dir: &Path,
    config: &C,
    write: impl FnOnce(&Path, &C) -> Result<()>,
) -> Result<()> {
    let marker = dir.join("stand_in.json");
    let wanted = serde_json::to_string(config).expect("stand-in configurations serialise");
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(wanted.as_str()) {
        write(dir, config)?;
        std::fs::write(&marker, wanted).map_err(|e| Error::io(&marker, e))?;
    }
    Ok(())
}
