//! Recall@K both ways for paired embeddings: image to text and text to image.
use tch::Tensor;

/// Recall@`k` of a square similarity matrix `[N, N]` whose row `i` is image
/// `i` and column `j` caption `j`, caption `i` belonging to image `i`:
/// (image to text: the share of rows whose own column is among their `k`
/// largest; text to image: the same for columns).
pub fn recall_both_ways(similarity: &Tensor, k: i64) -> (f64, f64) {
    let n = similarity.size()[0];
    let own = Tensor::arange(n, (tch::Kind::Int64, similarity.device())).unsqueeze(1);
    let hits = |s: &Tensor| {
        let (_, top) = s.topk(k.min(n), 1, true, true);
        top.eq_tensor(&own).any_dim(1, false).to_kind(tch::Kind::Double).mean(tch::Kind::Double).double_value(&[])
    };
    (hits(similarity), hits(&similarity.tr()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_hand() {
        // Rows: image 0 ranks caption 0 first; image 1 ranks caption 0, then 1; image 2 ranks 2 last.
        // Columns: caption 0 ranks image 0 first, caption 1 image 2, caption 2 image 2.
        let s = Tensor::from_slice(&[0.9f32, 0.1, 0.0, 0.8, 0.5, 0.1, 0.3, 0.9, 0.2]).view([3, 3]);
        assert_eq!(recall_both_ways(&s, 1), (1.0 / 3.0, 2.0 / 3.0));
        // k = 2: image 1 finds its caption; image 2 does not (0.2 is its smallest).
        // Columns: caption 0 ranks image 0, 1; caption 1 ranks image 2, 1; caption 2 ranks image 2 first.
        assert_eq!(recall_both_ways(&s, 2), (2.0 / 3.0, 1.0));
        assert_eq!(recall_both_ways(&s, 3), (1.0, 1.0));
    }
}
