//! STL-10 in its binary format (the `stl10_binary/` folder of the official
//! archive): `train_X.bin`, `test_X.bin`, `unlabeled_X.bin` hold uint8 images
//! of 3x96x96, each channel stored column by column; `train_y.bin` and
//! `test_y.bin` hold one byte per image, the class 1-10.
//!
//! Images stay uint8 in memory (27,648 bytes each) and become floats one batch
//! at a time.
use crate::{Error, Result};
use std::io::{Read, Write};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Height and width of an STL-10 image.
pub const STL10_SIZE: i64 = 96;
const IMAGE_BYTES: usize = 3 * 96 * 96;
/// Class names, in label order (label 0 is "airplane").
pub const STL10_CLASSES: [&str; 10] = [
    "airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck",
];

/// Class names of the offline stand-in ([`write_stl10_stand_in`]), in label order.
pub const STL10_STAND_IN_CLASSES: [&str; 9] = [
    "small circle",
    "medium circle",
    "large circle",
    "small square",
    "medium square",
    "large square",
    "small triangle",
    "medium triangle",
    "large triangle",
];

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
}

impl Stl10 {
    /// Reads the first `limit` images (all if `None`) of `split` from `dir`
    /// (the `stl10_binary` folder).
    pub fn load(dir: impl AsRef<Path>, split: Stl10Split, limit: Option<usize>) -> Result<Stl10> {
        let dir = dir.as_ref();
        let (image_file, label_file) = split.files();
        let image_path = dir.join(image_file);
        if !image_path.is_file() {
            return Err(Error::InvalidArgument(format!(
                "{}: STL-10 not found. Download stl10_binary.tar.gz (2.6 GB) from https://cs.stanford.edu/~acoates/stl10/ \
                 and unpack it so that this file exists, or use the offline stand-in of the notebook",
                image_path.display()
            )));
        }
        let bytes = std::fs::metadata(&image_path)
            .map_err(|e| Error::io(&image_path, e))?
            .len() as usize;
        if !bytes.is_multiple_of(IMAGE_BYTES) {
            return Err(Error::InvalidArgument(format!(
                "{}: {bytes} bytes is not a whole number of 3x96x96 images: the file is truncated, download it again",
                image_path.display()
            )));
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
        Ok(Stl10 { images, labels })
    }

    pub fn len(&self) -> usize {
        self.images.size()[0] as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All images, uint8 `[N, 3, 96, 96]` on the CPU.
    pub fn images_u8(&self) -> &Tensor {
        &self.images
    }

    /// Labels 0-9 (`[N]`, int64), for the labelled splits.
    pub fn labels(&self) -> Option<&Tensor> {
        self.labels.as_ref()
    }

    /// The images at `indices` (int64 `[B]`) as floats in [0, 1], `[B, 3, 96, 96]`, on `device`.
    pub fn batch(&self, indices: &Tensor, device: Device) -> Tensor {
        self.images
            .index_select(0, &indices.to_device(Device::Cpu))
            .to_device(device)
            .to_kind(Kind::Float)
            / 255.0
    }

    /// Writes `images` (uint8 `[N, 3, 96, 96]`) and `labels` (0-9) as `split`
    /// in `dir`, in the archive's exact format. Tests and offline stand-ins use it.
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
            return Err(Error::Shape {
                what: "Stl10::write images",
                got: size,
                expected: "uint8 [N, 3, 96, 96]",
            });
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
                let bytes: Vec<u8> =
                    Vec::<i64>::try_from(&labels.to_device(Device::Cpu).to_kind(Kind::Int64))?
                        .into_iter()
                        .map(|l| {
                            u8::try_from(l + 1)
                                .ok()
                                .filter(|b| (1..=10).contains(b))
                                .ok_or(l)
                        })
                        .collect::<std::result::Result<_, _>>()
                        .map_err(|l| {
                            Error::InvalidArgument(format!(
                                "Stl10::write: label {l} is not a class 0-9"
                            ))
                        })?;
                if bytes.len() != size[0] as usize {
                    return Err(Error::InvalidArgument(format!(
                        "Stl10::write: {} labels for {} images",
                        bytes.len(),
                        size[0]
                    )));
                }
                write_file(&dir.join(file), &bytes)
            }
            (Some(_), None) => Err(Error::InvalidArgument(format!(
                "Stl10::write: the {split:?} split needs labels"
            ))),
            (None, _) => Ok(()),
        }
    }
}

