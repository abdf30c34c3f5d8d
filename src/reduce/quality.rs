//! How good a low-dimensional embedding is: trustworthiness (are its
//! neighbours real neighbours?), k-NN accuracy (do its neighbours share a
//! label?) and the Procrustes disparity between two embeddings.
use super::{as_matrix, nearest_neighbours, squared_distances, without_diagonal};
use crate::{Error, Result};
use tch::{Kind, Tensor};

/// Trustworthiness of `embedding` `[N, k]` for `data` `[N, D]` with `neighbours`
/// neighbours (scikit-learn's `trustworthiness`): 1 when every point's nearest
/// neighbours in the embedding are among its nearest in the data; each intruder
/// costs by how far down the data's ranking it lies.
pub fn trustworthiness(data: &Tensor, embedding: &Tensor, neighbours: i64) -> Result<f64> {
    let x = as_matrix(data, "the data", 2)?;
    let e = as_matrix(embedding, "the embedding", 2)?;
    let n = x.size()[0];
    if e.size()[0] != n {
        return Err(Error::invalid("the embedding's rows", e.size()[0], format!("one per data row ({n})")));
    }
    if neighbours < 1 || neighbours as f64 >= n as f64 / 2.0 {
        return Err(Error::invalid("neighbours", neighbours, format!("between 1 and N/2 = {}", n / 2)));
    }
    // rank[i][j]: position of j in i's ordering by data distance (1 = nearest other point).
    let d = without_diagonal(&squared_distances(&x, &x), n);
    let order = d.argsort(1, false);
    let ranks = Tensor::zeros([n, n], (Kind::Int64, x.device()));
    let positions = Tensor::arange_start(1, n + 1, (Kind::Int64, x.device())).unsqueeze(0).expand([n, n], false);
    let ranks = ranks.scatter(1, &order, &positions);
    let (near, _) = nearest_neighbours(&e, neighbours);
    let excess = (ranks.gather(1, &near, false) - neighbours).clamp_min(0).sum(Kind::Double).double_value(&[]);
    let (n, k) = (n as f64, neighbours as f64);
    Ok(1.0 - excess * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)))
}

/// Leave-one-out accuracy of a `neighbours`-nearest-neighbour vote in
/// `embedding` `[N, k]` for `labels` `[N]` (ties go to the class whose voters
/// lie nearer in total).
pub fn leave_one_out_knn_accuracy(embedding: &Tensor, labels: &Tensor, neighbours: i64) -> Result<f64> {
    let e = as_matrix(embedding, "the embedding", 2)?;
    let n = e.size()[0];
    let labels = Vec::<i64>::try_from(labels.to_device(tch::Device::Cpu).to_kind(Kind::Int64).view([-1]))
        .map_err(|err| Error::invalid("labels", err, "an integer tensor [N]"))?;
    if labels.len() as i64 != n {
        return Err(Error::invalid("labels", labels.len(), format!("one per embedded row ({n})")));
    }
    if neighbours < 1 || neighbours >= n {
        return Err(Error::invalid("neighbours", neighbours, format!("between 1 and N - 1 = {}", n - 1)));
    }
    let (near, dist) = nearest_neighbours(&e, neighbours);
    let near = super::rows_of(&near.to_kind(Kind::Double));
    let dist = super::rows_of(&dist);
    let right = (0..n as usize)
        .filter(|&i| {
            let mut votes: Vec<(i64, usize, f64)> = Vec::new();
            for (j, d) in near[i].iter().zip(&dist[i]) {
                let label = labels[*j as usize];
                match votes.iter_mut().find(|v| v.0 == label) {
                    Some(v) => {
                        v.1 += 1;
                        v.2 += d;
                    }
                    None => votes.push((label, 1, *d)),
                }
            }
            let best = votes.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)));
            best.map(|b| b.0) == Some(labels[i])
        })
        .count();
    Ok(right as f64 / n as f64)
}

