//! Captioned shapes: the offline stand-in for Flickr8k, written in Flickr8k's
//! layout. Each image shows one shape; its captions name the colour, the shape,
//! the size and where it is ("a red triangle in the upper left").
use super::source::write_stand_in_once;
use super::{CaptionedImage, DataChoice, Flickr8k, ShapeFactors, Shapes, ShapesConfig};
use crate::Result;
use std::path::Path;

/// What [`write_captioned_shapes`] writes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaptionedShapesConfig {
    /// Number of images (three captions each).
    pub len: usize,
    /// Side of the images in pixels.
    pub image_size: usize,
    pub seed: u64,
}

impl Default for CaptionedShapesConfig {
    fn default() -> Self {
        CaptionedShapesConfig {
            len: 2_000,
            image_size: 64,
            seed: 8,
        }
    }
}

/// Six colour names around the hue circle, each covering 60 degrees.
pub fn colour_name(hue: f32) -> &'static str {
    const NAMES: [&str; 6] = ["red", "yellow", "green", "cyan", "blue", "magenta"];
    NAMES[((hue.rem_euclid(1.0) * 6.0 + 0.5) as usize) % 6]
}

/// Where in a 3x3 board the centre lies, as a phrase ("in the upper left", "at the top", ...).
pub fn location_phrase(x: f32, y: f32, image_size: f32) -> &'static str {
    const PHRASES: [[&str; 3]; 3] = [
        ["in the upper left", "at the top", "in the upper right"],
        ["on the left", "in the centre", "on the right"],
        ["in the lower left", "at the bottom", "in the lower right"],
    ];
    let cell = |v: f32| ((v / image_size * 3.0).floor() as i64).clamp(0, 2) as usize;
    PHRASES[cell(y)][cell(x)]
}

/// The three captions of one image.
pub fn captions_of(f: &ShapeFactors, image_size: f32) -> Vec<String> {
    let (colour, kind, place) = (
        colour_name(f.hue),
        f.kind.name(),
        location_phrase(f.x, f.y, image_size),
    );
    let size = match f.size / image_size {
        s if s < 0.22 => "small",
        s if s > 0.36 => "large",
        _ => "medium-sized",
    };
    vec![
        format!("a {colour} {kind} {place}"),
        format!("a {size} {colour} {kind}"),
        format!("there is a {colour} {kind} {place} on a black background"),
    ]
}

/// Writes `config.len` shapes with their captions into `dir` in Flickr8k's layout.
pub fn write_captioned_shapes(dir: impl AsRef<Path>, config: &CaptionedShapesConfig) -> Result<()> {
    let s = config.image_size;
    let shapes = Shapes::generate(&ShapesConfig {
        len: config.len,
        image_size: s,
        seed: config.seed,
        ..ShapesConfig::default()
    })?;
    let indices: Vec<i64> = (0..config.len as i64).collect();
    let bytes = shapes.render_u8(&indices)?;
    let plane = s * s;
    let items: Vec<(CaptionedImage, image::RgbImage)> = shapes
        .factors
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let chw = &bytes[i * 3 * plane..(i + 1) * 3 * plane];
            let img = image::RgbImage::from_fn(s as u32, s as u32, |x, y| {
                let at = y as usize * s + x as usize;
                image::Rgb([chw[at], chw[plane + at], chw[2 * plane + at]])
            });
            (
                CaptionedImage {
                    image: format!("shape_{i:05}.jpg"),
                    captions: captions_of(f, s as f32),
                },
                img,
            )
        })
        .collect();
    Flickr8k::write(dir, &items)
}

/// Flickr8k from `real` when its `captions.txt` is there; otherwise the
/// captioned shapes in `stand_in`, written with `config` unless already there.
/// Load the chosen folder with [`Flickr8k::load`].
pub fn flickr8k_or_captioned_shapes(
    real: impl AsRef<Path>,
    stand_in: impl AsRef<Path>,
    config: &CaptionedShapesConfig,
) -> Result<DataChoice> {
    let real = real.as_ref();
    let choice = |dir: &Path, stand_in| DataChoice {
        dir: dir.to_path_buf(),
        stand_in,
        name: "Flickr8k",
        stand_in_name: "captioned shapes in Flickr8k's layout",
    };
    if real.join("captions.txt").is_file() {
        return Ok(choice(real, false));
    }
    let dir = stand_in.as_ref();
    write_stand_in_once(dir, config, |d, c| write_captioned_shapes(d, c))?;
    Ok(choice(dir, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ImageSet, ShapeKind};

    #[test]
    fn captions_name_colour_shape_size_and_place() {
        let f = ShapeFactors {
            kind: ShapeKind::Triangle,
            hue: 0.98,
            x: 5.0,
            y: 10.0,
            size: 10.0,
            rotation: 0.0,
        };
        assert_eq!(
            captions_of(&f, 64.0),
            [
                "a red triangle in the upper left",
                "a small red triangle",
                "there is a red triangle in the upper left on a black background"
            ]
        );
        assert_eq!(colour_name(0.66), "blue");
        assert_eq!(colour_name(0.17), "yellow");
        assert_eq!(location_phrase(32.0, 60.0, 64.0), "at the bottom");
        assert_eq!(location_phrase(70.0, 32.0, 64.0), "on the right");
    }

    #[test]
    fn written_in_flickr8ks_layout_and_read_back_by_its_reader() {
        let dir = tempfile::tempdir().unwrap();
        let config = CaptionedShapesConfig {
            len: 6,
            image_size: 32,
            seed: 1,
        };
        let choice = flickr8k_or_captioned_shapes(
            dir.path().join("Flickr8k"),
            dir.path().join("shapes"),
            &config,
        )
        .unwrap();
        assert!(choice.stand_in);
        let set = Flickr8k::load(&choice.dir).unwrap().with_image_size(32);
        assert_eq!(set.len(), 6);
        assert_eq!(set.pairs(true).len(), 18);
        let header = std::fs::read_to_string(dir.path().join("shapes/captions.txt")).unwrap();
        assert!(
            header.starts_with("image,caption\nshape_00000.jpg,a "),
            "{header}"
        );
        let images = set.images(&[0, 5], tch::Device::Cpu).unwrap();
        assert_eq!(images.size(), [2, 3, 32, 32]);
        // A shape on black: some pixels lit, most dark.
        let lit = images
            .get(0)
            .sum_dim_intlist([0].as_slice(), false, tch::Kind::Float)
            .gt(0.1)
            .sum(tch::Kind::Int64)
            .int64_value(&[]);
        assert!(lit > 5 && lit < 32 * 32 / 2, "{lit}");
        // The real data set wins once its captions.txt exists.
        write_captioned_shapes(
            dir.path().join("Flickr8k"),
            &CaptionedShapesConfig { len: 2, ..config },
        )
        .unwrap();
        let choice = flickr8k_or_captioned_shapes(
            dir.path().join("Flickr8k"),
            dir.path().join("shapes"),
            &config,
        )
        .unwrap();
        assert!(!choice.stand_in);
        assert_eq!(Flickr8k::load(&choice.dir).unwrap().len(), 2);
    }
}
