//! Reconstruction loss of an autoencoder.
use tch::{Reduction, Tensor};

/// Mean squared error between a reconstruction and its input, averaged over
/// every element. `[B, ...]`, `[B, ...]` -> scalar.
pub fn reconstruction_loss(reconstruction: &Tensor, input: &Tensor) -> Tensor {
    reconstruction.mse_loss(input, Reduction::Mean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_mean() {
        let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([2, 2]);
        let b = Tensor::from_slice(&[1.0f32, 0.0, 3.0, 1.0]).reshape([2, 2]);
        assert_eq!(
            reconstruction_loss(&a, &b).double_value(&[]),
            (4.0 + 9.0) / 4.0
        );
    }
}
