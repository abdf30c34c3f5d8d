//! The shapes data set: one circle, square or triangle of a saturated colour on
//! black, 64x64 RGB, with every factor of variation kept as a label.
//!
//! Generated, seeded and deterministic, so every notebook has it offline. Only
//! the factors are stored (a few bytes per image); pixels are drawn as u8 when a
//! batch is asked for and converted to float there, so the default 64,000
//! images cost about 2 MB of memory and a batch of 256 takes about a millisecond.
use super::ImageSet;
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

/// Which shape an image shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShapeKind {
    Circle = 0,
    Square = 1,
    Triangle = 2,
}

impl ShapeKind {
    pub const ALL: [ShapeKind; 3] = [ShapeKind::Circle, ShapeKind::Square, ShapeKind::Triangle];

    pub fn name(self) -> &'static str {
        match self {
            ShapeKind::Circle => "circle",
            ShapeKind::Square => "square",
            ShapeKind::Triangle => "triangle",
        }
    }
}

/// The factors of one image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShapeFactors {
    pub kind: ShapeKind,
    /// Hue in [0, 1) around the colour wheel (saturation and value are 1).
    pub hue: f32,
    /// Centre, in pixels from the top-left corner; may lie near or past the border.
    pub x: f32,
    pub y: f32,
    /// Extent in pixels: the circle's diameter, the square's and the triangle's side.
    pub size: f32,
    /// Rotation in radians (0 for circles).
    pub rotation: f32,
}

/// How to generate a [`Shapes`] set.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapesConfig {
    /// Number of images.
    pub len: usize,
    /// Side of the square images, in pixels.
    pub image_size: usize,
    /// Range of [`ShapeFactors::size`].
    pub min_size: f32,
    pub max_size: f32,
    pub seed: u64,
}

impl Default for ShapesConfig {
    /// The original's 64,000 images of 64x64 (split 40,000 train / 24,000 val).
    fn default() -> Self {
        ShapesConfig {
            len: 64_000,
            image_size: 64,
            min_size: 8.0,
            max_size: 30.0,
            seed: 0,
        }
    }
}

/// A generated set of shape images with their factors.
#[derive(Debug, Clone, PartialEq)]
pub struct Shapes {
    pub factors: Vec<ShapeFactors>,
    pub image_size: usize,
}

/// The original's split: the first 40,000 images train, the last 24,000 validate.
pub const SHAPES_TRAIN_LEN: usize = 40_000;

impl Shapes {
    /// Draws the factors of `config.len` images from `config.seed`.
    pub fn generate(config: &ShapesConfig) -> Result<Shapes> {
        if config.image_size < 8 {
            return Err(Error::invalid("ShapesConfig::image_size", config.image_size, "must be at least 8"));
        }
        if !(config.min_size > 0.0 && config.min_size <= config.max_size) {
            return Err(Error::invalid(
                "ShapesConfig::min_size..max_size",
                format!("{}..{}", config.min_size, config.max_size),
                "needs 0 < min_size <= max_size",
            ));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let side = config.image_size as f32;
        let factors = (0..config.len)
            .map(|_| {
                let kind = ShapeKind::ALL[rng.random_range(0..3)];
                let hue = rng.random::<f32>();
                let x = rng.random::<f32>() * side;
                let y = rng.random::<f32>() * side;
                let size = rng.random_range(config.min_size..=config.max_size);
                let rotation = match kind {
                    ShapeKind::Circle => 0.0,
                    _ => rng.random::<f32>() * std::f32::consts::TAU,
                };
                ShapeFactors {
                    kind,
                    hue,
                    x,
                    y,
                    size,
                    rotation,
                }
            })
            .collect();
        Ok(Shapes {
            factors,
            image_size: config.image_size,
        })
    }

    /// The default set split as in the original: (first 40,000, last 24,000).
    pub fn default_split(seed: u64) -> Result<(Shapes, Shapes)> {
        let all = Shapes::generate(&ShapesConfig {
            seed,
            ..ShapesConfig::default()
        })?;
        Ok(all.split_at(SHAPES_TRAIN_LEN))
    }

    /// Splits into the first `n` images and the rest.
    pub fn split_at(&self, n: usize) -> (Shapes, Shapes) {
        let n = n.min(self.len());
        let part = |f: &[ShapeFactors]| Shapes {
            factors: f.to_vec(),
            image_size: self.image_size,
        };
        (part(&self.factors[..n]), part(&self.factors[n..]))
    }

    /// Draws images as u8, CHW planes one image after another (`[B, 3, S, S]` order).
    pub fn render_u8(&self, indices: &[i64]) -> Result<Vec<u8>> {
        let s = self.image_size;
        let mut out = vec![0u8; indices.len() * 3 * s * s];
        for (slot, &i) in indices.iter().enumerate() {
            let f = self.get(i)?;
            draw(f, s, &mut out[slot * 3 * s * s..(slot + 1) * 3 * s * s]);
        }
        Ok(out)
    }

    fn get(&self, i: i64) -> Result<&ShapeFactors> {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.factors.get(i))
            .ok_or_else(|| {
                Error::invalid(
                    "image index",
                    i,
                    format!("out of range for a set of {} images", self.len()),
                )
            })
    }