/// Procrustes disparity between two embeddings `[N, k]` (SciPy's
/// `scipy.spatial.procrustes`): each is centred and scaled to unit norm, the
/// second rotated and reflected onto the first; what remains is the sum of
/// squared differences, 0 when they agree up to shift, scale, rotation and sign.
pub fn procrustes_disparity(a: &Tensor, b: &Tensor) -> Result<f64> {
    let a = as_matrix(a, "the first embedding", 2)?;
    let b = as_matrix(b, "the second embedding", 2)?;
    if a.size() != b.size() {
        return Err(Error::invalid("the second embedding's shape", format!("{:?}", b.size()), format!("{:?}, as the first", a.size())));
    }
    let standard = |m: &Tensor| {
        let c = m - m.mean_dim(0, true, Kind::Double);
        let norm = c.square().sum(Kind::Double).sqrt();
        c / norm
    };
    let (a, b) = (standard(&a), standard(&b));
    let (_, s, _) = super::svd(&a.tr().matmul(&b));
    Ok(1.0 - s.sum(Kind::Double).double_value(&[]).powi(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn t(rows: &[[f64; 2]]) -> Tensor {
        Tensor::from_slice(&rows.concat()).view([rows.len() as i64, 2])
    }

    #[test]
    fn an_embedding_that_keeps_every_neighbour_is_fully_trustworthy() {
        tch::manual_seed(1);
        let x = Tensor::randn([60, 2], (Kind::Double, Device::Cpu));
        assert!((trustworthiness(&x, &(&x * 3.0 + 1.0), 5).unwrap() - 1.0).abs() < 1e-12);
        // Points on a line, embedded in reverse order: still the same neighbours.
        let line = Tensor::randn([20, 1], (Kind::Double, Device::Cpu));
        assert!((trustworthiness(&line, &(-&line), 3).unwrap() - 1.0).abs() < 1e-12);
        // Shuffled: far worse.
        let shuffled = line.index_select(0, &Tensor::randperm(20, (Kind::Int64, Device::Cpu)));
        assert!(trustworthiness(&line, &shuffled, 3).unwrap() < 0.8);
    }

    #[test]
    fn trustworthiness_by_hand_on_four_points() {
        // Data on a line at 0, 1, 2.5, 10; the embedding swaps where the last two lie.
        let x = Tensor::from_slice(&[0.0, 1.0, 2.5, 10.0]).view([4, 1]);
        let e = Tensor::from_slice(&[0.0, 1.0, 10.0, 2.5]).view([4, 1]);
        // k = 1. Nearest in the embedding, and its rank in the data's order:
        // 0 -> 1 (rank 1), 1 -> 0 (rank 1), 2 -> 3 (rank 3: excess 2), 3 -> 1 (rank 2: excess 1).
        // T = 1 - 2 * 3 / (4 * 1 * (2*4 - 3*1 - 1)).
        let got = trustworthiness(&x, &e, 1).unwrap();
        assert!((got - (1.0 - 6.0 / 16.0)).abs() < 1e-12, "{got}");
    }

    #[test]
    fn knn_accuracy_counts_left_out_votes() {
        let e = t(&[[0.0, 0.0], [0.1, 0.0], [0.2, 0.0], [5.0, 5.0], [5.1, 5.0], [0.1, 0.3]]);
        let labels = Tensor::from_slice(&[0i64, 0, 0, 1, 1, 1]);
        // Point 5 (label 1) sits among the zeros: its neighbours vote 0; everyone else is right.
        assert!((leave_one_out_knn_accuracy(&e, &labels, 1).unwrap() - 5.0 / 6.0).abs() < 1e-12);
        assert!(leave_one_out_knn_accuracy(&e, &Tensor::from_slice(&[0i64, 1]), 1).unwrap_err().to_string().contains("labels"));
    }

    #[test]
    fn procrustes_ignores_rotation_scale_and_reflection() {
        tch::manual_seed(2);
        let a = Tensor::randn([30, 2], (Kind::Double, Device::Cpu));
        let (c, s) = (0.3f64.cos(), 0.3f64.sin());
        let turn = Tensor::from_slice(&[c, -s, s, c]).view([2, 2]);
        let b = a.matmul(&turn) * Tensor::from_slice(&[-2.0, 2.0]) + 7.0;
        assert!(procrustes_disparity(&a, &b).unwrap() < 1e-12);
        let noise = Tensor::randn([30, 2], (Kind::Double, Device::Cpu));
        assert!(procrustes_disparity(&a, &noise).unwrap() > 0.5);
    }
}
