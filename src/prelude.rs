//! Everything a notebook needs, for `use replearn::prelude::*;`.
//!
//! Losses are not here on purpose: the assignments ask students to write them
//! (the library's versions are in `replearn::losses`).
pub use crate::augment::{
    augmentation_figure, center_crop, AugmentationSet, Augmenter, RandomCropFlip,
};
pub use crate::data::{
    data_dir, stl10_or_stand_in, ShapeKind, Shapes, ShapesConfig, Stl10, Stl10Source, Stl10Split,
    Stl10StandInConfig, TwoMoons, STL10_CLASSES,
};
pub use crate::eval::{
    encode_shapes, knn_accuracy, nearest_neighbours, query_indices, FactorTable,
};
pub use crate::grading::{check_notebook, Credit};
pub use crate::models::{
    l2_normalize, Mlp, MlpConfig, ShapesDecoder, ShapesEncoder, ShapesEncoderConfig,
    Stl10AutoencoderConfig, Stl10Decoder, Stl10Encoder,
};
pub use crate::train::{
    load_checkpoint, save_checkpoint, stl10_accuracy, train_autoencoder, train_contrastive,
    train_stl10_autoencoder, train_stl10_classifier, History, Progress, TrainConfig, STL10_CROP,
};
pub use crate::viz::{
    image_figure, make_grid, nn_grid, shapes_nn_grid, show_images, Display as _, Figure,
    GridConfig, LinePlot,
};
pub use crate::{device, seed, DeviceReport, Error, Result};
pub use tch::nn::{self, Module, ModuleT, OptimizerConfig};
pub use tch::{Device, Kind, Tensor};
