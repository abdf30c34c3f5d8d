//! Question 9: the terms of a diffusion model's ELBO, computed on a 1-D toy
//! whose forward process has a closed form:
//! `L = -KL(q(x_T|x_0) || p(x_T)) - sum_{t>1} E_q KL(q(x_{t-1}|x_t,x_0) || p_theta(x_{t-1}|x_t)) + E_q log p_theta(x_0|x_1)`.
//! The data are -1 and +1 (equally likely); `q(x_t|x_0) = N(sqrt(abar_t) x_0, 1 - abar_t)`;
//! the model's reverse step is `N(mu_theta(x_t, t), sigma_t^2)` with the
//! posterior's variance and `mu_theta = a_t x_t + c_t tanh(w_t x_t)`.
use crate::Result;
use std::fmt;
use tch::nn::{OptimizerConfig, VarStore};
use tch::{Device, Kind, Tensor};

/// The forward process: a linear schedule of `T` betas.
#[derive(Debug, Clone, PartialEq)]
pub struct ToyDiffusion {
    pub betas: Vec<f64>,
}

impl ToyDiffusion {
    /// `T` betas from `beta_1` to `beta_T`, evenly spaced.
    pub fn linear(steps: usize, beta_1: f64, beta_t: f64) -> Self {
        let betas = (0..steps).map(|i| beta_1 + (beta_t - beta_1) * i as f64 / (steps.max(2) - 1) as f64).collect();
        ToyDiffusion { betas }
    }

    pub fn steps(&self) -> usize {
        self.betas.len()
    }

    /// `abar_t = prod_{s <= t} (1 - beta_s)`, for t = 1..T (index t - 1).
    pub fn alpha_bars(&self) -> Vec<f64> {
        self.betas.iter().scan(1.0, |prod, b| {
            *prod *= 1.0 - b;
            Some(*prod)
        }).collect()
    }

    /// The prior term `KL(q(x_T|x_0) || N(0, 1))` per data point `x0` (`[N]`, double):
    /// a closed form in the schedule and the data, with no model parameter in it.
    pub fn prior_kl(&self, x0: &Tensor) -> Tensor {
        let abar = *self.alpha_bars().last().expect("at least one step");
        let (mean, var) = (x0 * abar.sqrt(), 1.0 - abar);
        (mean.square() + var - 1.0 - var.ln()) * 0.5
    }
}

/// The ELBO's terms, each averaged over the data.
#[derive(Debug, Clone, PartialEq)]
pub struct ElboTerms {
    pub prior_kl: f64,
    pub step_kls: f64,
    pub reconstruction: f64,
    /// Whether autograd can reach the model's parameters from each term.
    pub prior_needs_grad: bool,
    pub steps_need_grad: bool,
}

impl ElboTerms {
    /// `-prior - steps + reconstruction`.
    pub fn elbo(&self) -> f64 {
        -self.prior_kl - self.step_kls + self.reconstruction
    }
}

impl fmt::Display for ElboTerms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grad = |g: bool| if g { "depends on theta" } else { "no path to theta" };
        writeln!(f, "prior KL(q(x_T|x_0) || p(x_T))         {:>10.5}  ({})", self.prior_kl, grad(self.prior_needs_grad))?;
        writeln!(f, "sum over t > 1 of E_q KL(posterior || p) {:>8.5}  ({})", self.step_kls, grad(self.steps_need_grad))?;
        writeln!(f, "reconstruction E_q log p(x_0|x_1)      {:>10.5}", self.reconstruction)?;
        write!(f, "ELBO (a lower bound on log p(x_0))     {:>10.5}", self.elbo())
    }
}

/// The toy model: `[T]` tensors `a`, `c`, `w`, and its forward process.
#[derive(Debug)]
pub struct DiffusionElbo {
    pub process: ToyDiffusion,
    pub vs: VarStore,
    a: Tensor,
    c: Tensor,
    w: Tensor,
}

impl DiffusionElbo {
    /// Starts at `mu = x_t / sqrt(1 - beta_t)`, the mean that undoes the shrinking but not the noise.
    pub fn new(process: ToyDiffusion) -> Self {
        let vs = VarStore::new(Device::Cpu);
        let t = process.steps() as i64;
        let start: Vec<f64> = process.betas.iter().map(|b| 1.0 / (1.0 - b).sqrt()).collect();
        let a = vs.root().var_copy("a", &Tensor::from_slice(&start).to_kind(Kind::Double));
        let c = vs.root().var_copy("c", &Tensor::zeros([t], (Kind::Double, Device::Cpu)));
        let w = vs.root().var_copy("w", &Tensor::ones([t], (Kind::Double, Device::Cpu)));
        DiffusionElbo { process, vs, a, c, w }
    }

    /// `mu_theta(x_t, t)` for `t` in 1..=T.
    fn model_mean(&self, x_t: &Tensor, t: usize) -> Tensor {
        let i = (t - 1) as i64;
        x_t * self.a.get(i) + (x_t * self.w.get(i)).tanh() * self.c.get(i)
    }