/// What [`write_stl10_stand_in`] writes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stl10StandInConfig {
    pub train: usize,
    pub test: usize,
    pub unlabeled: usize,
    pub seed: u64,
}

impl Default for Stl10StandInConfig {
    /// STL-10's labelled sizes (5,000 train, 8,000 test) and the 10,000
    /// unlabeled images the original's autoencoder uses.
    fn default() -> Self {
        Stl10StandInConfig {
            train: 5_000,
            test: 8_000,
            unlabeled: 10_000,
            seed: 4,
        }
    }
}

/// The offline stand-in for STL-10: generated shapes at 96x96, written in
/// STL-10's exact binary layout into `dir`, so that the same reader and
/// notebook run without the download. Nine classes (labels 0-8):
/// `3 * kind + size tercile` (circle, square, triangle; small, medium, large),
/// which colour alone cannot tell apart.
pub fn write_stl10_stand_in(dir: impl AsRef<Path>, config: &Stl10StandInConfig) -> Result<()> {
    use super::{Shapes, ShapesConfig};
    let dir = dir.as_ref();
    let (min_size, max_size) = (12.0, 45.0);
    let splits = [
        (Stl10Split::Train, config.train, 0),
        (Stl10Split::Test, config.test, 1),
        (Stl10Split::Unlabeled, config.unlabeled, 2),
    ];
    for (split, len, offset) in splits {
        let shapes = Shapes::generate(&ShapesConfig {
            len,
            image_size: STL10_SIZE as usize,
            min_size,
            max_size,
            seed: config.seed.wrapping_mul(3).wrapping_add(offset),
        })?;
        let indices: Vec<i64> = (0..len as i64).collect();
        let images = Tensor::from_slice(&shapes.render_u8(&indices)?)
            .view([len as i64, 3, STL10_SIZE, STL10_SIZE]);
        let labels: Vec<i64> = shapes
            .factors
            .iter()
            .map(|f| {
                let tercile =
                    (((f.size - min_size) / (max_size - min_size) * 3.0) as i64).clamp(0, 2);
                3 * f.kind as i64 + tercile
            })
            .collect();
        let labels = Tensor::from_slice(&labels);
        Stl10::write(
            dir,
            split,
            &images,
            (split != Stl10Split::Unlabeled).then_some(&labels),
        )?;
    }
    Ok(())
}

/// Where a notebook finds STL-10: the real archive or the generated stand-in.
#[derive(Debug, Clone, PartialEq)]
pub struct Stl10Source {
    /// The folder to pass to [`Stl10::load`].
    pub dir: std::path::PathBuf,
    /// True for the offline stand-in (nine shape classes), false for real STL-10.
    pub stand_in: bool,
}

impl Stl10Source {
    /// The names of the labels 0, 1, ... of this source.
    pub fn class_names(&self) -> &'static [&'static str] {
        if self.stand_in {
            &STL10_STAND_IN_CLASSES
        } else {
            &STL10_CLASSES
        }
    }
}

