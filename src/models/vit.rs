//! A Vision Transformer (Dosovitskiy et al., 2021): the image cut into
//! patches, each projected to a token, a learned CLS token in front, learned
//! positional embeddings added, a pre-norm Transformer encoder; the CLS
//! token's final state is the image's representation.
use super::transformer::{AttentionFn, Encoder, TransformerConfig};
use tch::nn;
use tch::{Kind, Tensor};

/// The shape of a [`Vit`].
#[derive(Debug, Clone, PartialEq)]
pub struct VitConfig {
    /// Side of the square input images.
    pub image_size: i64,
    /// Side of the square patches (must divide `image_size`).
    pub patch: i64,
    pub encoder: TransformerConfig,
}

impl Default for VitConfig {
    /// The original's student set-up: 224 px, patch 16, width 256, 8 heads, 6 layers, MLP ratio 4, dropout 0.1.
    fn default() -> Self {
        VitConfig { image_size: 224, patch: 16, encoder: TransformerConfig::default() }
    }
}

impl VitConfig {
    /// Patches per image.
    pub fn patches(&self) -> i64 {
        (self.image_size / self.patch).pow(2)
    }
}

/// A Vision Transformer. Images `[B, 3, S, S]` in [0, 1] -> features `[B, width]`.
#[derive(Debug)]
pub struct Vit {
    /// The patch embedding: a convolution with kernel and stride `patch`.
    patch_embedding: nn::Conv2D,
    cls: Tensor,
    positions: Tensor,
    encoder: Encoder,
    config: VitConfig,
}

impl Vit {
    pub fn new(p: &nn::Path, config: &VitConfig) -> Self {
        assert!(config.image_size % config.patch == 0, "VitConfig: patch {} does not divide image_size {}", config.patch, config.image_size);
        let w = config.encoder.width;
        let init = nn::Init::Randn { mean: 0.0, stdev: 0.02 };
        Vit {
            patch_embedding: nn::conv2d(p / "patch_embedding", 3, w, config.patch, nn::ConvConfig { stride: config.patch, ..Default::default() }),
            cls: p.var("cls", &[1, 1, w], init),
            positions: p.var("positions", &[1, config.patches() + 1, w], init),
            encoder: Encoder::new(&(p / "encoder"), &config.encoder),
            config: config.clone(),
        }
    }

    pub fn config(&self) -> &VitConfig {
        &self.config
    }

    /// The encoder's input: the CLS token then one token per patch (row by row),
    /// positions added. Images `[B, 3, S, S]` in [0, 1] -> `[B, 1 + patches, width]`.
    pub fn tokens(&self, images: &Tensor) -> Tensor {
        let x = (images.to_kind(Kind::Float) * 2.0 - 1.0).apply(&self.patch_embedding); // [B, W, S/p, S/p]
        let patches = x.flatten(2, 3).transpose(1, 2); // [B, patches, W]
        let b = patches.size()[0];
        let cls = self.cls.expand([b, 1, self.config.encoder.width], false);
        Tensor::cat(&[cls, patches], 1) + &self.positions
    }

    /// The CLS token's final state `[B, width]`.
    pub fn forward_t(&self, images: &Tensor, attention: AttentionFn, train: bool) -> Tensor {
        self.encoder.forward(&self.tokens(images), None, attention, train).select(1, 0)
    }

    /// The CLS token after each block, `[B, width]` each: what a probe of each depth reads.
    pub fn cls_per_layer(&self, images: &Tensor, attention: AttentionFn) -> Vec<Tensor> {
        self.encoder.forward_each(&self.tokens(images), None, attention, false).iter().map(|t| t.select(1, 0)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn::VarStore, Device};

    fn parameters(vs: &VarStore) -> i64 {
        vs.trainable_variables().iter().map(|v| v.numel() as i64).sum()
    }

    #[test]
    fn the_originals_vit_has_the_parameters_its_parts_add_up_to() {
        let vs = VarStore::new(Device::Cpu);
        let config = VitConfig::default();
        let _vit = Vit::new(&vs.root(), &config);
        // Counted from the architecture: patch conv, CLS, positions, 6 blocks, final norm.
        let (w, p, r, n) = (256i64, 16i64, 4i64, 196i64);
        let block = 2 * w + (w * 3 * w + 3 * w) + (w * w + w) + 2 * w + (w * r * w + r * w) + (r * w * w + w);
        let want = (3 * p * p * w + w) + w + (n + 1) * w + 6 * block + 2 * w;
        assert_eq!(parameters(&vs), want);
        assert_eq!(config.patches(), 196);
    }

    #[cfg(feature = "solutions")]
    #[test]
    fn tokens_and_features_have_the_documented_shapes() {
        use crate::models::scaled_dot_product_attention;
        let vs = VarStore::new(Device::Cpu);
        let config = VitConfig { image_size: 32, patch: 8, encoder: TransformerConfig { width: 32, heads: 4, layers: 3, mlp_ratio: 2, dropout: 0.1 } };
        let vit = Vit::new(&vs.root(), &config);
        let images = Tensor::rand([2, 3, 32, 32], (Kind::Float, Device::Cpu));
        assert_eq!(vit.tokens(&images).size(), [2, 17, 32]);
        assert_eq!(vit.forward_t(&images, scaled_dot_product_attention, false).size(), [2, 32]);
        let layers = vit.cls_per_layer(&images, scaled_dot_product_attention);
        assert_eq!(layers.len(), 3);
        // The last layer's CLS is the model's output.
        assert!(layers[2].allclose(&vit.forward_t(&images, scaled_dot_product_attention, false), 1e-6, 1e-6, false));
        // Each patch's token depends on its own pixels only: change one patch, and only that token moves (before the encoder).
        let changed = images.copy();
        let _ = changed.narrow(2, 0, 8).narrow(3, 8, 8).fill_(0.5);
        let moved = (vit.tokens(&changed) - vit.tokens(&images)).abs().sum_dim_intlist(-1, false, Kind::Float).get(0);
        let moved: Vec<f32> = Vec::try_from(moved.gt(1e-6).to_kind(Kind::Float)).unwrap();
        assert_eq!(moved.iter().sum::<f32>(), 1.0);
        assert_eq!(moved[2], 1.0, "the second patch of the first row is token 2 (after CLS)");
    }
}
