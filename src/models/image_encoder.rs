//! Image encoders with pooled features for CLIP and linear probes: ResNet-18/50
//! (torchvision's layout, so ImageNet weights load by name) or a small
//! convolutional network that trains from scratch on a CPU.
use super::weights::{load_weights, WeightsReport};
use crate::Result;
use std::path::Path;
use tch::nn::{self, FuncT, ModuleT};
use tch::{Kind, Tensor};

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

/// Which image encoder to build; the default is the small network that trains
/// from scratch on a CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageEncoderConfig {
    pub kind: ImageEncoderKind,
}

impl Default for ImageEncoderConfig {
    fn default() -> Self {
        ImageEncoderConfig {
            kind: ImageEncoderKind::Small,
        }
    }
}

/// An image encoder with pooled features. Input `[B, 3, H, W]` in [0, 1]
/// (normalised inside with ImageNet's mean and standard deviation); output
/// `[B, features]`.
///
/// It has batch norms, so it is a [`ModuleT`] only: `forward_t(x, true)`
/// trains them, `forward_t(x, false)` uses their running statistics (frozen
/// use). There is no `Module::forward` that would pick one silently.
#[derive(Debug)]
pub struct ImageEncoder {
    pub kind: ImageEncoderKind,
    net: FuncT<'static>,
    mean: Tensor,
    std: Tensor,
}

impl ImageEncoder {
    /// Randomly initialised under `p` (seed with [`crate::seed`] first). The
    /// ResNets use torchvision's variable names, so ImageNet weights load by name.
    pub fn new(p: &nn::Path, config: &ImageEncoderConfig) -> Self {
        let net = match config.kind {
            ImageEncoderKind::ResNet18 => tch::vision::resnet::resnet18_no_final_layer(p),
            ImageEncoderKind::ResNet50 => {
                let net = tch::vision::resnet::resnet50_no_final_layer(p);
                nn::func_t(move |x, train| net.forward_t(x, train))
            }
            ImageEncoderKind::Small => small(p),
        };
        let device = p.device();
        let stats = |v: [f32; 3]| Tensor::from_slice(&v).view([1, 3, 1, 1]).to_device(device);
        ImageEncoder {
            net,
            kind: config.kind,
            mean: stats([0.485, 0.456, 0.406]),
            std: stats([0.229, 0.224, 0.225]),
        }
    }

    /// An encoder built at the root of `vs` with torchvision weights from
    /// `path` (`torch.save(model.state_dict())` of a resnet, or safetensors;
    /// the file's classifier `fc.*` is left unused). The error lists missing
    /// and mismatched tensors.
    pub fn from_pretrained(
        vs: &nn::VarStore,
        config: &ImageEncoderConfig,
        path: impl AsRef<Path>,
    ) -> Result<(ImageEncoder, WeightsReport)> {
        let encoder = ImageEncoder::new(&vs.root(), config);
        let report = load_weights(vs, path)?;
        Ok((encoder, report))
    }

    /// Width of the features.
    pub fn features(&self) -> i64 {
        self.kind.features()
    }
}

impl ModuleT for ImageEncoder {
    /// Features of `xs` (`[B, 3, H, W]` in [0, 1]); `train` puts batch norms in training mode.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let x = (xs.to_kind(Kind::Float) - &self.mean) / &self.std;
        self.net.forward_t(&x, train)
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
    use tch::Device;

    fn encoder(kind: ImageEncoderKind) -> (nn::VarStore, ImageEncoder) {
        let vs = nn::VarStore::new(Device::Cpu);
        let enc = ImageEncoder::new(&vs.root(), &ImageEncoderConfig { kind });
        (vs, enc)
    }

    #[test]
    fn pooled_feature_widths() {
        for kind in [ImageEncoderKind::Small, ImageEncoderKind::ResNet18] {
            let (_vs, enc) = encoder(kind);
            let x = Tensor::rand([2, 3, 64, 64], (Kind::Float, Device::Cpu));
            assert_eq!(enc.forward_t(&x, false).size(), [2, kind.features()], "{kind:?}");
        }
    }

    /// The batch-norm trap: through a generic `&dyn ModuleT` call with
    /// `train = true`, the running statistics must move (they would not if
    /// the encoder also had a `Module::forward` that the blanket `ModuleT`
    /// impl picked), and with `train = false` they must not.
    #[test]
    fn a_generic_training_call_trains_the_batch_norms() {
        let (vs, enc) = encoder(ImageEncoderKind::Small);
        let running = || vs.variables()["bn0.running_mean"].copy();
        let before = running();
        let as_dyn: &dyn ModuleT = &enc;
        let x = Tensor::rand([4, 3, 32, 32], (Kind::Float, Device::Cpu)) + 3.0;
        let _ = as_dyn.forward_t(&x, false);
        assert!(running().equal(&before), "evaluation mode must not touch the statistics");
        let _ = as_dyn.forward_t(&x, true);
        assert!(!running().equal(&before), "training mode must update the statistics");
    }

    #[test]
    fn resnet_variables_have_torchvisions_names() {
        let (vs, _enc) = encoder(ImageEncoderKind::ResNet50);
        let vars = vs.variables();
        for name in [
            "conv1.weight",
            "bn1.running_mean",
            "layer1.0.downsample.0.weight",
            "layer4.2.conv3.weight",
            "layer4.2.bn3.bias",
        ] {
            assert!(vars.contains_key(name), "no {name}");
        }
        let params: i64 = vs
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
        let (source_vs, source) = encoder(ImageEncoderKind::ResNet18);
        let mut named: Vec<(String, Tensor)> = source_vs.variables().into_iter().collect();
        named.push((
            "fc.weight".into(),
            Tensor::zeros([1000, 512], (Kind::Float, Device::Cpu)),
        ));
        let path = dir.path().join("resnet18.safetensors");
        Tensor::write_safetensors(&named, &path).unwrap();
        let target_vs = nn::VarStore::new(Device::Cpu);
        let config = ImageEncoderConfig { kind: ImageEncoderKind::ResNet18 };
        let (target, report) = ImageEncoder::from_pretrained(&target_vs, &config, &path).unwrap();
        assert_eq!(report.unused, vec!["fc.weight".to_string()]);
        let x = Tensor::rand([1, 3, 32, 32], (Kind::Float, Device::Cpu));
        assert!(target
            .forward_t(&x, false)
            .allclose(&source.forward_t(&x, false), 1e-5, 1e-5, false));
        let wrong_vs = nn::VarStore::new(Device::Cpu);
        let config = ImageEncoderConfig { kind: ImageEncoderKind::ResNet50 };
        let err = ImageEncoder::from_pretrained(&wrong_vs, &config, &path)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tensors missing")
                && err.contains("another shape")
                && err.contains("resnet18.safetensors"),
            "{err}"
        );
    }
}
