//! The one training loop: seeded shuffled batches, epochs and steps, one
//! optimiser per parameter group, progress and history.
//!
//! Every trainer in the library is this loop plus a function that computes a
//! batch's loss. The loop zeroes the gradients, back-propagates the loss and
//! steps every group's optimiser, so a loss function never touches an
//! optimiser.
//!
//! ```
//! use replearn::prelude::*;
//! use replearn::train::{LoopConfig, ParamGroup, Trainer};
//! // Fit y = 3x with one weight, 4 epochs of 2 batches of 8 points.
//! let xs = Tensor::linspace(-1.0, 1.0, 16, (Kind::Float, Device::Cpu)).view([16, 1]);
//! let vs = nn::VarStore::new(Device::Cpu);
//! let line = nn::linear(vs.root(), 1, 1, Default::default());
//! let run = LoopConfig { epochs: 4, batch_size: 8, device: Device::Cpu, ..LoopConfig::default() };
//! let history = Trainer::new("line", "MSE", &run)
//!     .group(ParamGroup::adam(&vs, 0.1))
//!     .quiet()
//!     .fit(16, |batch| {
//!         let x = xs.index_select(0, &Tensor::from_slice(batch.indices));
//!         Ok(line.forward(&x).mse_loss(&(&x * 3.0), tch::Reduction::Mean))
//!     })?;
//! assert_eq!(history.len(), 8);
//! assert!(history.last().unwrap() < history.step_loss[0]);
//! # Ok::<(), replearn::Error>(())
//! ```
use super::resume::{fingerprint, rounded, RunCheckpoint};
use super::{History, Progress};
use crate::{Error, Result};
use std::path::PathBuf;
use std::time::Instant;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::nn::{self, OptimizerConfig, VarStore};
use tch::{Device, Tensor};

/// How long a training loop runs, in what batches, from which seed, where.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopConfig {
    pub epochs: usize,
    pub batch_size: usize,
    /// Stop each epoch after this many steps (quick runs); `None` for whole epochs.
    pub max_steps_per_epoch: Option<usize>,
    /// Seeds the order of the batches: epoch `e` shuffles with `seed + e`.
    pub seed: u64,
    /// Where batches and models live.
    pub device: Device,
}

impl Default for LoopConfig {
    /// One epoch of batches of 32, seed 0, on [`crate::device()`].
    fn default() -> Self {
        LoopConfig {
            epochs: 1,
            batch_size: 32,
            max_steps_per_epoch: None,
            seed: 0,
            device: crate::device(),
        }
    }
}

impl LoopConfig {
    /// Shuffled batches of indices below `n` for `epoch`, seeded by `seed + epoch`.
    pub fn batches(&self, n: usize, epoch: usize) -> Vec<Vec<i64>> {
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

    /// Steps the loop takes over `n` examples.
    pub fn steps(&self, n: usize) -> u64 {
        let per_epoch = n.div_ceil(self.batch_size.max(1));
        (self
            .max_steps_per_epoch
            .map_or(per_epoch, |c| c.min(per_epoch))
            * self.epochs) as u64
    }

    fn check(&self, n: usize) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::invalid("batch_size", 0, "must be at least 1"));
        }
        if n == 0 {
            return Err(Error::invalid(
                "the number of training examples",
                0,
                "the data set is empty",
            ));
        }
        Ok(())
    }
}

/// Which optimiser a parameter group uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptimizerKind {
    /// Adam; its weight decay is an L2 penalty added to the gradient (PyTorch's `Adam`).
    Adam,
    /// Adam with decoupled weight decay (PyTorch's `AdamW`).
    AdamW,
    /// Plain stochastic gradient descent with `momentum`.
    Sgd { momentum: f64 },
}

/// Parameters trained together: a [`VarStore`], its learning rate, weight
/// decay and optimiser. A model whose parts learn at different rates (CLIP's
/// heads and encoders) gives one group per part.
#[derive(Debug)]
pub struct ParamGroup<'a> {
    pub vs: &'a VarStore,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub optimizer: OptimizerKind,
}

impl<'a> ParamGroup<'a> {
    /// Adam at `learning_rate`, no weight decay.
    pub fn adam(vs: &'a VarStore, learning_rate: f64) -> Self {
        ParamGroup {
            vs,
            learning_rate,
            weight_decay: 0.0,
            optimizer: OptimizerKind::Adam,
        }
    }

