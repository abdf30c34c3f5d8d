//! Models used across the notebooks.
mod clip;
mod image_encoder;
mod mlp;
mod projection_head;
mod shapes_autoencoder;
mod stl10_autoencoder;
mod text_encoder;
mod weights;

pub use self::clip::ClipModel;
pub use self::image_encoder::{ImageEncoder, ImageEncoderKind};
pub use self::mlp::{Mlp, MlpConfig};
pub use self::projection_head::{ProjectionHead, ProjectionHeadConfig, ProjectionKind};
pub use self::shapes_autoencoder::{
    l2_normalize, ShapesDecoder, ShapesEncoder, ShapesEncoderConfig,
};
pub use self::stl10_autoencoder::{Stl10AutoencoderConfig, Stl10Decoder, Stl10Encoder};
pub use self::text_encoder::{mean_pool, minilm_dir, Bert, BertConfig, TextEncoder};
pub use self::weights::{load_weights, read_named_tensors, WeightsReport};
