//! Two interleaving half circles: a small 2-D classification set for first steps.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

/// One draw from N(0, 1) (Box-Muller).
pub(crate) fn standard_normal(rng: &mut impl Rng) -> f32 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

/// Points and labels of the two-moons set.
#[derive(Debug)]
pub struct TwoMoons {
    /// `[n, 2]` float points.
    pub points: Tensor,
    /// `[n]` int64 labels in {0, 1}.
    pub labels: Tensor,
}

impl TwoMoons {
    /// `n` points (half per moon) with Gaussian noise of std `noise`, seeded.
    pub fn generate(n: i64, noise: f64, seed: u64) -> Self {
        let gen = |n: i64| -> (Tensor, Tensor) {
            let half = n / 2;
            let t = Tensor::linspace(0.0, std::f64::consts::PI, half, (Kind::Float, Device::Cpu));
            let upper = Tensor::stack(&[t.cos(), t.sin()], 1);
            let t2 = Tensor::linspace(
                0.0,
                std::f64::consts::PI,
                n - half,
                (Kind::Float, Device::Cpu),
            );
            let lower = Tensor::stack(&[1.0 - t2.cos(), 0.5 - t2.sin()], 1);
            let points = Tensor::cat(&[upper, lower], 0);
            let labels = Tensor::cat(
                &[
                    Tensor::zeros([half], (Kind::Int64, Device::Cpu)),
                    Tensor::ones([n - half], (Kind::Int64, Device::Cpu)),
                ],
                0,
            );
            (points, labels)
        };
        let (points, labels) = gen(n);
        // Own generator, not libtorch's global one: the same seed gives the
        // same points whatever else draws random numbers meanwhile.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let normals: Vec<f32> = (0..n * 2).map(|_| standard_normal(&mut rng)).collect();
        let noise_t = Tensor::from_slice(&normals).reshape([n, 2]);
        TwoMoons {
            points: points + noise_t * noise,
            labels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noiseless_points_lie_on_unit_half_circles() {
        let m = TwoMoons::generate(100, 0.0, 0);
        assert_eq!(m.points.size(), vec![100, 2]);
        let upper = m.points.narrow(0, 0, 50);
        let r = (upper
            .square()
            .sum_dim_intlist([1].as_slice(), false, Kind::Float))
        .sqrt();
        assert!(r.allclose(
            &Tensor::ones([50], (Kind::Float, Device::Cpu)),
            1e-5,
            1e-5,
            false
        ));
        assert_eq!(m.labels.sum(Kind::Int64).int64_value(&[]), 50);
    }

    #[test]
    fn same_seed_same_points() {
        let a = TwoMoons::generate(64, 0.1, 7);
        let b = TwoMoons::generate(64, 0.1, 7);
        let c = TwoMoons::generate(64, 0.1, 8);
        assert!(a.points.equal(&b.points));
        assert!(!a.points.equal(&c.points));
    }
}
