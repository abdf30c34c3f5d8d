//! Training objectives.
mod info_nce;
mod reconstruction;

pub use self::info_nce::{info_nce, symmetric_info_nce};
pub use self::reconstruction::reconstruction_loss;
