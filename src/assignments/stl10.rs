//! The STL-10 assignment (seed 004, problem 7.1): an autoencoder on STL-10 and
//! what its features are worth to a linear classifier, against a classifier
//! trained with its encoder (II) and one on a frozen random encoder (III).
//! Students write the encoder, the decoder and the two batch losses.
//!
//! The notebook's first cell is `let setup = stl10::setup(Budget::Auto)?;`.
use crate::augment::{center_crop, RandomCropFlip};
use crate::data::{data_dir, stl10_or_stand_in, DataChoice, ImageSet, Stl10, Stl10Split, Stl10StandInConfig};
use crate::eval;
use crate::train::{Budget, History, LoopConfig, ParamGroup, Trainer};
use crate::{Error, Result};
use tch::nn::{Module, VarStore};
use tch::{Device, Tensor};

/// Side of the crops the models see (the images are 96x96).
pub const CROP: i64 = 64;

/// The autoencoder's loss on a batch: `(encoder, decoder, images [B, 3, 64, 64])` -> scalar.
pub type AutoencoderLossFn = fn(&dyn Module, &dyn Module, &Tensor) -> Tensor;
/// The classifier's loss on a batch: `(encoder, classifier, images, labels [B], supervised)` -> scalar.
/// Unless `supervised`, no gradient may reach the encoder.
pub type ClassifierLossFn = fn(&dyn Module, &dyn Module, &Tensor, &Tensor, bool) -> Tensor;

/// How the autoencoder trains.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoencoderTraining {
    pub run: LoopConfig,
    pub learning_rate: f64,
}

/// How each linear classifier trains.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierTraining {
    pub run: LoopConfig,
    pub learning_rate: f64,
    /// Adam's L2 penalty (PyTorch's `weight_decay`).
    pub weight_decay: f64,
}

/// The assignment's data sizes and budgets.
#[derive(Debug, Clone, PartialEq)]
pub struct Stl10Assignment {
    /// How many images of each split are used (and the stand-in's sizes).
    pub data: Stl10StandInConfig,
    pub autoencoder: AutoencoderTraining,
    pub classifier: ClassifierTraining,
}

impl Stl10Assignment {
    /// The original's: 10,000 unlabeled, 5,000 train, 8,000 test images; batch
    /// 128; autoencoder Adam 1e-3, 100 epochs; classifiers Adam 1e-3 with
    /// weight decay 1e-4, 100 epochs.
    pub fn original() -> Self {
        let run = LoopConfig {
            epochs: 100,
            batch_size: 128,
            ..LoopConfig::default()
        };
        Stl10Assignment {
            data: Stl10StandInConfig::default(),
            autoencoder: AutoencoderTraining {
                run: run.clone(),
                learning_rate: 1e-3,
            },
            classifier: ClassifierTraining {
                run,
                learning_rate: 1e-3,
                weight_decay: 1e-4,
            },
        }
    }