    /// AdamW at `learning_rate` with decoupled `weight_decay`.
    pub fn adamw(vs: &'a VarStore, learning_rate: f64, weight_decay: f64) -> Self {
        ParamGroup {
            vs,
            learning_rate,
            weight_decay,
            optimizer: OptimizerKind::AdamW,
        }
    }

    /// The same group with `weight_decay`.
    pub fn weight_decay(self, weight_decay: f64) -> Self {
        ParamGroup {
            weight_decay,
            ..self
        }
    }

    fn build(&self) -> Result<nn::Optimizer> {
        let wd = self.weight_decay;
        Ok(match self.optimizer {
            OptimizerKind::Adam => nn::Adam {
                wd,
                ..Default::default()
            }
            .build(self.vs, self.learning_rate)?,
            OptimizerKind::AdamW => nn::AdamW {
                wd,
                ..Default::default()
            }
            .build(self.vs, self.learning_rate)?,
            OptimizerKind::Sgd { momentum } => nn::Sgd {
                momentum,
                wd,
                ..Default::default()
            }
            .build(self.vs, self.learning_rate)?,
        })
    }
}

/// Where a step is: its epoch, its index within the epoch, and the indices of
/// its examples.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'b> {
    pub epoch: usize,
    pub step: usize,
    pub indices: &'b [i64],
}

/// A training run: its name, what it minimises, its budget and parameter
/// groups. Build it, then [`Trainer::fit`].
#[derive(Debug)]
pub struct Trainer<'a> {
    label: String,
    loss_name: String,
    run: &'a LoopConfig,
    groups: Vec<ParamGroup<'a>>,
    quiet: bool,
    checkpoint: Option<RunCheckpoint>,
}

impl<'a> Trainer<'a> {
    /// A run called `label` (shown in the progress line) minimising `loss_name`.
    pub fn new(label: impl Into<String>, loss_name: impl Into<String>, run: &'a LoopConfig) -> Self {
        Trainer {
            label: label.into(),
            loss_name: loss_name.into(),
            run,
            groups: Vec::new(),
            quiet: false,
            checkpoint: None,
        }
    }

    /// Adds a parameter group.
    pub fn group(mut self, group: ParamGroup<'a>) -> Self {
        self.groups.push(group);
        self
    }

