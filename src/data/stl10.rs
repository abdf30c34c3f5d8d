//! STL-10 in its binary format (the `stl10_binary/` folder of the official
//! archive): `train_X.bin`, `test_X.bin`, `unlabeled_X.bin` hold uint8 images
//! of 3x96x96, each channel stored column by column; `train_y.bin` and
//! `test_y.bin` hold one byte per image, the class 1-10; `class_names.txt`
//! names the classes, one per line. [`Stl10::load`] reads the format and
//! [`Stl10::write`] writes it (tests and the offline stand-in use it).
//!
//! Images stay uint8 in memory (27,648 bytes each) and become floats one batch
//! at a time ([`ImageSet::images`]).
use super::image_set::u8_batch;
use super::ImageSet;
use crate::{Error, Result};
use std::io::{Read, Write};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Height and width of an STL-10 image.
pub const STL10_SIZE: i64 = 96;
const IMAGE_BYTES: usize = 3 * 96 * 96;
/// STL-10's class names, in label order (label 0 is "airplane"), used when a
/// folder has no `class_names.txt`.
pub const STL10_CLASSES: [&str; 10] = [
    "airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck",
];
const CLASS_NAMES_FILE: &str = "class_names.txt";
const HOW_TO_GET_IT: &str = "download stl10_binary.tar.gz (2.6 GB) with `make data-stl10`, or from https://cs.stanford.edu/~acoates/stl10/, and unpack it there; or use the notebook's offline stand-in";

/// Which file of the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stl10Split {
    /// 5,000 labelled images.
    Train,
    /// 8,000 labelled images.
    Test,
    /// 100,000 images without labels.
    Unlabeled,
}

impl Stl10Split {
    /// The image file and, for labelled splits, the label file.
    pub fn files(self) -> (&'static str, Option<&'static str>) {
        match self {
            Stl10Split::Train => ("train_X.bin", Some("train_y.bin")),
            Stl10Split::Test => ("test_X.bin", Some("test_y.bin")),
            Stl10Split::Unlabeled => ("unlabeled_X.bin", None),
        }
    }
}

/// Images (uint8, `[N, 3, 96, 96]`, CPU) and labels (int64 `[N]`, 0-9) of one split.
#[derive(Debug)]
pub struct Stl10 {
    images: Tensor,
    labels: Option<Tensor>,
    class_names: Vec<String>,
}

impl Stl10 {
    /// Reads the first `limit` images (all if `None`) of `split` from `dir`
    /// (the `stl10_binary` folder).
    pub fn load(dir: impl AsRef<Path>, split: Stl10Split, limit: Option<usize>) -> Result<Stl10> {
        let dir = dir.as_ref();
        let (image_file, label_file) = split.files();
        let image_path = dir.join(image_file);
        if !image_path.is_file() {
            return Err(Error::not_found(&image_path, HOW_TO_GET_IT));
        }
        let bytes = std::fs::metadata(&image_path)
            .map_err(|e| Error::io(&image_path, e))?
            .len() as usize;
        if !bytes.is_multiple_of(IMAGE_BYTES) {
            return Err(Error::bad_format(
                &image_path,
                "STL-10 image file",
                format!("{bytes} bytes is not a whole number of 3x96x96 images: the file is truncated, download it again"),
            ));
        }
        let n = limit.map_or(bytes / IMAGE_BYTES, |l| l.min(bytes / IMAGE_BYTES));
        let mut data = vec![0u8; n * IMAGE_BYTES];
        std::fs::File::open(&image_path)
            .and_then(|mut f| f.read_exact(&mut data))
            .map_err(|e| Error::io(&image_path, e))?;
        // Each plane is stored column by column: read as [N, C, W, H], then swap.
        let images = Tensor::from_slice(&data)
            .view([n as i64, 3, STL10_SIZE, STL10_SIZE])
            .transpose(2, 3)
            .contiguous();
        let labels = match label_file {
            None => None,
            Some(file) => Some(read_labels(&dir.join(file), n)?),
        };
        let class_names = match std::fs::read_to_string(dir.join(CLASS_NAMES_FILE)) {
            Ok(text) => text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
            Err(_) => STL10_CLASSES.iter().map(|c| c.to_string()).collect(),
        };
        Ok(Stl10 {
            images,
            labels,
            class_names,
        })
    }

