//! Everything a notebook needs, for `use replearn::prelude::*;`.
//!
//! Losses are not here on purpose: the assignments ask students to write them
//! (the library's versions are in `replearn::losses`).
pub use crate::augment::{augmentation_figure, AugmentationSet, Augmenter};
pub use crate::data::{ShapeKind, Shapes, ShapesConfig, TwoMoons};
pub use crate::grading::{check_notebook, Credit};
pub use crate::eval::{encode_shapes, knn_accuracy, nearest_neighbours, query_indices, FactorTable};
pub use crate::models::{l2_normalize, Mlp, MlpConfig, ShapesDecoder, ShapesEncoder, ShapesEncoderConfig};
pub use crate::train::{
    load_checkpoint, save_checkpoint, train_autoencoder, train_contrastive, History, Progress, TrainConfig,
};
pub use crate::viz::{
    image_figure, make_grid, nn_grid, shapes_nn_grid, show_images, Display as _, Figure, GridConfig, LinePlot,
};
pub use crate::{device, seed, DeviceReport, Error, Result};
pub use tch::nn::{self, Module, ModuleT, OptimizerConfig};
pub use tch::{Device, Kind, Tensor};
