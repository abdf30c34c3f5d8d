//! A variational autoencoder (Kingma and Welling, 2014) for flat inputs in
//! [0, 1]: an encoder to a Gaussian's mean and log-variance, the
//! reparameterisation `z = mu + sigma * eps`, a decoder to Bernoulli logits,
//! and the loss (reconstruction plus the KL divergence to N(0, I)).
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

/// The shape of a [`Vae`].
#[derive(Debug, Clone, PartialEq)]
pub struct VaeConfig {
    /// Numbers per input (64 for the 8x8 digits, 784 for MNIST).
    pub input: i64,
    pub hidden: i64,
    pub latent: i64,
}

impl Default for VaeConfig {
    fn default() -> Self {
        VaeConfig { input: 64, hidden: 256, latent: 8 }
    }
}

/// Encoder `input -> hidden -> (mean, log-variance) [latent]`, decoder `latent -> hidden -> input` (logits).
#[derive(Debug)]
pub struct Vae {
    encoder: nn::Linear,
    mean: nn::Linear,
    log_variance: nn::Linear,
    decoder_hidden: nn::Linear,
    decoder_out: nn::Linear,
    config: VaeConfig,
}

impl Vae {
    pub fn new(p: &nn::Path, c: &VaeConfig) -> Self {
        Vae {
            encoder: nn::linear(p / "encoder", c.input, c.hidden, Default::default()),
            mean: nn::linear(p / "mean", c.hidden, c.latent, Default::default()),
            log_variance: nn::linear(p / "log_variance", c.hidden, c.latent, Default::default()),
            decoder_hidden: nn::linear(p / "decoder_hidden", c.latent, c.hidden, Default::default()),
            decoder_out: nn::linear(p / "decoder_out", c.hidden, c.input, Default::default()),
            config: c.clone(),
        }
    }

    pub fn config(&self) -> &VaeConfig {
        &self.config
    }

    /// Inputs `[B, input]` in [0, 1] -> (mean, log-variance), `[B, latent]` each.
    pub fn encode(&self, x: &Tensor) -> (Tensor, Tensor) {
        let h = self.encoder.forward(x).relu();
        (self.mean.forward(&h), self.log_variance.forward(&h))
    }

    /// Latents `[B, latent]` -> Bernoulli logits `[B, input]` (a sigmoid gives the pixels).
    pub fn decode(&self, z: &Tensor) -> Tensor {
        self.decoder_out.forward(&self.decoder_hidden.forward(z).relu())
    }

    /// Encodes, samples with `noise` (`[B, latent]`, standard normal) and decodes:
    /// (logits `[B, input]`, mean, log-variance).
    pub fn forward_with_noise(&self, x: &Tensor, noise: &Tensor) -> (Tensor, Tensor, Tensor) {
        let (mean, log_variance) = self.encode(x);
        let z = reparameterize(&mean, &log_variance, noise);
        (self.decode(&z), mean, log_variance)
    }

    /// `n` samples from the prior, decoded to pixels in [0, 1]: `[n, input]`.
    pub fn sample(&self, n: i64) -> Tensor {
        let z = Tensor::randn([n, self.config.latent], (Kind::Float, self.mean.ws.device()));
        self.decode(&z).sigmoid()
    }
}

/// `mean + exp(log_variance / 2) * noise`: a sample of N(mean, exp(log_variance)) through
/// which gradients reach the mean and the log-variance. All `[B, L]`.
pub fn reparameterize(mean: &Tensor, log_variance: &Tensor, noise: &Tensor) -> Tensor {
    mean + (log_variance * 0.5).exp() * noise
}

/// KL(N(mean, exp(log_variance)) || N(0, I)) per row: `[B, L]`, `[B, L]` -> `[B]`,
/// `1/2 sum(exp(log_variance) + mean^2 - 1 - log_variance)`.
pub fn gaussian_kl(mean: &Tensor, log_variance: &Tensor) -> Tensor {
    (log_variance.exp() + mean.square() - 1.0 - log_variance).sum_dim_intlist(1, false, Kind::Float) * 0.5
}

