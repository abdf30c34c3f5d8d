//! Saving and loading a model's parameters.
use crate::{Error, Result};
use std::path::Path;
use tch::nn::VarStore;

/// Writes every parameter of `vs` to `path` (`.safetensors` or libtorch's `.ot`),
/// through a temporary file so an interrupted save never leaves half a checkpoint.
pub fn save_checkpoint(vs: &VarStore, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("ot");
    let tmp = path.with_extension(format!("partial.{ext}"));
    vs.save(&tmp)
        .map_err(|e| Error::from(e).context(format!("saving the checkpoint {}", path.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Loads parameters saved by [`save_checkpoint`] into `vs`; every variable of
/// `vs` must be in the file with the same shape, and the error says which is not.
pub fn load_checkpoint(vs: &mut VarStore, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    if !path.exists() {
        return Err(Error::not_found(path, "no checkpoint there: train the model first (or check the path)"));
    }
    vs.load(path)
        .map_err(|e| Error::from(e).context(format!("loading the checkpoint {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn, Device};

    #[test]
    fn round_trip_restores_parameters_and_mismatch_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/model.safetensors");
        let vs = VarStore::new(Device::Cpu);
        let _lin = nn::linear(vs.root() / "fc", 3, 2, Default::default());
        save_checkpoint(&vs, &path).unwrap();
        let mut other = VarStore::new(Device::Cpu);
        let _lin2 = nn::linear(other.root() / "fc", 3, 2, Default::default());
        load_checkpoint(&mut other, &path).unwrap();
        let (a, b) = (vs.variables(), other.variables());
        assert!(a["fc.weight"].equal(&b["fc.weight"]) && a["fc.bias"].equal(&b["fc.bias"]));
        let mut wrong = VarStore::new(Device::Cpu);
        let _w = wrong.root().zeros("missing", &[1]);
        let err = load_checkpoint(&mut wrong, &path).unwrap_err().to_string();
        assert!(err.contains("model.safetensors"), "{err}");
        let err = load_checkpoint(&mut wrong, dir.path().join("none.ot"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no checkpoint there"), "{err}");
    }
}
