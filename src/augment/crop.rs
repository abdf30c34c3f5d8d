//! Crops and flips for natural images (the STL-10 pipeline): a random crop
//! with a random horizontal flip for training, a centre crop for evaluation.
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

/// The central `size x size` window of each image: `[B, C, H, W] -> [B, C, size, size]`.
pub fn center_crop(images: &Tensor, size: i64) -> Result<Tensor> {
    let (h, w) = spatial(images, size)?;
    Ok(images
        .narrow(2, (h - size) / 2, size)
        .narrow(3, (w - size) / 2, size))
}

/// A random `size x size` window of each image, mirrored left-right with
/// probability 1/2 (torchvision's `RandomCrop` then `RandomHorizontalFlip`).
/// Seeded: the same seed gives the same crops.
#[derive(Debug, Clone)]
pub struct RandomCropFlip {
    size: i64,
    rng: ChaCha8Rng,
}

impl RandomCropFlip {
    pub fn new(size: i64, seed: u64) -> Self {
        RandomCropFlip {
            size,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// `[B, C, H, W] -> [B, C, size, size]`, one crop and flip draw per image.
    pub fn apply(&mut self, images: &Tensor) -> Result<Tensor> {
        let (h, w) = spatial(images, self.size)?;
        let crops: Vec<Tensor> = (0..images.size()[0])
            .map(|i| {
                let (top, left) = (
                    self.rng.random_range(0..=h - self.size),
                    self.rng.random_range(0..=w - self.size),
                );
                let crop = images
                    .get(i)
                    .narrow(1, top, self.size)
                    .narrow(2, left, self.size);
                if self.rng.random_bool(0.5) {
                    crop.flip([2])
                } else {
                    crop
                }
            })
            .collect();
        Ok(Tensor::stack(&crops, 0))
    }
}

fn spatial(images: &Tensor, size: i64) -> Result<(i64, i64)> {
    match images.size()[..] {
        [_, _, h, w] if size >= 1 && size <= h && size <= w => Ok((h, w)),
        [_, _, h, w] => Err(Error::invalid(
            "crop size",
            format!("{size}x{size}"),
            format!("a crop must fit the images, which are {h}x{w}"),
        )),
        _ => Err(Error::shape("crop", &images.size(), "[B, C, H, W]")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Pixel value = 100 * row + column, so a crop tells where it came from.
    fn ramp(b: i64, h: i64, w: i64) -> Tensor {
        let rows = Tensor::arange(h, (Kind::Float, Device::Cpu)).view([h, 1]) * 100.0;
        let cols = Tensor::arange(w, (Kind::Float, Device::Cpu)).view([1, w]);
        (rows + cols).view([1, 1, h, w]).repeat([b, 3, 1, 1])
    }

    #[test]
    fn centre_crop_takes_the_middle() {
        let c = center_crop(&ramp(2, 96, 96), 64).unwrap();
        assert_eq!(c.size(), [2, 3, 64, 64]);
        // (96 - 64) / 2 = 16: the corner is row 16, column 16.
        assert_eq!(c.double_value(&[1, 2, 0, 0]), 1616.0);
        assert_eq!(c.double_value(&[0, 0, 63, 63]), 7979.0);
    }

    #[test]
    fn random_crops_are_windows_or_their_mirrors_and_seeded() {
        let x = ramp(64, 12, 12);
        let a = RandomCropFlip::new(8, 3).apply(&x).unwrap();
        assert_eq!(a, RandomCropFlip::new(8, 3).apply(&x).unwrap());
        let (mut flipped, mut tops) = (0, std::collections::HashSet::new());
        for i in 0..64 {
            let row = |c: i64| a.double_value(&[i, 0, 0, c]);
            let (top, first, last) = (
                (row(0) / 100.0).floor() as i64,
                row(0) as i64 % 100,
                row(7) as i64 % 100,
            );
            tops.insert(top);
            assert!((0..=4).contains(&top));
            if first > last {
                flipped += 1;
                assert_eq!(first - last, 7);
            } else {
                assert_eq!(last - first, 7);
            }
        }
        assert!((16..=48).contains(&flipped), "{flipped} of 64 flipped");
        assert!(tops.len() >= 4, "crop offsets vary: {tops:?}");
    }

    #[test]
    fn a_crop_larger_than_the_image_is_an_error() {
        let err = center_crop(&ramp(1, 32, 32), 64).unwrap_err().to_string();
        assert!(err.contains("64x64") && err.contains("32x32"), "{err}");
    }
}
