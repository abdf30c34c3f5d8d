//! The shapes assignment (seed 001, questions 7 and 8): reconstruction versus
//! similarity. An autoencoder and three contrastive encoders (augmentation
//! sets A, B, C) on generated shapes; students write the two losses.
//!
//! The notebook's first cell is `let setup = shapes::setup(Budget::Auto)?;`.
use crate::augment::Augmenter;
use crate::data::{ImageSet, Shapes, ShapesConfig, SHAPES_TRAIN_LEN};
use crate::eval::encode_all;
use crate::train::{Budget, History, LoopConfig, ParamGroup, Trainer};
use crate::Result;
use tch::nn::{Module, VarStore};
use tch::{Device, Tensor};

/// A reconstruction loss: `(reconstruction, input)` (both `[B, 3, 64, 64]`) -> scalar.
pub type ReconstructionLossFn = fn(&Tensor, &Tensor) -> Tensor;
/// A contrastive loss: `(anchors [B, D], positives [B, D], temperature)` -> scalar.
pub type ContrastiveLossFn = fn(&Tensor, &Tensor, f64) -> Tensor;

/// How the autoencoder trains.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoencoderTraining {
    pub run: LoopConfig,
    pub learning_rate: f64,
}

/// How each contrastive encoder trains.
#[derive(Debug, Clone, PartialEq)]
pub struct ContrastiveTraining {
    pub run: LoopConfig,
    pub learning_rate: f64,
    pub temperature: f64,
}

/// The assignment's data and budgets.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapesAssignment {
    /// The generated images; the first `train_len` train, the rest validate.
    pub data: ShapesConfig,
    pub train_len: usize,
    pub autoencoder: AutoencoderTraining,
    pub contrastive: ContrastiveTraining,
}

impl ShapesAssignment {
    /// The original's: 64,000 images (40,000 train), Adam 2e-4, batch 256,
    /// autoencoder 30 epochs, contrastive 15 epochs at temperature 0.07.
    pub fn original() -> Self {
        let run = LoopConfig {
            epochs: 30,
            batch_size: 256,
            ..LoopConfig::default()
        };
        ShapesAssignment {
            data: ShapesConfig::default(),
            train_len: SHAPES_TRAIN_LEN,
            autoencoder: AutoencoderTraining {
                run: run.clone(),
                learning_rate: 2e-4,
            },
            contrastive: ContrastiveTraining {
                run: LoopConfig { epochs: 15, ..run },
                learning_rate: 2e-4,
                temperature: 0.07,
            },
        }
    }

    /// Minutes on a laptop: 3,000 images (2,000 train), a few steps of 64.
    pub fn quick() -> Self {
        let original = Self::original();
        let short = |epochs| LoopConfig {
            epochs,
            batch_size: 64,
            max_steps_per_epoch: Some(6),
            ..original.autoencoder.run.clone()
        };
        ShapesAssignment {
            data: ShapesConfig {
                len: 3_000,
                ..ShapesConfig::default()
            },
            train_len: 2_000,
            autoencoder: AutoencoderTraining {
                run: short(2),
                ..original.autoencoder
            },
            contrastive: ContrastiveTraining {
                run: short(1),
                ..original.contrastive
            },
        }
    }

    /// The budget `budget` resolves to.
    pub fn for_budget(budget: Budget) -> Self {
        if budget.is_quick() {
            Self::quick()
        } else {
            Self::original()
        }
    }
}

/// What the notebook's first cell sets up.
#[derive(Debug)]
pub struct ShapesSetup {
    pub device: Device,
    pub budget: Budget,
    pub config: ShapesAssignment,
    pub train: Shapes,
    pub val: Shapes,
}

/// Seeds libtorch, generates the images for `budget` and prints what runs where.
pub fn setup(budget: Budget) -> Result<ShapesSetup> {
    crate::seed(0);
    let device = crate::device();
    let config = ShapesAssignment::for_budget(budget);
    let (train, val) = Shapes::generate(&config.data)?.split_at(config.train_len);
    println!("device: {device:?}");
    println!(
        "budget: {} ({}): autoencoder {} epochs, contrastive {} epochs, batch {}",
        budget,
        budget.reason(),
        config.autoencoder.run.epochs,
        config.contrastive.run.epochs,
        config.autoencoder.run.batch_size
    );
    println!(
        "data: {} training and {} validation images",
        train.len(),
        val.len()
    );
    Ok(ShapesSetup {
        device,
        budget: budget.resolve(),
        config,
        train,
        val,
    })
}

/// Images in [0, 1] scaled to the original's [-1, 1], what the shapes models take.
pub fn signed(images: &Tensor) -> Tensor {
    images * 2.0 - 1.0
}

/// Features `[N, D]` (CPU) of every image of `data` by `encoder`, which takes [-1, 1].
pub fn encode(encoder: &dyn Module, data: &Shapes, device: Device) -> Result<Tensor> {
    encode_all(data, 256, device, |x| encoder.forward(&signed(x)))
}

