//! Pre-trained weights from a file the user has: safetensors, or a PyTorch
//! state dict saved with `torch.save(model.state_dict(), path)`.
use crate::{Error, Result};
use std::collections::HashMap;
use std::path::Path;
use tch::nn::VarStore;
use tch::Tensor;

/// What [`load_weights`] found besides the tensors it loaded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WeightsReport {
    /// Tensors copied into the model.
    pub loaded: usize,
    /// Tensors of the file the model has no variable for (a classifier head, `num_batches_tracked`, ...).
    pub unused: Vec<String>,
}

/// Reads every named tensor of `path`: `.safetensors`, or a PyTorch file
/// (`.pt`, `.pth`, `.bin`) written by `torch.save` of a state dict.
pub fn read_named_tensors(path: impl AsRef<Path>) -> Result<Vec<(String, Tensor)>> {
    let path = path.as_ref();
    if !path.is_file() {
        return Err(Error::not_found(path, "give the path of a weights file (.safetensors, or a PyTorch state dict)"));
    }
    let is_safetensors = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"));
    let read = if is_safetensors {
        Tensor::read_safetensors(path)
    } else {
        Tensor::loadz_multi(path)
    };
    read.map_err(|e| {
        Error::bad_format(
            path,
            "weights file",
            format!("{e}. Give a .safetensors file, or a PyTorch state dict saved with torch.save(model.state_dict(), path)"),
        )
    })
}

/// Copies the tensors of `path` into the variables of `vs` with the same names.
/// Every variable must be found with its shape; otherwise nothing is changed and
/// the error lists the missing and the mismatched tensors.
pub fn load_weights(vs: &VarStore, path: impl AsRef<Path>) -> Result<WeightsReport> {
    let path = path.as_ref();
    let mut file: HashMap<String, Tensor> = read_named_tensors(path)?.into_iter().collect();
    let variables = vs.variables();
    let mut names: Vec<&String> = variables.keys().collect();
    names.sort();
    let (mut missing, mut mismatched) = (Vec::new(), Vec::new());
    for name in &names {
        match file.get(*name) {
            None => missing.push(name.to_string()),
            Some(t) if t.size() != variables[*name].size() => mismatched.push(format!(
                "{name}: file {:?}, model {:?}",
                t.size(),
                variables[*name].size()
            )),
            Some(_) => {}
        }
    }
    if !missing.is_empty() || !mismatched.is_empty() {
        let list = |v: &[String]| {
            let shown: Vec<&str> = v.iter().take(8).map(String::as_str).collect();
            let more = if v.len() > 8 {
                format!(" and {} more", v.len() - 8)
            } else {
                String::new()
            };
            format!("{}{more}", shown.join(", "))
        };
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!(
                "{} tensors missing: {}",
                missing.len(),
                list(&missing)
            ));
        }
        if !mismatched.is_empty() {
            parts.push(format!(
                "{} tensors with another shape: {}",
                mismatched.len(),
                list(&mismatched)
            ));
        }
        return Err(Error::bad_format(
            path,
            "weights file for this model",
            format!("{}. Check that the file is for this architecture", parts.join("; ")),
        ));
    }
    tch::no_grad(|| {
        for name in &names {
            let source = file.remove(*name).expect("checked above");
            let mut target = variables[*name].shallow_clone();
            target.copy_(&source.to_kind(target.kind()).to_device(target.device()));
        }
    });
    let mut unused: Vec<String> = file.into_keys().collect();
    unused.sort();
    Ok(WeightsReport {
        loaded: names.len(),
        unused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn;
    use tch::{Device, Kind};

    fn model() -> VarStore {
        let vs = VarStore::new(Device::Cpu);
        let _ = nn::linear(vs.root() / "fc", 3, 2, Default::default());
        vs
    }

    #[test]
    fn safetensors_load_by_name_and_report_unused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let w = Tensor::arange(6, (Kind::Float, Device::Cpu)).view([2, 3]);
        let b = Tensor::from_slice(&[7f32, 8.0]);
        let extra = Tensor::from_slice(&[1i64]);
        Tensor::write_safetensors(
            &[
                ("fc.weight", &w),
                ("fc.bias", &b),
                ("fc.num_batches_tracked", &extra),
            ],
            &path,
        )
        .unwrap();
        let vs = model();
        let report = load_weights(&vs, &path).unwrap();
        assert_eq!(
            report,
            WeightsReport {
                loaded: 2,
                unused: vec!["fc.num_batches_tracked".into()]
            }
        );
        assert_eq!(vs.variables()["fc.weight"], w);
        assert_eq!(vs.variables()["fc.bias"], b);
    }

    #[test]
    fn missing_and_mismatched_tensors_are_listed_and_nothing_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        Tensor::write_safetensors(
            &[(
                "fc.weight",
                &Tensor::zeros([3, 3], (Kind::Float, Device::Cpu)),
            )],
            &path,
        )
        .unwrap();
        let vs = model();
        let before = vs.variables()["fc.weight"].copy();
        let err = load_weights(&vs, &path).unwrap_err().to_string();
        assert!(err.contains("1 tensors missing: fc.bias"), "{err}");
        assert!(
            err.contains("fc.weight: file [3, 3], model [2, 3]"),
            "{err}"
        );
        assert_eq!(vs.variables()["fc.weight"], before);
    }

    #[test]
    fn an_unreadable_file_says_what_formats_work() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.pth");
        std::fs::write(&path, b"not a checkpoint").unwrap();
        let err = load_weights(&model(), &path).unwrap_err().to_string();
        assert!(
            err.contains("w.pth") && err.contains("torch.save(model.state_dict(), path)"),
            "{err}"
        );
        let err = load_weights(&model(), dir.path().join("none.safetensors"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("none.safetensors: not found"), "{err}");
    }
}
