//! UMAP (McInnes, Healy and Melville, 2018), following umap-learn: a fuzzy
//! k-nearest-neighbour graph, a spectral start, and stochastic gradient descent
//! with negative sampling on the attraction and repulsion of the graph's edges.
//! Neighbours are found exactly (N^2 distances), fine for a few thousand points.
use super::{as_matrix, nearest_neighbours, rows_of};
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

/// Settings of [`umap`]; the defaults are umap-learn's.
#[derive(Debug, Clone, PartialEq)]
pub struct UmapConfig {
    pub components: i64,
    /// Neighbours per point (the point itself included, as umap-learn counts).
    pub neighbours: i64,
    /// How tightly points may pack in the embedding.
    pub min_dist: f64,
    pub spread: f64,
    /// None: 500 for up to 10,000 points, else 200.
    pub epochs: Option<usize>,
    pub negative_sample_rate: usize,
    pub learning_rate: f64,
    pub seed: u64,
}

impl Default for UmapConfig {
    fn default() -> Self {
        UmapConfig {
            components: 2,
            neighbours: 15,
            min_dist: 0.1,
            spread: 1.0,
            epochs: None,
            negative_sample_rate: 5,
            learning_rate: 1.0,
            seed: 0,
        }
    }
}

/// The curve `1 / (1 + a d^(2b))` closest (least squares on 300 points of
/// [0, 3 spread]) to 1 below `min_dist` and `exp(-(d - min_dist) / spread)`
/// above: umap-learn's `find_ab_params`, by Gauss-Newton with step halving.
pub fn find_ab(spread: f64, min_dist: f64) -> (f64, f64) {
    let xs: Vec<f64> = (0..300).map(|i| 3.0 * spread * i as f64 / 299.0).collect();
    let ys: Vec<f64> = xs.iter().map(|&x| if x < min_dist { 1.0 } else { (-(x - min_dist) / spread).exp() }).collect();
    let loss = |a: f64, b: f64| xs.iter().zip(&ys).map(|(&x, &y)| (1.0 / (1.0 + a * x.powf(2.0 * b)) - y).powi(2)).sum::<f64>();
    let (mut a, mut b) = (1.0, 1.0);
    for _ in 0..200 {
        // Jacobian of the residuals with respect to (a, b).
        let (mut jtj, mut jtr) = ([[0.0f64; 2]; 2], [0.0f64; 2]);
        for (&x, &y) in xs.iter().zip(&ys) {
            if x == 0.0 {
                continue;
            }
            let p = x.powf(2.0 * b);
            let f = 1.0 / (1.0 + a * p);
            let (da, db) = (-f * f * p, -f * f * a * p * 2.0 * x.ln());
            let r = f - y;
            jtj[0][0] += da * da;
            jtj[0][1] += da * db;
            jtj[1][1] += db * db;
            jtr[0] += da * r;
            jtr[1] += db * r;
        }
        let det = jtj[0][0] * jtj[1][1] - jtj[0][1] * jtj[0][1];
        if det.abs() < 1e-300 {
            break;
        }
        let step_a = (jtj[1][1] * jtr[0] - jtj[0][1] * jtr[1]) / det;
        let step_b = (jtj[0][0] * jtr[1] - jtj[0][1] * jtr[0]) / det;
        let before = loss(a, b);
        let mut scale = 1.0;
        while scale > 1e-6 && (a - scale * step_a <= 0.0 || b - scale * step_b <= 0.0 || loss(a - scale * step_a, b - scale * step_b) > before) {
            scale /= 2.0;
        }
        if scale <= 1e-6 {
            break;
        }
        a -= scale * step_a;
        b -= scale * step_b;
        if (scale * step_a).abs() < 1e-12 && (scale * step_b).abs() < 1e-12 {
            break;
        }
    }
    (a, b)
}

