//! Models used across the notebooks.
mod mlp;
mod shapes_autoencoder;

pub use self::mlp::{Mlp, MlpConfig};
pub use self::shapes_autoencoder::{l2_normalize, ShapesDecoder, ShapesEncoder, ShapesEncoderConfig};
