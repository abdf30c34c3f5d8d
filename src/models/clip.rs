//! CLIP: an image encoder and a text encoder, each followed by a projection
//! head into one embedding space, L2-normalised, compared by dot product.
use super::{l2_normalize, ImageEncoder, TextEncoder};
use crate::Result;
use tch::nn::{self, ModuleT};
use tch::Tensor;

/// The two towers and their heads. The heads' parameters live in `heads_vs`;
/// the encoders own theirs. Build it with a struct literal: every part is public.
#[derive(Debug)]
pub struct ClipModel {
    pub image: ImageEncoder,
    pub text: TextEncoder,
    pub heads_vs: nn::VarStore,
    /// `[B, image features] -> [B, D]`.
    pub image_head: Box<dyn ModuleT>,
    /// `[B, 384] -> [B, D]`.
    pub text_head: Box<dyn ModuleT>,
    /// Softmax temperature of the logits (0.07 in the original).
    pub temperature: f64,
}

impl ClipModel {
    /// Unit-length image embeddings `[B, D]` of images `[B, 3, H, W]` in [0, 1].
    /// `train` runs batch norms and dropout in training mode.
    pub fn image_embeddings(&self, images: &Tensor, train: bool) -> Tensor {
        l2_normalize(
            &self
                .image_head
                .forward_t(&self.image.forward_t(images, train), train),
        )
    }

    /// Unit-length text embeddings `[B, D]`, from the text encoder's mean-pooled states.
    pub fn text_embeddings(&self, captions: &[&str], train: bool) -> Result<Tensor> {
        Ok(self.text_features_to_embeddings(&self.text.pooled(captions)?, train))
    }

    /// The text head and normalisation on already pooled text features `[B, 384]`.
    pub fn text_features_to_embeddings(&self, features: &Tensor, train: bool) -> Tensor {
        l2_normalize(&self.text_head.forward_t(features, train))
    }
}
