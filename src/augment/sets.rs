//! The three augmentation sets of the shapes assignment, on batches of images.
use super::colour::{adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation, grayscale};
use super::geometry::{
    crop_box, homography, invert, mul, rotation, scale_translate, shear, warp, Mat3, IDENTITY,
};
use crate::viz::{show_images, Figure, GridConfig};
use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::f64::consts::TAU;
use tch::{Kind, Tensor};

/// Which positive-pair augmentation (the original's parameters; black padding,
/// nearest interpolation, images in [0, 1]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AugmentationSet {
    /// Colour only: random grayscale (p 0.2), then colour jitter (brightness 0.3,
    /// contrast 0.3, saturation 0.9, hue 0.5) in a random order.
    A,
    /// Place and size: pad 24, rotation 0-360, random resized crop to the
    /// image size (scale 0.2-0.6, ratio 1).
    B,
    /// Shape: pad 16, rotation 0-360; with p 0.7 an affine map (translate 0.3,
    /// shear +-80 on both axes) then a perspective distortion (0.6); random
    /// resized crop (scale 0.4-0.8, ratio 0.2-5); rotation 0-360.
    C,
}

/// Draws augmentations of batches from its own seeded generator. An owned
/// value, so it can live in a notebook variable across cells.
#[derive(Debug, Clone)]
pub struct Augmenter {
    pub set: AugmentationSet,
    rng: ChaCha8Rng,
}

