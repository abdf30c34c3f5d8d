//! The batching contract every image data set of the kit follows.
//!
//! A data set keeps its images in whatever form is cheapest (shape factors,
//! bytes of a binary file, JPEG paths) and hands out batches of one kind:
//! float `[B, 3, H, W]` in [0, 1] on the device asked for. Models that want
//! another range (the shapes models use [-1, 1], ImageNet encoders normalise)
//! convert inside or in their assignment's module. Training
//! ([`crate::train::Trainer`]) and evaluation ([`crate::eval::encode_all`],
//! [`crate::eval::accuracy`]) take any `&dyn ImageSet`.
use crate::{Error, Result};
use tch::{Device, Kind, Tensor};

/// A data set of images, read in batches.
pub trait ImageSet {
    /// Number of images.
    fn len(&self) -> usize;

    /// Whether the set has no images.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The images at `indices` as float `[B, 3, H, W]` in [0, 1] on `device`.
    fn images(&self, indices: &[i64], device: Device) -> Result<Tensor>;

    /// The class of every image, int64 `[N]` on the CPU, when the set has labels.
    fn labels(&self) -> Option<Tensor> {
        None
    }

    /// The names of classes 0, 1, ... (empty when the set has no labels).
    fn class_names(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Images held in memory as uint8 `[N, 3, H, W]` on the CPU, with optional
/// labels: a data set decoded once (JPEGs are slow to decode every epoch), or
/// any tensor of images.
#[derive(Debug)]
pub struct TensorImages {
    images: Tensor,
    labels: Option<Tensor>,
    class_names: Vec<String>,
}

impl TensorImages {
    /// Wraps uint8 `[N, 3, H, W]` images and, optionally, int64 `[N]` labels.
    pub fn new(images: Tensor, labels: Option<Tensor>, class_names: Vec<String>) -> Result<Self> {
        let size = images.size();
        if images.kind() != Kind::Uint8 || size.len() != 4 || size[1] != 3 {
            return Err(Error::shape("TensorImages images", &size, "uint8 [N, 3, H, W]"));
        }
        if let Some(l) = &labels {
            if l.size() != [size[0]] {
                return Err(Error::shape("TensorImages labels", &l.size(), format!("[{}], one per image", size[0])));
            }
        }
        Ok(TensorImages {
            images: images.to_device(Device::Cpu),
            labels: labels.map(|l| l.to_device(Device::Cpu).to_kind(Kind::Int64)),
            class_names,
        })
    }

    /// Every image of `set`, decoded once, `batch_size` at a time.
    pub fn cache(set: &dyn ImageSet, batch_size: usize) -> Result<Self> {
        let n = set.len() as i64;
        let parts = (0..n)
            .step_by(batch_size.max(1))
            .map(|start| {
                let idx: Vec<i64> = (start..(start + batch_size.max(1) as i64).min(n)).collect();
                Ok((set.images(&idx, Device::Cpu)? * 255.0)
                    .round()
                    .to_kind(Kind::Uint8))
            })
            .collect::<Result<Vec<Tensor>>>()?;
        if parts.is_empty() {
            return Err(Error::invalid("the data set to cache", "empty", "needs at least one image"));
        }
        TensorImages::new(Tensor::cat(&parts, 0), set.labels(), set.class_names())
    }

    /// All images, uint8 `[N, 3, H, W]` on the CPU.
    pub fn images_u8(&self) -> &Tensor {
        &self.images
    }
}

impl ImageSet for TensorImages {
    fn len(&self) -> usize {
        self.images.size()[0] as usize
    }

    fn images(&self, indices: &[i64], device: Device) -> Result<Tensor> {
        Ok(u8_batch(&self.images, indices, device)?)
    }

    fn labels(&self) -> Option<Tensor> {
        self.labels.as_ref().map(Tensor::shallow_clone)
    }

    fn class_names(&self) -> Vec<String> {
        self.class_names.clone()
    }
}

/// Rows `indices` of uint8 `images` as floats in [0, 1] on `device`; an index
/// out of range is an error that says so.
pub(crate) fn u8_batch(images: &Tensor, indices: &[i64], device: Device) -> Result<Tensor> {
    let n = images.size()[0];
    if let Some(bad) = indices.iter().find(|&&i| i < 0 || i >= n) {
        return Err(Error::invalid(
            "image index",
            bad,
            format!("the set has {n} images (indices 0 to {})", n - 1),
        ));
    }
    Ok(images
        .index_select(0, &Tensor::from_slice(indices))
        .to_device(device)
        .to_kind(Kind::Float)
        / 255.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_images_round_trip_with_labels_and_ranges_are_checked() {
        let bytes: Vec<u8> = (0..2 * 3 * 2 * 2).map(|i| (i * 10) as u8).collect();
        let images = Tensor::from_slice(&bytes).view([2, 3, 2, 2]);
        let set = TensorImages::new(images, Some(Tensor::from_slice(&[1i64, 0])), vec!["a".into(), "b".into()]).unwrap();
        let batch = set.images(&[1], Device::Cpu).unwrap();
        assert_eq!(batch.size(), [1, 3, 2, 2]);
        // Image 1 starts at byte 12: 120 / 255.
        assert!((batch.double_value(&[0, 0, 0, 0]) - 120.0 / 255.0).abs() < 1e-6);
        let again = TensorImages::cache(&set, 1).unwrap();
        assert!(again.images_u8().equal(set.images_u8()));
        assert_eq!(Vec::<i64>::try_from(again.labels().unwrap()).unwrap(), [1, 0]);
        assert_eq!(again.class_names(), ["a", "b"]);
        let err = set.images(&[2], Device::Cpu).unwrap_err().to_string();
        assert!(err.contains("image index = 2") && err.contains("2 images"), "{err}");
        let err = TensorImages::new(Tensor::zeros([2, 1, 2, 2], (Kind::Uint8, Device::Cpu)), None, vec![])
            .unwrap_err()
            .to_string();
        assert!(err.contains("uint8 [N, 3, H, W]"), "{err}");
    }
}
