//! Data sets: generated ones that need no download, and readers for real
//! formats. Every image set follows one batching contract, [`ImageSet`];
//! every real data set has an offline stand-in in its own file format, and a
//! picker that returns a [`DataChoice`].
mod captioned_shapes;
mod digits;
mod flickr8k;
mod image_set;
mod mnist;
mod shapes;
mod source;
mod stl10;
mod stl10_stand_in;
mod swiss_roll;
mod two_moons;

pub use self::captioned_shapes::{
    captioned_scenes, captions_of, colour_name, flickr8k_or_captioned_shapes, location_phrase, size_word,
    write_captioned_shapes, CaptionedShapesConfig,
};
pub use self::digits::{scikit_learn_digits_path, Digits};
pub use self::flickr8k::{CaptionedImage, Flickr8k};
pub use self::image_set::{ImageSet, TensorImages};
pub use self::mnist::{load_mnist, mnist_or_digits, read_idx, write_idx, DigitsChoice, FlatDigits, MnistSplit};
pub use self::shapes::{
    hue_to_rgb, ShapeFactors, ShapeKind, Shapes, ShapesConfig, SHAPES_TRAIN_LEN,
};
pub use self::source::{data_dir, DataChoice};
pub use self::stl10::{Stl10, Stl10Split, STL10_CLASSES, STL10_SIZE};
pub use self::stl10_stand_in::{
    stl10_or_stand_in, write_stl10_stand_in, Stl10StandInConfig, STL10_STAND_IN_CLASSES,
};
pub use self::swiss_roll::SwissRoll;
pub use self::two_moons::TwoMoons;
