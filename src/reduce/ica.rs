//! Independent component analysis by FastICA (the parallel algorithm with
//! the log-cosh contrast, as scikit-learn's `FastICA` defaults).
use super::{as_matrix, svd};
use crate::{Error, Result};
use tch::{Kind, Tensor};

/// Settings of [`FastIca::fit`].
#[derive(Debug, Clone, PartialEq)]
pub struct FastIcaConfig {
    pub components: i64,
    pub max_iter: usize,
    /// Stop when no unmixing direction turns by more than this.
    pub tolerance: f64,
    /// Seeds the starting unmixing matrix.
    pub seed: u64,
}

impl Default for FastIcaConfig {
    /// scikit-learn's: 200 iterations, tolerance 1e-4.
    fn default() -> Self {
        FastIcaConfig { components: 2, max_iter: 200, tolerance: 1e-4, seed: 0 }
    }
}

/// A fitted FastICA: `transform` maps `[N, D]` to the `[N, k]` sources, each with unit variance.
#[derive(Debug)]
pub struct FastIca {
    pub mean: Tensor,
    /// The unmixing matrix `[k, D]`, whitening included.
    pub unmixing: Tensor,
    /// Iterations run; `max_iter` means it did not converge.
    pub iterations: usize,
}

/// `(W W^T)^(-1/2) W`: the nearest matrix with orthonormal rows.
fn decorrelate(w: &Tensor) -> Tensor {
    let (values, vectors) = w.matmul(&w.tr()).linalg_eigh("L");
    (&vectors * values.clamp_min(1e-300).rsqrt()).matmul(&vectors.tr()).matmul(w)
}

impl FastIca {
    /// Fits `config.components` independent sources to `x` `[N, D]`.
    pub fn fit(x: &Tensor, config: &FastIcaConfig) -> Result<FastIca> {
        let x = as_matrix(x, "the data for ICA", 2)?;
        let (n, d) = (x.size()[0], x.size()[1]);
        let k = config.components;
        if k < 1 || k > n.min(d) {
            return Err(Error::invalid("ICA components", k, format!("between 1 and min(N, D) = {}", n.min(d))));
        }
        let mean = x.mean_dim(0, false, Kind::Double);
        let xc = &x - &mean;
        // Whitening: the top k principal directions, scaled to unit variance.
        let (_, s, vh) = svd(&xc);
        let whitening = vh.narrow(0, 0, k) / s.narrow(0, 0, k).unsqueeze(1) * (n as f64).sqrt();
        let white = xc.matmul(&whitening.tr()).tr(); // [k, N]
        let start = super::seeded_normal(k, k, config.seed);
        let mut w = decorrelate(&start);
        let mut iterations = config.max_iter;
        for it in 0..config.max_iter {
            let g = w.matmul(&white).tanh();
            let g_prime = (-g.square() + 1.0).mean_dim(1, true, Kind::Double);
            let next = decorrelate(&(g.matmul(&white.tr()) / n as f64 - g_prime * &w));
            let turn = ((&next * &w).sum_dim_intlist(1, false, Kind::Double).abs() - 1.0).abs().max().double_value(&[]);
            w = next;
            if turn < config.tolerance {
                iterations = it + 1;
                break;
            }
        }
        Ok(FastIca { mean, unmixing: w.matmul(&whitening), iterations })
    }

    /// The sources of `x` `[N, D]`: `[N, k]`.
    pub fn transform(&self, x: &Tensor) -> Result<Tensor> {
        let x = as_matrix(x, "the data to unmix", 1)?;
        if x.size()[1] != self.mean.size()[0] {
            return Err(Error::invalid("the data's width", x.size()[1], format!("{} features, as in fitting", self.mean.size()[0])));
        }
        Ok((x - &self.mean).matmul(&self.unmixing.tr()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    /// Three independent signals (sine, square wave, sawtooth) `[2000, 3]`.
    pub(crate) fn sources() -> Tensor {
        let t = Tensor::linspace(0.0, 8.0, 2000, (Kind::Double, Device::Cpu));
        let sine = (&t * 2.0).sin();
        let square = (&t * 3.0).sin().sign();
        let saw = (&t * std::f64::consts::PI).remainder(2.0) - 1.0;
        Tensor::stack(&[sine, square, saw], 1)
    }

    #[test]
    fn recovers_mixed_signals_up_to_order_and_sign() {
        let s = sources();
        let mixing = Tensor::from_slice(&[1.0, 1.0, 1.0, 0.5, 2.0, 1.0, 1.5, 1.0, 2.0]).view([3, 3]);
        let x = s.matmul(&mixing.tr());
        let ica = FastIca::fit(&x, &FastIcaConfig { components: 3, ..Default::default() }).unwrap();
        assert!(ica.iterations < 200, "did not converge");
        let got = ica.transform(&x).unwrap();
        // Correlation of every recovered source with every true one: one near +-1 per row.
        let z = |m: &Tensor| (m - m.mean_dim(0, true, Kind::Double)) / m.std_dim(0, false, true);
        let corr = z(&got).tr().matmul(&z(&s)) / 2000.0;
        let best = corr.abs().amax(1, false);
        assert!(best.min().double_value(&[]) > 0.95, "{corr}");
        let variance = got.var_dim(0, false, false);
        assert!((variance - 1.0).abs().max().double_value(&[]) < 1e-6);
    }
}
