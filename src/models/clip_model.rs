//! CLIP: an image encoder and the (frozen) text encoder's sentence features,
//! each followed by a projection head into one embedding space, L2-normalised
//! and compared by dot product. The reference answer to the CLIP notebook's
//! model (behind the `solutions` feature).
use super::ops::l2_normalize;
use super::{ClipEmbedder, ImageEncoder, ProjectionHead, ProjectionHeadConfig, ProjectionKind};
use tch::nn::{self, ModuleT};
use tch::Tensor;

/// Sizes of a [`ClipModel`]'s heads; the default is the original's: residual
/// heads to 256 with dropout 0.1, from MiniLM's 384 text features.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipConfig {
    /// Width of the text encoder's features.
    pub text_features: i64,
    /// Width of the shared embedding space.
    pub embedding: i64,
    pub head: ProjectionKind,
    pub dropout: f64,
}

impl Default for ClipConfig {
    fn default() -> Self {
        ClipConfig {
            text_features: 384,
            embedding: 256,
            head: ProjectionKind::Residual,
            dropout: 0.1,
        }
    }
}

/// An image encoder and two projection heads.
#[derive(Debug)]
pub struct ClipModel {
    pub image: ImageEncoder,
    image_head: ProjectionHead,
    text_head: ProjectionHead,
}

impl ClipModel {
    /// The heads under `heads` (`heads/image`, `heads/text`), on top of `image`
    /// (built under its own path: the parts train at different rates).
    pub fn new(image: ImageEncoder, heads: &nn::Path, config: &ClipConfig) -> ClipModel {
        let head = |name: &str, input| {
            ProjectionHead::new(
                &(heads / name),
                &ProjectionHeadConfig {
                    input,
                    output: config.embedding,
                    kind: config.head,
                    dropout: config.dropout,
                },
            )
        };
        ClipModel {
            image_head: head("image", image.features()),
            text_head: head("text", config.text_features),
            image,
        }
    }
}

impl ClipEmbedder for ClipModel {
    fn image_embeddings(&self, images: &Tensor, train: bool) -> Tensor {
        l2_normalize(
            &self
                .image_head
                .forward_t(&self.image.forward_t(images, train), train),
        )
    }

    fn text_embeddings(&self, text_features: &Tensor, train: bool) -> Tensor {
        l2_normalize(&self.text_head.forward_t(text_features, train))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ImageEncoderConfig;
    use tch::{Device, Kind};

    #[test]
    fn embeddings_have_unit_rows_of_the_configured_width() {
        let _rng = crate::seed::seeded_test(0);
        let (image_vs, heads_vs) = (nn::VarStore::new(Device::Cpu), nn::VarStore::new(Device::Cpu));
        let image = ImageEncoder::new(&image_vs.root(), &ImageEncoderConfig::default());
        let clip = ClipModel::new(image, &heads_vs.root(), &ClipConfig { embedding: 16, ..Default::default() });
        let i = clip.image_embeddings(&Tensor::rand([3, 3, 32, 32], (Kind::Float, Device::Cpu)), false);
        let t = clip.text_embeddings(&Tensor::randn([3, 384], (Kind::Float, Device::Cpu)), false);
        for e in [i, t] {
            assert_eq!(e.size(), [3, 16]);
            let norms = Vec::<f32>::try_from(e.norm_scalaropt_dim(2.0, [1].as_slice(), false)).unwrap();
            assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-5), "{norms:?}");
        }
        let names: Vec<String> = heads_vs.variables().into_keys().collect();
        assert!(names.iter().any(|n| n == "image.projection.weight") && names.iter().any(|n| n == "text.layer_norm.bias"), "{names:?}");
    }
}
