//! Nearest neighbours in a representation space, and k-NN probe accuracy.
use crate::{Error, Result};
use tch::{Kind, Tensor};

/// Squared Euclidean distances between rows, in the inputs' float kind: `[Q, D]`, `[N, D]` -> `[Q, N]`.
pub fn squared_distances(queries: &Tensor, items: &Tensor) -> Tensor {
    let q2 = queries
        .square()
        .sum_dim_intlist([1].as_slice(), true, queries.kind());
    let x2 = items
        .square()
        .sum_dim_intlist([1].as_slice(), true, items.kind())
        .tr();
    (q2 - queries.matmul(&items.tr()) * 2.0 + x2).clamp_min(0.0)
}

/// Indices `[Q, k]` of the `k` rows of `features` nearest (squared L2) to each
/// query row `features[queries[i]]`, nearest first; a query is its own first
/// neighbour. `features`: `[N, D]`.
pub fn nearest_neighbours(features: &Tensor, queries: &[i64], k: usize) -> Result<Tensor> {
    let n = features.size()[0];
    if k as i64 > n {
        return Err(Error::invalid("nearest_neighbours k", k, format!("at most the {n} items")));
    }
    if let Some(q) = queries.iter().find(|&&q| q < 0 || q >= n) {
        return Err(Error::invalid("nearest_neighbours query", q, format!("an index below the {n} items")));
    }
    let idx = Tensor::from_slice(queries).to_device(features.device());
    let d = squared_distances(&features.index_select(0, &idx), features);
    // Ties (e.g. duplicate features) are broken towards the query itself.
    let self_bonus = Tensor::zeros_like(&d).scatter_value(1, &idx.unsqueeze(1), -1e-6);
    let (_, order) = (d + self_bonus).topk(k as i64, 1, false, true);
    Ok(order)
}

/// Indices `[M, k]` of the `k` rows of `train` nearest (squared L2) to each row
/// of `queries`, computed in chunks of 1024 queries to bound memory.
/// `[N, D]`, `[M, D]` -> `[M, k]`.
pub fn knn_indices(train: &Tensor, queries: &Tensor, k: usize) -> Tensor {
    let m = queries.size()[0];
    let chunks: Vec<Tensor> = (0..m)
        .step_by(1024)
        .map(|start| {
            let q = queries.narrow(0, start, 1024.min(m - start));
            squared_distances(&q, train)
                .topk(k as i64, 1, false, true)
                .1
        })
        .collect();
    Tensor::cat(&chunks, 0)
}

/// Accuracy of the majority vote (ties to the smallest label) of the
/// neighbours `nn` (`[M, k]` rows of the training set, from [`knn_indices`]):
/// `train_labels` `[N]` vote for `query_labels` `[M]`.
pub fn knn_vote_accuracy(nn: &Tensor, train_labels: &Tensor, query_labels: &Tensor) -> f64 {
    let (m, k) = (nn.size()[0], nn.size()[1]);
    let classes = train_labels
        .max()
        .int64_value(&[])
        .max(query_labels.max().int64_value(&[]))
        + 1;
    let votes = train_labels
        .index_select(0, &nn.reshape([-1]))
        .reshape([m, k]);
    let counts = Tensor::zeros([m, classes], (Kind::Float, nn.device())).scatter_add(
        1,
        &votes,
        &Tensor::ones([m, k], (Kind::Float, nn.device())),
    );
    let correct = counts
        .argmax(1, false)
        .eq_tensor(query_labels)
        .sum(Kind::Int64)
        .int64_value(&[]);
    correct as f64 / m.max(1) as f64
}

/// Accuracy of a k-nearest-neighbour classifier (majority vote, ties to the
/// smallest label) that predicts `query_labels` from `train` features.
/// `[N, D]`, `[N]`, `[M, D]`, `[M]` -> accuracy in [0, 1].
pub fn knn_accuracy(
    train: &Tensor,
    train_labels: &Tensor,
    queries: &Tensor,
    query_labels: &Tensor,
    k: usize,
) -> f64 {
    knn_vote_accuracy(&knn_indices(train, queries, k), train_labels, query_labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn neighbours_match_brute_force() {
        let f = Tensor::randn([50, 4], (Kind::Float, Device::Cpu));
        let rows: Vec<Vec<f32>> = (0..50)
            .map(|i| Vec::<f32>::try_from(f.get(i)).unwrap())
            .collect();
        let nn = nearest_neighbours(&f, &[3, 17], 5).unwrap();
        for (r, &q) in [3usize, 17].iter().enumerate() {
            let mut by_hand: Vec<(f32, i64)> = rows
                .iter()
                .enumerate()
                .map(|(j, x)| {
                    (
                        x.iter().zip(&rows[q]).map(|(a, b)| (a - b) * (a - b)).sum(),
                        j as i64,
                    )
                })
                .collect();
            by_hand.sort_by(|a, b| a.0.total_cmp(&b.0));
            let want: Vec<i64> = by_hand.iter().take(5).map(|p| p.1).collect();
            assert_eq!(Vec::<i64>::try_from(nn.get(r as i64)).unwrap(), want);
            assert_eq!(want[0], q as i64, "the query is its own nearest neighbour");
        }
        assert!(nearest_neighbours(&f, &[50], 3).is_err());
    }

    #[test]
    fn knn_separates_clusters_and_is_at_chance_on_noise() {
        // Two well separated clusters: perfect accuracy.
        let a = Tensor::randn([40, 2], (Kind::Float, Device::Cpu)) * 0.1;
        let b = Tensor::randn([40, 2], (Kind::Float, Device::Cpu)) * 0.1 + 5.0;
        let x = Tensor::cat(&[a, b], 0);
        let y = Tensor::cat(
            &[
                Tensor::zeros([40], (Kind::Int64, Device::Cpu)),
                Tensor::ones([40], (Kind::Int64, Device::Cpu)),
            ],
            0,
        );
        assert_eq!(knn_accuracy(&x, &y, &x, &y, 5), 1.0);
        // Labels independent of the features: about chance.
        let noise = Tensor::randn([2000, 8], (Kind::Float, Device::Cpu));
        let labels = Tensor::randint(4, [2000], (Kind::Int64, Device::Cpu));
        let acc = knn_accuracy(
            &noise.narrow(0, 0, 1000),
            &labels.narrow(0, 0, 1000),
            &noise.narrow(0, 1000, 1000),
            &labels.narrow(0, 1000, 1000),
            10,
        );
        assert!((acc - 0.25).abs() < 0.06, "{acc}");
    }
}
