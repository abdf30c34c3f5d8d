//! MNIST in its IDX files (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
//! `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each also accepted
//! gzipped), and the choice between MNIST and scikit-learn's 8x8 digits.
//!
//! IDX: a big-endian header (two zero bytes, a type byte, 0x08 for unsigned
//! bytes, the number of dimensions), one big-endian u32 per dimension, then
//! the values in row-major order.
use super::Digits;
use crate::{Error, Result};
use std::io::Read;
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

/// One split of MNIST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MnistSplit {
    Train,
    Test,
}

impl MnistSplit {
    fn prefix(self) -> &'static str {
        match self {
            MnistSplit::Train => "train",
            MnistSplit::Test => "t10k",
        }
    }
}

/// Handwritten digits as flat rows: MNIST's 28x28 or the 8x8 digits.
#[derive(Debug)]
pub struct FlatDigits {
    /// `[N, side * side]` float pixels in [0, 1].
    pub pixels: Tensor,
    /// `[N]` int64 labels 0-9.
    pub labels: Tensor,
    /// The images are `side` x `side`.
    pub side: i64,
}

impl FlatDigits {
    pub fn len(&self) -> i64 {
        self.labels.size()[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The images as `[N, 1, side, side]`.
    pub fn images(&self) -> Tensor {
        self.pixels.view([-1, 1, self.side, self.side])
    }

    /// Rows `start..start + n`.
    pub fn slice(&self, start: i64, n: i64) -> FlatDigits {
        FlatDigits {
            pixels: self.pixels.narrow(0, start, n),
            labels: self.labels.narrow(0, start, n),
            side: self.side,
        }
    }
}

/// Reads MNIST's `split` from `dir`, at most `limit` images.
pub fn load_mnist(dir: impl AsRef<Path>, split: MnistSplit, limit: Option<usize>) -> Result<FlatDigits> {
    let dir = dir.as_ref();
    let images_path = idx_path(dir, &format!("{}-images-idx3-ubyte", split.prefix()))?;
    let labels_path = idx_path(dir, &format!("{}-labels-idx1-ubyte", split.prefix()))?;
    let (image_dims, pixels) = read_idx(&images_path)?;
    let (label_dims, labels) = read_idx(&labels_path)?;
    let [n, rows, cols] = image_dims[..] else {
        return Err(Error::bad_format(&images_path, "IDX image file", format!("3 dimensions (images, rows, columns), found {image_dims:?}")));
    };
    if label_dims != [n] {
        return Err(Error::bad_format(&labels_path, "IDX label file", format!("one label per image ({n}), found dimensions {label_dims:?}")));
    }
    if rows != cols {
        return Err(Error::bad_format(&images_path, "IDX image file", format!("square images, found {rows}x{cols}")));
    }
    if let Some(bad) = labels.iter().find(|&&l| l > 9) {
        return Err(Error::bad_format(&labels_path, "MNIST label file", format!("labels 0-9, found {bad}")));
    }
    let keep = limit.map_or(n, |l| l.min(n));
    let pixels = Tensor::from_slice(&pixels[..keep * rows * cols]).view([keep as i64, (rows * cols) as i64]).to_kind(Kind::Float) / 255.0;
    let labels = Tensor::from_slice(&labels[..keep]).to_kind(Kind::Int64);
    Ok(FlatDigits { pixels, labels, side: rows as i64 })
}

/// `dir/name`, or `dir/name.gz`.
fn idx_path(dir: &Path, name: &str) -> Result<PathBuf> {
    let plain = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    if plain.is_file() {
        Ok(plain)
    } else if gz.is_file() {
        Ok(gz)
    } else {
        Err(Error::not_found(plain, "put MNIST's four IDX files (gzipped or not) in data/mnist, as they come from the MNIST page"))
    }
}

/// The dimensions and unsigned-byte values of an IDX file (gzipped when its name ends in `.gz`).
pub fn read_idx(path: &Path) -> Result<(Vec<usize>, Vec<u8>)> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out).map_err(|e| Error::bad_format(path, "gzipped IDX file", e.to_string()))?;
        out
    } else {
        raw
    };
    let bad = |detail: String| Error::bad_format(path, "IDX file", detail);
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad("it must start with two zero bytes".into()));
    }
    if bytes[2] != 0x08 {
        return Err(bad(format!("type byte 0x{:02x}: only unsigned bytes (0x08) are read", bytes[2])));
    }
    let ndim = bytes[3] as usize;
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(bad(format!("{ndim} dimensions need a {header}-byte header, the file has {} bytes", bytes.len())));
    }
    let dims: Vec<usize> = (0..ndim).map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().expect("4 bytes")) as usize).collect();
    let count: usize = dims.iter().product();
    if bytes.len() != header + count {
        return Err(bad(format!("dimensions {dims:?} need {count} values after the header, found {}", bytes.len() - header)));
    }
    Ok((dims, bytes[header..].to_vec()))
}

