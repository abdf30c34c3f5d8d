//! Training: the assignments' loops, progress display, loss history, checkpoints.
mod checkpoint;
mod history;
mod progress;
mod shapes_training;

pub use self::checkpoint::{load_checkpoint, save_checkpoint};
pub use self::history::History;
pub use self::progress::Progress;
pub use self::shapes_training::{train_autoencoder, train_contrastive, ContrastiveLossFn, ReconstructionLossFn, TrainConfig};
