//! Question 1: does a linear probe on an autoencoder's latent code get better,
//! then worse, as the latent size grows? One autoencoder per size and seed,
//! then a linear probe on its codes, scored on the training and the test digits.
use crate::data::DigitsChoice;
use crate::eval::{linear_probe_accuracy, LinearProbeConfig};
use crate::models::{Mlp, MlpConfig};
use crate::train::{LoopConfig, ParamGroup, Trainer};
use crate::viz::{Display, LinePlot};
use crate::Result;
use std::fmt;
use tch::nn::{Module, VarStore};
use tch::{Device, Tensor};

/// Probe accuracies per latent size (rows) and seed (columns).
#[derive(Debug, Clone, PartialEq)]
pub struct LatentSweep {
    pub sizes: Vec<i64>,
    pub train: Vec<Vec<f64>>,
    pub test: Vec<Vec<f64>>,
    /// Mean reconstruction MSE per size (over seeds) after training.
    pub reconstruction: Vec<f64>,
}

/// Mean and (sample) standard deviation.
fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 { values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (mean, var.sqrt())
}

impl LatentSweep {
    /// (mean, standard deviation) of the test accuracy per size.
    pub fn test_mean_std(&self) -> Vec<(f64, f64)> {
        self.test.iter().map(|r| mean_std(r)).collect()
    }

    /// (mean, standard deviation) of the training accuracy per size.
    pub fn train_mean_std(&self) -> Vec<(f64, f64)> {
        self.train.iter().map(|r| mean_std(r)).collect()
    }

    /// The size with the best mean test accuracy.
    pub fn best_size(&self) -> i64 {
        let means = self.test_mean_std();
        let best = (0..means.len()).max_by(|&a, &b| means[a].0.total_cmp(&means[b].0)).unwrap_or(0);
        self.sizes[best]
    }

    /// Train and test accuracy against log2 of the latent size, error bars one standard deviation.
    pub fn figure(&self) -> LinePlot {
        let x: Vec<f64> = self.sizes.iter().map(|&s| (s as f64).log2()).collect();
        let (train, test) = (self.train_mean_std(), self.test_mean_std());
        LinePlot::new("linear probe on the autoencoder's code")
            .x_label("log2 of the latent size")
            .y_label("accuracy")
            .xy_err("train", x.clone(), train.iter().map(|m| m.0).collect(), train.iter().map(|m| m.1).collect())
            .xy_err("test", x, test.iter().map(|m| m.0).collect(), test.iter().map(|m| m.1).collect())
    }
}

impl fmt::Display for LatentSweep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "latent size | probe train accuracy | probe test accuracy | reconstruction MSE")?;
        for (i, size) in self.sizes.iter().enumerate() {
            let (tr, te) = (mean_std(&self.train[i]), mean_std(&self.test[i]));
            writeln!(f, "{size:>11} | {:.3} ± {:.3}        | {:.3} ± {:.3}       | {:.4}", tr.0, tr.1, te.0, te.1, self.reconstruction[i])?;
        }
        Ok(())
    }
}

impl Display for LatentSweep {
    fn evcxr_display(&self) {
        println!("{self}");
        self.figure().evcxr_display();
    }
}

/// For each size in `sizes` and seed in `seeds`: trains an autoencoder
/// `D -> 256 -> size -> 256 -> D` (ReLU between, sigmoid output, MSE, Adam
/// 1e-3, batches of 64) for `epochs` on `digits.train`, encodes both splits,
/// and fits a linear probe on the training codes. Prints one line per size.
pub fn latent_size_sweep(digits: &DigitsChoice, sizes: &[i64], seeds: &[u64], epochs: usize, device: Device) -> Result<LatentSweep> {
    let d = digits.train.pixels.size()[1];
    let (x_train, x_test) = (digits.train.pixels.to_device(device), digits.test.pixels.to_device(device));
    let probe = LinearProbeConfig::default();
    let mut sweep = LatentSweep { sizes: sizes.to_vec(), train: Vec::new(), test: Vec::new(), reconstruction: Vec::new() };
    for &size in sizes {
        let (mut train, mut test, mut mse) = (Vec::new(), Vec::new(), 0.0);
        for &seed in seeds {
            crate::seed(seed);
            let vs = VarStore::new(device);
            let encoder = Mlp::new(&(vs.root() / "encoder"), &MlpConfig { sizes: vec![d, 256, size] });
            let decoder = Mlp::new(&(vs.root() / "decoder"), &MlpConfig { sizes: vec![size, 256, d] });
            let run = LoopConfig { epochs, batch_size: 64, max_steps_per_epoch: None, seed, device };
            let history = Trainer::new(format!("latent {size}"), "MSE", &run)
                .group(ParamGroup::adam(&vs, 1e-3))
                .quiet()
                .fit(x_train.size()[0] as usize, |batch| {
                    let x = x_train.index_select(0, &Tensor::from_slice(batch.indices).to_device(device));
                    Ok(decoder.forward(&encoder.forward(&x)).sigmoid().mse_loss(&x, tch::Reduction::Mean))
                })?;
            mse += history.last().unwrap_or(f64::NAN) / seeds.len() as f64;
            let (z_train, z_test) = tch::no_grad(|| (encoder.forward(&x_train), encoder.forward(&x_test)));
            train.push(linear_probe_accuracy(&z_train, &digits.train.labels, &z_train, &digits.train.labels, &probe)?);
            test.push(linear_probe_accuracy(&z_train, &digits.train.labels, &z_test, &digits.test.labels, &probe)?);
        }
        let (tr, te) = (mean_std(&train), mean_std(&test));
        println!("latent {size:>4}: probe train {:.3} ± {:.3}, test {:.3} ± {:.3}, MSE {mse:.4}", tr.0, tr.1, te.0, te.1);
        sweep.train.push(train);
        sweep.test.push(test);
        sweep.reconstruction.push(mse);
    }
    Ok(sweep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_standard_deviation() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0, 4.0]);
        assert!((m - 2.5).abs() < 1e-12);
        // sqrt(((1.5^2 + 0.5^2) * 2) / 3)
        assert!((s - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean_std(&[0.7]), (0.7, 0.0));
    }

    #[test]
    fn a_two_number_code_reads_fewer_digits_than_a_32_number_one() {
        let digits = super::super::test_digits();
        let sweep = latent_size_sweep(&digits, &[2, 32], &[0, 1], 4, Device::Cpu).unwrap();
        assert_eq!((sweep.test.len(), sweep.test[0].len()), (2, 2));
        let means = sweep.test_mean_std();
        assert!(means[0].0 < means[1].0 - 0.1, "{sweep}");
        assert!(means[1].0 > 0.7, "a 32-number code of the digits should be linearly readable: {sweep}");
        assert!(sweep.reconstruction[1] < sweep.reconstruction[0], "{sweep}");
        assert_eq!(sweep.best_size(), 32);
        assert!(sweep.figure().render().is_ok());
    }
}
