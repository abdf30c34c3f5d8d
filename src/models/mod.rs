//! Models used across the notebooks.
mod mlp;
mod shapes_autoencoder;
mod stl10_autoencoder;

pub use self::mlp::{Mlp, MlpConfig};
pub use self::shapes_autoencoder::{
    l2_normalize, ShapesDecoder, ShapesEncoder, ShapesEncoderConfig,
};
pub use self::stl10_autoencoder::{Stl10AutoencoderConfig, Stl10Decoder, Stl10Encoder};