/// The negative ELBO per input, averaged over the batch: the Bernoulli
/// reconstruction loss (binary cross-entropy of `logits` against `x` in
/// [0, 1], summed over the input) plus the KL term. -> scalar.
pub fn vae_loss(logits: &Tensor, x: &Tensor, mean: &Tensor, log_variance: &Tensor) -> Tensor {
    let reconstruction = logits
        .binary_cross_entropy_with_logits::<Tensor>(x, None, None, tch::Reduction::None)
        .sum_dim_intlist(1, false, Kind::Float);
    (reconstruction + gaussian_kl(mean, log_variance)).mean(Kind::Float)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn the_kl_term_is_the_closed_form_and_the_monte_carlo_estimate() {
        // One dimension: KL(N(m, s^2) || N(0, 1)) = ln(1/s) + (s^2 + m^2)/2 - 1/2.
        for (m, s) in [(0.0f64, 1.0f64), (1.5, 0.5), (-0.3, 2.0)] {
            let got = gaussian_kl(&Tensor::from_slice(&[m as f32]).view([1, 1]), &Tensor::from_slice(&[(2.0 * s.ln()) as f32]).view([1, 1])).double_value(&[0]);
            let want = (1.0 / s).ln() + (s * s + m * m) / 2.0 - 0.5;
            assert!((got - want).abs() < 1e-5, "m {m} s {s}: {got} vs {want}");
        }
        // Monte Carlo: E_q[log q(z) - log p(z)] over 400,000 draws, for m = 1.5, s = 0.5.
        tch::manual_seed(0);
        let (m, s) = (1.5f64, 0.5f64);
        let z = Tensor::randn([400_000], (Kind::Double, Device::Cpu)) * s + m;
        let log_q = -((&z - m) / s).square() / 2.0 - s.ln();
        let log_p = -z.square() / 2.0;
        let estimate = (log_q - log_p).mean(Kind::Double).double_value(&[]);
        let closed = gaussian_kl(&Tensor::from_slice(&[m as f32]).view([1, 1]), &Tensor::from_slice(&[(2.0 * s.ln()) as f32]).view([1, 1])).double_value(&[0]);
        assert!((estimate - closed).abs() < 0.01, "{estimate} vs {closed}");
    }

    #[test]
    fn gradients_flow_through_the_reparameterised_sample() {
        // E[z^2] = m^2 + s^2 for z ~ N(m, s^2): d/dm = 2m, d/d(log s^2) = s^2.
        tch::manual_seed(1);
        let mean = Tensor::from_slice(&[0.7f64]).set_requires_grad(true);
        let log_variance = Tensor::from_slice(&[(0.8f64 * 0.8).ln()]).set_requires_grad(true);
        let noise = Tensor::randn([200_000], (Kind::Double, Device::Cpu));
        let z = reparameterize(&mean, &log_variance, &noise);
        z.square().mean(Kind::Double).backward();
        let (dm, dv) = (mean.grad().double_value(&[0]), log_variance.grad().double_value(&[0]));
        assert!((dm - 1.4).abs() < 0.02 && (dv - 0.64).abs() < 0.02, "{dm} {dv}");
    }

    #[test]
    fn shapes_and_a_loss_that_falls_on_the_digits() {
        tch::manual_seed(2);
        let digits = crate::data::Digits::from_scikit_learn().expect("make setup installs scikit-learn");
        let x = (&digits.pixels / 16.0).to_kind(Kind::Float);
        let vs = nn::VarStore::new(Device::Cpu);
        let vae = Vae::new(&vs.root(), &VaeConfig::default());
        let mut opt = nn::OptimizerConfig::build(nn::Adam::default(), &vs, 1e-3).unwrap();
        let mut losses = Vec::new();
        for _ in 0..150 {
            let noise = Tensor::randn([x.size()[0], 8], (Kind::Float, Device::Cpu));
            let (logits, mean, log_variance) = vae.forward_with_noise(&x, &noise);
            assert_eq!((logits.size(), mean.size()), (vec![1797, 64], vec![1797, 8]));
            let loss = vae_loss(&logits, &x, &mean, &log_variance);
            opt.backward_step(&loss);
            losses.push(loss.double_value(&[]));
        }
        assert!(losses[149] < losses[0] * 0.7, "{} -> {}", losses[0], losses[149]);
        let samples = vae.sample(5);
        assert_eq!(samples.size(), [5, 64]);
        assert!(samples.min().double_value(&[]) >= 0.0 && samples.max().double_value(&[]) <= 1.0);
    }
}
