//! CLIP's projection heads: from an encoder's features to the shared embedding space.
use tch::nn::{self, Module, ModuleT};
use tch::Tensor;

/// Which of the original's two heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectionKind {
    /// One `Linear(input, output)`.
    Linear,
    /// `p = Linear(input, output)(x)`, then `LayerNorm(p + dropout(Linear(output, output)(GELU(p))))`.
    Residual,
}

/// Shape of a [`ProjectionHead`]; the default is the original's residual head to 256.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionHeadConfig {
    pub input: i64,
    pub output: i64,
    pub kind: ProjectionKind,
    /// Dropout of the residual branch while training.
    pub dropout: f64,
}

impl Default for ProjectionHeadConfig {
    fn default() -> Self {
        ProjectionHeadConfig {
            input: 384,
            output: 256,
            kind: ProjectionKind::Residual,
            dropout: 0.1,
        }
    }
}

/// A projection head. `[B, input] -> [B, output]` (not normalised; CLIP normalises).
#[derive(Debug)]
pub struct ProjectionHead {
    projection: nn::Linear,
    residual: Option<(nn::Linear, nn::LayerNorm)>,
    dropout: f64,
}

impl ProjectionHead {
    pub fn new(p: &nn::Path, config: &ProjectionHeadConfig) -> Self {
        let projection = nn::linear(
            p / "projection",
            config.input,
            config.output,
            Default::default(),
        );
        let residual = (config.kind == ProjectionKind::Residual).then(|| {
            (
                nn::linear(p / "fc", config.output, config.output, Default::default()),
                nn::layer_norm(p / "layer_norm", vec![config.output], Default::default()),
            )
        });
        ProjectionHead {
            projection,
            residual,
            dropout: config.dropout,
        }
    }
}

impl ModuleT for ProjectionHead {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let projected = self.projection.forward(xs);
        match &self.residual {
            None => projected,
            Some((fc, norm)) => {
                let branch = fc
                    .forward(&projected.gelu("none"))
                    .dropout(self.dropout, train);
                norm.forward(&(branch + projected))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn residual_head_matches_its_formula_and_linear_head_is_one_layer() {
        let _rng = crate::seed::seeded_test(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let head = ProjectionHead::new(
            &vs.root(),
            &ProjectionHeadConfig {
                input: 5,
                output: 4,
                ..Default::default()
            },
        );
        let x = Tensor::randn([3, 5], (Kind::Float, Device::Cpu));
        let v = vs.variables();
        let p = x.matmul(&v["projection.weight"].tr()) + &v["projection.bias"];
        // GELU by its erf formula, LayerNorm by mean and biased variance (weight 1, bias 0 at init).
        let gelu: Tensor = &p * 0.5 * ((&p / 2f64.sqrt()).erf() + 1.0);
        let s = gelu.matmul(&v["fc.weight"].tr()) + &v["fc.bias"] + &p;
        let mean = s.mean_dim([1].as_slice(), true, Kind::Float);
        let var = (&s - &mean)
            .square()
            .mean_dim([1].as_slice(), true, Kind::Float);
        let expected = (&s - mean) / (var + 1e-5).sqrt();
        assert!(head
            .forward_t(&x, false)
            .allclose(&expected, 1e-5, 1e-5, false));
        // Dropout only while training.
        assert_ne!(head.forward_t(&x, true), head.forward_t(&x, false));

        let linear_vs = nn::VarStore::new(Device::Cpu);
        let linear = ProjectionHead::new(
            &linear_vs.root(),
            &ProjectionHeadConfig {
                input: 5,
                output: 4,
                kind: ProjectionKind::Linear,
                dropout: 0.1,
            },
        );
        assert_eq!(linear_vs.len(), 2);
        assert_eq!(linear.forward_t(&x, true).size(), [3, 4]);
    }
}
