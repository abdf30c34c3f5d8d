//! Question 10: a plain autoencoder's decoder fed random latents, against a
//! VAE's decoder fed samples of its prior, on the same digits, with how far
//! each sample is from its nearest training image (and, for scale, how far
//! held-out real digits are).
use crate::data::DigitsChoice;
use crate::eval::squared_distances;
use crate::models::{vae_loss, Mlp, MlpConfig, Vae, VaeConfig};
use crate::train::{LoopConfig, ParamGroup, Trainer};
use crate::viz::{show_images, Figure, GridConfig};
use crate::Result;
use std::fmt;
use tch::nn::{Module, VarStore};
use tch::{Device, Kind, Tensor};

/// Samples of both generators and their distances to the training set.
#[derive(Debug)]
pub struct GeneratorComparison {
    /// `[n, 1, S, S]` each: held-out digits, the autoencoder's decoder on N(0, I), the VAE's samples.
    pub real: Tensor,
    pub autoencoder: Tensor,
    pub vae: Tensor,
    /// Mean Euclidean distance (pixels in [0, 1]) from each image to its nearest training image.
    pub real_distance: f64,
    pub autoencoder_distance: f64,
    pub vae_distance: f64,
    /// Standard deviation of each of the autoencoder's code dimensions on the training digits
    /// (the scale a random latent would need to match).
    pub autoencoder_code_std: Vec<f64>,
    /// Mean distance from a code to its nearest training digit's code: for draws
    /// of N(0, I), and for the held-out digits' codes (for scale).
    pub random_code_gap: f64,
    pub held_out_code_gap: f64,
    pub final_losses: (f64, f64),
}

impl GeneratorComparison {
    /// Three rows of images: held-out digits, autoencoder on random latents, VAE samples.
    pub fn figure(&self, per_row: i64) -> Result<Figure> {
        let rows: Vec<Tensor> = [&self.real, &self.autoencoder, &self.vae].iter().map(|t| t.narrow(0, 0, per_row.min(t.size()[0]))).collect();
        let side = self.real.size()[3];
        show_images(&Tensor::cat(&rows, 0), &GridConfig { ncols: per_row as usize, scale: if side < 16 { 6 } else { 2 }, ..Default::default() })
    }
}

impl fmt::Display for GeneratorComparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "mean distance to the nearest training image (pixels in [0, 1]):")?;
        writeln!(f, "  held-out real digits:              {:.3}", self.real_distance)?;
        writeln!(f, "  autoencoder decoder on N(0, I):    {:.3}", self.autoencoder_distance)?;
        writeln!(f, "  VAE decoder on its prior N(0, I):  {:.3}", self.vae_distance)?;
        let stds: Vec<String> = self.autoencoder_code_std.iter().map(|s| format!("{s:.2}")).collect();
        writeln!(f, "the autoencoder's codes have standard deviations [{}] per dimension", stds.join(", "))?;
        write!(
            f,
            "distance to the nearest training digit's code: {:.2} from a draw of N(0, I), {:.2} from a held-out digit's code",
            self.random_code_gap, self.held_out_code_gap
        )
    }
}

fn nearest_distances(samples: &Tensor, train: &Tensor) -> f64 {
    squared_distances(samples, train).amin([1].as_slice(), false).clamp_min(0.0).sqrt().mean(Kind::Float).double_value(&[])
}