    /// Shape labels `[N]` (0 circle, 1 square, 2 triangle) of the whole set.
    pub fn shape_labels(&self) -> Tensor {
        let v: Vec<i64> = self.factors.iter().map(|f| f.kind as i64).collect();
        Tensor::from_slice(&v)
    }

    /// Hue bin of each image `[N]`: the colour wheel cut into `bins` equal arcs.
    pub fn hue_bins(&self, bins: usize) -> Tensor {
        let v: Vec<i64> = self
            .factors
            .iter()
            .map(|f| ((f.hue * bins as f32) as i64).min(bins as i64 - 1))
            .collect();
        Tensor::from_slice(&v)
    }

    /// Location bin of each image `[N]`: the image cut into a `grid` x `grid` board
    /// of equal cells, numbered row by row; centres outside are clamped in.
    pub fn location_bins(&self, grid: usize) -> Tensor {
        let cell = self.image_size as f32 / grid as f32;
        let bin = |c: f32| ((c / cell) as i64).clamp(0, grid as i64 - 1);
        let v: Vec<i64> = self
            .factors
            .iter()
            .map(|f| bin(f.y) * grid as i64 + bin(f.x))
            .collect();
        Tensor::from_slice(&v)
    }
}

impl ImageSet for Shapes {
    fn len(&self) -> usize {
        self.factors.len()
    }

    /// Images `[B, 3, S, S]` in [0, 1] on `device` (the shapes models scale
    /// them to the original's [-1, 1] themselves).
    fn images(&self, indices: &[i64], device: Device) -> Result<Tensor> {
        let s = self.image_size as i64;
        let bytes = self.render_u8(indices)?;
        let t = Tensor::from_slice(&bytes)
            .reshape([indices.len() as i64, 3, s, s])
            .to_device(device);
        Ok(t.to_kind(Kind::Float) / 255.0)
    }

    /// The shape of each image (0 circle, 1 square, 2 triangle).
    fn labels(&self) -> Option<Tensor> {
        Some(self.shape_labels())
    }

    fn class_names(&self) -> Vec<String> {
        ShapeKind::ALL.iter().map(|k| k.name().to_string()).collect()
    }
}

/// Saturated colour of a hue in [0, 1): HSV with S = V = 1, as RGB bytes.
pub fn hue_to_rgb(hue: f32) -> [u8; 3] {
    let h = hue.rem_euclid(1.0) * 6.0;
    let x = 1.0 - ((h % 2.0) - 1.0).abs();
    let (r, g, b) = match h as u32 {
        0 => (1.0, x, 0.0),
        1 => (x, 1.0, 0.0),
        2 => (0.0, 1.0, x),
        3 => (0.0, x, 1.0),
        4 => (x, 0.0, 1.0),
        _ => (1.0, 0.0, x),
    };
    [
        (r * 255.0f32).round() as u8,
        (g * 255.0f32).round() as u8,
        (b * 255.0f32).round() as u8,
    ]
}

/// Whether the point (px, py) (pixel centre coordinates) lies inside the shape.
pub fn contains(f: &ShapeFactors, px: f32, py: f32) -> bool {
    let (dx, dy) = (px - f.x, py - f.y);
    // Rotate the point by -rotation into the shape's own frame.
    let (sin, cos) = f.rotation.sin_cos();
    let (u, v) = (cos * dx + sin * dy, -sin * dx + cos * dy);
    let half = f.size / 2.0;
    match f.kind {
        ShapeKind::Circle => dx * dx + dy * dy <= half * half,
        ShapeKind::Square => u.abs() <= half && v.abs() <= half,
        ShapeKind::Triangle => {
            // Equilateral, centroid at the centre, one vertex pointing up (-v) before rotation.
            let r = f.size / 3f32.sqrt();
            let verts = [0.0f32, 120.0, 240.0].map(|deg| {
                let a = (deg - 90.0f32).to_radians();
                (r * a.cos(), r * a.sin())
            });
            let edge = |(ax, ay): (f32, f32), (bx, by): (f32, f32)| {
                (bx - ax) * (v - ay) - (by - ay) * (u - ax)
            };
            let e = [
                edge(verts[0], verts[1]),
                edge(verts[1], verts[2]),
                edge(verts[2], verts[0]),
            ];
            e.iter().all(|&x| x >= 0.0) || e.iter().all(|&x| x <= 0.0)
        }
    }
}

