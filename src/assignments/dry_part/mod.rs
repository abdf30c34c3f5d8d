//! The dry part (seed 003): ten written questions, each followed by an
//! experiment that measures what the question asks about. One module per
//! experiment; the notebook's first cell is
//! `let setup = dry_part::setup(Budget::Auto)?;`.
//!
//! `Budget::Original` took 113 s for all ten on two CPU cores with the 8x8 digits;
//! the quick budget (grading, `Budget::Auto` on a CPU) seconds.
mod attention_cost;
mod attention_map;
mod averaging;
mod diffusion_elbo;
mod generators;
mod jacobian;
mod latent_size;
mod mlp_cnn;
mod width_depth;

pub use attention_cost::{attention_outputs_differ, time_attention, AttentionTiming, AttentionTimings, ReorderedAttentionFn};
pub use attention_map::{train_alignment_task, AlignmentTask, AttentionMapModel, AttentionMapRun};
pub use averaging::{run_optimiser, AverageFn, Averaging, OptimiserRun, Valley};
pub use diffusion_elbo::{DiffusionElbo, ElboTerms, ToyDiffusion};
pub use generators::{compare_generators, GeneratorComparison};
pub use jacobian::{jacobian_by_finite_differences, non_scalar_backward_error, vector_jacobian_product, JacobianFn, VectorFn};
pub use latent_size::{latent_size_sweep, LatentSweep};
pub use mlp_cnn::{
    compare_mlp_cnn, compare_on_position_task, conv_as_matrix, equivariance_error, linearity_error, shift_images, Classifier, ClassifierKind,
    MlpCnnComparison,
};
pub use width_depth::{mlp_parameters, sawtooth, sawtooth_by_hand, width_depth_sweep, width_for_budget, WidthDepthRow, WidthDepthSweep};
pub use attention_cost::softmax_attention;

/// The reference answers to the notebook's FIXMEs (the kernel builds without them).
#[cfg(feature = "solutions")]
pub use self::{attention_cost::reordered_attention, averaging::average, jacobian::jacobian_by_rows};

use crate::data::{data_dir, mnist_or_digits, DigitsChoice};
use crate::train::Budget;
use crate::Result;
use tch::Device;

/// The budgets of the ten experiments.
#[derive(Debug, Clone, PartialEq)]
pub struct DryPartConfig {
    /// Question 1: latent sizes, seeds per size, autoencoder epochs.
    pub latent_sizes: Vec<i64>,
    pub latent_seeds: Vec<u64>,
    pub autoencoder_epochs: usize,
    /// MNIST images to train on and to test on, when MNIST is there.
    pub mnist_train: usize,
    pub mnist_test: usize,
    /// Question 2: parameter budgets, hidden-layer counts, full-batch Adam steps.
    pub parameter_budgets: Vec<usize>,
    pub depths: Vec<usize>,
    pub fit_steps: usize,
    /// Questions 3 and 6: training images for the "little data" run, epochs.
    pub few_images: i64,
    pub classifier_epochs: usize,
    /// Question 4: optimiser steps.
    pub optimiser_steps: usize,
    /// Question 7: sequence lengths timed at width `attention_width`.
    pub sequence_lengths: Vec<i64>,
    pub attention_width: i64,
    /// Question 8: training steps of the tiny attention model.
    pub attention_steps: usize,
    /// Question 9: diffusion steps T, Monte Carlo samples, training steps.
    pub diffusion_steps: usize,
    pub diffusion_samples: i64,
    pub diffusion_training: usize,
    /// Question 10: epochs of the autoencoder and of the VAE.
    pub generator_epochs: usize,
}

impl DryPartConfig {
    /// The full budget: 113 s for all ten experiments on two CPU cores with the 8x8 digits (MNIST takes longer).
    pub fn original() -> Self {
        DryPartConfig {
            latent_sizes: vec![2, 4, 8, 16, 32, 64, 128, 256, 512],
            latent_seeds: vec![0, 1, 2],
            autoencoder_epochs: 20,
            mnist_train: 10_000,
            mnist_test: 2_000,
            parameter_budgets: vec![25, 50, 100, 200, 400],
            depths: vec![1, 2, 3, 4],
            fit_steps: 4000,
            few_images: 100,
            classifier_epochs: 30,
            optimiser_steps: 3000,
            sequence_lengths: vec![16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
            attention_width: 64,
            attention_steps: 3000,
            diffusion_steps: 100,
            diffusion_samples: 4096,
            diffusion_training: 2000,
            generator_epochs: 60,
        }
    }

    /// Seconds per experiment, for grading.
    pub fn quick() -> Self {
        DryPartConfig {
            latent_sizes: vec![2, 8, 32, 128, 512],
            latent_seeds: vec![0, 1],
            autoencoder_epochs: 6,
            mnist_train: 2_000,
            mnist_test: 500,
            parameter_budgets: vec![25, 100, 400],
            depths: vec![1, 2, 3],
            fit_steps: 1500,
            few_images: 100,
            classifier_epochs: 15,
            optimiser_steps: 1500,
            sequence_lengths: vec![16, 64, 256, 1024, 2048],
            attention_width: 64,
            attention_steps: 1200,
            diffusion_steps: 50,
            diffusion_samples: 1024,
            diffusion_training: 300,
            generator_epochs: 25,
        }
    }

    pub fn for_budget(budget: Budget) -> Self {
        if budget.is_quick() {
            Self::quick()
        } else {
            Self::original()
        }
    }
}

/// What the first cell returns.
#[derive(Debug)]
pub struct DryPartSetup {
    pub device: Device,
    pub budget: Budget,
    pub config: DryPartConfig,
    /// MNIST when `data/mnist` has it, else the 8x8 digits.
    pub digits: DigitsChoice,
}

/// Seeds libtorch, picks the digits (MNIST in `data/mnist`, else the 8x8
/// digits that come with scikit-learn) and prints the device, the budget and the data.
pub fn setup(budget: Budget) -> Result<DryPartSetup> {
    crate::seed(0);
    let device = crate::device();
    let config = DryPartConfig::for_budget(budget);
    let digits = mnist_or_digits(data_dir().join("mnist"), config.mnist_train, config.mnist_test)?;
    println!("device: {device:?}");
    println!("budget: {} ({})", budget, budget.reason());
    println!("data: {}", digits.description);
    Ok(DryPartSetup { device, budget: budget.resolve(), config, digits })
}

/// The 8x8 digits split as [`setup`] splits them, for the tests of the experiments.
#[cfg(test)]
pub(crate) fn test_digits() -> DigitsChoice {
    mnist_or_digits("/nonexistent", 600, 300).expect("make setup installs scikit-learn")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_budget_is_a_subset_of_the_original() {
        let (q, o) = (DryPartConfig::quick(), DryPartConfig::original());
        assert!(q.latent_sizes.iter().all(|s| o.latent_sizes.contains(s)));
        assert!(q.depths.iter().all(|d| o.depths.contains(d)));
        assert!(q.latent_seeds.len() >= 2, "error bars need two seeds or more");
        assert!(q.fit_steps <= o.fit_steps && q.generator_epochs <= o.generator_epochs);
    }
}
