//! InfoNCE: the contrastive loss with in-batch negatives.
use tch::{Kind, Tensor};

/// One-direction InfoNCE. Row `i` of `anchors` and row `i` of `positives` form
/// the positive pair; every other row of `positives` is a negative.
/// `logits = anchors @ positives^T / temperature` (`[B, B]`), then cross-entropy
/// against `0..B`, averaged over the batch.
///
/// `[B, D]`, `[B, D]` (already L2-normalised for the usual cosine form) -> scalar.
///
/// ```
/// use replearn::losses::info_nce;
/// use tch::{Device, Kind, Tensor};
/// // Each anchor equals its positive and is orthogonal to the others: at a
/// // low temperature the right pair wins every row, so the loss is near 0.
/// let z = Tensor::eye(4, (Kind::Float, Device::Cpu));
/// assert!(info_nce(&z, &z, 0.05).double_value(&[]) < 1e-6);
/// // At temperature 1 every logit is 0 or 1: the loss is ln(e + 3) - 1.
/// let at_one = info_nce(&z, &z, 1.0).double_value(&[]);
/// assert!((at_one - ((1f64.exp() + 3.0).ln() - 1.0)).abs() < 1e-5);
/// ```
pub fn info_nce(anchors: &Tensor, positives: &Tensor, temperature: f64) -> Tensor {
    let logits = anchors.matmul(&positives.tr()) / temperature;
    let targets = Tensor::arange(logits.size()[0], (Kind::Int64, logits.device()));
    logits.cross_entropy_for_logits(&targets)
}

/// Symmetric InfoNCE of CLIP: the mean of image->text and text->image.
/// `[N, D]`, `[N, D]` -> scalar.
pub fn symmetric_info_nce(images: &Tensor, texts: &Tensor, temperature: f64) -> Tensor {
    (info_nce(images, texts, temperature) + info_nce(texts, images, temperature)) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    /// The loss written out term by term, in f64, without tensors.
    fn by_hand(a: &[[f64; 2]], p: &[[f64; 2]], tau: f64) -> f64 {
        let n = a.len();
        let mut total = 0.0;
        for i in 0..n {
            let logits: Vec<f64> = (0..n)
                .map(|j| (a[i][0] * p[j][0] + a[i][1] * p[j][1]) / tau)
                .collect();
            let lse = logits.iter().map(|l| l.exp()).sum::<f64>().ln();
            total += lse - logits[i];
        }
        total / n as f64
    }

    #[test]
    fn matches_term_by_term_computation() {
        let a = [[0.6, 0.8], [1.0, 0.0], [0.0, -1.0]];
        let p = [[0.8, 0.6], [0.0, 1.0], [-0.6, -0.8]];
        let t = |m: &[[f64; 2]]| {
            Tensor::from_slice(&m.concat())
                .reshape([m.len() as i64, 2])
                .to_kind(Kind::Double)
        };
        let got = info_nce(&t(&a), &t(&p), 0.5).double_value(&[]);
        // tch computes the log-softmax in f32.
        assert!((got - by_hand(&a, &p, 0.5)).abs() < 1e-6, "{got}");
        let sym = symmetric_info_nce(&t(&a), &t(&p), 0.5).double_value(&[]);
        assert!((sym - (by_hand(&a, &p, 0.5) + by_hand(&p, &a, 0.5)) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn perfectly_aligned_pairs_at_low_temperature_give_near_zero_loss() {
        let z = Tensor::eye(4, (Kind::Float, Device::Cpu));
        assert!(info_nce(&z, &z, 0.01).double_value(&[]) < 1e-6);
    }
}
