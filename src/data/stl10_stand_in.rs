//! The offline stand-in for STL-10, and the choice between it and the real data.
//!
//! Generated shapes at 96x96, written in STL-10's exact binary layout (with
//! its own `class_names.txt`), so the same reader and notebook run without
//! the 2.6 GB download. Nine classes (labels 0-8): `3 * kind + size tercile`
//! (circle, square, triangle; small, medium, large), which colour alone cannot
//! tell apart.
use super::source::write_stand_in_once;
use super::{DataChoice, Shapes, ShapesConfig, Stl10, Stl10Split, STL10_SIZE};
use crate::Result;
use std::path::Path;
use tch::Tensor;

/// Class names of the stand-in, in label order.
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

/// Writes the stand-in into `dir` (see the module's documentation).
pub fn write_stl10_stand_in(dir: impl AsRef<Path>, config: &Stl10StandInConfig) -> Result<()> {
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
    Stl10::write_class_names(dir, &STL10_STAND_IN_CLASSES)
}

/// The real STL-10 in `real` (the unpacked `stl10_binary` folder) when its
/// train, test and unlabeled image files are all there; otherwise the stand-in
/// in `stand_in`, written with `config` unless the same stand-in is already there.
pub fn stl10_or_stand_in(
    real: impl AsRef<Path>,
    stand_in: impl AsRef<Path>,
    config: &Stl10StandInConfig,
) -> Result<DataChoice> {
    let real = real.as_ref();
    let complete = [Stl10Split::Train, Stl10Split::Test, Stl10Split::Unlabeled]
        .iter()
        .all(|s| real.join(s.files().0).is_file());
    let choice = |dir: &Path, stand_in| DataChoice {
        dir: dir.to_path_buf(),
        stand_in,
        name: "STL-10",
        stand_in_name: "shapes at 96x96 in nine classes, in STL-10's file format",
    };
    if complete {
        return Ok(choice(real, false));
    }
    let dir = stand_in.as_ref();
    write_stand_in_once(dir, config, |d, c| write_stl10_stand_in(d, c))?;
    Ok(choice(dir, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ImageSet;
    use tch::Kind;

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
        assert_eq!((source.dir.clone(), source.stand_in), (stand_in.clone(), true));
        assert_eq!(
            Stl10::load(&stand_in, Stl10Split::Train, None).unwrap().class_names(),
            STL10_STAND_IN_CLASSES.map(String::from).to_vec(),
            "the stand-in names its own classes"
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
        let source = stl10_or_stand_in(&real, &stand_in, &config).unwrap();
        assert_eq!((source.dir, source.stand_in), (real, false));
    }
}
