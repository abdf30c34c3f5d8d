//! Linear probes: how well a linear classifier reads a label from features.
//!
//! The standard measure of a representation in the self-supervised
//! literature, beside k-NN: a multinomial logistic regression trained on
//! frozen training features and scored on validation features.
use crate::{Error, Result};
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// How a linear probe trains: full-batch Adam on standardised features,
/// from zero weights, so the result does not depend on a seed.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearProbeConfig {
    pub steps: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
}

impl Default for LinearProbeConfig {
    fn default() -> Self {
        LinearProbeConfig {
            steps: 300,
            learning_rate: 0.05,
            weight_decay: 1e-4,
        }
    }
}

/// Validation accuracy of a linear classifier trained on `train_features`
/// (`[N, D]`) with `train_labels` (`[N]`, int64, classes `0..C`) and applied
/// to `val_features` (`[M, D]`) against `val_labels` (`[M]`). Runs on the CPU.
pub fn linear_probe_accuracy(
    train_features: &Tensor,
    train_labels: &Tensor,
    val_features: &Tensor,
    val_labels: &Tensor,
    config: &LinearProbeConfig,
) -> Result<f64> {
    let (n, d) = match train_features.size().as_slice() {
        [n, d] if *n > 0 => (*n, *d),
        other => return Err(Error::shape("the probe's training features", other, "[N, D] with N >= 1")),
    };
    if train_labels.size() != [n] {
        return Err(Error::shape("the probe's training labels", &train_labels.size(), &format!("[{n}], one per feature row")));
    }
    let m = val_labels.size().first().copied().unwrap_or(0);
    if val_features.size() != [m, d] {
        return Err(Error::shape("the probe's validation features", &val_features.size(), &format!("[{m}, {d}], one row per validation label")));
    }
    if m == 0 {
        return Ok(0.0);
    }
    let cpu = |t: &Tensor| t.detach().to_device(Device::Cpu);
    let (train_x, val_x) = (cpu(train_features).to_kind(Kind::Float), cpu(val_features).to_kind(Kind::Float));
    let (train_y, val_y) = (cpu(train_labels).to_kind(Kind::Int64), cpu(val_labels).to_kind(Kind::Int64));
    let classes = train_y.max().int64_value(&[]).max(val_y.max().int64_value(&[])) + 1;
    // Standardised with the training set's statistics.
    let mean = train_x.mean_dim([0].as_slice(), true, Kind::Float);
    let std = train_x.std_dim([0].as_slice(), false, true) + 1e-6;
    let (train_x, val_x) = ((&train_x - &mean) / &std, (&val_x - &mean) / &std);
    let vs = nn::VarStore::new(Device::Cpu);
    let init = nn::LinearConfig { ws_init: nn::Init::Const(0.0), bs_init: Some(nn::Init::Const(0.0)), bias: true };
    let probe = nn::linear(vs.root(), d, classes, init);
    let mut adam = nn::Adam { wd: config.weight_decay, ..Default::default() }.build(&vs, config.learning_rate)?;
    for _ in 0..config.steps {
        let loss = probe.forward(&train_x).cross_entropy_for_logits(&train_y);
        adam.backward_step(&loss);
    }
    let predicted = tch::no_grad(|| probe.forward(&val_x).argmax(1, false));
    Ok(predicted.eq_tensor(&val_y).to_kind(Kind::Float).mean(Kind::Float).double_value(&[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Labels that are the arg-max of a fixed linear map, and labels that are not linear at all.
    #[test]
    fn reads_a_linear_label_and_not_a_parity() {
        tch::manual_seed(0);
        let x = Tensor::randn([1200, 8], (Kind::Float, Device::Cpu)) * 5.0 + 3.0;
        let w = Tensor::randn([8, 4], (Kind::Float, Device::Cpu));
        let linear = x.matmul(&w).argmax(1, false);
        let (tx, vx) = (x.narrow(0, 0, 1000), x.narrow(0, 1000, 200));
        let accuracy = |y: &Tensor| {
            linear_probe_accuracy(&tx, &y.narrow(0, 0, 1000), &vx, &y.narrow(0, 1000, 200), &LinearProbeConfig::default()).unwrap()
        };
        let read = accuracy(&linear);
        assert!(read > 0.9, "a linear label is read with accuracy {read}");
        // The parity of the signs of two coordinates (XOR) is invisible to a linear map.
        let parity = (x.select(1, 0).gt(3.0).to_kind(Kind::Int64) + x.select(1, 1).gt(3.0).to_kind(Kind::Int64)).remainder(2);
        let xor = accuracy(&parity);
        assert!(xor < 0.65, "XOR should stay near chance, got {xor}");
    }

    #[test]
    fn mismatched_sizes_name_the_tensor() {
        let x = Tensor::zeros([4, 2], (Kind::Float, Device::Cpu));
        let y = Tensor::zeros([3], (Kind::Int64, Device::Cpu));
        let err = linear_probe_accuracy(&x, &y, &x, &y, &LinearProbeConfig::default()).unwrap_err().to_string();
        assert!(err.contains("the probe's training labels"), "{err}");
    }
}
