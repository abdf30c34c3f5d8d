//! NT-Xent, SimCLR's loss (Chen et al., 2020): each view must pick out its
//! partner among the other 2B - 1 views of the batch.
use tch::{Kind, Tensor};

/// NT-Xent of two views' projections `[B, P]` each at `temperature`: the 2B
/// projections are L2-normalised, each one's cosine similarities to the other
/// 2B - 1 (itself left out) divided by the temperature are the logits, its
/// partner in the other view the target; the mean cross-entropy. -> scalar.
pub fn nt_xent(a: &Tensor, b: &Tensor, temperature: f64) -> Tensor {
    let n = a.size()[0];
    let z = crate::models::l2_normalize(&Tensor::cat(&[a, b], 0));
    let eye = Tensor::eye(2 * n, (Kind::Bool, z.device()));
    let logits = (z.matmul(&z.tr()) / temperature).masked_fill(&eye, f64::NEG_INFINITY);
    let targets = Tensor::cat(&[Tensor::arange_start(n, 2 * n, (Kind::Int64, z.device())), Tensor::arange(n, (Kind::Int64, z.device()))], 0);
    logits.cross_entropy_for_logits(&targets)
}

/// CLIP's symmetric loss with a learnable scale: logits `exp(logit_scale)
/// image text^T` between unit-length embeddings `[B, E]`, the mean of the
/// image-to-text and text-to-image cross-entropies with the diagonal as target.
pub fn scaled_symmetric_info_nce(image: &Tensor, text: &Tensor, logit_scale: &Tensor) -> Tensor {
    let logits = image.matmul(&text.tr()) * logit_scale.exp();
    let targets = Tensor::arange(logits.size()[0], (Kind::Int64, logits.device()));
    (logits.cross_entropy_for_logits(&targets) + logits.tr().cross_entropy_for_logits(&targets)) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn rows(t: &Tensor) -> Vec<Vec<f64>> {
        (0..t.size()[0]).map(|i| Vec::<f64>::try_from(t.get(i).to_kind(Kind::Double)).unwrap()).collect()
    }

    /// NT-Xent term by term in f64, without tensors.
    fn nt_xent_by_hand(a: &Tensor, b: &Tensor, tau: f64) -> f64 {
        let mut z = rows(a);
        z.extend(rows(b));
        for v in &mut z {
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
        }
        let (m, n) = (z.len(), z.len() / 2);
        let dot = |i: usize, j: usize| z[i].iter().zip(&z[j]).map(|(x, y)| x * y).sum::<f64>() / tau;
        (0..m)
            .map(|i| {
                let partner = (i + n) % m;
                let denominator: f64 = (0..m).filter(|&j| j != i).map(|j| dot(i, j).exp()).sum();
                -(dot(i, partner).exp() / denominator).ln()
            })
            .sum::<f64>()
            / m as f64
    }

    #[test]
    fn nt_xent_matches_the_sum_written_out() {
        tch::manual_seed(0);
        let (a, b) = (Tensor::randn([5, 3], (Kind::Float, Device::Cpu)), Tensor::randn([5, 3], (Kind::Float, Device::Cpu)));
        for tau in [0.5, 0.1] {
            let got = nt_xent(&a, &b, tau).double_value(&[]);
            let want = nt_xent_by_hand(&a, &b, tau);
            assert!((got - want).abs() < 1e-4, "tau {tau}: {got} vs {want}");
        }
    }

    #[test]
    fn the_scaled_loss_is_the_mean_of_both_directions() {
        tch::manual_seed(1);
        let unit = |t: Tensor| crate::models::l2_normalize(&t);
        let (i, t) = (unit(Tensor::randn([4, 3], (Kind::Float, Device::Cpu))), unit(Tensor::randn([4, 3], (Kind::Float, Device::Cpu))));
        let scale = Tensor::from(2.0f32);
        let (ri, rt) = (rows(&i), rows(&t));
        let s = 2f64.exp();
        let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>() * s;
        let direction = |q: &[Vec<f64>], k: &[Vec<f64>]| {
            (0..4).map(|r| -(dot(&q[r], &k[r]).exp() / (0..4).map(|c| dot(&q[r], &k[c]).exp()).sum::<f64>()).ln()).sum::<f64>() / 4.0
        };
        let want = (direction(&ri, &rt) + direction(&rt, &ri)) / 2.0;
        let got = scaled_symmetric_info_nce(&i, &t, &scale).double_value(&[]);
        assert!((got - want).abs() < 1e-4, "{got} vs {want}");
    }
}
