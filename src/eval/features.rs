//! Representations of a whole data set, batch by batch, without gradients.
use crate::data::ImageSet;
use crate::{Error, Result};
use tch::{Device, Tensor};

/// Encodes every image of `set`, `batch_size` at a time on `device`, without
/// gradients. `encode` maps a batch `[B, 3, H, W]` in [0, 1] to `[B, D]`;
/// the result is `[N, D]` on the CPU, in the set's order.
///
/// ```
/// use replearn::prelude::*;
/// let moons = TensorImages::new(Tensor::zeros([5, 3, 2, 2], (Kind::Uint8, Device::Cpu)), None, vec![])?;
/// let means = encode_all(&moons, 2, Device::Cpu, |x| x.mean_dim([1, 2, 3].as_slice(), false, Kind::Float).unsqueeze(1))?;
/// assert_eq!(means.size(), [5, 1]);
/// # Ok::<(), replearn::Error>(())
/// ```
pub fn encode_all(
    set: &dyn ImageSet,
    batch_size: usize,
    device: Device,
    encode: impl Fn(&Tensor) -> Tensor,
) -> Result<Tensor> {
    if batch_size == 0 {
        return Err(Error::invalid("batch_size", 0, "must be at least 1"));
    }
    let n = set.len() as i64;
    let mut parts = Vec::new();
    tch::no_grad(|| -> Result<()> {
        for start in (0..n).step_by(batch_size) {
            let idx: Vec<i64> = (start..(start + batch_size as i64).min(n)).collect();
            parts.push(encode(&set.images(&idx, device)?).to_device(Device::Cpu));
        }
        Ok(())
    })?;
    if parts.is_empty() {
        return Err(Error::invalid("the data set to encode", "empty", "needs at least one image"));
    }
    Ok(Tensor::cat(&parts, 0))
}

/// `count` distinct indices below `n`, drawn from `seed` (the rows of a neighbour grid).
pub fn query_indices(n: usize, count: usize, seed: u64) -> Vec<i64> {
    use rand::seq::index::sample;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    sample(&mut rng, n, count.min(n))
        .into_iter()
        .map(|i| i as i64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::TensorImages;
    use tch::Kind;

    #[test]
    fn encodes_in_order_across_batches() {
        // Image i is filled with the byte i: its mean in [0, 1] is i / 255.
        let bytes: Vec<u8> = (0..7u8).flat_map(|i| std::iter::repeat_n(i, 12)).collect();
        let set = TensorImages::new(Tensor::from_slice(&bytes).view([7, 3, 2, 2]), None, vec![]).unwrap();
        let means = encode_all(&set, 3, Device::Cpu, |x| {
            x.mean_dim([1, 2, 3].as_slice(), false, Kind::Float).unsqueeze(1)
        })
        .unwrap();
        let got = Vec::<f32>::try_from(means.flatten(0, -1)).unwrap();
        let want: Vec<f32> = (0..7).map(|i| i as f32 / 255.0).collect();
        assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6), "{got:?}");
        assert!(encode_all(&set, 0, Device::Cpu, |x| x.shallow_clone()).is_err());
    }
}
