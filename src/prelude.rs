//! Everything a notebook needs, for `use replearn::prelude::*;`.
pub use crate::augment::{augmentation_figure, AugmentationSet, Augmenter};
pub use crate::data::{ShapeKind, Shapes, ShapesConfig, TwoMoons};
pub use crate::models::{l2_normalize, Mlp, MlpConfig, ShapesDecoder, ShapesEncoder, ShapesEncoderConfig};
pub use crate::train::{History, Progress};
pub use crate::viz::{
    image_figure, make_grid, show_images, Display as _, Figure, GridConfig, LinePlot,
};
pub use crate::{device, seed, DeviceReport, Error, Result};
pub use tch::nn::{self, Module, ModuleT, OptimizerConfig};
pub use tch::{Device, Kind, Tensor};
