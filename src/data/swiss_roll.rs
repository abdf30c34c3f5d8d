//! The swiss roll: a 2-D sheet rolled up in 3-D, the classic picture of the
//! manifold hypothesis (scikit-learn's `make_swiss_roll` formula).
use super::two_moons::standard_normal;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

/// Points on the roll and where along it each lies.
#[derive(Debug)]
pub struct SwissRoll {
    /// `[N, 3]` float points.
    pub points: Tensor,
    /// `[N]` float position along the roll (the angle t, from 1.5 pi to 4.5 pi).
    pub position: Tensor,
}

impl SwissRoll {
    /// `n` points with Gaussian noise of std `noise`, seeded.
    pub fn generate(n: usize, noise: f32, seed: u64) -> SwissRoll {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut points, mut position) = (Vec::with_capacity(3 * n), Vec::with_capacity(n));
        for _ in 0..n {
            let t = 1.5 * std::f32::consts::PI * (1.0 + 2.0 * rng.random::<f32>());
            let height = 21.0 * rng.random::<f32>();
            for v in [t * t.cos(), height, t * t.sin()] {
                points.push(v + noise * standard_normal(&mut rng));
            }
            position.push(t);
        }
        SwissRoll { points: Tensor::from_slice(&points).view([n as i64, 3]), position: Tensor::from_slice(&position) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_lie_on_the_roll() {
        let roll = SwissRoll::generate(500, 0.0, 1);
        let p = Vec::<f32>::try_from(roll.points.view([-1])).unwrap();
        let t = Vec::<f32>::try_from(&roll.position).unwrap();
        for (xyz, t) in p.chunks(3).zip(&t) {
            // Independent check: the distance from the roll's axis is the angle itself.
            assert!(((xyz[0] * xyz[0] + xyz[2] * xyz[2]).sqrt() - t).abs() < 1e-3);
            assert!((0.0..=21.0).contains(&xyz[1]));
        }
    }
}
