//! Retrieval by dot product in an embedding space.
use tch::Tensor;

/// Indices of the `k` rows of `items` (`[N, D]`) with the largest dot product
/// with `query` (`[D]`), best first.
pub fn top_k(query: &Tensor, items: &Tensor, k: i64) -> Vec<i64> {
    let scores = items.matmul(&query.to_device(items.device()).to_kind(items.kind()));
    let (_, indices) = scores.topk(k.min(items.size()[0]), 0, true, true);
    Vec::<i64>::try_from(indices.to_device(tch::Device::Cpu)).expect("int64 indices")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_first_by_dot_product() {
        let items = Tensor::from_slice(&[1f32, 0.0, 0.0, 1.0, 0.6, 0.8, -1.0, 0.0]).view([4, 2]);
        let query = Tensor::from_slice(&[0.8f32, 0.6]);
        // Dot products 0.8, 0.6, 0.96, -0.8.
        assert_eq!(top_k(&query, &items, 3), vec![2, 0, 1]);
        assert_eq!(top_k(&query, &items, 10).len(), 4);
    }
}
