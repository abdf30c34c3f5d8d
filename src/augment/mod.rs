//! Augmentations for contrastive learning, on batches of tensors (CPU or GPU).
mod colour;
mod crop;
pub mod geometry;
mod sets;

pub use self::colour::{
    adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation, grayscale, hsv_to_rgb,
    rgb_to_hsv,
};
pub use self::crop::{center_crop, RandomCropFlip};
pub use self::sets::{augmentation_figure, black_fraction, AugmentationSet, Augmenter};