/// Trains an autoencoder (`D -> 256 -> latent -> 256 -> D`, sigmoid output,
/// binary cross-entropy) and a [`Vae`] of the same sizes, each `epochs` with
/// Adam 1e-3 and batches of 64, then draws `n` images from each.
pub fn compare_generators(digits: &DigitsChoice, latent: i64, epochs: usize, n: i64, device: Device) -> Result<GeneratorComparison> {
    let d = digits.train.pixels.size()[1];
    let side = digits.train.side;
    let x = digits.train.pixels.to_device(device);
    let rows = x.size()[0] as usize;
    let run = LoopConfig { epochs, batch_size: 64, max_steps_per_epoch: None, seed: 0, device };
    let batch_of = |indices: &[i64]| x.index_select(0, &Tensor::from_slice(indices).to_device(device));

    crate::seed(0);
    let ae_vs = VarStore::new(device);
    let encoder = Mlp::new(&(ae_vs.root() / "encoder"), &MlpConfig { sizes: vec![d, 256, latent] });
    let decoder = Mlp::new(&(ae_vs.root() / "decoder"), &MlpConfig { sizes: vec![latent, 256, d] });
    let ae_history = Trainer::new("autoencoder", "BCE", &run).group(ParamGroup::adam(&ae_vs, 1e-3)).fit(rows, |batch| {
        let xb = batch_of(batch.indices);
        Ok(decoder.forward(&encoder.forward(&xb)).binary_cross_entropy_with_logits::<Tensor>(&xb, None, None, tch::Reduction::Mean))
    })?;

    crate::seed(0);
    let vae_vs = VarStore::new(device);
    let vae = Vae::new(&vae_vs.root(), &VaeConfig { input: d, hidden: 256, latent });
    let vae_history = Trainer::new("VAE", "negative ELBO", &run).group(ParamGroup::adam(&vae_vs, 1e-3)).fit(rows, |batch| {
        let xb = batch_of(batch.indices);
        let noise = Tensor::randn([xb.size()[0], latent], (Kind::Float, device));
        let (logits, mean, log_variance) = vae.forward_with_noise(&xb, &noise);
        Ok(vae_loss(&logits, &xb, &mean, &log_variance))
    })?;

    crate::seed(1);
    let (real, ae_samples, vae_samples, code_std, gaps) = tch::no_grad(|| {
        let real = digits.test.pixels.narrow(0, 0, n.min(digits.test.len())).to_device(device);
        let z = Tensor::randn([n, latent], (Kind::Float, device));
        let ae_samples = decoder.forward(&z).sigmoid();
        let vae_samples = vae.sample(n);
        let codes = encoder.forward(&x);
        let code_std = codes.std_dim([0].as_slice(), true, false);
        let gaps = (nearest_distances(&z, &codes), nearest_distances(&encoder.forward(&real), &codes));
        (real, ae_samples, vae_samples, code_std, gaps)
    });
    let comparison = GeneratorComparison {
        real_distance: nearest_distances(&real, &x),
        autoencoder_distance: nearest_distances(&ae_samples, &x),
        vae_distance: nearest_distances(&vae_samples, &x),
        autoencoder_code_std: Vec::<f64>::try_from(code_std.to_kind(Kind::Double).to_device(Device::Cpu))?,
        random_code_gap: gaps.0,
        held_out_code_gap: gaps.1,
        real: real.view([-1, 1, side, side]).to_device(Device::Cpu),
        autoencoder: ae_samples.view([-1, 1, side, side]).to_device(Device::Cpu),
        vae: vae_samples.view([-1, 1, side, side]).to_device(Device::Cpu),
        final_losses: (ae_history.last().unwrap_or(f64::NAN), vae_history.last().unwrap_or(f64::NAN)),
    };
    Ok(comparison)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_distance_is_zero_for_training_images_and_exact_otherwise() {
        let train = Tensor::from_slice(&[0.0f32, 0.0, 3.0, 4.0]).view([2, 2]);
        let samples = Tensor::from_slice(&[3.0f32, 4.0, 0.0, 1.0]).view([2, 2]);
        // Distances 0 and 1: mean 0.5.
        assert!((nearest_distances(&samples, &train) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn vae_samples_land_nearer_the_digits_than_random_autoencoder_codes() {
        let digits = super::super::test_digits();
        let c = compare_generators(&digits, 8, 15, 64, Device::Cpu).unwrap();
        assert_eq!(c.vae.size(), [64, 1, 8, 8]);
        assert!(c.vae_distance < c.autoencoder_distance, "{c}");
        assert!(c.real_distance < c.autoencoder_distance, "{c}");
        assert!(c.random_code_gap > 0.0 && c.held_out_code_gap > 0.0, "{c}");
        assert!(c.figure(8).is_ok());
    }
}