    /// No progress lines (tests, doc examples).
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Saves the trained parameters and history under `path` (`path.json`,
    /// `path.<group>.safetensors`), and reloads them instead of training when
    /// the run is started again with the same budget, parameters and solution
    /// (see [`super::RunCheckpoint`]). Off while a notebook is graded.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        if std::env::var_os(crate::protocol::env::GRADING).is_none() {
            self.checkpoint = Some(RunCheckpoint::new(path));
        }
        self
    }

    /// Trains over `n` examples: for every batch, `loss_of` returns the loss
    /// (a scalar tensor with a gradient), and the loop zeroes the gradients,
    /// back-propagates and steps every group's optimiser. Returns one loss per
    /// step.
    pub fn fit(
        self,
        n: usize,
        mut loss_of: impl FnMut(&Batch) -> Result<Tensor>,
    ) -> Result<History> {
        self.run.check(n)?;
        if self.groups.is_empty() {
            return Err(Error::invalid(
                "the parameter groups of a Trainer",
                "none",
                "add at least one with .group(ParamGroup::adam(&vs, learning_rate))",
            ));
        }
        let mut optimizers = self
            .groups
            .iter()
            .map(ParamGroup::build)
            .collect::<Result<Vec<_>>>()?;
        let total = self.run.steps(n);
        // One step measured before training: it fingerprints the run for the
        // checkpoint and tells how long the whole run will take here.
        let first = self.run.batches(n, 0).into_iter().next().unwrap_or_default();
        let probe_started = Instant::now();
        let probe = loss_of(&Batch { epoch: 0, step: 0, indices: &first })?;
        self.check_scalar(&probe)?;
        optimizers.iter_mut().for_each(nn::Optimizer::zero_grad);
        probe.backward();
        let mut step_time = probe_started.elapsed();
        if let Device::Cuda(index) = self.run.device {
            // A GPU's first step also starts CUDA and picks its kernels, so it
            // says little about the rest: time a second one, synchronised.
            optimizers.iter_mut().for_each(nn::Optimizer::zero_grad);
            tch::Cuda::synchronize(index as i64);
            let again = Instant::now();
            loss_of(&Batch { epoch: 0, step: 0, indices: &first })?.backward();
            tch::Cuda::synchronize(index as i64);
            step_time = again.elapsed();
        }
        let fingerprint = self.fingerprint(n, probe.double_value(&[]));
        optimizers.iter_mut().for_each(nn::Optimizer::zero_grad);
        let stores: Vec<&VarStore> = self.groups.iter().map(|g| g.vs).collect();
        if let Some(ckpt) = &self.checkpoint {
            if let Some(history) = ckpt.load(&fingerprint, &stores) {
                if !self.quiet {
                    eprintln!(
                        "{}: loaded the trained parameters from {} (same budget, model and solution); delete them to train again",
                        self.label,
                        ckpt.describe()
                    );
                }
                return Ok(history);
            }
        }
        let expected = step_time.as_secs_f64() * total as f64;
        if !self.quiet && expected > 30.0 {
            eprintln!(
                "{}: {total} steps, about {} on this machine (one step took {:.2} s); interrupt the kernel to stop, \
                 and choose a quick budget in the notebook's first cell",
                self.label,
                super::progress::duration_words(expected),
                step_time.as_secs_f64()
            );
        }
        let mut history = History::new(&self.loss_name);
        let mut progress = (!self.quiet).then(|| Progress::new(&self.label, total));
        for epoch in 0..self.run.epochs {
            for (step, indices) in self.run.batches(n, epoch).iter().enumerate() {
                let loss = loss_of(&Batch {
                    epoch,
                    step,
                    indices,
                })?;
                self.check_scalar(&loss)?;
                optimizers.iter_mut().for_each(nn::Optimizer::zero_grad);
                loss.backward();
                optimizers.iter_mut().for_each(nn::Optimizer::step);
                let value = loss.double_value(&[]);
                history.push(epoch, value);
                if let Some(p) = progress.as_mut() {
                    p.step(value);
                }
            }
        }
        if let Some(p) = progress {
            p.finish();
        }
        if let Some(ckpt) = &self.checkpoint {
            ckpt.save(&fingerprint, &stores, &history)?;
        }
        Ok(history)
    }

    fn check_scalar(&self, loss: &Tensor) -> Result<()> {
        if loss.numel() != 1 {
            return Err(Error::shape(
                format!("the loss of {}", self.label),
                &loss.size(),
                "a scalar (one number)",
            ));
        }
        Ok(())
    }

    /// What decides the result of this run: the budget, the optimisers, the
    /// parameters' names and shapes, the first batch's loss and the norm of
    /// each group's gradient for it (read before they are zeroed).
    fn fingerprint(&self, n: usize, first_loss: f64) -> String {
        let mut text = format!("{} {:?} n={n} loss={}", self.label, self.run, rounded(first_loss));
        for g in &self.groups {
            let mut names: Vec<(String, Vec<i64>)> = g.vs.variables().into_iter().map(|(k, v)| (k, v.size())).collect();
            names.sort();
            let grad: f64 = g
                .vs
                .trainable_variables()
                .iter()
                .filter(|v| v.grad().defined())
                .map(|v| v.grad().square().sum(tch::Kind::Double).double_value(&[]))
                .sum();
            text.push_str(&format!(
                " | {:?} lr={} wd={} {names:?} grad={}",
                g.optimizer,
                g.learning_rate,
                g.weight_decay,
                rounded(grad.sqrt())
            ));
        }
        fingerprint(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    fn quick(epochs: usize) -> LoopConfig {
        LoopConfig {
            epochs,
            batch_size: 10,
            max_steps_per_epoch: Some(2),
            seed: 0,
            device: Device::Cpu,
        }
    }

    #[test]
    fn batches_are_seeded_and_capped() {
        let cfg = quick(1);
        assert_eq!(cfg.batches(35, 0), cfg.batches(35, 0));
        assert_ne!(cfg.batches(35, 0), cfg.batches(35, 1));
        assert_eq!(cfg.batches(35, 0).len(), 2);
        assert_eq!(cfg.steps(35), 2);
        let whole = LoopConfig {
            max_steps_per_epoch: None,
            ..cfg
        };
        assert_eq!(whole.steps(35), 4);
        let mut seen: Vec<i64> = whole.batches(35, 3).concat();
        seen.sort();
        assert_eq!(seen, (0..35).collect::<Vec<i64>>(), "an epoch visits every example once");
    }

    /// Two groups at different learning rates: after one SGD step each
    /// parameter moved by exactly its rate times its gradient, computed by hand.
    #[test]
    fn every_group_steps_at_its_own_rate_from_zeroed_gradients() {
        let a = VarStore::new(Device::Cpu);
        let b = VarStore::new(Device::Cpu);
        let wa = a.root().ones("w", &[1]);
        let wb = b.root().ones("w", &[1]);
        let sgd = |vs, lr| ParamGroup {
            optimizer: OptimizerKind::Sgd { momentum: 0.0 },
            ..ParamGroup::adam(vs, lr)
        };
        let run = LoopConfig {
            epochs: 2,
            batch_size: 1,
            ..quick(2)
        };
        // loss = 2 wa + 3 wb: gradients 2 and 3 at every step, whatever came before.
        let history = Trainer::new("two groups", "loss", &run)
            .group(sgd(&a, 0.1))
            .group(sgd(&b, 0.01))
            .quiet()
            .fit(1, |_| Ok((&wa * 2.0 + &wb * 3.0).sum(Kind::Float)))
            .unwrap();
        assert_eq!(history.len(), 2);
        // Two steps each: wa = 1 - 2 * 0.1 * 2, wb = 1 - 2 * 0.01 * 3 (gradients zeroed in between,
        // else the second step would use 4 and 6).
        assert!((wa.double_value(&[0]) - 0.6).abs() < 1e-6, "{}", wa.double_value(&[0]));
        assert!((wb.double_value(&[0]) - 0.94).abs() < 1e-6, "{}", wb.double_value(&[0]));
    }

    /// Trains a line y = 3x with `loss`; returns the history, the weight and
    /// how many times the loss was computed (1 = only the fingerprint's probe).
    fn fit_line(path: &std::path::Path, extra_gradient: bool) -> (History, f64, usize) {
        crate::seed(11);
        let vs = VarStore::new(Device::Cpu);
        let line = nn::linear(vs.root(), 1, 1, Default::default());
        let xs = Tensor::linspace(-1.0, 1.0, 16, (Kind::Float, Device::Cpu)).view([16, 1]);
        let mut calls = 0;
        let history = Trainer::new("line", "MSE", &quick(3))
            .group(ParamGroup::adam(&vs, 0.1))
            .checkpoint(path)
            .quiet()
            .fit(16, |batch| {
                calls += 1;
                let x = xs.index_select(0, &Tensor::from_slice(batch.indices));
                let loss = tch::nn::Module::forward(&line, &x).mse_loss(&(&x * 3.0), tch::Reduction::Mean);
                // The same value, another gradient: a changed solution.
                Ok(if extra_gradient { &loss + (&line.ws - line.ws.detach()).sum(Kind::Float) } else { loss })
            })
            .unwrap();
        (history, line.ws.double_value(&[0, 0]), calls)
    }

    #[test]
    fn a_checkpointed_run_reloads_unless_the_solution_changed() {
        let _rng = crate::seed::seeded_test(0);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoints/line");
        let (trained, w, calls) = fit_line(&path, false);
        assert_eq!((trained.len(), calls), (6, 7), "3 epochs of 2 steps, and the probe");
        assert!(path.with_extension("json").is_file() && dir.path().join("checkpoints/line.0.safetensors").is_file());
        let (loaded, w_again, calls) = fit_line(&path, false);
        assert_eq!(calls, 1, "nothing changed: loaded, not trained");
        assert_eq!((loaded, w_again), (trained.clone(), w));
        let (_, _, calls) = fit_line(&path, true);
        assert_eq!(calls, 7, "the same loss value with another gradient trains afresh");
    }

    #[test]
    fn a_loss_that_is_not_a_scalar_is_named() {
        let vs = VarStore::new(Device::Cpu);
        let w = vs.root().ones("w", &[3]);
        let err = Trainer::new("vector loss", "loss", &quick(1))
            .group(ParamGroup::adam(&vs, 0.1))
            .quiet()
            .fit(4, |_| Ok(&w * 2.0))
            .unwrap_err()
            .to_string();
        assert!(err.contains("the loss of vector loss") && err.contains("[3]"), "{err}");
        let err = Trainer::new("none", "loss", &quick(1))
            .quiet()
            .fit(4, |_| Ok(w.sum(Kind::Float)))
            .unwrap_err()
            .to_string();
        assert!(err.contains("ParamGroup::adam"), "{err}");
    }
}
