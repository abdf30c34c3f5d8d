//! The STL-10 assignment's loops: the autoencoder on unlabeled images, and the
//! linear classifier on the labelled ones, with the encoder frozen or trained
//! with it (the `supervised` switch).
use super::config::run_epochs;
use super::{History, TrainConfig};
use crate::augment::{center_crop, RandomCropFlip};
use crate::data::Stl10;
use crate::{Error, Result};
use tch::nn::{self, Module};
use tch::{Device, Tensor};

/// Side of the crops the STL-10 models see (the images are 96x96).
pub const STL10_CROP: i64 = 64;

/// One autoencoder step: `(encoder, decoder, optimiser, images [B, 3, 64, 64]) -> loss before the step`.
pub type AutoencoderStepFn = fn(&dyn Module, &dyn Module, &mut nn::Optimizer, &Tensor) -> f64;
/// One classifier step: `(encoder, classifier, optimiser, images, labels [B], supervised) -> loss before the step`.
pub type ClassifierStepFn =
    fn(&dyn Module, &dyn Module, &mut nn::Optimizer, &Tensor, &Tensor, bool) -> f64;

/// The reference autoencoder step: mean squared error between
/// `decoder(encoder(images))` and `images`, then one optimiser step.
pub fn stl10_autoencoder_step(
    encoder: &dyn Module,
    decoder: &dyn Module,
    opt: &mut nn::Optimizer,
    images: &Tensor,
) -> f64 {
    let loss = decoder
        .forward(&encoder.forward(images))
        .mse_loss(images, tch::Reduction::Mean);
    opt.backward_step(&loss);
    loss.double_value(&[])
}

/// The reference classifier step: cross-entropy of `classifier(encoder(images))`
/// against `labels`, then one optimiser step. Unless `supervised`, the
/// features are computed without gradients, so the encoder stays as it is.
pub fn stl10_classifier_step(
    encoder: &dyn Module,
    classifier: &dyn Module,
    opt: &mut nn::Optimizer,
    images: &Tensor,
    labels: &Tensor,
    supervised: bool,
) -> f64 {
    let features = if supervised {
        encoder.forward(images)
    } else {
        tch::no_grad(|| encoder.forward(images))
    };
    let loss = classifier
        .forward(&features)
        .cross_entropy_for_logits(labels);
    opt.backward_step(&loss);
    loss.double_value(&[])
}

/// Trains the autoencoder whose parameters are in `vs` on random 64x64 crops
/// (randomly mirrored) of `unlabeled`, calling `step` once per batch.
/// Returns one loss per step.
pub fn train_stl10_autoencoder(
    encoder: &dyn Module,
    decoder: &dyn Module,
    vs: &nn::VarStore,
    unlabeled: &Stl10,
    config: &TrainConfig,
    step: AutoencoderStepFn,
) -> Result<History> {
    let mut crops = RandomCropFlip::new(STL10_CROP, config.seed);
    run_epochs(
        vs,
        unlabeled.len(),
        config,
        "STL-10 autoencoder",
        "reconstruction MSE",
        |opt, idx| {
            let images = crops.apply(&unlabeled.batch(&Tensor::from_slice(idx), config.device))?;
            Ok(step(encoder, decoder, opt, &images))
        },
    )
}

/// Trains on the centre 64x64 crops of the labelled `train` split, optimising
/// the parameters in `vs` (the classifier's alone for a frozen encoder; the
/// encoder's and the classifier's when `supervised`). Returns one loss per step.
pub fn train_stl10_classifier(
    encoder: &dyn Module,
    classifier: &dyn Module,
    vs: &nn::VarStore,
    train: &Stl10,
    config: &TrainConfig,
    supervised: bool,
    step: ClassifierStepFn,
) -> Result<History> {
    let labels = labels_of(train)?;
    let label = if supervised {
        "classifier + encoder"
    } else {
        "classifier (frozen encoder)"
    };
    run_epochs(
        vs,
        train.len(),
        config,
        label,
        "cross-entropy",
        |opt, idx| {
            let idx = Tensor::from_slice(idx);
            let images = center_crop(&train.batch(&idx, config.device), STL10_CROP)?;
            let targets = labels.index_select(0, &idx).to_device(config.device);
            Ok(step(
                encoder, classifier, opt, &images, &targets, supervised,
            ))
        },
    )
}

/// The fraction of `data`'s images (centre crops) whose highest logit is their label.
pub fn stl10_accuracy(
    encoder: &dyn Module,
    classifier: &dyn Module,
    data: &Stl10,
    batch_size: usize,
    device: Device,
) -> Result<f64> {
    let labels = labels_of(data)?;
    let n = data.len() as i64;
    let mut correct = 0i64;
    tch::no_grad(|| -> Result<()> {
        for start in (0..n).step_by(batch_size.max(1)) {
            let idx = Tensor::arange_start(
                start,
                (start + batch_size.max(1) as i64).min(n),
                (tch::Kind::Int64, Device::Cpu),
            );
            let images = center_crop(&data.batch(&idx, device), STL10_CROP)?;
            let predicted = classifier
                .forward(&encoder.forward(&images))
                .argmax(1, false)
                .to_device(Device::Cpu);
            correct += predicted
                .eq_tensor(&labels.index_select(0, &idx))
                .sum(tch::Kind::Int64)
                .int64_value(&[]);
        }
        Ok(())
    })?;
    Ok(correct as f64 / n.max(1) as f64)
}

