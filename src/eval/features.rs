//! Representations of a whole data set, batch by batch, without gradients.
use crate::data::Shapes;
use crate::Result;
use tch::nn::Module;
use tch::{Device, Tensor};

/// Encodes every image of `shapes` (in [-1, 1]) with `encoder` on `device`, in
/// batches of `batch_size`. Returns `[N, D]` on the CPU.
pub fn encode_shapes(
    encoder: &dyn Module,
    shapes: &Shapes,
    batch_size: usize,
    device: Device,
) -> Result<Tensor> {
    let n = shapes.len() as i64;
    let mut parts = Vec::new();
    tch::no_grad(|| -> Result<()> {
        let mut start = 0;
        while start < n {
            let idx: Vec<i64> = (start..(start + batch_size as i64).min(n)).collect();
            parts.push(
                encoder
                    .forward(&shapes.images(&idx, device)?)
                    .to_device(Device::Cpu),
            );
            start += batch_size as i64;
        }
        Ok(())
    })?;
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
