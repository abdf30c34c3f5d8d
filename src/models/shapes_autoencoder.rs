//! The shapes encoder and decoder of the original assignment (latent 128).
use tch::nn::{self, Module};
use tch::Tensor;

/// Sizes of the shapes encoder/decoder.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapesEncoderConfig {
    /// Channels after each of the six stride-2 convolutions (the last is the latent width).
    pub channels: [i64; 6],
    /// Width of the representation.
    pub latent: i64,
    /// Project the output onto the unit sphere (contrastive encoders).
    pub normalize: bool,
}

impl Default for ShapesEncoderConfig {
    fn default() -> Self {
        ShapesEncoderConfig {
            channels: [32, 64, 128, 256, 512, 128],
            latent: 128,
            normalize: false,
        }
    }
}

fn conv_cfg() -> nn::ConvConfig {
    nn::ConvConfig {
        stride: 2,
        padding: 1,
        ..Default::default()
    }
}

/// Six `Conv2d(k4, s2, p1)` + ReLU (3->32->64->128->256->512->128), flatten, `Linear(128, 128)`,
/// optionally L2-normalised.
///
/// Input `[B, 3, 64, 64]` in [-1, 1]; output `[B, latent]` (unit rows when `normalize`).
///
/// ```
/// use replearn::models::{ShapesEncoder, ShapesEncoderConfig};
/// use tch::{nn, nn::Module, Device, Kind, Tensor};
/// let vs = nn::VarStore::new(Device::Cpu);
/// let encoder = ShapesEncoder::new(&vs.root(), &ShapesEncoderConfig { normalize: true, ..Default::default() });
/// let z = encoder.forward(&Tensor::zeros([2, 3, 64, 64], (Kind::Float, Device::Cpu)));
/// assert_eq!(z.size(), [2, 128]);
/// ```
#[derive(Debug)]
pub struct ShapesEncoder {
    convs: Vec<nn::Conv2D>,
    fc: nn::Linear,
    normalize: bool,
}

impl ShapesEncoder {
    pub fn new(vs: &nn::Path, config: &ShapesEncoderConfig) -> Self {
        let mut inputs = 3;
        let convs = config
            .channels
            .iter()
            .enumerate()
            .map(|(i, &out)| {
                let conv = nn::conv2d(vs / format!("conv{i}"), inputs, out, 4, conv_cfg());
                inputs = out;
                conv
            })
            .collect();
        let fc = nn::linear(
            vs / "fc",
            config.channels[5],
            config.latent,
            Default::default(),
        );
        ShapesEncoder {
            convs,
            fc,
            normalize: config.normalize,
        }
    }
}

impl Module for ShapesEncoder {
    fn forward(&self, xs: &Tensor) -> Tensor {
        let h = self
            .convs
            .iter()
            .fold(xs.shallow_clone(), |h, conv| conv.forward(&h).relu());
        let z = self.fc.forward(&h.flatten(1, -1));
        if self.normalize {
            super::ops::l2_normalize(&z)
        } else {
            z
        }
    }
}

/// Mirrors [`ShapesEncoder`]: `Linear(128, 128)` + ReLU, then six
/// `ConvTranspose2d(k4, s2, p1)` (128->512->256->128->64->32->3) with ReLU between
/// and no output activation.
///
/// Input `[B, latent]`; output `[B, 3, 64, 64]`.
#[derive(Debug)]
pub struct ShapesDecoder {
    fc: nn::Linear,
    deconvs: Vec<nn::ConvTranspose2D>,
    first_channels: i64,
}

impl ShapesDecoder {
    pub fn new(vs: &nn::Path, config: &ShapesEncoderConfig) -> Self {
        let c = config.channels;
        let fc = nn::linear(vs / "fc", config.latent, c[5], Default::default());
        let widths = [c[5], c[4], c[3], c[2], c[1], c[0], 3];
        let cfg = nn::ConvTransposeConfig {
            stride: 2,
            padding: 1,
            ..Default::default()
        };
        let deconvs = widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| nn::conv_transpose2d(vs / format!("deconv{i}"), w[0], w[1], 4, cfg))
            .collect();
        ShapesDecoder {
            fc,
            deconvs,
            first_channels: c[5],
        }
    }
}

impl Module for ShapesDecoder {
    fn forward(&self, z: &Tensor) -> Tensor {
        let h = self
            .fc
            .forward(z)
            .relu()
            .reshape([-1, self.first_channels, 1, 1]);
        super::ops::relu_between(&self.deconvs, &h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn shapes_and_parameter_counts_match_the_architecture() {
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = ShapesEncoderConfig {
            normalize: true,
            ..Default::default()
        };
        let enc = ShapesEncoder::new(&(vs.root() / "enc"), &cfg);
        let dec = ShapesDecoder::new(&(vs.root() / "dec"), &cfg);
        let x = Tensor::rand([2, 3, 64, 64], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let z = enc.forward(&x);
        assert_eq!(z.size(), vec![2, 128]);
        let norms = z.norm_scalaropt_dim(2.0, [1].as_slice(), false);
        assert!(norms.allclose(
            &Tensor::ones([2], (Kind::Float, Device::Cpu)),
            1e-5,
            1e-5,
            false
        ));
        assert_eq!(dec.forward(&z).size(), vec![2, 3, 64, 64]);
        // Independent count: sum over layers of k*k*in*out + out.
        let convs: i64 = [
            (3, 32),
            (32, 64),
            (64, 128),
            (128, 256),
            (256, 512),
            (512, 128),
        ]
        .iter()
        .map(|(i, o)| 16 * i * o + o)
        .sum();
        let enc_params: i64 = vs
            .variables()
            .iter()
            .filter(|(k, _)| k.starts_with("enc."))
            .map(|(_, v)| v.numel() as i64)
            .sum();
        assert_eq!(enc_params, convs + 128 * 128 + 128);
    }
}
