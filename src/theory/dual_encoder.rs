//! Cross-entropy classification is a dual-encoder contrastive loss (question 6).
//!
//! A classifier `g(x) = W [h(x) :: 1]` (a linear layer with bias on features
//! `h(x)`) is the dual encoder with `f1(x) = [h(x) :: 1]` for the data and
//! `f2(c) = [w_c :: b_c]` for the class labels, whose "batch" of candidates is
//! all C classes.
use tch::nn::{Linear, Module};
use tch::{Kind, Tensor};

/// The supervised loss: cross-entropy of `classifier(features)` against `labels`.
/// `[B, d]`, `[B]` -> scalar.
pub fn classifier_cross_entropy(classifier: &Linear, features: &Tensor, labels: &Tensor) -> Tensor {
    classifier
        .forward(features)
        .cross_entropy_for_logits(labels)
}

/// The same loss written as the dual-encoder contrastive loss: data encoder
/// `[h(x) :: 1]` `[B, d + 1]`, label encoder `[w_c :: b_c]` `[C, d + 1]`, logits
/// by one matrix product, target the sample's own class.
pub fn dual_encoder_loss(classifier: &Linear, features: &Tensor, labels: &Tensor) -> Tensor {
    let ones = Tensor::ones([features.size()[0], 1], (Kind::Float, features.device()));
    let f1 = Tensor::cat(&[features.shallow_clone(), ones], 1);
    let bias = classifier
        .bs
        .as_ref()
        .expect("a linear layer with bias")
        .unsqueeze(1);
    let f2 = Tensor::cat(&[classifier.ws.shallow_clone(), bias], 1);
    let logits = f1.matmul(&f2.tr());
    // -log softmax at the target, written out.
    let target_logit = logits.gather(1, &labels.unsqueeze(1), false).squeeze_dim(1);
    (logits.logsumexp([1].as_slice(), false) - target_logit).mean(Kind::Float)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn, Device};

    #[test]
    fn both_forms_give_the_same_loss_and_gradients() {
        let vs = nn::VarStore::new(Device::Cpu);
        let linear = nn::linear(vs.root() / "cls", 5, 4, Default::default());
        let feats = Tensor::randn([16, 5], (Kind::Float, Device::Cpu));
        let labels = Tensor::randint(4, [16], (Kind::Int64, Device::Cpu));
        let ce = classifier_cross_entropy(&linear, &feats, &labels);
        let dual = dual_encoder_loss(&linear, &feats, &labels);
        assert!((ce.double_value(&[]) - dual.double_value(&[])).abs() < 1e-5);
        let g1 = Tensor::run_backward(&[&ce], &[&linear.ws], false, false);
        let g2 = Tensor::run_backward(&[&dual], &[&linear.ws], false, false);
        assert!(g1[0].allclose(&g2[0], 1e-5, 1e-6, false));
    }
}