    /// All images, uint8 `[N, 3, 96, 96]` on the CPU.
    pub fn images_u8(&self) -> &Tensor {
        &self.images
    }

    /// Writes `images` (uint8 `[N, 3, 96, 96]`) and `labels` (0-9) as `split`
    /// in `dir`, in the archive's exact format.
    pub fn write(
        dir: impl AsRef<Path>,
        split: Stl10Split,
        images: &Tensor,
        labels: Option<&Tensor>,
    ) -> Result<()> {
        let dir = dir.as_ref();
        let size = images.size();
        if images.kind() != Kind::Uint8
            || size.len() != 4
            || size[1..] != [3, STL10_SIZE, STL10_SIZE]
        {
            return Err(Error::shape("Stl10::write images", &size, "uint8 [N, 3, 96, 96]"));
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let (image_file, label_file) = split.files();
        let planes = images
            .to_device(Device::Cpu)
            .transpose(2, 3)
            .contiguous()
            .view([-1]);
        write_file(&dir.join(image_file), &Vec::<u8>::try_from(&planes)?)?;
        match (label_file, labels) {
            (Some(file), Some(labels)) => {
                let labels = Vec::<i64>::try_from(&labels.to_device(Device::Cpu).to_kind(Kind::Int64))?;
                if labels.len() != size[0] as usize {
                    return Err(Error::shape("Stl10::write labels", &[labels.len() as i64], format!("[{}], one per image", size[0])));
                }
                let bytes = labels
                    .iter()
                    .map(|&l| {
                        u8::try_from(l + 1)
                            .ok()
                            .filter(|b| (1..=10).contains(b))
                            .ok_or_else(|| Error::invalid("Stl10::write label", l, "must be a class 0-9"))
                    })
                    .collect::<Result<Vec<u8>>>()?;
                write_file(&dir.join(file), &bytes)
            }
            (Some(_), None) => Err(Error::invalid(
                "Stl10::write labels",
                "none",
                format!("the {split:?} split needs labels"),
            )),
            (None, _) => Ok(()),
        }
    }

    /// Writes `class_names.txt` (one name per line, label order) into `dir`.
    pub fn write_class_names(dir: impl AsRef<Path>, names: &[&str]) -> Result<()> {
        let path = dir.as_ref().join(CLASS_NAMES_FILE);
        write_file(&path, (names.join("\n") + "\n").as_bytes())
    }
}

impl ImageSet for Stl10 {
    fn len(&self) -> usize {
        self.images.size()[0] as usize
    }

    /// Images `[B, 3, 96, 96]` in [0, 1] on `device`.
    fn images(&self, indices: &[i64], device: Device) -> Result<Tensor> {
        u8_batch(&self.images, indices, device)
    }

    /// Labels 0-9 for the labelled splits.
    fn labels(&self) -> Option<Tensor> {
        self.labels.as_ref().map(Tensor::shallow_clone)
    }

