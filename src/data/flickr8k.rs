//! Flickr8k in its usual layout: `captions.txt` (a header `image,caption`,
//! then one row per caption, five per image) and an `Images/` folder of JPEGs.
//! [`Flickr8k::load`] reads the layout and [`Flickr8k::write`] writes it
//! (tests and the captioned-shapes stand-in use it).
use super::ImageSet;
use crate::{Error, Result};
use image::imageops::FilterType;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// One image and its captions, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptionedImage {
    /// The file name under `Images/`.
    pub image: String,
    pub captions: Vec<String>,
}

/// The images and captions of a Flickr8k folder (or part of one, after
/// [`Flickr8k::split`]). As an [`ImageSet`] its images are resized to
/// [`Flickr8k::image_size`] (224 unless set with [`Flickr8k::with_image_size`]).
#[derive(Debug, Clone)]
pub struct Flickr8k {
    root: PathBuf,
    items: Vec<CaptionedImage>,
    image_size: u32,
}

const HOW_TO_GET_IT: &str = "Flickr8k not found: put captions.txt and the Images/ folder of the Flickr8k data set there (see data/README.md), or use the notebook's offline captioned shapes";

impl Flickr8k {
    /// Reads `dir/captions.txt` and checks that `dir/Images/` holds every image it names.
    pub fn load(dir: impl AsRef<Path>) -> Result<Flickr8k> {
        let root = dir.as_ref().to_path_buf();
        let path = root.join("captions.txt");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::not_found(&path, HOW_TO_GET_IT)
            } else {
                Error::io(&path, e)
            }
        })?;
        let mut items: Vec<CaptionedImage> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if number == 0 && line.trim() == "image,caption" || line.trim().is_empty() {
                continue;
            }
            // Captions may contain commas; image names do not.
            let Some((image, caption)) = line.split_once(',') else {
                return Err(Error::bad_format(
                    &path,
                    "Flickr8k captions file",
                    format!("line {}: expected `image,caption`, got {line:?}", number + 1),
                ));
            };
            let caption = caption.trim().trim_matches('"').trim().to_string();
            let slot = *index.entry(image.to_string()).or_insert_with(|| {
                items.push(CaptionedImage {
                    image: image.to_string(),
                    captions: Vec::new(),
                });
                items.len() - 1
            });
            items[slot].captions.push(caption);
        }
        if items.is_empty() {
            return Err(Error::bad_format(&path, "Flickr8k captions file", "it holds no captions"));
        }
        let missing: Vec<&str> = items
            .iter()
            .map(|i| i.image.as_str())
            .filter(|name| !root.join("Images").join(name).is_file())
            .take(3)
            .collect();
        if !missing.is_empty() {
            return Err(Error::not_found(
                root.join("Images").join(missing[0]),
                format!(
                    "captions.txt names images that Images/ lacks ({}): copy the whole Images/ folder",
                    missing.join(", ")
                ),
            ));
        }
        Ok(Flickr8k {
            root,
            items,
            image_size: 224,
        })
    }

    /// The same images, resized to `size` x `size` when read as an [`ImageSet`].
    pub fn with_image_size(self, size: u32) -> Flickr8k {
        Flickr8k {
            image_size: size,
            ..self
        }
    }

    /// The side of the square images this set hands out.
    pub fn image_size(&self) -> u32 {
        self.image_size
    }

    pub fn items(&self) -> &[CaptionedImage] {
        &self.items
    }

    /// Splits by image (never the captions of one image apart): a seeded
    /// shuffle, then the first `train_fraction` of the images for training.
    pub fn split(&self, train_fraction: f64, seed: u64) -> (Flickr8k, Flickr8k) {
        let mut order: Vec<usize> = (0..self.items.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let n_train = ((self.items.len() as f64) * train_fraction.clamp(0.0, 1.0)).round() as usize;
        let pick = |ids: &[usize]| Flickr8k {
            root: self.root.clone(),
            items: ids.iter().map(|&i| self.items[i].clone()).collect(),
            image_size: self.image_size,
        };
        (pick(&order[..n_train]), pick(&order[n_train..]))
    }

    /// (image index, caption) pairs: the first caption of each image, or all of them.
    pub fn pairs(&self, all_captions: bool) -> Vec<(usize, String)> {
        self.items
            .iter()
            .enumerate()
            .flat_map(|(i, item)| {
                let n = if all_captions {
                    item.captions.len()
                } else {
                    1.min(item.captions.len())
                };
                item.captions[..n].iter().map(move |c| (i, c.clone()))
            })
            .collect()
    }

    /// Decodes the image at `index`: shorter side resized to `size`, then the
    /// centre `size` x `size`, as RGB bytes in row order.
    fn decode(&self, index: i64, size: u32) -> Result<Vec<u8>> {
        let item = usize::try_from(index)
            .ok()
            .and_then(|i| self.items.get(i))
            .ok_or_else(|| Error::invalid("image index", index, format!("out of range for a set of {} images", self.items.len())))?;
        let path = self.root.join("Images").join(&item.image);
        let img = image::open(&path)
            .map_err(|e| Error::bad_format(&path, "image", e.to_string()))?
            .to_rgb8();
        let (w, h) = img.dimensions();
        let scale = size as f64 / w.min(h) as f64;
        let (nw, nh) = (
            ((w as f64 * scale).round() as u32).max(size),
            ((h as f64 * scale).round() as u32).max(size),
        );
        let resized = image::imageops::resize(&img, nw, nh, FilterType::Triangle);
        Ok(image::imageops::crop_imm(&resized, (nw - size) / 2, (nh - size) / 2, size, size)
            .to_image()
            .into_raw())
    }

    /// Writes a folder in Flickr8k's layout: each image as a JPEG under
    /// `Images/`, and `captions.txt`. Tests and offline stand-ins use it.
    pub fn write(dir: impl AsRef<Path>, items: &[(CaptionedImage, image::RgbImage)]) -> Result<()> {
        let dir = dir.as_ref();
        let images = dir.join("Images");
        std::fs::create_dir_all(&images).map_err(|e| Error::io(&images, e))?;
        let mut text = String::from("image,caption\n");
        for (item, img) in items {
            img.save(images.join(&item.image))?;
            for caption in &item.captions {
                text.push_str(&format!("{},{caption}\n", item.image));
            }
        }
        let path = dir.join("captions.txt");
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
    }
}

