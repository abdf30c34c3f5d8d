//! Models used across the notebooks. Every model is built with
//! `new(&nn::Path, &Config)` (models with weights from a file also have
//! `from_pretrained`); networks with a train/eval difference implement
//! `ModuleT` only, the others `Module`. The models that answer a FIXME (the
//! STL-10 encoder and decoder, the projection head, the CLIP model, the
//! ViT assignment's attention) are behind
//! the `solutions` feature, which the kernel leaves off.
mod clip;
#[cfg(feature = "solutions")]
mod clip_model;
mod image_encoder;
mod mlp;
mod ops;
#[cfg(feature = "solutions")]
mod projection_head;
mod resnet_features;
mod shapes_autoencoder;
mod stl10_autoencoder;
mod text_encoder;
mod text_transformer;
mod transformer;
mod vae;
mod vit;
mod weights;

pub use self::clip::ClipEmbedder;
#[cfg(feature = "solutions")]
pub use self::clip_model::{ClipConfig, ClipModel};
pub use self::image_encoder::{ImageEncoder, ImageEncoderConfig, ImageEncoderKind};
pub use self::mlp::{Mlp, MlpConfig};
pub use self::ops::{l2_normalize, relu_between};
#[cfg(feature = "solutions")]
pub use self::projection_head::{ProjectionHead, ProjectionHeadConfig, ProjectionKind};
pub use self::resnet_features::{imagenet_normalize, ResNet18Features};
pub use self::shapes_autoencoder::{ShapesDecoder, ShapesEncoder, ShapesEncoderConfig};
pub use self::stl10_autoencoder::Stl10AutoencoderConfig;
#[cfg(feature = "solutions")]
pub use self::stl10_autoencoder::{Stl10Decoder, Stl10Encoder};
pub use self::text_encoder::{mean_pool, minilm_dir, Bert, BertConfig, HiddenStates, TextEncoder};
pub use self::text_transformer::{TextTransformer, TextTransformerConfig};
#[cfg(feature = "solutions")]
pub use self::transformer::scaled_dot_product_attention;
pub use self::transformer::{AttentionFn, Encoder, EncoderBlock, TransformerConfig};
pub use self::vae::{gaussian_kl, reparameterize, vae_loss, Vae, VaeConfig};
pub use self::vit::{Vit, VitConfig};
pub use self::weights::{load_weights, read_named_tensors, WeightsReport};
