//! Budget and optimiser of a training run, and the loop every trainer shares.
use super::{History, Progress};
use crate::Result;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Tensor};

/// Budget and optimiser of a training run (defaults: the original's).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Adam's L2 penalty (PyTorch's `weight_decay`).
    pub weight_decay: f64,
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
            weight_decay: 0.0,
            temperature: 0.07,
            max_steps_per_epoch: None,
            seed: 0,
            device: crate::device(),
        }
    }

    /// The original contrastive encoders: Adam 2e-4, batch 256, tau 0.07, 15 epochs.
    pub fn contrastive() -> Self {
        TrainConfig {
            epochs: 15,
            ..Self::autoencoder()
        }
    }

    /// The STL-10 autoencoder: Adam 1e-3, batch 128, 100 epochs.
    pub fn stl10_autoencoder() -> Self {
        TrainConfig {
            epochs: 100,
            batch_size: 128,
            learning_rate: 1e-3,
            ..Self::autoencoder()
        }
    }

    /// The STL-10 linear classifier: Adam 1e-3 with weight decay 1e-4, batch 128, 100 epochs.
    pub fn stl10_classifier() -> Self {
        TrainConfig {
            weight_decay: 1e-4,
            ..Self::stl10_autoencoder()
        }
    }

    /// Shuffled batches of indices below `n` for `epoch`, seeded by `seed + epoch`.
    pub(crate) fn batches(&self, n: usize, epoch: usize) -> Vec<Vec<i64>> {
        let mut order: Vec<i64> = (0..n as i64).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(
            self.seed.wrapping_add(epoch as u64),
        ));
        let mut batches: Vec<Vec<i64>> = order
            .chunks(self.batch_size.max(1))
            .map(<[i64]>::to_vec)
            .collect();
        if let Some(cap) = self.max_steps_per_epoch {
            batches.truncate(cap);
        }
        batches
    }

    pub(crate) fn steps(&self, n: usize) -> u64 {
        let per_epoch = n.div_ceil(self.batch_size.max(1));
        (self
            .max_steps_per_epoch
            .map_or(per_epoch, |c| c.min(per_epoch))
            * self.epochs) as u64
    }
}

/// One optimiser step on `loss`; returns its value.
pub(crate) fn backward_step(opt: &mut nn::Optimizer, loss: &Tensor) -> f64 {
    opt.backward_step(loss);
    loss.double_value(&[])
}

/// Adam (with `config.weight_decay`) over `vs`, seeded shuffled batches of `n`
/// indices, one call of `step` per batch (which runs the optimiser and returns
/// the loss), with progress and history.
pub(crate) fn run_epochs(
    vs: &nn::VarStore,
    n: usize,
    config: &TrainConfig,
    label: &str,
    loss_name: &str,
    mut step: impl FnMut(&mut nn::Optimizer, &[i64]) -> Result<f64>,
) -> Result<History> {
    let mut opt = nn::Adam {
        wd: config.weight_decay,
        ..Default::default()
    }
    .build(vs, config.learning_rate)?;
    let mut history = History::new(loss_name);
    let mut progress = Progress::new(label, config.steps(n));
    for epoch in 0..config.epochs {
        for idx in config.batches(n, epoch) {
            let value = step(&mut opt, &idx)?;
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

    #[test]
    fn batches_are_seeded_and_capped() {
        let cfg = TrainConfig {
            epochs: 1,
            batch_size: 10,
            max_steps_per_epoch: Some(2),
            ..TrainConfig::autoencoder()
        };
        assert_eq!(cfg.batches(35, 0), cfg.batches(35, 0));
        assert_ne!(cfg.batches(35, 0), cfg.batches(35, 1));
        assert_eq!(cfg.batches(35, 0).len(), 2);
        assert_eq!(cfg.steps(35), 2);
        assert_eq!(
            TrainConfig {
                max_steps_per_epoch: None,
                ..cfg
            }
            .steps(35),
            4
        );
    }

    #[test]
    fn stl10_budgets_are_the_originals() {
        let ae = TrainConfig::stl10_autoencoder();
        assert_eq!(
            (ae.epochs, ae.batch_size, ae.learning_rate, ae.weight_decay),
            (100, 128, 1e-3, 0.0)
        );
        assert_eq!(TrainConfig::stl10_classifier().weight_decay, 1e-4);
    }
}
