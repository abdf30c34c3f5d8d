//! A training run's checkpoint, reloaded instead of training again when
//! nothing that decides the result changed.
//!
//! Interrupting a cell or restarting the kernel loses every variable, and a
//! student should not pay minutes of training again for that. A run with a
//! checkpoint ([`super::Trainer::checkpoint`]) saves every parameter group
//! and the loss history when it ends. When the same run starts again it
//! computes a fingerprint: the budget, the optimisers, the parameters' names
//! and shapes, and the loss and gradient norms of the first batch (so a
//! changed solution, even one with the same loss value but another
//! gradient, changes it). Same fingerprint: the parameters and history are
//! loaded. Otherwise it trains afresh and overwrites the checkpoint.
use super::History;
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use tch::nn::VarStore;

/// The files of one run's checkpoint: `<path>.json` (fingerprint and history)
/// and `<path>.<group>.safetensors` (one per parameter group).
#[derive(Debug, Clone)]
pub struct RunCheckpoint {
    path: PathBuf,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    fingerprint: String,
    history: History,
}

impl RunCheckpoint {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        RunCheckpoint { path: path.into() }
    }

    fn record_path(&self) -> PathBuf {
        self.path.with_extension("json")
    }

    fn group_path(&self, i: usize) -> PathBuf {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.path.with_file_name(format!("{name}.{i}.safetensors"))
    }

    /// Where the run's files are (what to delete to train again).
    pub fn describe(&self) -> String {
        format!("{}.*", self.path.display())
    }

    /// The saved history if the checkpoint was made with `fingerprint`, its
    /// parameters copied into `groups`; `None` when there is none or another.
    pub fn load(&self, fingerprint: &str, groups: &[&VarStore]) -> Option<History> {
        let text = std::fs::read_to_string(self.record_path()).ok()?;
        let record: Record = serde_json::from_str(&text).ok()?;
        if record.fingerprint != fingerprint {
            return None;
        }
        for (i, vs) in groups.iter().enumerate() {
            copy_from_file(vs, &self.group_path(i)).ok()?;
        }
        Some(record.history)
    }

    /// Saves every group and then the record (the record last: a save cut
    /// short leaves no record, so it is never loaded).
    pub fn save(&self, fingerprint: &str, groups: &[&VarStore], history: &History) -> Result<()> {
        let _ = std::fs::remove_file(self.record_path());
        for (i, vs) in groups.iter().enumerate() {
            super::save_checkpoint(vs, self.group_path(i))?;
        }
        let record = Record {
            fingerprint: fingerprint.to_string(),
            history: history.clone(),
        };
        let path = self.record_path();
        let tmp = path.with_extension("json.partial");
        std::fs::write(&tmp, serde_json::to_string(&record).expect("a record serialises"))
            .map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
    }
}

/// Copies the tensors saved in `path` into the variables of `vs` (same names,
/// same shapes), without needing `&mut` (a notebook's models hold the store).
fn copy_from_file(vs: &VarStore, path: &Path) -> Result<()> {
    let saved: std::collections::HashMap<String, tch::Tensor> =
        tch::Tensor::read_safetensors(path)?.into_iter().collect();
    let variables = vs.variables();
    if saved.len() != variables.len() {
        return Err(Error::bad_format(path, "checkpoint of this model", "another number of tensors"));
    }
    for (name, var) in &variables {
        let t = saved
            .get(name)
            .filter(|t| t.size() == var.size())
            .ok_or_else(|| Error::bad_format(path, "checkpoint of this model", format!("{name} is missing or has another shape")))?;
        tch::no_grad(|| var.shallow_clone().copy_(t));
    }
    Ok(())
}

/// A short stable hash of `text` (FNV-1a; stable across Rust versions).
pub(crate) fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// A value rounded to 5 significant digits, so that the last bits of a
/// multi-threaded sum do not change a fingerprint.
pub(crate) fn rounded(x: f64) -> String {
    format!("{x:.4e}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn, Device, Kind};

    #[test]
    fn a_checkpoint_loads_only_with_its_fingerprint_and_restores_every_group() {
        let dir = tempfile::tempdir().unwrap();
        let ckpt = RunCheckpoint::new(dir.path().join("runs/model"));
        let (a, b) = (nn::VarStore::new(Device::Cpu), nn::VarStore::new(Device::Cpu));
        let wa = a.root().ones("w", &[2]);
        let wb = b.root().zeros("w", &[3]);
        let mut history = History::new("loss");
        history.push(0, 0.5);
        ckpt.save("fp1", &[&a, &b], &history).unwrap();
        tch::no_grad(|| {
            let _ = wa.shallow_clone().fill_(7.0);
            let _ = wb.shallow_clone().fill_(7.0);
        });
        assert!(ckpt.load("fp2", &[&a, &b]).is_none(), "another fingerprint");
        assert_eq!(ckpt.load("fp1", &[&a, &b]), Some(history));
        assert_eq!(wa.sum(Kind::Float).double_value(&[]), 2.0);
        assert_eq!(wb.sum(Kind::Float).double_value(&[]), 0.0);
        let other = nn::VarStore::new(Device::Cpu);
        let _ = other.root().ones("other", &[2]);
        assert!(ckpt.load("fp1", &[&other, &b]).is_none(), "another model");
        assert_eq!(rounded(0.123456789), "1.2346e-1");
    }
}