    /// A minute or two on a laptop: 1,000 / 500 / 500 images, 2 epochs of 8 steps of 64.
    pub fn quick() -> Self {
        let original = Self::original();
        let run = LoopConfig {
            epochs: 2,
            batch_size: 64,
            max_steps_per_epoch: Some(8),
            ..original.autoencoder.run.clone()
        };
        Stl10Assignment {
            data: Stl10StandInConfig {
                train: 500,
                test: 500,
                unlabeled: 1_000,
                ..Stl10StandInConfig::default()
            },
            autoencoder: AutoencoderTraining {
                run: run.clone(),
                ..original.autoencoder
            },
            classifier: ClassifierTraining {
                run,
                ..original.classifier
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
pub struct Stl10Setup {
    pub device: Device,
    pub budget: Budget,
    pub config: Stl10Assignment,
    /// Real STL-10, or the stand-in written once into the data folder.
    pub source: DataChoice,
    pub unlabeled: Stl10,
    pub train: Stl10,
    pub test: Stl10,
}

/// Seeds libtorch, finds STL-10 (else writes the stand-in), loads the three
/// splits for `budget` and prints what runs where.
pub fn setup(budget: Budget) -> Result<Stl10Setup> {
    crate::seed(0);
    let device = crate::device();
    let config = Stl10Assignment::for_budget(budget);
    let stand_in = data_dir().join(if budget.is_quick() { "stl10_stand_in_quick" } else { "stl10_stand_in" });
    let source = stl10_or_stand_in(data_dir().join("stl10_binary"), stand_in, &config.data)?;
    let load = |split, n| Stl10::load(&source.dir, split, Some(n));
    let unlabeled = load(Stl10Split::Unlabeled, config.data.unlabeled)?;
    let train = load(Stl10Split::Train, config.data.train)?;
    let test = load(Stl10Split::Test, config.data.test)?;
    println!("device: {device:?}");
    println!(
        "budget: {} ({}): {} epochs of batches of {} for the autoencoder and each classifier",
        budget,
        budget.reason(),
        config.autoencoder.run.epochs,
        config.autoencoder.run.batch_size
    );
    println!(
        "data: {}\n{} unlabeled, {} training and {} test images",
        source.describe("Run `make data-stl10` for the real STL-10."),
        unlabeled.len(),
        train.len(),
        test.len()
    );
    Ok(Stl10Setup {
        device,
        budget: budget.resolve(),
        config,
        source,
        unlabeled,
        train,
        test,
    })
}

/// Trains the autoencoder (its parameters in `vs`) on random 64x64 crops,
/// randomly mirrored, of `unlabeled`, under `loss`. Returns one loss per step.
/// Saved under `checkpoint`, reloaded when nothing changed.
pub fn train_autoencoder(
    encoder: &dyn Module,
    decoder: &dyn Module,
    vs: &VarStore,
    unlabeled: &Stl10,
    config: &AutoencoderTraining,
    loss: AutoencoderLossFn,
    checkpoint: &str,
) -> Result<History> {
    let mut crops = RandomCropFlip::new(CROP, config.run.seed);
    Trainer::new("STL-10 autoencoder", "reconstruction MSE", &config.run)
        .group(ParamGroup::adam(vs, config.learning_rate))
        .checkpoint(checkpoint)
        .fit(unlabeled.len(), |batch| {
            let images = crops.apply(&unlabeled.images(batch.indices, config.run.device)?)?;
            Ok(loss(encoder, decoder, &images))
        })
}

/// Trains `classifier` (parameters in `classifier_vs`) on the centre 64x64
/// crops of `train`, under `loss`. When `supervised`, the encoder's
/// parameters (`encoder_vs`) train too; otherwise they are not optimised (and
/// `loss` must keep gradients away from them). Returns one loss per step.
/// Saved under `checkpoint`, reloaded when nothing changed.
#[allow(clippy::too_many_arguments)]
pub fn train_classifier(
    encoder: &dyn Module,
    encoder_vs: &VarStore,
    classifier: &dyn Module,
    classifier_vs: &VarStore,
    train: &Stl10,
    config: &ClassifierTraining,
    supervised: bool,
    loss: ClassifierLossFn,
    checkpoint: &str,
) -> Result<History> {
    let labels = labels_of(train)?;
    let label = if supervised {
        "classifier + encoder"
    } else {
        "classifier (frozen encoder)"
    };
    let group = |vs| ParamGroup::adam(vs, config.learning_rate).weight_decay(config.weight_decay);
    let mut trainer = Trainer::new(label, "cross-entropy", &config.run)
        .group(group(classifier_vs))
        .checkpoint(checkpoint);
    if supervised {
        trainer = trainer.group(group(encoder_vs));
    }
    trainer.fit(train.len(), |batch| {
        let images = center_crop(&train.images(batch.indices, config.run.device)?, CROP)?;
        let targets = labels
            .index_select(0, &Tensor::from_slice(batch.indices))
            .to_device(config.run.device);
        Ok(loss(encoder, classifier, &images, &targets, supervised))
    })
}

/// The fraction of `data`'s images (centre crops) whose highest logit is their label.
pub fn accuracy(encoder: &dyn Module, classifier: &dyn Module, data: &dyn ImageSet, device: Device) -> Result<f64> {
    eval::accuracy(data, 256, device, |x| {
        let crops = center_crop(x, CROP).expect("a batch of images is [B, 3, H, W]");
        classifier.forward(&encoder.forward(&crops))
    })
}

fn labels_of(data: &Stl10) -> Result<Tensor> {
    data.labels().ok_or_else(|| {
        Error::invalid(
            "the classifier's training split",
            "unlabeled",
            "use the train or test split: the unlabeled split has no labels",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::write_stl10_stand_in;
    use crate::losses::{stl10_autoencoder_loss as ae_loss, stl10_classifier_loss as classifier_loss};
    use crate::models::{Stl10AutoencoderConfig, Stl10Decoder, Stl10Encoder};
    use tch::nn;

    fn stand_in() -> (tempfile::TempDir, Stl10, Stl10, Stl10) {
        let dir = tempfile::tempdir().unwrap();
        write_stl10_stand_in(
            dir.path(),
            &Stl10StandInConfig {
                train: 256,
                test: 256,
                unlabeled: 128,
                seed: 1,
            },
        )
        .unwrap();
        let load = |s| Stl10::load(dir.path(), s, None).unwrap();
        let (u, tr, te) = (
            load(Stl10Split::Unlabeled),
            load(Stl10Split::Train),
            load(Stl10Split::Test),
        );
        (dir, u, tr, te)
    }

    fn quick(epochs: usize) -> LoopConfig {
        LoopConfig {
            epochs,
            batch_size: 32,
            max_steps_per_epoch: None,
            seed: 0,
            device: Device::Cpu,
        }
    }

    fn classifier_training(epochs: usize) -> ClassifierTraining {
        ClassifierTraining {
            run: quick(epochs),
            learning_rate: 1e-3,
            weight_decay: 1e-4,
        }
    }

    #[test]
    fn stl10_budgets_are_the_originals() {
        let o = Stl10Assignment::original();
        assert_eq!(
            (o.autoencoder.run.epochs, o.autoencoder.run.batch_size, o.autoencoder.learning_rate),
            (100, 128, 1e-3)
        );
        assert_eq!((o.classifier.weight_decay, o.classifier.learning_rate), (1e-4, 1e-3));
        assert_eq!((o.data.unlabeled, o.data.train, o.data.test), (10_000, 5_000, 8_000));
    }

    #[test]
    fn autoencoder_loss_falls_on_the_stand_in() {
        let _rng = crate::seed::seeded_test(0);
        let (dir, unlabeled, _, _) = stand_in();
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = Stl10AutoencoderConfig::default();
        let (enc, dec) = (
            Stl10Encoder::new(&(vs.root() / "enc"), &cfg),
            Stl10Decoder::new(&(vs.root() / "dec"), &cfg),
        );
        let config = AutoencoderTraining { run: quick(6), learning_rate: 1e-3 };
        let h = train_autoencoder(&enc, &dec, &vs, &unlabeled, &config, ae_loss, dir.path().join("ae").to_str().unwrap()).unwrap();
        assert_eq!(h.len(), 6 * 4);
        let means = h.epoch_means();
        assert!(means[5] < means[0] * 0.7, "{means:?}");
    }

    #[test]
    fn the_supervised_switch_decides_whether_the_encoder_learns() {
        let (dir, _, train, test) = stand_in();
        let cfg = Stl10AutoencoderConfig::default();
        for supervised in [false, true] {
            let _rng = crate::seed::seeded_test(2);
            let encoder_vs = nn::VarStore::new(Device::Cpu);
            let enc = Stl10Encoder::new(&encoder_vs.root(), &cfg);
            let before: Vec<Tensor> = encoder_vs
                .trainable_variables()
                .iter()
                .map(Tensor::copy)
                .collect();
            let head_vs = nn::VarStore::new(Device::Cpu);
            let head = nn::linear(head_vs.root(), cfg.features(), 10, Default::default());
            let h = train_classifier(
                &enc,
                &encoder_vs,
                &head,
                &head_vs,
                &train,
                &classifier_training(3),
                supervised,
                classifier_loss,
                dir.path().join(format!("classifier-{supervised}")).to_str().unwrap(),
            )
            .unwrap();
            assert_eq!(h.len(), 3 * 8);
            let changed = encoder_vs
                .trainable_variables()
                .iter()
                .zip(&before)
                .any(|(a, b)| a != b);
            assert_eq!(
                changed, supervised,
                "encoder changed: {changed}, supervised: {supervised}"
            );
            if !supervised {
                assert!(
                    encoder_vs.trainable_variables().iter().all(|v| !v.grad().defined()),
                    "a frozen encoder gets no gradients"
                );
            }
            let acc = accuracy(&enc, &head, &test, Device::Cpu).unwrap();
            assert!((0.0..=1.0).contains(&acc));
        }
    }

    #[test]
    fn a_head_on_a_frozen_random_encoder_fits_the_training_images() {
        let _rng = crate::seed::seeded_test(3);
        let (dir, _, train, _) = stand_in();
        let cfg = Stl10AutoencoderConfig::default();
        let enc_vs = nn::VarStore::new(Device::Cpu);
        let enc = Stl10Encoder::new(&enc_vs.root(), &cfg);
        let vs = nn::VarStore::new(Device::Cpu);
        let head = nn::linear(vs.root(), cfg.features(), 10, Default::default());
        let config = ClassifierTraining {
            learning_rate: 1e-2,
            ..classifier_training(15)
        };
        let h = train_classifier(&enc, &enc_vs, &head, &vs, &train, &config, false, classifier_loss, dir.path().join("head").to_str().unwrap()).unwrap();
        let means = h.epoch_means();
        assert!(means[14] < means[0] * 0.8, "{means:?}");
        // Nine stand-in classes: chance is about 1/9.
        let acc = accuracy(&enc, &head, &train, Device::Cpu).unwrap();
        assert!(acc > 0.4, "training accuracy {acc}");
    }

    #[test]
    fn the_unlabeled_split_cannot_train_a_classifier() {
        let (dir, unlabeled, _, _) = stand_in();
        let vs = nn::VarStore::new(Device::Cpu);
        let enc = Stl10Encoder::new(&vs.root(), &Stl10AutoencoderConfig::default());
        let head = nn::linear(vs.root() / "head", 384, 10, Default::default());
        let err = train_classifier(
            &enc,
            &vs,
            &head,
            &vs,
            &unlabeled,
            &classifier_training(1),
            false,
            classifier_loss,
            dir.path().join("head").to_str().unwrap(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("train or test split"), "{err}");
    }
}