/// The fuzzy graph's edges (i, j, weight), both directions of each: each point's
/// neighbours weighted by `exp(-(d - rho_i) / sigma_i)` with `sigma_i` found by
/// bisection so that the weights sum to log2(k), then joined by fuzzy union
/// `w_ij + w_ji - w_ij w_ji`.
fn fuzzy_graph(x: &Tensor, neighbours: i64) -> Vec<(usize, usize, f64)> {
    let (near, dist) = nearest_neighbours(x, neighbours - 1);
    let (near, dist) = (rows_of(&near.to_kind(Kind::Double)), rows_of(&dist));
    let n = near.len();
    let target = (neighbours as f64).log2();
    let mean_distance = dist.iter().flatten().sum::<f64>() / (n * dist[0].len()).max(1) as f64;
    let mut directed = std::collections::HashMap::<(usize, usize), f64>::new();
    for i in 0..n {
        let rho = dist[i].iter().copied().find(|&d| d > 0.0).unwrap_or(0.0);
        let (mut lo, mut hi, mut sigma) = (0.0f64, f64::INFINITY, 1.0f64);
        for _ in 0..64 {
            let sum: f64 = dist[i].iter().map(|&d| if d - rho > 0.0 { (-(d - rho) / sigma).exp() } else { 1.0 }).sum();
            if (sum - target).abs() < 1e-5 {
                break;
            }
            if sum > target {
                hi = sigma;
                sigma = (lo + hi) / 2.0;
            } else {
                lo = sigma;
                sigma = if hi.is_infinite() { sigma * 2.0 } else { (lo + hi) / 2.0 };
            }
        }
        let mean_i = dist[i].iter().sum::<f64>() / dist[i].len() as f64;
        let sigma = if rho > 0.0 { sigma.max(1e-3 * mean_i) } else { sigma.max(1e-3 * mean_distance) };
        for (j, &d) in near[i].iter().zip(&dist[i]) {
            let w = if d - rho <= 0.0 { 1.0 } else { (-(d - rho) / sigma).exp() };
            directed.insert((i, *j as usize), w);
        }
    }
    let mut edges = Vec::new();
    for (&(i, j), &w) in &directed {
        let back = directed.get(&(j, i)).copied().unwrap_or(0.0);
        edges.push((i, j, w + back - w * back));
        if back == 0.0 {
            edges.push((j, i, w));
        }
    }
    edges.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    edges
}

/// The spectral start: the eigenvectors of the graph's normalised Laplacian
/// with the smallest non-zero eigenvalues, scaled to a width of 10.
fn spectral_start(edges: &[(usize, usize, f64)], n: usize, components: i64, seed: u64) -> Tensor {
    let mut w = vec![0f64; n * n];
    for &(i, j, weight) in edges {
        w[i * n + j] = weight;
    }
    let w = Tensor::from_slice(&w).view([n as i64, n as i64]);
    let inv_sqrt = w.sum_dim_intlist(1, false, Kind::Double).clamp_min(1e-12).rsqrt();
    let normalised = &w * inv_sqrt.unsqueeze(1) * inv_sqrt.unsqueeze(0);
    // Largest eigenvalues of D^-1/2 W D^-1/2 are the Laplacian's smallest; skip the first.
    let (_, vectors) = normalised.linalg_eigh("L");
    let start = super::fix_signs(&vectors.flip([1]).narrow(1, 1, components));
    let start = &start * (10.0 / start.abs().max().double_value(&[]));
    start + super::seeded_normal(n as i64, components, seed) * 1e-4
}

