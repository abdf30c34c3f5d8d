//! The STL-10 autoencoder of the original assignment: a small convolutional
//! encoder (42,156 parameters, 384 features) and its mirror image as decoder,
//! and the linear classifier trained on the features.
#[cfg(feature = "solutions")]
use tch::nn::{self, Module};
#[cfg(feature = "solutions")]
use tch::Tensor;

/// Channels of the STL-10 encoder: input, then after each stride-2 convolution.
#[derive(Debug, Clone, PartialEq)]
pub struct Stl10AutoencoderConfig {
    pub channels: [i64; 5],
    /// Side of the (cropped) input images.
    pub image_size: i64,
}

impl Default for Stl10AutoencoderConfig {
    fn default() -> Self {
        Stl10AutoencoderConfig {
            channels: [3, 12, 24, 48, 24],
            image_size: 64,
        }
    }
}

impl Stl10AutoencoderConfig {
    /// Width of the flattened features: last channels x (image_size / 16)^2 (384 by default).
    pub fn features(&self) -> i64 {
        let side = self.image_size / 16;
        self.channels[4] * side * side
    }
}

#[cfg(feature = "solutions")]
/// Four `Conv2d(k4, s2, p1)` + ReLU (3->12->24->48->24), flattened.
///
/// Input `[B, 3, 64, 64]` in [0, 1]; output `[B, 384]`.
#[derive(Debug)]
pub struct Stl10Encoder {
    convs: Vec<nn::Conv2D>,
}

#[cfg(feature = "solutions")]
impl Stl10Encoder {
    pub fn new(vs: &nn::Path, config: &Stl10AutoencoderConfig) -> Self {
        let cfg = nn::ConvConfig {
            stride: 2,
            padding: 1,
            ..Default::default()
        };
        let convs = config
            .channels
            .windows(2)
            .enumerate()
            .map(|(i, w)| nn::conv2d(vs / format!("conv{i}"), w[0], w[1], 4, cfg))
            .collect();
        Stl10Encoder { convs }
    }
}

#[cfg(feature = "solutions")]
impl Module for Stl10Encoder {
    fn forward(&self, xs: &Tensor) -> Tensor {
        self.convs
            .iter()
            .fold(xs.shallow_clone(), |h, conv| conv.forward(&h).relu())
            .flatten(1, -1)
    }
}

#[cfg(feature = "solutions")]
/// Four `ConvTranspose2d(k4, s2, p1)` (24->48->24->12->3) with ReLU between and
/// a sigmoid at the end.
///
/// Input `[B, 384]`; output `[B, 3, 64, 64]` in (0, 1).
#[derive(Debug)]
pub struct Stl10Decoder {
    deconvs: Vec<nn::ConvTranspose2D>,
    channels: i64,
    side: i64,
}

#[cfg(feature = "solutions")]
impl Stl10Decoder {
    pub fn new(vs: &nn::Path, config: &Stl10AutoencoderConfig) -> Self {
        let cfg = nn::ConvTransposeConfig {
            stride: 2,
            padding: 1,
            ..Default::default()
        };
        let mut widths = config.channels;
        widths.reverse();
        let deconvs = widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| nn::conv_transpose2d(vs / format!("deconv{i}"), w[0], w[1], 4, cfg))
            .collect();
        Stl10Decoder {
            deconvs,
            channels: config.channels[4],
            side: config.image_size / 16,
        }
    }
}

#[cfg(feature = "solutions")]
impl Module for Stl10Decoder {
    fn forward(&self, z: &Tensor) -> Tensor {
        let h = z.reshape([-1, self.channels, self.side, self.side]);
        super::ops::relu_between(&self.deconvs, &h).sigmoid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn shapes_and_the_originals_parameter_count() {
        let vs = nn::VarStore::new(Device::Cpu);
        let config = Stl10AutoencoderConfig::default();
        let enc = Stl10Encoder::new(&(vs.root() / "enc"), &config);
        let dec = Stl10Decoder::new(&(vs.root() / "dec"), &config);
        let x = Tensor::rand([2, 3, 64, 64], (Kind::Float, Device::Cpu));
        let z = enc.forward(&x);
        assert_eq!(z.size(), [2, 384]);
        assert_eq!(config.features(), 384);
        let y = dec.forward(&z);
        assert_eq!(y.size(), [2, 3, 64, 64]);
        assert!(y.min().double_value(&[]) > 0.0 && y.max().double_value(&[]) < 1.0);
        let count = |prefix: &str| -> i64 {
            vs.variables()
                .iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .map(|(_, v)| v.numel() as i64)
                .sum()
        };
        // The original's figure, not a formula of ours.
        assert_eq!(count("enc."), 42_156);
        assert_eq!(
            count("dec."),
            16 * (24 * 48 + 48 * 24 + 24 * 12 + 12 * 3) + 48 + 24 + 12 + 3
        );
    }
}
