//! t-SNE (van der Maaten and Hinton, 2008), exact: every pair's affinity,
//! optimised as scikit-learn's `TSNE` does (PCA start, early exaggeration,
//! momentum with adaptive gains). Cost per iteration grows as N^2, which is
//! fine for a few thousand points (the 1,797 digits take seconds).
use super::{as_matrix, squared_distances, Pca};
use crate::{Error, Result};
use tch::{Device, Kind, Tensor};

/// Settings of [`tsne`]; the defaults are scikit-learn's.
#[derive(Debug, Clone, PartialEq)]
pub struct TsneConfig {
    pub components: i64,
    /// The effective number of neighbours each point's affinities spread over.
    pub perplexity: f64,
    pub early_exaggeration: f64,
    /// Iterations in all, of which the first `exaggeration_iterations` exaggerate.
    pub iterations: usize,
    pub exaggeration_iterations: usize,
    /// None: scikit-learn's "auto", max(N / exaggeration / 4, 50).
    pub learning_rate: Option<f64>,
}

impl Default for TsneConfig {
    fn default() -> Self {
        TsneConfig {
            components: 2,
            perplexity: 30.0,
            early_exaggeration: 12.0,
            iterations: 1000,
            exaggeration_iterations: 250,
            learning_rate: None,
        }
    }
}

/// The symmetric affinities `[N, N]` of t-SNE: each row's Gaussian width chosen
/// by bisection so that its entropy is log(perplexity), then `(P + P^T) / 2N`.
pub fn tsne_affinities(x: &Tensor, perplexity: f64) -> Result<Tensor> {
    let x = as_matrix(x, "the data for t-SNE", 2)?;
    let n = x.size()[0];
    if !(perplexity > 0.0 && perplexity < n as f64) {
        return Err(Error::invalid("t-SNE perplexity", perplexity, format!("above 0 and below N = {n}")));
    }
    let off_diagonal = Tensor::eye(n, (Kind::Double, Device::Cpu)).logical_not();
    let d = squared_distances(&x, &x);
    // Shift each row by its smallest distance to another point: the entropy does not change.
    let nearest = d.masked_fill(&off_diagonal.logical_not(), f64::INFINITY).amin(1, true);
    let d = (d - nearest).clamp_min(0.0);
    let target = perplexity.ln();
    let mut beta = Tensor::ones([n, 1], (Kind::Double, Device::Cpu));
    let mut lo = Tensor::zeros([n, 1], (Kind::Double, Device::Cpu));
    let mut hi = Tensor::full([n, 1], f64::INFINITY, (Kind::Double, Device::Cpu));
    let rows = |beta: &Tensor| (-&d * beta).exp() * &off_diagonal;
    for _ in 0..100 {
        let p = rows(&beta);
        let sum = p.sum_dim_intlist(1, true, Kind::Double);
        let entropy = sum.log() + &beta * (&d * &p).sum_dim_intlist(1, true, Kind::Double) / &sum;
        let too_flat = entropy.gt(target);
        lo = lo.where_self(&too_flat.logical_not(), &beta);
        hi = hi.where_self(&too_flat, &beta);
        let raised = (&beta * 2.0).where_self(&hi.isinf(), &((&beta + &hi) / 2.0));
        beta = raised.where_self(&too_flat, &((&beta + &lo) / 2.0));
    }
    let p = rows(&beta);
    let p = &p / p.sum_dim_intlist(1, true, Kind::Double);
    let p = &p + p.tr();
    Ok((&p / p.sum(Kind::Double)).clamp_min(1e-12))
}

/// t-SNE of `x` `[N, D]`: `[N, k]`.
pub fn tsne(x: &Tensor, config: &TsneConfig) -> Result<Tensor> {
    let p = tsne_affinities(x, config.perplexity)?;
    let n = p.size()[0];
    let start = Pca::fit_transform(x, config.components)?;
    // The optimisation runs in single precision: twice as fast, the same pictures.
    let p = p.to_kind(Kind::Float);
    let mut y = (&start / start.select(1, 0).std(true) * 1e-4).to_kind(Kind::Float);
    let rate = config
        .learning_rate
        .unwrap_or_else(|| (n as f64 / config.early_exaggeration / 4.0).max(50.0));
    let mut update = y.zeros_like();
    let mut gains = y.ones_like();
    let off_diagonal = Tensor::eye(n, (Kind::Float, Device::Cpu)).logical_not();
    for it in 0..config.iterations {
        let (exaggeration, momentum) = if it < config.exaggeration_iterations {
            (config.early_exaggeration, 0.5)
        } else {
            (1.0, 0.8)
        };
        // Student-t kernel w_ij = 1 / (1 + |y_i - y_j|^2); q = w / sum(w).
        let w = (squared_distances(&y, &y) + 1.0).reciprocal() * &off_diagonal;
        let q = (&w / w.sum(Kind::Float)).clamp_min(1e-12);
        let m = (&p * exaggeration - q) * &w;
        let grad = (&y * m.sum_dim_intlist(1, true, Kind::Float) - m.matmul(&y)) * 4.0;
        let same_direction = (&update * &grad).gt(0.0);
        gains = (&gains * 0.8).where_self(&same_direction, &(&gains + 0.2)).clamp_min(0.01);
        update = &update * momentum - grad * &gains * rate;
        y = y + &update;
    }
    Ok(y.to_kind(Kind::Double))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reduce::{leave_one_out_knn_accuracy, squared_distances};

    #[test]
    fn affinities_have_the_asked_perplexity() {
        tch::manual_seed(6);
        let x = Tensor::randn([100, 5], (Kind::Double, Device::Cpu));
        let p = tsne_affinities(&x, 10.0).unwrap();
        assert!((p.sum(Kind::Double).double_value(&[]) - 1.0).abs() < 1e-6);
        assert!((&p - p.tr()).abs().max().double_value(&[]) < 1e-15);
        // A perplexity of 10 spreads each point over about 10 others: the 10 nearest
        // neighbours hold most of its symmetric affinity.
        let d = squared_distances(&x, &x) + Tensor::eye(100, (Kind::Double, Device::Cpu)) * 1e9;
        let (_, near) = d.topk(10, 1, false, true);
        let share = (p.gather(1, &near, false).sum(Kind::Double) / p.sum(Kind::Double)).double_value(&[]);
        assert!(share > 0.5 && share < 0.95, "{share}");
        assert!(tsne_affinities(&x, 100.0).is_err());
    }

    #[test]
    fn separates_three_blobs() {
        tch::manual_seed(7);
        let centres = Tensor::from_slice(&[0.0, 0.0, 0.0, 8.0, 0.0, 0.0, 0.0, 8.0, 0.0]).view([3, 3]);
        let labels = Tensor::arange(3, (Kind::Int64, Device::Cpu)).repeat_interleave_self_int(40, 0, None);
        let x = centres.index_select(0, &labels) + Tensor::randn([120, 3], (Kind::Double, Device::Cpu));
        let y = tsne(&x, &TsneConfig { perplexity: 15.0, iterations: 400, ..Default::default() }).unwrap();
        assert_eq!(y.size(), [120, 2]);
        assert!(leave_one_out_knn_accuracy(&y, &labels, 5).unwrap() > 0.95);
    }
}
