//! Numerical companions to the written questions: geometry of groups on the
//! sphere, alignment and uniformity, and cross-entropy as a dual encoder.
mod dual_encoder;
mod sphere;

pub use self::dual_encoder::{classifier_cross_entropy, dual_encoder_loss};
pub use self::sphere::{
    alignment, diameter, diameter_below_some_margin, diameters_below_all_margins, margin,
    on_circle, perfect_accuracy, uniformity,
};
