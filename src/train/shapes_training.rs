//! The shapes assignment's two training loops: autoencoder and contrastive.
use super::{History, Progress};
use crate::augment::Augmenter;
use crate::data::Shapes;
use crate::Result;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Tensor};

/// A reconstruction loss: `(reconstruction, input) -> scalar`.
pub type ReconstructionLossFn = fn(&Tensor, &Tensor) -> Tensor;
/// A contrastive loss: `(anchors, positives, temperature) -> scalar`.
pub type ContrastiveLossFn = fn(&Tensor, &Tensor, f64) -> Tensor;

/// Budget and optimiser of a training run (defaults: the original's).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Contrastive temperature (unused by the autoencoder).
    pub temperature: f64,
    /// Stop each epoch after this many steps (quick runs); `None` for full epochs.
    pub max_steps_per_epoch: Option<usize>,
    pub seed: u64,
    pub device: Device,
}

impl TrainConfig {
    /// The original autoencoder: Adam 2e-4, batch 256, 30 epochs.
    pub fn autoencoder() -> Self {
        TrainConfig {
            epochs: 30,
            batch_size: 256,
            learning_rate: 2e-4,
            temperature: 0.07,
            max_steps_per_epoch: None,
            seed: 0,
            device: crate::device(),
        }
    }

    /// The original contrastive encoders: Adam 2e-4, batch 256, tau 0.07, 15 epochs.
    pub fn contrastive() -> Self {
        TrainConfig { epochs: 15, ..Self::autoencoder() }
    }

    fn batches(&self, n: usize, epoch: usize) -> Vec<Vec<i64>> {
        let mut order: Vec<i64> = (0..n as i64).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(self.seed.wrapping_add(epoch as u64)));
        let mut batches: Vec<Vec<i64>> = order.chunks(self.batch_size.max(1)).map(<[i64]>::to_vec).collect();
        if let Some(cap) = self.max_steps_per_epoch {
            batches.truncate(cap);
        }
        batches
    }

    fn steps(&self, n: usize) -> u64 {
        let per_epoch = n.div_ceil(self.batch_size.max(1));
        (self.max_steps_per_epoch.map_or(per_epoch, |c| c.min(per_epoch)) * self.epochs) as u64
    }
}

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
    run_epochs(vs, shapes.len(), config, "autoencoder", "reconstruction MSE", |idx| {
        let x = shapes.images(idx, config.device)?;
        Ok(loss(&decoder.forward(&encoder.forward(&x)), &x))
    })
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
    run_epochs(vs, shapes.len(), config, &label, "InfoNCE", |idx| {
        let x = shapes.images_unit(idx, config.device)?;
        let a = augmenter.apply(&x)? * 2.0 - 1.0;
        let b = augmenter.apply(&x)? * 2.0 - 1.0;
        Ok(loss(&encoder.forward(&a), &encoder.forward(&b), config.temperature))
    })
}

/// The loop both trainings share: Adam over `vs`, seeded shuffled batches of
/// `n` indices, one optimiser step on the loss `step` returns, progress and history.
fn run_epochs(
    vs: &nn::VarStore,
    n: usize,
    config: &TrainConfig,
    label: &str,
    loss_name: &str,
    mut step: impl FnMut(&[i64]) -> Result<Tensor>,
) -> Result<History> {
    let mut opt = nn::Adam::default().build(vs, config.learning_rate)?;
    let mut history = History::new(loss_name);
    let mut progress = Progress::new(label, config.steps(n));
    for epoch in 0..config.epochs {
        for idx in config.batches(n, epoch) {
            let loss = step(&idx)?;
            opt.backward_step(&loss);
            let value = loss.double_value(&[]);
            history.push(epoch, value);
            progress.step(value);
        }
    }
    progress.finish();
    Ok(history)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::AugmentationSet;
    use crate::data::ShapesConfig;
    use crate::losses::{info_nce, reconstruction_loss};
    use crate::models::{ShapesDecoder, ShapesEncoder, ShapesEncoderConfig};

    fn quick(epochs: usize) -> TrainConfig {
        TrainConfig { epochs, batch_size: 32, learning_rate: 1e-3, max_steps_per_epoch: Some(4), device: Device::Cpu, ..TrainConfig::autoencoder() }
    }

    #[test]
    fn autoencoder_loss_falls() {
        tch::manual_seed(0);
        let shapes = Shapes::generate(&ShapesConfig { len: 128, seed: 5, ..Default::default() }).unwrap();
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = ShapesEncoderConfig::default();
        let enc = ShapesEncoder::new(&(vs.root() / "enc"), &cfg);
        let dec = ShapesDecoder::new(&(vs.root() / "dec"), &cfg);
        let h = train_autoencoder(&enc, &dec, &vs, &shapes, &quick(6), reconstruction_loss).unwrap();
        assert_eq!(h.len(), 24);
        let means = h.epoch_means();
        assert!(means[5] < means[0] * 0.8, "{means:?}");
    }

    #[test]
    fn contrastive_loss_falls_below_chance() {
        tch::manual_seed(1);
        let shapes = Shapes::generate(&ShapesConfig { len: 128, seed: 6, ..Default::default() }).unwrap();
        let vs = nn::VarStore::new(Device::Cpu);
        let enc = ShapesEncoder::new(&vs.root(), &ShapesEncoderConfig { normalize: true, ..Default::default() });
        let mut aug = Augmenter::new(AugmentationSet::A, 0);
        let h = train_contrastive(&enc, &vs, &shapes, &mut aug, &TrainConfig { temperature: 0.07, ..quick(6) }, info_nce).unwrap();
        let means = h.epoch_means();
        // Chance for 32 candidates is ln 32 = 3.47.
        assert!(means[5] < 32f64.ln() * 0.8, "{means:?}");
    }

    #[test]
    fn batches_are_seeded_and_capped() {
        let cfg = TrainConfig { batch_size: 10, max_steps_per_epoch: Some(2), ..quick(1) };
        assert_eq!(cfg.batches(35, 0), cfg.batches(35, 0));
        assert_ne!(cfg.batches(35, 0), cfg.batches(35, 1));
        assert_eq!(cfg.batches(35, 0).len(), 2);
        assert_eq!(cfg.steps(35), 2);
        assert_eq!(TrainConfig { max_steps_per_epoch: None, ..cfg }.steps(35), 4);
    }
}