    /// The terms as tensors (prior, steps, reconstruction), Monte Carlo with `samples` draws per data point.
    fn term_tensors(&self, samples: i64) -> (Tensor, Tensor, Tensor) {
        let x0 = (Tensor::randint(2, [samples], (Kind::Int64, Device::Cpu)) * 2 - 1).to_kind(Kind::Double);
        let (betas, abar) = (&self.process.betas, self.process.alpha_bars());
        let draw = |t: usize| &x0 * abar[t - 1].sqrt() + Tensor::randn([samples], (Kind::Double, Device::Cpu)) * (1.0 - abar[t - 1]).sqrt();
        let prior = self.process.prior_kl(&x0).mean(Kind::Double);
        let mut steps = Tensor::zeros([], (Kind::Double, Device::Cpu));
        for t in 2..=self.process.steps() {
            let x_t = draw(t);
            let (b, ab, ab_prev) = (betas[t - 1], abar[t - 1], abar[t - 2]);
            let posterior_mean = &x0 * (ab_prev.sqrt() * b / (1.0 - ab)) + &x_t * ((1.0 - b).sqrt() * (1.0 - ab_prev) / (1.0 - ab));
            let posterior_var = (1.0 - ab_prev) / (1.0 - ab) * b;
            // Two Gaussians with the same variance: KL = (difference of means)^2 / (2 var).
            steps = steps + (posterior_mean - self.model_mean(&x_t, t)).square().mean(Kind::Double) / (2.0 * posterior_var);
        }
        let x_1 = draw(1);
        let var_1 = betas[0];
        let reconstruction = (-(&x0 - self.model_mean(&x_1, 1)).square() / (2.0 * var_1) - 0.5 * (2.0 * std::f64::consts::PI * var_1).ln()).mean(Kind::Double);
        (prior, steps, reconstruction)
    }

    /// The ELBO's terms on `samples` data points (seeded by the caller).
    pub fn terms(&self, samples: i64) -> ElboTerms {
        let (prior, steps, reconstruction) = self.term_tensors(samples);
        ElboTerms {
            prior_needs_grad: prior.requires_grad(),
            steps_need_grad: steps.requires_grad(),
            prior_kl: prior.double_value(&[]),
            step_kls: steps.double_value(&[]),
            reconstruction: reconstruction.double_value(&[]),
        }
    }

    /// Maximises the ELBO without its prior term (Adam 1e-2, `samples` per step) for `steps`;
    /// returns the ELBO per step.
    pub fn train(&mut self, steps: usize, samples: i64) -> Result<Vec<f64>> {
        let mut adam = tch::nn::Adam::default().build(&self.vs, 1e-2)?;
        let mut elbos = Vec::with_capacity(steps);
        for _ in 0..steps {
            let (prior, kls, reconstruction) = self.term_tensors(samples);
            adam.backward_step(&(&kls - &reconstruction));
            elbos.push((-prior - kls + reconstruction).double_value(&[]));
        }
        Ok(elbos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prior_kl_matches_a_monte_carlo_estimate() {
        let _rng = crate::seed::seeded_test(2);
        let process = ToyDiffusion::linear(20, 1e-3, 0.1);
        let abar = *process.alpha_bars().last().unwrap();
        let x0 = Tensor::from_slice(&[1.0f64]);
        let closed = process.prior_kl(&x0).double_value(&[0]);
        // E_q[log q(x) - log N(x; 0, 1)] by sampling x ~ q.
        let (m, v) = (abar.sqrt(), 1.0 - abar);
        let x = Tensor::randn([400_000], (Kind::Double, Device::Cpu)) * v.sqrt() + m;
        let log_q = -(&x - m).square() / (2.0 * v) - 0.5 * v.ln();
        let log_p = -x.square() / 2.0;
        let sampled = (log_q - log_p).mean(Kind::Double).double_value(&[]);
        assert!((closed - sampled).abs() < 5e-3, "{closed} vs {sampled}");
        assert!(closed > 0.0);
    }

    #[test]
    fn training_raises_the_elbo_and_leaves_the_prior_term_alone() {
        let _rng = crate::seed::seeded_test(3);
        let mut model = DiffusionElbo::new(ToyDiffusion::linear(10, 1e-2, 0.3));
        let before = model.terms(4000);
        assert!(!before.prior_needs_grad && before.steps_need_grad, "{before}");
        model.train(200, 256).unwrap();
        let after = model.terms(4000);
        assert!(after.elbo() > before.elbo(), "before\n{before}\nafter\n{after}");
        // Same data distribution, same schedule: the prior term moves only by sampling noise.
        assert!((after.prior_kl - before.prior_kl).abs() < 0.02, "{} vs {}", before.prior_kl, after.prior_kl);
    }
}
