//! scikit-learn's 8x8 handwritten digits (1,797 images, values 0-16), read from
//! the copy inside the installed scikit-learn wheel: no download.
use crate::{Error, Result};
use std::io::Read;
use std::path::{Path, PathBuf};
use tch::Tensor;

/// The digits: pixels and labels.
#[derive(Debug)]
pub struct Digits {
    /// `[N, 64]` float pixels in 0..=16, rows of the 8x8 image one after another.
    pub pixels: Tensor,
    /// `[N]` int64 labels 0-9.
    pub labels: Tensor,
}

/// Where scikit-learn keeps them, relative to a venv.
const IN_SITE_PACKAGES: &str = "sklearn/datasets/data/digits.csv.gz";

/// The digits file of the first venv that has scikit-learn: `$VIRTUAL_ENV`, the
/// checkout's `.venv` (where `make setup` installs it), then `.venv` and `../.venv`.
pub fn scikit_learn_digits_path() -> Result<PathBuf> {
    let mut venvs: Vec<PathBuf> = std::env::var_os("VIRTUAL_ENV").map(PathBuf::from).into_iter().collect();
    venvs.extend([PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv"), PathBuf::from(".venv"), PathBuf::from("../.venv")]);
    for venv in &venvs {
        let Ok(entries) = std::fs::read_dir(venv.join("lib")) else { continue };
        for entry in entries.flatten() {
            let file = entry.path().join("site-packages").join(IN_SITE_PACKAGES);
            if file.is_file() {
                return Ok(file);
            }
        }
    }
    Err(Error::NotFound {
        path: venvs[0].join("lib/python3.*/site-packages").join(IN_SITE_PACKAGES),
        hint: "the digits come with scikit-learn: run `make setup` (it installs scikit-learn into .venv), or point VIRTUAL_ENV at a venv that has it".into(),
    })
}

impl Digits {
    /// Reads the digits from the installed scikit-learn.
    pub fn from_scikit_learn() -> Result<Digits> {
        Digits::load(scikit_learn_digits_path()?)
    }

    /// Reads a gzipped CSV in scikit-learn's layout: 64 pixel values then the label, per line.
    pub fn load(path: impl AsRef<Path>) -> Result<Digits> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut text = String::new();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .map_err(|e| Error::bad_format(path, "gzipped CSV", e.to_string()))?;
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let values: Vec<f32> = line
                .split(',')
                .map(|v| v.trim().parse::<f32>())
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| Error::bad_format(path, "digits CSV", format!("line {}: {e}", number + 1)))?;
            if values.len() != 65 {
                return Err(Error::bad_format(path, "digits CSV", format!("line {} has {} values, not 64 pixels and a label", number + 1, values.len())));
            }
            pixels.extend_from_slice(&values[..64]);
            labels.push(values[64] as i64);
        }
        let n = labels.len() as i64;
        Ok(Digits { pixels: Tensor::from_slice(&pixels).view([n, 64]), labels: Tensor::from_slice(&labels) })
    }

    pub fn len(&self) -> usize {
        self.labels.size()[0] as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first `n` digits (all when `n` is larger).
    pub fn first(&self, n: usize) -> Digits {
        let n = n.min(self.len()) as i64;
        Digits { pixels: self.pixels.narrow(0, 0, n), labels: self.labels.narrow(0, 0, n) }
    }

    /// Images `[N, 3, 8, 8]` in [0, 1], grey, for the image grids.
    pub fn images(&self) -> Tensor {
        (&self.pixels / 16.0).view([-1, 1, 8, 8]).repeat([1, 3, 1, 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_scikit_learns_layout_and_names_a_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("digits.csv.gz");
        let row = |label: u8| (0..64).map(|i| (i % 17).to_string()).chain([label.to_string()]).collect::<Vec<_>>().join(",");
        let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::default());
        writeln!(gz, "{}\n{}", row(3), row(7)).unwrap();
        gz.finish().unwrap();
        let digits = Digits::load(&path).unwrap();
        assert_eq!(digits.pixels.size(), [2, 64]);
        assert_eq!(Vec::<i64>::try_from(&digits.labels).unwrap(), [3, 7]);
        assert_eq!(digits.pixels.double_value(&[1, 20]), 3.0);
        assert_eq!(digits.images().size(), [2, 3, 8, 8]);
        let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::default());
        writeln!(gz, "{}\n1,2,3", row(3)).unwrap();
        gz.finish().unwrap();
        let e = Digits::load(&path).unwrap_err().to_string();
        assert!(e.contains("line 2 has 3 values"), "{e}");
    }

    #[test]
    fn the_installed_copy_has_1797_digits_of_ten_classes() {
        let digits = Digits::from_scikit_learn().expect("make setup installs scikit-learn");
        assert_eq!(digits.len(), 1797);
        let counts = digits.labels.bincount::<Tensor>(None, 10);
        assert!(Vec::<i64>::try_from(counts).unwrap().iter().all(|&c| (174..=183).contains(&c)));
    }
}