impl Augmenter {
    pub fn new(set: AugmentationSet, seed: u64) -> Self {
        Augmenter {
            set,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// One random augmentation of each image: `[B, 3, S, S]` in [0, 1] ->
    /// `[B, 3, S, S]` in [0, 1], on the input's device.
    pub fn apply(&mut self, images: &Tensor) -> Result<Tensor> {
        let size = images.size();
        if size.len() != 4 || size[1] != 3 || size[2] != size[3] {
            return Err(Error::shape("augmentation input", &size, "[B, 3, S, S] in [0, 1]"));
        }
        let b = size[0] as usize;
        let x = images.to_kind(Kind::Float);
        Ok(match self.set {
            AugmentationSet::A => self.colour(&x, b),
            AugmentationSet::B => {
                let maps: Vec<Mat3> = (0..b).map(|_| self.map_b(size[2] as f64)).collect();
                warp(&x, &maps)
            }
            AugmentationSet::C => {
                let maps: Vec<Mat3> = (0..b).map(|_| self.map_c(size[2] as f64)).collect();
                warp(&x, &maps)
            }
        })
    }

    fn random_turn(&mut self) -> Mat3 {
        rotation(self.rng.random_range(0.0..TAU))
    }

    fn colour(&mut self, x: &Tensor, b: usize) -> Tensor {
        let gray_mask: Vec<f32> = (0..b)
            .map(|_| (self.rng.random::<f64>() < 0.2) as u8 as f32)
            .collect();
        let m = Tensor::from_slice(&gray_mask)
            .to_device(x.device())
            .view([-1, 1, 1, 1]);
        let mut y = &m * grayscale(x).expand_as(x) + (1.0 - &m) * x;
        let mut order = [0, 1, 2, 3];
        order.shuffle(&mut self.rng);
        for op in order {
            let draw = |rng: &mut ChaCha8Rng, lo: f64, hi: f64| {
                (0..b)
                    .map(|_| rng.random_range(lo..=hi))
                    .collect::<Vec<_>>()
            };
            y = match op {
                0 => adjust_brightness(&y, &draw(&mut self.rng, 0.7, 1.3)),
                1 => adjust_contrast(&y, &draw(&mut self.rng, 0.7, 1.3)),
                2 => adjust_saturation(&y, &draw(&mut self.rng, 0.1, 1.9)),
                _ => adjust_hue(&y, &draw(&mut self.rng, -0.5, 0.5)),
            };
        }
        y
    }

    /// Random resized crop of a padded square of half-extent `k` (normalised
    /// units of the original image): area fraction in `scale`, aspect ratio
    /// log-uniform in `ratio`, up to 10 tries, else the whole square.
    fn resized_crop(&mut self, k: f64, scale: (f64, f64), ratio: (f64, f64)) -> Mat3 {
        let side = 2.0 * k;
        for _ in 0..10 {
            let area = side * side * self.rng.random_range(scale.0..=scale.1);
            let r = (self.rng.random_range(ratio.0.ln()..=ratio.1.ln())).exp();
            let (w, h) = ((area * r).sqrt(), (area / r).sqrt());
            if w <= side && h <= side {
                let x0 = -k + self.rng.random_range(0.0..=side - w);
                let y0 = -k + self.rng.random_range(0.0..=side - h);
                return crop_box(x0 + w / 2.0, y0 + h / 2.0, w / 2.0, h / 2.0);
            }
        }
        crop_box(0.0, 0.0, k, k)
    }

    fn map_b(&mut self, s: f64) -> Mat3 {
        let k = 1.0 + 2.0 * 24.0 / s;
        let rot = self.random_turn();
        let crop = self.resized_crop(k, (0.2, 0.6), (1.0, 1.0));
        mul(&rot, &crop)
    }

    fn map_c(&mut self, s: f64) -> Mat3 {
        let k = 1.0 + 2.0 * 16.0 / s;
        let rot1 = self.random_turn();
        let distort = if self.rng.random::<f64>() < 0.7 {
            let deg = |rng: &mut ChaCha8Rng| rng.random_range(-80f64..=80.0).to_radians();
            let (sx, sy) = (deg(&mut self.rng), deg(&mut self.rng));
            let t = 0.3 * 2.0 * k;
            let (tx, ty) = (self.rng.random_range(-t..=t), self.rng.random_range(-t..=t));
            let affine_forward = mul(&scale_translate(1.0, 1.0, tx, ty), &shear(sx, sy));
            let perspective_inverse = self.perspective(k, 0.6);
            mul(&invert(&affine_forward), &perspective_inverse)
        } else {
            IDENTITY
        };
        let crop = self.resized_crop(k, (0.4, 0.8), (0.2, 5.0));
        let rot2 = self.random_turn();
        mul(&mul(&mul(&rot1, &distort), &crop), &rot2)
    }

    /// torchvision's RandomPerspective: each corner moves inwards by up to
    /// `distortion` of the half-size; returns the output -> input map.
    fn perspective(&mut self, k: f64, distortion: f64) -> Mat3 {
        let d = distortion * k;
        let mut inward = || self.rng.random_range(0.0..=d);
        let corners = [(-k, -k), (k, -k), (k, k), (-k, k)];
        let moved = [
            (-k + inward(), -k + inward()),
            (k - inward(), -k + inward()),
            (k - inward(), k - inward()),
            (-k + inward(), k - inward()),
        ];
        homography(moved, corners)
    }
}

/// The figure of the original: for each image, one row that starts with the
/// image itself, followed by `per_row` random augmentations of it.
/// `images`: `[N, 3, S, S]` in [0, 1].
pub fn augmentation_figure(
    images: &Tensor,
    set: AugmentationSet,
    per_row: usize,
    seed: u64,
) -> Result<Figure> {
    let repeated = images.repeat_interleave_self_int(per_row as i64, 0, None);
    let augmented = Augmenter::new(set, seed).apply(&repeated)?;
    let (n, rest) = (images.size()[0], &images.size()[1..]);
    let views = augmented.reshape([&[n, per_row as i64], rest].concat());
    let rows = Tensor::cat(&[images.to_kind(Kind::Float).unsqueeze(1), views], 1);
    show_images(
        &rows.reshape([&[-1], rest].concat()),
        &GridConfig {
            ncols: per_row + 1,
            padding: 2,
            pad_value: 1.0,
            scale: 1,
        },
    )
}

/// The fraction of images `[B, C, H, W]` in [0, 1] that are black all over
/// (no value above 0.02): views that show nothing of the shape.
pub fn black_fraction(images: &Tensor) -> f64 {
    let b = images.size().first().copied().unwrap_or(0);
    if b == 0 {
        return 0.0;
    }
    let brightest = images.to_kind(Kind::Float).flatten(1, -1).amax([1].as_slice(), false);
    brightest.le(0.02).to_kind(Kind::Float).mean(Kind::Float).double_value(&[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ImageSet;
    use crate::data::{Shapes, ShapesConfig};
    use tch::Device;

    fn batch() -> Tensor {
        let shapes = Shapes::generate(&ShapesConfig {
            len: 16,
            seed: 1,
            ..Default::default()
        })
        .unwrap();
        shapes
            .images(&(0..16).collect::<Vec<_>>(), Device::Cpu)
            .unwrap()
    }

    /// Distinct non-black colours of an image `[3, S, S]`, as byte triples.
    fn colours(img: &Tensor) -> std::collections::BTreeSet<[u8; 3]> {
        let bytes = Vec::<u8>::try_from(
            (img.permute([1, 2, 0]) * 255.0)
                .round()
                .to_kind(Kind::Uint8)
                .reshape([-1]),
        )
        .unwrap();
        bytes
            .chunks(3)
            .map(|c| [c[0], c[1], c[2]])
            .filter(|c| c != &[0, 0, 0])
            .collect()
    }

    #[test]
    fn geometric_sets_move_pixels_but_never_change_colours() {
        let x = batch();
        for set in [AugmentationSet::B, AugmentationSet::C] {
            let y = Augmenter::new(set, 7).apply(&x).unwrap();
            assert_eq!(y.size(), x.size());
            assert!(!y.equal(&x));
            for i in 0..16 {
                assert!(
                    colours(&y.get(i)).is_subset(&colours(&x.get(i))),
                    "{set:?} image {i}"
                );
            }
        }
    }

    #[test]
    fn colour_set_keeps_every_pixel_in_place() {
        // Colour ops are pointwise given per-image statistics: all background
        // (black) pixels of an input come out as one and the same colour, so the
        // shape's outline is unchanged.
        let x = batch();
        let y = Augmenter::new(AugmentationSet::A, 7).apply(&x).unwrap();
        for i in 0..16 {
            let background = x
                .get(i)
                .sum_dim_intlist([0].as_slice(), false, Kind::Float)
                .eq(0.0);
            let out = y.get(i).reshape([3, -1]);
            let idx = background.reshape([-1]).nonzero().squeeze_dim(1);
            let bg = out.index_select(1, &idx);
            let spread = (bg.amax([1].as_slice(), false) - bg.amin([1].as_slice(), false))
                .max()
                .double_value(&[]);
            assert!(spread < 1e-5, "image {i}: background spread {spread}");
        }
    }

    #[test]
    fn same_seed_same_augmentations() {
        let x = batch();
        for set in [AugmentationSet::A, AugmentationSet::B, AugmentationSet::C] {
            let a = Augmenter::new(set, 3).apply(&x).unwrap();
            assert!(a.equal(&Augmenter::new(set, 3).apply(&x).unwrap()));
            assert!(!a.equal(&Augmenter::new(set, 4).apply(&x).unwrap()));
        }
    }

    #[test]
    fn figure_has_a_row_per_image() {
        let x = batch().narrow(0, 0, 3);
        let Figure::Png(png) = augmentation_figure(&x, AugmentationSet::B, 14, 0).unwrap() else {
            panic!()
        };
        let img = image::load_from_memory(&png).unwrap();
        // The source image, then 14 augmentations.
        assert_eq!((img.width(), img.height()), (15 * 66 + 2, 3 * 66 + 2));
    }

    #[test]
    fn black_views_come_from_the_black_background_not_from_losing_the_image() {
        // A white image: only a crop that falls wholly into the padding (B, C) can be black,
        // which is rare; so the many black views of shapes show the black around the shape.
        let white = Tensor::ones([1024, 3, 64, 64], (Kind::Float, Device::Cpu));
        for (set, at_most) in [(AugmentationSet::A, 0.0), (AugmentationSet::B, 0.02), (AugmentationSet::C, 0.02)] {
            let views = Augmenter::new(set, 3).apply(&white).unwrap();
            let black = black_fraction(&views);
            assert!(black <= at_most, "{set:?}: {black} of the views of a white image are black");
        }
        let mixed = Tensor::cat(&[Tensor::zeros([3, 3, 8, 8], (Kind::Float, Device::Cpu)), Tensor::ones([1, 3, 8, 8], (Kind::Float, Device::Cpu))], 0);
        assert_eq!(black_fraction(&mixed), 0.75);
    }

    #[test]
    fn each_figure_row_starts_with_its_source_image() {
        let images = batch().narrow(0, 0, 2);
        let Figure::Png(png) = augmentation_figure(&images, AugmentationSet::B, 3, 1).unwrap() else { panic!("a PNG") };
        let picture = image::load_from_memory(&png).unwrap().to_rgb8();
        // Two rows of 1 + 3 images of 64 px with 2 px padding.
        assert_eq!((picture.width(), picture.height()), (4 * 66 + 2, 2 * 66 + 2));
        for row in 0..2u32 {
            let source = Vec::<u8>::try_from((images.get(row as i64) * 255.0).round().to_kind(Kind::Uint8).permute([1, 2, 0]).flatten(0, -1)).unwrap();
            let shown: Vec<u8> = (0..64u32)
                .flat_map(|y| (0..64u32).map(move |x| (x, y)))
                .flat_map(|(x, y)| picture.get_pixel(2 + x, 2 + row * 66 + y).0)
                .collect();
            assert_eq!(shown, source, "row {row} starts with its source image");
        }
    }
}