/// UMAP of `x` `[N, D]`: `[N, k]`.
pub fn umap(x: &Tensor, config: &UmapConfig) -> Result<Tensor> {
    let x = as_matrix(x, "the data for UMAP", 3)?;
    let n = x.size()[0] as usize;
    if config.neighbours < 2 || config.neighbours as usize > n {
        return Err(Error::invalid("UMAP neighbours", config.neighbours, format!("between 2 and N = {n}")));
    }
    if !(config.min_dist >= 0.0 && config.min_dist < config.spread) {
        return Err(Error::invalid("UMAP min_dist", config.min_dist, format!("at least 0 and below spread = {}", config.spread)));
    }
    let k = config.components as usize;
    let epochs = config.epochs.unwrap_or(if n <= 10_000 { 500 } else { 200 });
    let (a, b) = find_ab(config.spread, config.min_dist);
    let mut edges = fuzzy_graph(&x, config.neighbours);
    let strongest = edges.iter().map(|e| e.2).fold(0.0, f64::max);
    edges.retain(|e| e.2 >= strongest / epochs as f64);
    let start = spectral_start(&edges, n, config.components, config.seed);
    // umap-learn rescales the start to [0, 10] in each dimension.
    let low = start.amin(0, true);
    let high = start.amax(0, true);
    let start = (&start - &low) / (high - &low).clamp_min(1e-12) * 10.0;
    let mut y: Vec<f64> = Vec::<f64>::try_from(start.contiguous().view([-1])).unwrap_or_default();
    let every: Vec<f64> = edges.iter().map(|e| strongest / e.2).collect();
    let every_negative: Vec<f64> = every.iter().map(|e| e / config.negative_sample_rate as f64).collect();
    let mut next = every.clone();
    let mut next_negative = every_negative.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let clip = |g: f64| g.clamp(-4.0, 4.0);
    let mut delta = vec![0f64; k];
    for epoch in 0..epochs {
        let alpha = config.learning_rate * (1.0 - epoch as f64 / epochs as f64);
        for (e, &(i, j, _)) in edges.iter().enumerate() {
            if next[e] > epoch as f64 {
                continue;
            }
            let d2: f64 = (0..k).map(|c| (y[i * k + c] - y[j * k + c]).powi(2)).sum();
            let pull = if d2 > 0.0 { -2.0 * a * b * d2.powf(b - 1.0) / (a * d2.powf(b) + 1.0) } else { 0.0 };
            for c in 0..k {
                delta[c] = clip(pull * (y[i * k + c] - y[j * k + c])) * alpha;
                y[i * k + c] += delta[c];
                y[j * k + c] -= delta[c];
            }
            next[e] += every[e];
            let negatives = ((epoch as f64 - next_negative[e]) / every_negative[e]).max(0.0) as usize;
            for _ in 0..negatives {
                let m = rng.random_range(0..n);
                if m == i {
                    continue;
                }
                let d2: f64 = (0..k).map(|c| (y[i * k + c] - y[m * k + c]).powi(2)).sum();
                let push = if d2 > 0.0 { 2.0 * b / ((0.001 + d2) * (a * d2.powf(b) + 1.0)) } else { 0.0 };
                for c in 0..k {
                    let g = if push > 0.0 { clip(push * (y[i * k + c] - y[m * k + c])) } else { 4.0 };
                    y[i * k + c] += g * alpha;
                }
            }
            next_negative[e] += negatives as f64 * every_negative[e];
        }
    }
    Ok(Tensor::from_slice(&y).view([n as i64, k as i64]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reduce::leave_one_out_knn_accuracy;
    use tch::Device;

    #[test]
    fn the_curve_for_the_default_min_dist_fits() {
        let (a, b) = find_ab(1.0, 0.1);
        // Independent check of the fit: the curve is near 1 before min_dist and
        // near exp(-(d - 0.1)) well after it.
        let f = |d: f64| 1.0 / (1.0 + a * d.powf(2.0 * b));
        assert!(f(0.05) > 0.9 && (f(1.5) - (-1.4f64).exp()).abs() < 0.05, "a {a} b {b}");
    }

    #[test]
    fn separates_three_blobs() {
        tch::manual_seed(8);
        let centres = Tensor::from_slice(&[0.0, 0.0, 0.0, 8.0, 0.0, 0.0, 0.0, 8.0, 0.0]).view([3, 3]);
        let labels = Tensor::arange(3, (Kind::Int64, Device::Cpu)).repeat_interleave_self_int(50, 0, None);
        let x = centres.index_select(0, &labels) + Tensor::randn([150, 3], (Kind::Double, Device::Cpu));
        let y = umap(&x, &UmapConfig { epochs: Some(200), ..Default::default() }).unwrap();
        assert_eq!(y.size(), [150, 2]);
        assert!(leave_one_out_knn_accuracy(&y, &labels, 5).unwrap() > 0.95);
        assert!(umap(&x, &UmapConfig { neighbours: 1, ..Default::default() }).is_err());
    }
}
