//! A multi-layer perceptron: Linear layers with ReLU between them.
use tch::nn::{self, Module};
use tch::Tensor;

/// Layer widths of an [`Mlp`]: `sizes[0]` inputs, `sizes.last()` outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpConfig {
    pub sizes: Vec<i64>,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig {
            sizes: vec![2, 32, 32, 2],
        }
    }
}

/// `Linear -> ReLU -> ... -> Linear`. Input `[B, sizes[0]]`, output `[B, sizes.last()]`.
#[derive(Debug)]
pub struct Mlp {
    layers: Vec<nn::Linear>,
}

impl Mlp {
    /// Builds the layers under `vs` (parameters `layer0.weight`, ...).
    ///
    /// Panics if `config.sizes` has fewer than two entries (a programming error).
    pub fn new(vs: &nn::Path, config: &MlpConfig) -> Self {
        assert!(
            config.sizes.len() >= 2,
            "MlpConfig::sizes needs at least an input and an output width"
        );
        let layers = config
            .sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| nn::linear(vs / format!("layer{i}"), w[0], w[1], Default::default()))
            .collect();
        Mlp { layers }
    }
}

impl Module for Mlp {
    fn forward(&self, xs: &Tensor) -> Tensor {
        super::ops::relu_between(&self.layers, xs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn forward_matches_manual_computation() {
        let vs = nn::VarStore::new(Device::Cpu);
        let mlp = Mlp::new(
            &vs.root(),
            &MlpConfig {
                sizes: vec![3, 4, 2],
            },
        );
        let x = Tensor::randn([5, 3], (Kind::Float, Device::Cpu));
        let vars = vs.variables();
        let (w0, b0) = (&vars["layer0.weight"], &vars["layer0.bias"]);
        let (w1, b1) = (&vars["layer1.weight"], &vars["layer1.bias"]);
        let manual = (x.matmul(&w0.tr()) + b0).clamp_min(0.0).matmul(&w1.tr()) + b1;
        let out = mlp.forward(&x);
        assert_eq!(out.size(), vec![5, 2]);
        assert!(out.allclose(&manual, 1e-6, 1e-6, false));
    }
}
