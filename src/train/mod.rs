//! Training: the assignments' loops, progress display, loss history, checkpoints.
mod checkpoint;
mod clip_training;
mod config;
mod history;
mod progress;
mod shapes_training;
mod stl10_training;

pub use self::checkpoint::{load_checkpoint, save_checkpoint};
pub use self::clip_training::{
    clip_image_embeddings, load_images_u8, train_clip, ClipLossFn, ClipTrainConfig,
};
pub use self::config::TrainConfig;
pub use self::history::History;
pub use self::progress::Progress;
pub use self::shapes_training::{
    train_autoencoder, train_contrastive, ContrastiveLossFn, ReconstructionLossFn,
};
pub use self::stl10_training::{
    stl10_accuracy, stl10_autoencoder_step, stl10_classifier_step, train_stl10_autoencoder,
    train_stl10_classifier, AutoencoderStepFn, ClassifierStepFn, STL10_CROP,
};