/// Writes unsigned bytes as an IDX file of dimensions `dims` (tests and stand-ins).
pub fn write_idx(path: &Path, dims: &[usize], values: &[u8]) -> Result<()> {
    assert_eq!(dims.iter().product::<usize>(), values.len(), "IDX dimensions and values disagree");
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for &d in dims {
        bytes.extend_from_slice(&(d as u32).to_be_bytes());
    }
    bytes.extend_from_slice(values);
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// Which digits a notebook uses, and where they came from.
#[derive(Debug)]
pub struct DigitsChoice {
    pub train: FlatDigits,
    pub test: FlatDigits,
    /// "MNIST from data/mnist", or the 8x8 digits and how to get MNIST.
    pub description: String,
}

/// MNIST from `dir` when its four IDX files are there (at most `train_limit`
/// and `test_limit` images); else scikit-learn's 8x8 digits (installed with
/// the kit), scaled to [0, 1] and split in a fixed order, 1,297 to train and
/// 500 to test (or fewer, with the limits).
pub fn mnist_or_digits(dir: impl AsRef<Path>, train_limit: usize, test_limit: usize) -> Result<DigitsChoice> {
    let dir = dir.as_ref();
    if idx_path(dir, "train-images-idx3-ubyte").is_ok() {
        let train = load_mnist(dir, MnistSplit::Train, Some(train_limit))?;
        let test = load_mnist(dir, MnistSplit::Test, Some(test_limit))?;
        return Ok(DigitsChoice { train, test, description: format!("MNIST from {}", dir.display()) });
    }
    let digits = Digits::from_scikit_learn()?;
    let n = digits.labels.size()[0];
    // A fixed permutation, so both splits have every class.
    let order = Tensor::from_slice(&(0..n).map(|i| (i * 7919) % n).collect::<Vec<i64>>());
    let all = FlatDigits { pixels: digits.pixels.index_select(0, &order) / 16.0, labels: digits.labels.index_select(0, &order), side: 8 };
    let n_test = 500.min(test_limit as i64);
    let n_train = (n - 500).min(train_limit as i64);
    Ok(DigitsChoice {
        train: all.slice(0, n_train),
        test: all.slice(n - 500, n_test),
        description: format!(
            "scikit-learn's 8x8 digits ({n_train} to train, {n_test} to test; MNIST is not in {}: put its four IDX files there to use it)",
            dir.display()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_mnist(dir: &Path, prefix: &str, n: usize, gz: bool) {
        let pixels: Vec<u8> = (0..n * 28 * 28).map(|i| (i % 256) as u8).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        write_idx(&dir.join(format!("{prefix}-images-idx3-ubyte")), &[n, 28, 28], &pixels).unwrap();
        write_idx(&dir.join(format!("{prefix}-labels-idx1-ubyte")), &[n], &labels).unwrap();
        if gz {
            for kind in ["images-idx3", "labels-idx1"] {
                let plain = dir.join(format!("{prefix}-{kind}-ubyte"));
                let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                std::io::Write::write_all(&mut encoder, &std::fs::read(&plain).unwrap()).unwrap();
                std::fs::write(dir.join(format!("{prefix}-{kind}-ubyte.gz")), encoder.finish().unwrap()).unwrap();
                std::fs::remove_file(plain).unwrap();
            }
        }
    }

    #[test]
    fn reads_idx_files_plain_and_gzipped() {
        let dir = tempfile::tempdir().unwrap();
        write_mnist(dir.path(), "train", 12, false);
        write_mnist(dir.path(), "t10k", 5, true);
        let train = load_mnist(dir.path(), MnistSplit::Train, Some(10)).unwrap();
        assert_eq!((train.pixels.size(), train.side), (vec![10, 784], 28));
        // Pixel 300 of image 1 is byte (784 + 300) % 256, scaled to [0, 1].
        let expected = ((784 + 300) % 256) as f64 / 255.0;
        assert!((train.pixels.double_value(&[1, 300]) - expected).abs() < 1e-6);
        assert_eq!(Vec::<i64>::try_from(&train.labels).unwrap(), (0..10).collect::<Vec<i64>>());
        let test = load_mnist(dir.path(), MnistSplit::Test, None).unwrap();
        assert_eq!(test.images().size(), [5, 1, 28, 28]);
        let choice = mnist_or_digits(dir.path(), 8, 3).unwrap();
        assert_eq!((choice.train.len(), choice.test.len()), (8, 3));
        assert!(choice.description.starts_with("MNIST"));
    }

    #[test]
    fn a_broken_file_names_itself_and_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        write_mnist(dir.path(), "train", 3, false);
        let labels = dir.path().join("train-labels-idx1-ubyte");
        let mut bytes = std::fs::read(&labels).unwrap();
        bytes.pop();
        std::fs::write(&labels, bytes).unwrap();
        let message = load_mnist(dir.path(), MnistSplit::Train, None).unwrap_err().to_string();
        assert!(message.contains("train-labels-idx1-ubyte") && message.contains("need 3 values"), "{message}");
        let missing = load_mnist(dir.path(), MnistSplit::Test, None).unwrap_err().to_string();
        assert!(missing.contains("t10k-images-idx3-ubyte") && missing.contains("data/mnist"), "{missing}");
    }

    #[test]
    fn without_mnist_the_8x8_digits_stand_in() {
        let dir = tempfile::tempdir().unwrap();
        let choice = mnist_or_digits(dir.path(), 10_000, 10_000).expect("make setup installs scikit-learn");
        assert_eq!((choice.train.len(), choice.test.len(), choice.train.side), (1297, 500, 8));
        assert!(choice.description.contains("8x8") && choice.description.contains("IDX"));
        let max = choice.train.pixels.max().double_value(&[]);
        assert!(max <= 1.0 && max > 0.9);
        // Every class in both splits.
        for split in [&choice.train, &choice.test] {
            assert_eq!(split.labels.bincount::<Tensor>(None, 10).min().int64_value(&[]) > 20, true);
        }
    }
}
