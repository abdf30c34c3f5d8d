//! torchvision's ResNet-18 with its intermediate activations: the equivalent
//! of PyTorch forward hooks on `conv1`, `bn1`, `relu`, `maxpool`, `layer1` ...
//! `layer4`, `avgpool` and `fc`. Variables carry torchvision's names, so a
//! state dict of `torchvision.models.resnet18(weights=...)` loads by name.
use super::weights::{load_weights, WeightsReport};
use crate::Result;
use std::path::Path;
use tch::nn::{self, ModuleT};
use tch::{Kind, Tensor};

/// A 3x3 or 1x1 convolution without bias, as torchvision's.
fn conv(p: nn::Path, c_in: i64, c_out: i64, k: i64, stride: i64) -> nn::Conv2D {
    let config = nn::ConvConfig {
        stride,
        padding: k / 2,
        bias: false,
        ..Default::default()
    };
    nn::conv2d(p, c_in, c_out, k, config)
}

/// torchvision's `BasicBlock`: two 3x3 convolutions and a shortcut.
#[derive(Debug)]
struct BasicBlock {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    conv2: nn::Conv2D,
    bn2: nn::BatchNorm,
    downsample: Option<(nn::Conv2D, nn::BatchNorm)>,
}

impl BasicBlock {
    fn new(p: &nn::Path, c_in: i64, c_out: i64, stride: i64) -> Self {
        let downsample = (stride != 1 || c_in != c_out).then(|| {
            let d = p / "downsample";
            (
                conv(&d / "0", c_in, c_out, 1, stride),
                nn::batch_norm2d(&d / "1", c_out, Default::default()),
            )
        });
        BasicBlock {
            conv1: conv(p / "conv1", c_in, c_out, 3, stride),
            bn1: nn::batch_norm2d(p / "bn1", c_out, Default::default()),
            conv2: conv(p / "conv2", c_out, c_out, 3, 1),
            bn2: nn::batch_norm2d(p / "bn2", c_out, Default::default()),
            downsample,
        }
    }

    /// `[B, C_in, H, W]` -> `[B, C_out, H / stride, W / stride]`.
    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let y = x
            .apply(&self.conv1)
            .apply_t(&self.bn1, train)
            .relu()
            .apply(&self.conv2)
            .apply_t(&self.bn2, train);
        let shortcut = match &self.downsample {
            Some((conv, bn)) => x.apply(conv).apply_t(bn, train),
            None => x.shallow_clone(),
        };
        (shortcut + y).relu()
    }
}

/// ResNet-18 with torchvision's variable names (`conv1.weight`,
/// `layer1.0.bn1.running_mean`, `layer2.0.downsample.0.weight`, `fc.bias`, ...)
/// and its 1000-class `fc`, so a full ImageNet state dict loads by name.
///
/// Input `[B, 3, H, W]` normalised as torchvision's model expects (ImageNet
/// mean and standard deviation, no normalisation inside); output logits
/// `[B, 1000]`. It has batch norms, so it is a [`ModuleT`] only.
#[derive(Debug)]
pub struct ResNet18Features {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    layers: [Vec<BasicBlock>; 4],
    fc: nn::Linear,
}

impl ResNet18Features {
    /// Names of the activations, in the order [`ResNet18Features::activations`] returns them.
    pub const STAGES: [&'static str; 10] = [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc",
    ];

    /// Randomly initialised under `p` (seed with [`crate::seed`] first).
    pub fn new(p: &nn::Path) -> Self {
        let layer = |i: usize, c_in: i64, c_out: i64, stride: i64| {
            let q = p / format!("layer{i}");
            vec![
                BasicBlock::new(&(&q / "0"), c_in, c_out, stride),
                BasicBlock::new(&(&q / "1"), c_out, c_out, 1),
            ]
        };
        ResNet18Features {
            conv1: nn::conv2d(
                p / "conv1",
                3,
                64,
                7,
                nn::ConvConfig {
                    stride: 2,
                    padding: 3,
                    bias: false,
                    ..Default::default()
                },
            ),
            bn1: nn::batch_norm2d(p / "bn1", 64, Default::default()),
            layers: [
                layer(1, 64, 64, 1),
                layer(2, 64, 128, 2),
                layer(3, 128, 256, 2),
                layer(4, 256, 512, 2),
            ],
            fc: nn::linear(p / "fc", 512, 1000, Default::default()),
        }
    }

    /// A network built at the root of `vs` with the weights of `path`
    /// (`torch.save(torchvision.models.resnet18(weights=...).state_dict(), path)`,
    /// or safetensors). The report lists the file's `num_batches_tracked` as
    /// unused; the error lists missing and mismatched tensors.
    pub fn from_pretrained(
        vs: &nn::VarStore,
        path: impl AsRef<Path>,
    ) -> Result<(ResNet18Features, WeightsReport)> {
        let net = ResNet18Features::new(&vs.root());
        let report = load_weights(vs, path)?;
        Ok((net, report))
    }