fn labels_of(data: &Stl10) -> Result<&Tensor> {
    data.labels().ok_or_else(|| {
        Error::InvalidArgument(
            "the unlabeled STL-10 split has no labels: use the train or test split".into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{write_stl10_stand_in, Stl10Split, Stl10StandInConfig};
    use crate::models::{Stl10AutoencoderConfig, Stl10Decoder, Stl10Encoder};

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

    fn quick(epochs: usize) -> TrainConfig {
        TrainConfig {
            epochs,
            batch_size: 32,
            device: Device::Cpu,
            ..TrainConfig::stl10_classifier()
        }
    }

    #[test]
    fn autoencoder_loss_falls_on_the_stand_in() {
        let _rng = crate::seed::seeded_test(0);
        let (_dir, unlabeled, _, _) = stand_in();
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = Stl10AutoencoderConfig::default();
        let (enc, dec) = (
            Stl10Encoder::new(&(vs.root() / "enc"), &cfg),
            Stl10Decoder::new(&(vs.root() / "dec"), &cfg),
        );
        let h = train_stl10_autoencoder(
            &enc,
            &dec,
            &vs,
            &unlabeled,
            &TrainConfig {
                weight_decay: 0.0,
                ..quick(6)
            },
            stl10_autoencoder_step,
        )
        .unwrap();
        assert_eq!(h.len(), 6 * 4);
        let means = h.epoch_means();
        assert!(means[5] < means[0] * 0.7, "{means:?}");
    }

    #[test]
    fn the_supervised_switch_decides_whether_the_encoder_learns() {
        let (_dir, _, train, test) = stand_in();
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
            // Supervised: one store holds both, so the encoder is optimised too.
            let head_vs = nn::VarStore::new(Device::Cpu);
            let head_root = if supervised {
                encoder_vs.root() / "head"
            } else {
                head_vs.root()
            };
            let head = nn::linear(head_root, cfg.features(), 10, Default::default());
            let optimised = if supervised { &encoder_vs } else { &head_vs };
            let h = train_stl10_classifier(
                &enc,
                &head,
                optimised,
                &train,
                &quick(3),
                supervised,
                stl10_classifier_step,
            )
            .unwrap();
            assert_eq!(h.len(), 3 * 8);
            let encoder_vars: Vec<Tensor> = encoder_vs
                .trainable_variables()
                .into_iter()
                .take(before.len())
                .collect();
            let changed = encoder_vars.iter().zip(&before).any(|(a, b)| a != b);
            assert_eq!(
                changed, supervised,
                "encoder changed: {changed}, supervised: {supervised}"
            );
            if !supervised {
                assert!(
                    encoder_vars.iter().all(|v| !v.grad().defined()),
                    "a frozen encoder gets no gradients"
                );
            }
            let acc = stl10_accuracy(&enc, &head, &test, 100, Device::Cpu).unwrap();
            assert!((0.0..=1.0).contains(&acc));
        }
    }

    #[test]
    fn a_head_on_a_frozen_random_encoder_fits_the_training_images() {
        let _rng = crate::seed::seeded_test(3);
        let (_dir, _, train, _) = stand_in();
        let cfg = Stl10AutoencoderConfig::default();
        let enc_vs = nn::VarStore::new(Device::Cpu);
        let enc = Stl10Encoder::new(&enc_vs.root(), &cfg);
        let vs = nn::VarStore::new(Device::Cpu);
        let head = nn::linear(vs.root(), cfg.features(), 10, Default::default());
        let h = train_stl10_classifier(
            &enc,
            &head,
            &vs,
            &train,
            &TrainConfig {
                learning_rate: 1e-2,
                ..quick(15)
            },
            false,
            stl10_classifier_step,
        )
        .unwrap();
        let means = h.epoch_means();
        assert!(means[14] < means[0] * 0.8, "{means:?}");
        // Nine stand-in classes: chance is about 1/9.
        let acc = stl10_accuracy(&enc, &head, &train, 64, Device::Cpu).unwrap();
        assert!(acc > 0.4, "training accuracy {acc}");
    }

    #[test]
    fn accuracy_counts_by_hand() {
        let (_dir, _, train, _) = stand_in();
        // A "classifier" that always says class 0 scores the share of label 0.
        let enc = nn::func(|x| x.flatten(1, -1).narrow(1, 0, 1));
        let always_zero =
            nn::func(|x| Tensor::cat(&[x.ones_like(), x.zeros_like().repeat([1, 9])], 1));
        let zeros = Vec::<i64>::try_from(train.labels().unwrap())
            .unwrap()
            .iter()
            .filter(|&&l| l == 0)
            .count();
        let acc = stl10_accuracy(&enc, &always_zero, &train, 100, Device::Cpu).unwrap();
        assert!(
            (acc - zeros as f64 / 256.0).abs() < 1e-12,
            "{acc} vs {zeros}/256"
        );
    }

    #[test]
    fn the_unlabeled_split_cannot_train_a_classifier() {
        let (_dir, unlabeled, _, _) = stand_in();
        let vs = nn::VarStore::new(Device::Cpu);
        let enc = Stl10Encoder::new(&vs.root(), &Stl10AutoencoderConfig::default());
        let head = nn::linear(vs.root() / "head", 384, 10, Default::default());
        let err = train_stl10_classifier(
            &enc,
            &head,
            &vs,
            &unlabeled,
            &quick(1),
            false,
            stl10_classifier_step,
        )
        .unwrap_err();
        assert!(err.to_string().contains("train or test split"), "{err}");
    }
}