impl ImageSet for Flickr8k {
    fn len(&self) -> usize {
        self.items.len()
    }

    /// Images `[B, 3, S, S]` in [0, 1] on `device`, `S` = [`Flickr8k::image_size`].
    fn images(&self, indices: &[i64], device: Device) -> Result<Tensor> {
        let size = self.image_size;
        let mut data = Vec::with_capacity(indices.len() * 3 * (size * size) as usize);
        for &i in indices {
            data.extend(self.decode(i, size)?);
        }
        let s = size as i64;
        let hwc = Tensor::from_slice(&data).view([indices.len() as i64, s, s, 3]);
        Ok(hwc
            .permute([0, 3, 1, 2])
            .to_device(device)
            .to_kind(Kind::Float)
            / 255.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_usual_layout_with_commas_in_captions() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("Images")).unwrap();
        for (name, colour) in [("a.jpg", [255u8, 0, 0]), ("b.jpg", [0, 0, 255])] {
            image::RgbImage::from_pixel(40, 20, image::Rgb(colour))
                .save(dir.path().join("Images").join(name))
                .unwrap();
        }
        std::fs::write(
            dir.path().join("captions.txt"),
            "image,caption\r\na.jpg,A red thing , on the left .\r\na.jpg,Red.\r\nb.jpg,\"Blue, wide\"\r\n",
        )
        .unwrap();
        let data = Flickr8k::load(dir.path()).unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(
            data.items()[0].captions,
            ["A red thing , on the left .", "Red."]
        );
        assert_eq!(
            data.pairs(false),
            [
                (0, "A red thing , on the left .".to_string()),
                (1, "Blue, wide".to_string())
            ]
        );
        assert_eq!(data.pairs(true).len(), 3);
        let images = data.clone().with_image_size(16).images(&[1, 0], Device::Cpu).unwrap();
        assert_eq!(images.size(), [2, 3, 16, 16]);
        // JPEG is lossy: blue stays blue, red stays red.
        assert!(
            images.double_value(&[0, 2, 8, 8]) > 0.9 && images.double_value(&[0, 0, 8, 8]) < 0.1
        );
        assert!(images.double_value(&[1, 0, 8, 8]) > 0.9);
    }

    #[test]
    fn split_is_by_image_seeded_and_complete() {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<(CaptionedImage, image::RgbImage)> = (0..10)
            .map(|i| {
                let item = CaptionedImage {
                    image: format!("{i}.jpg"),
                    captions: vec![format!("image {i}"), format!("again {i}")],
                };
                (item, image::RgbImage::new(8, 8))
            })
            .collect();
        Flickr8k::write(dir.path(), &items).unwrap();
        let data = Flickr8k::load(dir.path()).unwrap();
        let (train, val) = data.split(0.8, 4);
        assert_eq!((train.len(), val.len()), (8, 2));
        let mut names: Vec<String> = train
            .items()
            .iter()
            .chain(val.items())
            .map(|i| i.image.clone())
            .collect();
        names.sort();
        let mut all: Vec<String> = (0..10).map(|i| format!("{i}.jpg")).collect();
        all.sort();
        assert_eq!(names, all);
        assert!(val.items().iter().all(|i| i.captions.len() == 2));
        assert_eq!(data.split(0.8, 4).1.items(), val.items());
        assert_ne!(data.split(0.8, 5).1.items(), val.items());
    }

    #[test]
    fn missing_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Flickr8k::load(dir.path())
            .unwrap_err()
            .to_string()
            .contains("Flickr8k not found"));
        std::fs::write(
            dir.path().join("captions.txt"),
            "image,caption\nx.jpg,a cat\n",
        )
        .unwrap();
        assert!(Flickr8k::load(dir.path())
            .unwrap_err()
            .to_string()
            .contains("x.jpg"));
    }
}
