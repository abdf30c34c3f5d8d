//! Data sets: generated ones that need no download, and readers for real formats.
mod captioned_shapes;
mod data_dir;
mod flickr8k;
mod shapes;
mod stl10;
mod two_moons;

pub use self::shapes::{
    hue_to_rgb, ShapeFactors, ShapeKind, Shapes, ShapesConfig, SHAPES_TRAIN_LEN,
};

pub use self::captioned_shapes::{
    captions_of, colour_name, flickr8k_or_captioned_shapes, location_phrase,
    write_captioned_shapes, CaptionedShapesConfig,
};
pub use self::data_dir::data_dir;
pub use self::flickr8k::{CaptionedImage, Flickr8k};
pub use self::stl10::{
    stl10_or_stand_in, write_stl10_stand_in, Stl10, Stl10Source, Stl10Split, Stl10StandInConfig,
    STL10_CLASSES, STL10_SIZE, STL10_STAND_IN_CLASSES,
};
pub use self::two_moons::TwoMoons;
