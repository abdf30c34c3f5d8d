//! Everything a notebook needs, for `use replearn::prelude::*;` (the kernel
//! does it before the first cell).
//!
//! What students write is not here: the losses (`replearn::losses`), the
//! STL-10 encoder and decoder, the CLIP model and projection head, retrieval.
pub use crate::assignments::{self, clip, dry_part, lecture, shapes, stl10, vit};
pub use crate::augment::{
    augmentation_figure, black_fraction, center_crop, AugmentationSet, Augmenter, RandomCropFlip,
};
pub use crate::data::{
    data_dir, Digits, SwissRoll, flickr8k_or_captioned_shapes, stl10_or_stand_in, CaptionedShapesConfig, DataChoice,
    Flickr8k, ImageSet, ShapeKind, Shapes, ShapesConfig, Stl10, Stl10Split, Stl10StandInConfig,
    TensorImages, TwoMoons, STL10_CLASSES,
};
pub use crate::eval::{
    accuracy, encode_all, knn_accuracy, majority_fraction, nearest_neighbours, query_indices, FactorTable,
};
pub use crate::grading::{check_notebook, Credit};
pub use crate::models::{
    imagenet_normalize, l2_normalize, AttentionFn, ResNet18Features, TextTransformer, TextTransformerConfig, TransformerConfig, Vit, VitConfig, ClipEmbedder, ImageEncoder, ImageEncoderConfig, ImageEncoderKind, Mlp,
    MlpConfig, ShapesDecoder, ShapesEncoder, ShapesEncoderConfig, Stl10AutoencoderConfig,
    TextEncoder,
};
pub use crate::reduce::{self, Reducer};
pub use crate::train::{
    load_checkpoint, save_checkpoint, Budget, History, LoopConfig, ParamGroup, Progress, Trainer,
};
pub use crate::viz::{
    image_figure, labeled_grid, make_grid, nn_grid, retrieval_grid, shapes_nn_grid, show_images,
    BarChart, Display as _, Figure, GridConfig, Heatmap, LinePlot, ScatterGrid,
};
pub use crate::{device, seed, Context, DeviceReport, Error, Result};
pub use tch::nn::{self, Module, ModuleT, OptimizerConfig};
pub use tch::{Device, Kind, Tensor};