    /// Stage `i` of [`ResNet18Features::STAGES`] applied to the previous stage's output.
    fn stage(&self, i: usize, x: &Tensor, train: bool) -> Tensor {
        match i {
            0 => x.apply(&self.conv1),
            1 => x.apply_t(&self.bn1, train),
            2 => x.relu(),
            3 => x.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false),
            4..=7 => self.layers[i - 4]
                .iter()
                .fold(x.shallow_clone(), |h, block| block.forward_t(&h, train)),
            8 => x.adaptive_avg_pool2d([1, 1]),
            _ => x.flatten(1, -1).apply(&self.fc),
        }
    }

    /// Every stage's output in evaluation mode, named as in [`ResNet18Features::STAGES`].
    /// For `[B, 3, 224, 224]`: conv1, bn1, relu `[B, 64, 112, 112]`, maxpool
    /// and layer1 `[B, 64, 56, 56]`, layer2 `[B, 128, 28, 28]`, layer3
    /// `[B, 256, 14, 14]`, layer4 `[B, 512, 7, 7]`, avgpool `[B, 512, 1, 1]`,
    /// fc `[B, 1000]`. Gradients are kept if the variables require them; wrap
    /// the call in `tch::no_grad` to only look.
    pub fn activations(&self, x: &Tensor) -> Vec<(String, Tensor)> {
        let mut out: Vec<(String, Tensor)> = Vec::with_capacity(Self::STAGES.len());
        for (i, name) in Self::STAGES.iter().enumerate() {
            let input = out.last().map_or(x, |(_, t)| t);
            let y = self.stage(i, input, false);
            out.push((name.to_string(), y));
        }
        out
    }
}

impl ModuleT for ResNet18Features {
    /// Logits `[B, 1000]` of `xs` `[B, 3, H, W]`; `train` puts batch norms in training mode.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        (0..Self::STAGES.len()).fold(xs.shallow_clone(), |x, i| self.stage(i, &x, train))
    }
}

/// Images `[B, 3, H, W]` in [0, 1] normalised with ImageNet's channel means and
/// standard deviations, as torchvision's pre-trained ResNets expect.
pub fn imagenet_normalize(images: &Tensor) -> Tensor {
    let stats = |v: [f32; 3]| Tensor::from_slice(&v).view([1, 3, 1, 1]).to_device(images.device());
    (images.to_kind(Kind::Float) - stats([0.485, 0.456, 0.406])) / stats([0.229, 0.224, 0.225])
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// A network whose variables, running statistics included, are all random.
    fn random_net() -> (nn::VarStore, ResNet18Features) {
        let _rng = crate::seed::seeded_test(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = ResNet18Features::new(&vs.root());
        tch::no_grad(|| {
            for (name, mut t) in vs.variables() {
                if name.ends_with("running_var") {
                    t.copy_(&(t.rand_like() + 0.5));
                } else if t.dim() == 1 && !name.starts_with("fc") {
                    t.copy_(&(t.rand_like() - 0.5));
                }
            }
        });
        (vs, net)
    }

    #[test]
    fn activation_names_and_shapes_at_224() {
        let (_vs, net) = random_net();
        let x = Tensor::randn([1, 3, 224, 224], (Kind::Float, Device::Cpu));
        let acts = tch::no_grad(|| net.activations(&x));
        let got: Vec<(&str, Vec<i64>)> = acts.iter().map(|(n, t)| (n.as_str(), t.size())).collect();
        let expected: Vec<(&str, Vec<i64>)> = vec![
            ("conv1", vec![1, 64, 112, 112]),
            ("bn1", vec![1, 64, 112, 112]),
            ("relu", vec![1, 64, 112, 112]),
            ("maxpool", vec![1, 64, 56, 56]),
            ("layer1", vec![1, 64, 56, 56]),
            ("layer2", vec![1, 128, 28, 28]),
            ("layer3", vec![1, 256, 14, 14]),
            ("layer4", vec![1, 512, 7, 7]),
            ("avgpool", vec![1, 512, 1, 1]),
            ("fc", vec![1, 1000]),
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn the_same_weights_give_tch_visions_resnet18_outputs() {
        let (vs, net) = random_net();
        let mut reference_vs = nn::VarStore::new(Device::Cpu);
        let reference = tch::vision::resnet::resnet18(&reference_vs.root(), 1000);
        let mut features_vs = nn::VarStore::new(Device::Cpu);
        let features = tch::vision::resnet::resnet18_no_final_layer(&features_vs.root());
        reference_vs.copy(&vs).unwrap();
        features_vs.copy(&vs).unwrap();
        let x = Tensor::randn([2, 3, 64, 64], (Kind::Float, Device::Cpu));
        tch::no_grad(|| {
            let acts = net.activations(&x);
            let (pooled, logits) = (&acts[8].1, &acts[9].1);
            let expected = reference.forward_t(&x, false);
            assert!(logits.allclose(&expected, 1e-5, 1e-5, false));
            assert!(net
                .forward_t(&x, false)
                .allclose(&expected, 1e-5, 1e-5, false));
            let expected = features.forward_t(&x, false);
            assert!(pooled.flatten(1, -1).allclose(&expected, 1e-5, 1e-5, false));
        });
    }

    #[test]
    fn variables_have_torchvisions_names_and_shapes() {
        let vs = nn::VarStore::new(Device::Cpu);
        let _net = ResNet18Features::new(&vs.root());
        let reference_vs = nn::VarStore::new(Device::Cpu);
        let _reference = tch::vision::resnet::resnet18(&reference_vs.root(), 1000);
        let shapes = |vs: &nn::VarStore| {
            let mut v: Vec<(String, Vec<i64>)> = vs
                .variables()
                .into_iter()
                .map(|(n, t)| (n, t.size()))
                .collect();
            v.sort();
            v
        };
        let ours = shapes(&vs);
        assert_eq!(ours, shapes(&reference_vs));
        // torchvision's resnet18 state dict: 122 tensors less 20 num_batches_tracked.
        assert_eq!(ours.len(), 102);
        for name in [
            "layer2.0.downsample.0.weight",
            "layer4.1.bn2.running_var",
            "fc.weight",
        ] {
            assert!(ours.iter().any(|(n, _)| n == name), "no {name}");
        }
        let params: i64 = vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel() as i64)
            .sum();
        assert_eq!(params, 11_689_512);
    }
}

