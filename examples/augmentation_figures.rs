//! Writes the augmentation figures of the shapes assignment to docs/:
//! four images per set, each with 14 random augmentations.
//!
//! `cargo run --release --example augmentation_figures`
use replearn::augment::{augmentation_figure, AugmentationSet};
use replearn::data::{ImageSet, Shapes, ShapesConfig};

fn main() -> replearn::Result<()> {
    let shapes = Shapes::generate(&ShapesConfig {
        len: 4,
        seed: 11,
        ..Default::default()
    })?;
    let images = shapes.images(&[0, 1, 2, 3], tch::Device::Cpu)?;
    for (set, name) in [
        (AugmentationSet::A, "a"),
        (AugmentationSet::B, "b"),
        (AugmentationSet::C, "c"),
    ] {
        let path = format!("docs/augmentations_{name}.png");
        augmentation_figure(&images, set, 14, 0)?.save(&path)?;
        println!("wrote {path}");
    }
    Ok(())
}
