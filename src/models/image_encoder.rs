//! Image encoders with pooled features for CLIP and linear probes: ResNet-18/50
//! (torchvision's layout, so ImageNet weights load by name) or a small
//! convolutional network that trains from scratch on a CPU.
use super::weights::{load_weights, WeightsReport};
use crate::Result;
use std::path::Path;
use tch::nn::{self, FuncT, Module, ModuleT};
use tch::{Device, Kind, Tensor};

/// The architecture of an [`ImageEncoder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageEncoderKind {
    /// torchvision's ResNet-18: 512 features.
    ResNet18,
    /// torchvision's ResNet-50 (the original's): 2,048 features.
    ResNet50,
    /// Four `Conv2d(k4, s2, p1)` + BatchNorm + ReLU (3 -> 32 -> 64 -> 128 -> 256), average pooled: 256 features.
    Small,
}

impl ImageEncoderKind {
    /// Width of the pooled features.
    pub fn features(self) -> i64 {
        match self {
            ImageEncoderKind::ResNet18 => 512,
            ImageEncoderKind::ResNet50 => 2048,
            ImageEncoderKind::Small => 256,
        }
    }
}

/// An image encoder that owns its parameters. Input `[B, 3, H, W]` in [0, 1]
/// (normalised inside with ImageNet's mean and standard deviation); output
/// `[B, features]`. As a [`Module`] it runs in evaluation mode (frozen use);
/// [`ImageEncoder::forward_t`] with `true` trains its batch norms.
#[derive(Debug)]
pub struct ImageEncoder {
    pub vs: nn::VarStore,
    pub kind: ImageEncoderKind,
    net: FuncT<'static>,
    mean: Tensor,
    std: Tensor,
}

impl ImageEncoder {
    /// Randomly initialised (seed with [`crate::seed`] first).
    pub fn new(kind: ImageEncoderKind, device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let net = match kind {
            ImageEncoderKind::ResNet18 => tch::vision::resnet::resnet18_no_final_layer(&root),
            ImageEncoderKind::ResNet50 => {
                let net = tch::vision::resnet::resnet50_no_final_layer(&root);
                nn::func_t(move |x, train| net.forward_t(x, train))
            }
            ImageEncoderKind::Small => small(&root),
        };
        let stats = |v: [f32; 3]| Tensor::from_slice(&v).view([1, 3, 1, 1]).to_device(device);
        ImageEncoder {
            net,
            kind,
            mean: stats([0.485, 0.456, 0.406]),
            std: stats([0.229, 0.224, 0.225]),
            vs,
        }
    }

    /// Loads torchvision weights (`resnet50-*.pth` saved with `torch.save(model.state_dict())`, or
    /// safetensors) into this encoder; the classifier `fc.*` of the file is left unused.
    /// The error lists missing and mismatched tensors.
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<WeightsReport> {
        load_weights(&mut self.vs, path)
    }

    /// Width of the features.
    pub fn features(&self) -> i64 {
        self.kind.features()
    }
}

impl ImageEncoder {
    /// Features of `xs` (`[B, 3, H, W]` in [0, 1]); `train` puts batch norms in training mode.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let x = (xs.to_kind(Kind::Float) - &self.mean) / &self.std;
        self.net.forward_t(&x, train)
    }
}

impl Module for ImageEncoder {
    fn forward(&self, xs: &Tensor) -> Tensor {
        self.forward_t(xs, false)
    }
}

fn small(p: &nn::Path) -> FuncT<'static> {
    let widths = [3, 32, 64, 128, 256];
    let conv = nn::ConvConfig {
        stride: 2,
        padding: 1,
        ..Default::default()
    };
    let mut seq = nn::seq_t();
    for (i, w) in widths.windows(2).enumerate() {
        seq = seq
            .add(nn::conv2d(p / format!("conv{i}"), w[0], w[1], 4, conv))
            .add(nn::batch_norm2d(
                p / format!("bn{i}"),
                w[1],
                Default::default(),
            ))
            .add_fn(|x| x.relu());
    }
    nn::func_t(move |x, train| {
        seq.forward_t(x, train)
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_feature_widths() {
        for kind in [ImageEncoderKind::Small, ImageEncoderKind::ResNet18] {
            let enc = ImageEncoder::new(kind, Device::Cpu);
            let x = Tensor::rand([2, 3, 64, 64], (Kind::Float, Device::Cpu));
            assert_eq!(enc.forward(&x).size(), [2, kind.features()], "{kind:?}");
        }
    }

    #[test]
    fn resnet_variables_have_torchvisions_names() {
        let enc = ImageEncoder::new(ImageEncoderKind::ResNet50, Device::Cpu);
        let vars = enc.vs.variables();
        for name in [
            "conv1.weight",
            "bn1.running_mean",
            "layer1.0.downsample.0.weight",
            "layer4.2.conv3.weight",
            "layer4.2.bn3.bias",
        ] {
            assert!(vars.contains_key(name), "no {name}");
        }
        let params: i64 = enc
            .vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel() as i64)
            .sum();
        // torchvision's resnet50 has 25,557,032 parameters, 2,049,000 of them in fc.
        assert_eq!(params, 25_557_032 - 2_049_000);
    }

    #[test]
    fn torchvision_weights_load_and_a_wrong_file_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let source = ImageEncoder::new(ImageEncoderKind::ResNet18, Device::Cpu);
        let mut named: Vec<(String, Tensor)> = source.vs.variables().into_iter().collect();
        named.push((
            "fc.weight".into(),
            Tensor::zeros([1000, 512], (Kind::Float, Device::Cpu)),
        ));
        let path = dir.path().join("resnet18.safetensors");
        Tensor::write_safetensors(&named, &path).unwrap();
        let mut target = ImageEncoder::new(ImageEncoderKind::ResNet18, Device::Cpu);
        let report = target.load_weights(&path).unwrap();
        assert_eq!(report.unused, vec!["fc.weight".to_string()]);
        let x = Tensor::rand([1, 3, 32, 32], (Kind::Float, Device::Cpu));
        assert!(target
            .forward(&x)
            .allclose(&source.forward(&x), 1e-5, 1e-5, false));
        let mut wrong = ImageEncoder::new(ImageEncoderKind::ResNet50, Device::Cpu);
        let err = wrong.load_weights(&path).unwrap_err().to_string();
        assert!(
            err.contains("tensors missing")
                && err.contains("another shape")
                && err.contains("resnet18.safetensors"),
            "{err}"
        );
    }
}
