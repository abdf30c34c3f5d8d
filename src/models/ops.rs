//! Small operations several models share.
use tch::nn::Module;
use tch::Tensor;

/// Rows scaled to unit L2 norm (`[B, D]` -> `[B, D]`), safe for zero rows.
pub fn l2_normalize(z: &Tensor) -> Tensor {
    z / z
        .norm_scalaropt_dim(2.0, [1].as_slice(), true)
        .clamp_min(1e-12)
}

/// Applies `layers` in turn with a ReLU between two layers (none after the last).
pub fn relu_between<M: Module>(layers: &[M], xs: &Tensor) -> Tensor {
    let last = layers.len().saturating_sub(1);
    layers
        .iter()
        .enumerate()
        .fold(xs.shallow_clone(), |x, (i, layer)| {
            let y = layer.forward(&x);
            if i < last {
                y.relu()
            } else {
                y
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn rows_have_unit_norm_and_zero_rows_stay_zero() {
        let z = Tensor::from_slice(&[3f32, 4.0, 0.0, 0.0]).view([2, 2]);
        let n = l2_normalize(&z);
        assert_eq!(Vec::<f32>::try_from(n.flatten(0, -1)).unwrap(), [0.6, 0.8, 0.0, 0.0]);
    }

    #[test]
    fn relu_only_between_layers() {
        let minus_one = || tch::nn::func(|x| x - 1.0);
        let x = Tensor::zeros([1], (Kind::Float, Device::Cpu));
        // (0 - 1) -> relu -> 0, then - 1 = -1: no ReLU after the last layer.
        let y = relu_between(&[minus_one(), minus_one()], &x);
        assert_eq!(y.double_value(&[0]), -1.0);
    }
}
