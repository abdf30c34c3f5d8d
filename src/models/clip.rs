//! What CLIP training and evaluation need of a model: image embeddings and
//! caption embeddings in one space.
use tch::Tensor;

/// What CLIP training and evaluation need of a model: both kinds of embedding.
/// The library's `ClipModel` (a reference answer) implements it, and so does
/// the model a student writes in the CLIP notebook.
pub trait ClipEmbedder {
    /// Unit-length image embeddings `[B, D]` of images `[B, 3, H, W]` in [0, 1].
    /// `train` runs batch norms and dropout in training mode.
    fn image_embeddings(&self, images: &Tensor, train: bool) -> Tensor;

    /// Unit-length caption embeddings `[B, D]` from the text encoder's pooled
    /// features `[B, F]`.
    fn text_embeddings(&self, text_features: &Tensor, train: bool) -> Tensor;
}
