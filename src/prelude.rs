//! Everything a notebook needs, for `use replearn::prelude::*;`.
//!
//! Losses are not here on purpose: the assignments ask students to write them
//! (the library's versions are in `replearn::losses`), and neither are the
//! CLIP projection heads (`replearn::models::ProjectionHead`).
pub use crate::augment::{
    augmentation_figure, center_crop, AugmentationSet, Augmenter, RandomCropFlip,
};
pub use crate::data::{
    data_dir, flickr8k_or_captioned_shapes, stl10_or_stand_in, CaptionedShapesConfig, Flickr8k,
    ShapeKind, Shapes, ShapesConfig, Stl10, Stl10Source, Stl10Split, Stl10StandInConfig, TwoMoons,
    STL10_CLASSES,
};
pub use crate::eval::{
    encode_shapes, knn_accuracy, nearest_neighbours, query_indices, FactorTable,
};
pub use crate::grading::{check_notebook, Credit};
pub use crate::models::{
    l2_normalize, ClipModel, ImageEncoder, ImageEncoderKind, Mlp, MlpConfig, ShapesDecoder,
    ShapesEncoder, ShapesEncoderConfig, Stl10AutoencoderConfig, Stl10Decoder, Stl10Encoder,
    TextEncoder,
};
pub use crate::train::{
    clip_image_embeddings, load_checkpoint, load_images_u8, save_checkpoint, stl10_accuracy,
    train_autoencoder, train_clip, train_contrastive, train_stl10_autoencoder,
    train_stl10_classifier, ClipTrainConfig, History, Progress, TrainConfig, STL10_CROP,
};
pub use crate::viz::{
    image_figure, make_grid, nn_grid, retrieval_grid, shapes_nn_grid, show_images, Display as _,
    Figure, GridConfig, LinePlot,
};
pub use crate::{device, seed, DeviceReport, Error, Result};
pub use tch::nn::{self, Module, ModuleT, OptimizerConfig};
pub use tch::{Device, Kind, Tensor};
