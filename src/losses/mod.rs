//! Training objectives: the reference answers to the assignments' loss FIXMEs,
//! for the library's own tests, examples and benchmarks.
mod info_nce;
mod nt_xent;
mod reconstruction;
mod stl10;

pub use self::info_nce::{info_nce, symmetric_info_nce};
pub use self::nt_xent::{nt_xent, scaled_symmetric_info_nce};
pub use self::reconstruction::reconstruction_loss;
pub use self::stl10::{stl10_autoencoder_loss, stl10_classifier_loss};