/// Trains `encoder` and `decoder` (their parameters in `vs`) to reconstruct
/// `data`'s images ([-1, 1]) under `loss`; returns one loss per step. The
/// result is saved under `checkpoint` and reloaded when nothing changed (see
/// [`Trainer::checkpoint`]).
pub fn train_autoencoder(
    encoder: &dyn Module,
    decoder: &dyn Module,
    vs: &VarStore,
    data: &Shapes,
    config: &AutoencoderTraining,
    loss: ReconstructionLossFn,
    checkpoint: &str,
) -> Result<History> {
    Trainer::new("autoencoder", "reconstruction MSE", &config.run)
        .group(ParamGroup::adam(vs, config.learning_rate))
        .checkpoint(checkpoint)
        .fit(data.len(), |batch| {
            let x = signed(&data.images(batch.indices, config.run.device)?);
            Ok(loss(&decoder.forward(&encoder.forward(&x)), &x))
        })
}

/// Trains `encoder` (parameters in `vs`; it should L2-normalise its output)
/// with two augmentations of each image as the positive pair and the rest of
/// the batch as negatives, under `loss`; returns one loss per step. Saved
/// under `checkpoint`, reloaded when nothing changed.
pub fn train_contrastive(
    encoder: &dyn Module,
    vs: &VarStore,
    data: &Shapes,
    augmenter: &mut Augmenter,
    config: &ContrastiveTraining,
    loss: ContrastiveLossFn,
    checkpoint: &str,
) -> Result<History> {
    let label = format!("contrastive {:?}", augmenter.set);
    Trainer::new(label, "InfoNCE", &config.run)
        .group(ParamGroup::adam(vs, config.learning_rate))
        .checkpoint(checkpoint)
        .fit(data.len(), |batch| {
            let x = data.images(batch.indices, config.run.device)?;
            let a = signed(&augmenter.apply(&x)?);
            let b = signed(&augmenter.apply(&x)?);
            Ok(loss(
                &encoder.forward(&a),
                &encoder.forward(&b),
                config.temperature,
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::AugmentationSet;
    use crate::losses::{info_nce, reconstruction_loss};
    use crate::models::{ShapesDecoder, ShapesEncoder, ShapesEncoderConfig};
    use tch::nn;

    fn quick(epochs: usize) -> LoopConfig {
        LoopConfig {
            epochs,
            batch_size: 32,
            max_steps_per_epoch: Some(4),
            seed: 0,
            device: Device::Cpu,
        }
    }

    #[test]
    fn the_original_budgets_are_the_originals() {
        let o = ShapesAssignment::original();
        assert_eq!((o.data.len, o.train_len), (64_000, 40_000));
        assert_eq!((o.autoencoder.run.epochs, o.autoencoder.run.batch_size, o.autoencoder.learning_rate), (30, 256, 2e-4));
        assert_eq!((o.contrastive.run.epochs, o.contrastive.temperature), (15, 0.07));
    }

    #[test]
    fn autoencoder_loss_falls() {
        let _rng = crate::seed::seeded_test(0);
        let shapes = Shapes::generate(&ShapesConfig {
            len: 128,
            seed: 5,
            ..Default::default()
        })
        .unwrap();
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = ShapesEncoderConfig::default();
        let enc = ShapesEncoder::new(&(vs.root() / "enc"), &cfg);
        let dec = ShapesDecoder::new(&(vs.root() / "dec"), &cfg);
        let config = AutoencoderTraining { run: quick(6), learning_rate: 1e-3 };
        let dir = tempfile::tempdir().unwrap();
        let ckpt = dir.path().join("ae");
        let h = train_autoencoder(&enc, &dec, &vs, &shapes, &config, reconstruction_loss, ckpt.to_str().unwrap()).unwrap();
        assert_eq!(h.len(), 24);
        let means = h.epoch_means();
        assert!(means[5] < means[0] * 0.9, "{means:?}");
    }

    #[test]
    fn contrastive_loss_falls_below_chance() {
        let _rng = crate::seed::seeded_test(1);
        let shapes = Shapes::generate(&ShapesConfig {
            len: 128,
            seed: 6,
            ..Default::default()
        })
        .unwrap();
        let vs = nn::VarStore::new(Device::Cpu);
        let enc = ShapesEncoder::new(
            &vs.root(),
            &ShapesEncoderConfig {
                normalize: true,
                ..Default::default()
            },
        );
        let mut aug = Augmenter::new(AugmentationSet::A, 0);
        let config = ContrastiveTraining { run: quick(6), learning_rate: 1e-3, temperature: 0.07 };
        let dir = tempfile::tempdir().unwrap();
        let ckpt = dir.path().join("a");
        let h = train_contrastive(&enc, &vs, &shapes, &mut aug, &config, info_nce, ckpt.to_str().unwrap()).unwrap();
        let means = h.epoch_means();
        // Chance for 32 candidates is ln 32 = 3.47.
        assert!(means[5] < 32f64.ln() * 0.8, "{means:?}");
    }
}
