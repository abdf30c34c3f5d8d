//! Models used across the notebooks.
mod mlp;

pub use self::mlp::{Mlp, MlpConfig};
