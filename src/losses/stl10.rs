//! The STL-10 assignment's batch losses (the reference answers to its FIXMEs).
use tch::nn::Module;
use tch::{Reduction, Tensor};

/// Mean squared error between `decoder(encoder(images))` and `images`, over
/// every element. `images`: `[B, 3, 64, 64]` in [0, 1] -> scalar.
pub fn stl10_autoencoder_loss(encoder: &dyn Module, decoder: &dyn Module, images: &Tensor) -> Tensor {
    decoder
        .forward(&encoder.forward(images))
        .mse_loss(images, Reduction::Mean)
}

/// Cross-entropy of `classifier(encoder(images))` against `labels` (`[B]`).
/// Unless `supervised`, the features are computed without gradients, so no
/// gradient reaches the encoder.
pub fn stl10_classifier_loss(
    encoder: &dyn Module,
    classifier: &dyn Module,
    images: &Tensor,
    labels: &Tensor,
    supervised: bool,
) -> Tensor {
    let features = if supervised {
        encoder.forward(images)
    } else {
        tch::no_grad(|| encoder.forward(images))
    };
    classifier.forward(&features).cross_entropy_for_logits(labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn, Device, Kind};

    #[test]
    fn classifier_loss_matches_a_hand_computed_cross_entropy_and_the_switch_holds() {
        let vs = nn::VarStore::new(Device::Cpu);
        let enc = nn::linear(vs.root() / "e", 2, 2, Default::default());
        let head = nn::linear(vs.root() / "h", 2, 2, Default::default());
        let x = Tensor::from_slice(&[1f32, 0.0, 0.0, 1.0]).view([2, 2]);
        let y = Tensor::from_slice(&[0i64, 1]);
        let logits = Vec::<f32>::try_from(tch::no_grad(|| head.forward(&enc.forward(&x))).flatten(0, -1)).unwrap();
        let ce = |a: f32, b: f32, t: usize| {
            let (a, b) = (a as f64, b as f64);
            (a.exp() + b.exp()).ln() - [a, b][t]
        };
        let want = (ce(logits[0], logits[1], 0) + ce(logits[2], logits[3], 1)) / 2.0;
        for supervised in [false, true] {
            let loss = stl10_classifier_loss(&enc, &head, &x, &y, supervised);
            assert!((loss.double_value(&[]) - want).abs() < 1e-5);
            vs.trainable_variables().iter_mut().for_each(|v| v.zero_grad());
            loss.backward();
            let grad = enc.ws.grad();
            assert_eq!(grad.defined() && grad.abs().sum(Kind::Float).double_value(&[]) > 0.0, supervised);
        }
        let ae = stl10_autoencoder_loss(&enc, &nn::func(|z| z.shallow_clone()), &x).double_value(&[]);
        let recon = Vec::<f32>::try_from(tch::no_grad(|| enc.forward(&x)).flatten(0, -1)).unwrap();
        let mse = recon.iter().zip([1f32, 0.0, 0.0, 1.0]).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>() / 4.0;
        assert!((ae - mse).abs() < 1e-6);
    }
}
