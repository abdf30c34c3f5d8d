//! The shapes assignment's two training loops: autoencoder and contrastive.
use super::config::{backward_step, run_epochs};
use super::{History, TrainConfig};
use crate::augment::Augmenter;
use crate::data::Shapes;
use crate::Result;
use tch::nn::{self, Module};
use tch::Tensor;

/// A reconstruction loss: `(reconstruction, input) -> scalar`.
pub type ReconstructionLossFn = fn(&Tensor, &Tensor) -> Tensor;
/// A contrastive loss: `(anchors, positives, temperature) -> scalar`.
pub type ContrastiveLossFn = fn(&Tensor, &Tensor, f64) -> Tensor;

/// Trains `encoder` and `decoder` (their parameters in `vs`) to reconstruct
/// `shapes` images ([-1, 1]) under `loss`; returns one loss per step.
pub fn train_autoencoder(
    encoder: &dyn Module,
    decoder: &dyn Module,
    vs: &nn::VarStore,
    shapes: &Shapes,
    config: &TrainConfig,
    loss: ReconstructionLossFn,
) -> Result<History> {
    run_epochs(
        vs,
        shapes.len(),
        config,
        "autoencoder",
        "reconstruction MSE",
        |opt, idx| {
            let x = shapes.images(idx, config.device)?;
            Ok(backward_step(
                opt,
                &loss(&decoder.forward(&encoder.forward(&x)), &x),
            ))
        },
    )
}

/// Trains `encoder` (parameters in `vs`; it should L2-normalise its output)
/// with two augmentations of each image as the positive pair and the rest of
/// the batch as negatives, under `loss`; returns one loss per step.
pub fn train_contrastive(
    encoder: &dyn Module,
    vs: &nn::VarStore,
    shapes: &Shapes,
    augmenter: &mut Augmenter,
    config: &TrainConfig,
    loss: ContrastiveLossFn,
) -> Result<History> {
    let label = format!("contrastive {:?}", augmenter.set);
    run_epochs(vs, shapes.len(), config, &label, "InfoNCE", |opt, idx| {
        let x = shapes.images_unit(idx, config.device)?;
        let a = augmenter.apply(&x)? * 2.0 - 1.0;
        let b = augmenter.apply(&x)? * 2.0 - 1.0;
        Ok(backward_step(
            opt,
            &loss(
                &encoder.forward(&a),
                &encoder.forward(&b),
                config.temperature,
            ),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::AugmentationSet;
    use crate::data::ShapesConfig;
    use crate::losses::{info_nce, reconstruction_loss};
    use crate::models::{ShapesDecoder, ShapesEncoder, ShapesEncoderConfig};
    use tch::Device;

    fn quick(epochs: usize) -> TrainConfig {
        TrainConfig {
            epochs,
            batch_size: 32,
            learning_rate: 1e-3,
            max_steps_per_epoch: Some(4),
            device: Device::Cpu,
            ..TrainConfig::autoencoder()
        }
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
        let h =
            train_autoencoder(&enc, &dec, &vs, &shapes, &quick(6), reconstruction_loss).unwrap();
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
        let h = train_contrastive(
            &enc,
            &vs,
            &shapes,
            &mut aug,
            &TrainConfig {
                temperature: 0.07,
                ..quick(6)
            },
            info_nce,
        )
        .unwrap();
        let means = h.epoch_means();
        // Chance for 32 candidates is ln 32 = 3.47.
        assert!(means[5] < 32f64.ln() * 0.8, "{means:?}");
    }
}