/// Paints one shape into `chw` (`[3, s, s]` planes), over what is there.
pub(crate) fn draw(f: &ShapeFactors, s: usize, chw: &mut [u8]) {
    let rgb = hue_to_rgb(f.hue);
    let reach = f.size; // covers the triangle's circumradius and the square's half diagonal
    let lo = |c: f32| ((c - reach).floor().max(0.0)) as usize;
    let hi = |c: f32| ((c + reach).ceil().max(0.0) as usize).min(s);
    for y in lo(f.y)..hi(f.y) {
        for x in lo(f.x)..hi(f.x) {
            if contains(f, x as f32 + 0.5, y as f32 + 0.5) {
                for (c, value) in rgb.iter().enumerate() {
                    chw[c * s * s + y * s + x] = *value;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(kind: ShapeKind, size: f32, rotation: f32) -> Shapes {
        Shapes {
            factors: vec![ShapeFactors {
                kind,
                hue: 0.0,
                x: 32.0,
                y: 32.0,
                size,
                rotation,
            }],
            image_size: 64,
        }
    }

    fn area(shapes: &Shapes) -> usize {
        shapes.render_u8(&[0]).unwrap()[..64 * 64]
            .iter()
            .filter(|&&p| p > 0)
            .count()
    }

    #[test]
    fn pixel_areas_match_geometry() {
        // Independent check: pixel counts against the exact areas.
        let circle = area(&one(ShapeKind::Circle, 20.0, 0.0)) as f32;
        assert!(
            (circle - std::f32::consts::PI * 100.0).abs() < 20.0,
            "circle {circle}"
        );
        let square = area(&one(ShapeKind::Square, 20.0, 0.3)) as f32;
        assert!((square - 400.0).abs() < 20.0, "square {square}");
        let tri = area(&one(ShapeKind::Triangle, 20.0, 1.0)) as f32;
        assert!(
            (tri - 3f32.sqrt() / 4.0 * 400.0).abs() < 20.0,
            "triangle {tri}"
        );
    }

    #[test]
    fn colour_is_saturated_hue_on_black() {
        assert_eq!(hue_to_rgb(0.0), [255, 0, 0]);
        assert_eq!(hue_to_rgb(1.0 / 3.0), [0, 255, 0]);
        assert_eq!(hue_to_rgb(2.0 / 3.0), [0, 0, 255]);
        let s = one(ShapeKind::Square, 10.0, 0.0);
        let img = s.images(&[0], Device::Cpu).unwrap();
        assert_eq!(img.size(), vec![1, 3, 64, 64]);
        assert_eq!(img.double_value(&[0, 0, 32, 32]), 1.0);
        assert_eq!(img.double_value(&[0, 1, 32, 32]), 0.0);
        assert_eq!(img.double_value(&[0, 0, 0, 0]), 0.0, "background is black");
    }

    #[test]
    fn generation_is_seeded_and_factors_are_in_range() {
        let cfg = ShapesConfig {
            len: 500,
            seed: 3,
            ..Default::default()
        };
        let a = Shapes::generate(&cfg).unwrap();
        assert_eq!(a, Shapes::generate(&cfg).unwrap());
        assert_ne!(
            a,
            Shapes::generate(&ShapesConfig {
                seed: 4,
                ..cfg.clone()
            })
            .unwrap()
        );
        for f in &a.factors {
            assert!((8.0..=30.0).contains(&f.size) && (0.0..1.0).contains(&f.hue));
            assert!((0.0..64.0).contains(&f.x) && (0.0..64.0).contains(&f.y));
        }
        let counts = a.shape_labels().bincount::<Tensor>(None, 3);
        assert!(
            Vec::<i64>::try_from(counts)
                .unwrap()
                .iter()
                .all(|&c| c > 130),
            "all three shapes appear"
        );
    }

    #[test]
    fn bins_and_split() {
        let s = Shapes {
            factors: vec![
                ShapeFactors {
                    kind: ShapeKind::Circle,
                    hue: 0.99,
                    x: 1.0,
                    y: 63.0,
                    size: 9.0,
                    rotation: 0.0,
                },
                ShapeFactors {
                    kind: ShapeKind::Triangle,
                    hue: 0.1,
                    x: 40.0,
                    y: 10.0,
                    size: 9.0,
                    rotation: 0.0,
                },
            ],
            image_size: 64,
        };
        assert_eq!(Vec::<i64>::try_from(s.hue_bins(6)).unwrap(), vec![5, 0]);
        assert_eq!(
            Vec::<i64>::try_from(s.location_bins(3)).unwrap(),
            vec![6, 1]
        );
        let (a, b) = s.split_at(1);
        assert_eq!((a.len(), b.len()), (1, 1));
        assert!(s
            .images(&[2], Device::Cpu)
            .unwrap_err()
            .to_string()
            .contains("out of range"));
    }
}