/// The real STL-10 in `real` (the unpacked `stl10_binary` folder) when its
/// train, test and unlabeled image files are all there; otherwise the stand-in
/// in `stand_in`, written with `config` unless the same stand-in is already there.
pub fn stl10_or_stand_in(
    real: impl AsRef<Path>,
    stand_in: impl AsRef<Path>,
    config: &Stl10StandInConfig,
) -> Result<Stl10Source> {
    let real = real.as_ref();
    let complete = [Stl10Split::Train, Stl10Split::Test, Stl10Split::Unlabeled]
        .iter()
        .all(|s| real.join(s.files().0).is_file());
    if complete {
        return Ok(Stl10Source {
            dir: real.to_path_buf(),
            stand_in: false,
        });
    }
    let dir = stand_in.as_ref();
    super::data_dir::write_stand_in_once(dir, config, |d, c| write_stl10_stand_in(d, c))?;
    Ok(Stl10Source {
        dir: dir.to_path_buf(),
        stand_in: true,
    })
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
        return Err(Error::InvalidArgument(format!(
            "{}: {} labels for {n} images: the file is truncated, download the archive again",
            path.display(),
            bytes.len()
        )));
    }
    if let Some((i, b)) = bytes[..n]
        .iter()
        .enumerate()
        .find(|(_, b)| !(1..=10).contains(*b))
    {
        return Err(Error::InvalidArgument(format!(
            "{}: label {b} of image {i} is not a class 1-10",
            path.display()
        )));
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
        let batch = data.batch(&Tensor::from_slice(&[1i64]), Device::Cpu);
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
            data.labels(),
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

    #[test]
    fn the_stand_in_is_read_back_with_nine_balanced_classes() {
        let dir = tempfile::tempdir().unwrap();
        let config = Stl10StandInConfig {
            train: 900,
            test: 90,
            unlabeled: 30,
            seed: 4,
        };
        write_stl10_stand_in(dir.path(), &config).unwrap();
        let train = Stl10::load(dir.path(), Stl10Split::Train, None).unwrap();
        assert_eq!(
            (
                train.len(),
                Stl10::load(dir.path(), Stl10Split::Test, None)
                    .unwrap()
                    .len()
            ),
            (900, 90)
        );
        assert_eq!(
            Stl10::load(dir.path(), Stl10Split::Unlabeled, None)
                .unwrap()
                .len(),
            30
        );
        let counts = train.labels().unwrap().bincount::<Tensor>(None, 10);
        let counts = Vec::<i64>::try_from(&counts).unwrap();
        assert_eq!(counts[9], 0, "nine classes");
        assert!(
            counts[..9].iter().all(|&c| (50..=150).contains(&c)),
            "roughly balanced: {counts:?}"
        );
        // Pictures, not noise: most pixels are black background.
        let black = train
            .images_u8()
            .eq(0)
            .to_kind(Kind::Float)
            .mean(Kind::Float)
            .double_value(&[]);
        assert!(black > 0.5, "{black}");
    }

    #[test]
    fn bad_files_are_named_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Stl10::load(dir.path(), Stl10Split::Test, None)
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("test_X.bin") && missing.contains("cs.stanford.edu"),
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
        assert!(label.contains("label 11 of image 1"), "{label}");
    }

    #[test]
    fn the_stand_in_is_written_once_and_real_data_wins() {
        let dir = tempfile::tempdir().unwrap();
        let (real, stand_in) = (dir.path().join("stl10_binary"), dir.path().join("stand_in"));
        let config = Stl10StandInConfig {
            train: 4,
            test: 3,
            unlabeled: 2,
            seed: 0,
        };
        let source = stl10_or_stand_in(&real, &stand_in, &config).unwrap();
        assert_eq!(
            source,
            Stl10Source {
                dir: stand_in.clone(),
                stand_in: true
            }
        );
        assert_eq!(
            Stl10::load(&stand_in, Stl10Split::Test, None)
                .unwrap()
                .len(),
            3
        );
        // A second call with the same configuration keeps the files.
        let written = std::fs::metadata(stand_in.join("train_X.bin"))
            .unwrap()
            .modified()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        stl10_or_stand_in(&real, &stand_in, &config).unwrap();
        assert_eq!(
            std::fs::metadata(stand_in.join("train_X.bin"))
                .unwrap()
                .modified()
                .unwrap(),
            written
        );
        // Another configuration rewrites them.
        stl10_or_stand_in(
            &real,
            &stand_in,
            &Stl10StandInConfig {
                test: 5,
                ..config.clone()
            },
        )
        .unwrap();
        assert_eq!(
            Stl10::load(&stand_in, Stl10Split::Test, None)
                .unwrap()
                .len(),
            5
        );
        // Once all three image files of the real archive exist, they are used.
        write_stl10_stand_in(&real, &config).unwrap();
        assert_eq!(
            stl10_or_stand_in(&real, &stand_in, &config).unwrap(),
            Stl10Source {
                dir: real,
                stand_in: false
            }
        );
    }
}