    /// From the folder's `class_names.txt`, else STL-10's ten classes.
    fn class_names(&self) -> Vec<String> {
        self.class_names.clone()
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::File::create(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| Error::io(path, e))
}

/// The first `n` labels of a label file, checked to be 1-10, as 0-9.
fn read_labels(path: &Path, n: usize) -> Result<Tensor> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.len() < n {
        return Err(Error::bad_format(
            path,
            "STL-10 label file",
            format!("{} labels for {n} images: the file is truncated, download the archive again", bytes.len()),
        ));
    }
    if let Some((i, b)) = bytes[..n]
        .iter()
        .enumerate()
        .find(|(_, b)| !(1..=10).contains(*b))
    {
        return Err(Error::bad_format(
            path,
            "STL-10 label file",
            format!("label {b} of image {i} is not a class 1-10"),
        ));
    }
    let labels: Vec<i64> = bytes[..n].iter().map(|&b| i64::from(b) - 1).collect();
    Ok(Tensor::from_slice(&labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a file by hand, byte by byte as the format's description says,
    /// independently of `Stl10::write`.
    fn handmade(dir: &Path) {
        let mut bytes = Vec::new();
        for image in 0..2u32 {
            for channel in 0..3u32 {
                for column in 0..96u32 {
                    for row in 0..96u32 {
                        bytes.push(((image * 7 + channel * 50 + row * 2 + column) % 256) as u8);
                    }
                }
            }
        }
        std::fs::write(dir.join("train_X.bin"), bytes).unwrap();
        std::fs::write(dir.join("train_y.bin"), [3u8, 10]).unwrap();
    }

    #[test]
    fn reads_column_major_planes_and_one_based_labels() {
        let dir = tempfile::tempdir().unwrap();
        handmade(dir.path());
        let data = Stl10::load(dir.path(), Stl10Split::Train, None).unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data.images_u8().size(), [2, 3, 96, 96]);
        // Pixel (row 5, column 9) of image 1, channel 2: 7 + 100 + 10 + 9.
        assert_eq!(data.images_u8().int64_value(&[1, 2, 5, 9]), 126);
        assert_eq!(
            Vec::<i64>::try_from(data.labels().unwrap()).unwrap(),
            [2, 9]
        );
        let batch = data.images(&[1], Device::Cpu).unwrap();
        assert!((batch.double_value(&[0, 2, 5, 9]) - 126.0 / 255.0).abs() < 1e-6);
        let first = Stl10::load(dir.path(), Stl10Split::Train, Some(1)).unwrap();
        assert_eq!(first.len(), 1);
    }

    #[test]
    fn write_produces_the_same_bytes_as_the_format() {
        let dir = tempfile::tempdir().unwrap();
        handmade(dir.path());
        let data = Stl10::load(dir.path(), Stl10Split::Train, None).unwrap();
        let out = tempfile::tempdir().unwrap();
        Stl10::write(
            out.path(),
            Stl10Split::Train,
            data.images_u8(),
            data.labels().as_ref(),
        )
        .unwrap();
        for file in ["train_X.bin", "train_y.bin"] {
            assert_eq!(
                std::fs::read(out.path().join(file)).unwrap(),
                std::fs::read(dir.path().join(file)).unwrap(),
                "{file}"
            );
        }
    }

    fn data_class_names(dir: &Path) -> Vec<String> {
        Stl10::load(dir, Stl10Split::Train, None).unwrap().class_names()
    }

    #[test]
    fn bad_files_are_named_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Stl10::load(dir.path(), Stl10Split::Test, None)
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("test_X.bin: not found") && missing.contains("make data-stl10"),
            "{missing}"
        );
        std::fs::write(dir.path().join("unlabeled_X.bin"), [0u8; 1000]).unwrap();
        let short = Stl10::load(dir.path(), Stl10Split::Unlabeled, None)
            .unwrap_err()
            .to_string();
        assert!(short.contains("truncated"), "{short}");
        handmade(dir.path());
        std::fs::write(dir.path().join("train_y.bin"), [3u8, 11]).unwrap();
        let label = Stl10::load(dir.path(), Stl10Split::Train, None)
            .unwrap_err()
            .to_string();
        assert!(label.contains("train_y.bin: not a valid STL-10 label file: label 11 of image 1"), "{label}");
        // Class names: the folder's own file when there is one.
        std::fs::write(dir.path().join("train_y.bin"), [1u8, 2]).unwrap();
        assert_eq!(data_class_names(dir.path()), STL10_CLASSES.map(String::from).to_vec());
        Stl10::write_class_names(dir.path(), &["round", "square"]).unwrap();
        assert_eq!(data_class_names(dir.path()), ["round", "square"]);
    }

}
