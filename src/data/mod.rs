//! Data sets: generated ones that need no download, and readers for real formats.
mod shapes;
mod two_moons;

pub use self::shapes::{hue_to_rgb, ShapeFactors, ShapeKind, Shapes, ShapesConfig, SHAPES_TRAIN_LEN};

pub use self::two_moons::TwoMoons;
