//! Times one training step of the shapes autoencoder and of the contrastive
//! encoder (batch 256 by default) through replearn's training core. scripts/bench_train_step.py runs
//! this and the same steps in PyTorch, and prints both side by side.
//!
//! `cargo run --release --example bench_train_step -- [BATCH] [STEPS]`
//! Prints one line per model: `autoencoder <median ms>` and `contrastive <median ms>`.
use replearn::losses::{info_nce, reconstruction_loss};
use replearn::models::{ShapesDecoder, ShapesEncoder, ShapesEncoderConfig};
use replearn::train::{LoopConfig, ParamGroup, Trainer};
use std::time::Instant;
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

/// Median milliseconds of one step of the library's training core (loss,
/// backward, Adam step), over `steps` steps after `warmup` (each step's time
/// runs from one call of the loss function to the next).
fn median_ms(
    vs: &nn::VarStore,
    batch: usize,
    warmup: usize,
    steps: usize,
    device: Device,
    loss: impl Fn() -> Tensor,
) -> f64 {
    let sync = || {
        if let Device::Cuda(_) = device {
            tch::Cuda::synchronize(0);
        }
    };
    let total = warmup + steps + 1;
    let run = LoopConfig {
        epochs: 1,
        batch_size: batch,
        max_steps_per_epoch: None,
        seed: 0,
        device,
    };
    let mut starts = Vec::with_capacity(total);
    Trainer::new("bench", "loss", &run)
        .group(ParamGroup::adam(vs, 2e-4))
        .quiet()
        .fit(batch * total, |_| {
            sync();
            starts.push(Instant::now());
            Ok(loss())
        })
        .expect("training steps run");
    let mut times: Vec<f64> = starts[warmup..]
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64() * 1e3)
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (batch, steps) = (*args.first().unwrap_or(&256), *args.get(1).unwrap_or(&10));
    let device = replearn::device();
    tch::manual_seed(0);
    let x = Tensor::rand([batch as i64, 3, 64, 64], (Kind::Float, device)) * 2.0 - 1.0;
    let x2 = Tensor::rand([batch as i64, 3, 64, 64], (Kind::Float, device)) * 2.0 - 1.0;

    let vs = nn::VarStore::new(device);
    let cfg = ShapesEncoderConfig::default();
    let enc = ShapesEncoder::new(&(vs.root() / "enc"), &cfg);
    let dec = ShapesDecoder::new(&(vs.root() / "dec"), &cfg);
    let ae = median_ms(&vs, batch, 2, steps, device, || {
        reconstruction_loss(&dec.forward(&enc.forward(&x)), &x)
    });

    let vs2 = nn::VarStore::new(device);
    let enc2 = ShapesEncoder::new(
        &vs2.root(),
        &ShapesEncoderConfig {
            normalize: true,
            ..cfg
        },
    );
    let con = median_ms(&vs2, batch, 2, steps, device, || {
        info_nce(&enc2.forward(&x), &enc2.forward(&x2), 0.07)
    });

    println!("device {device:?} threads {}", tch::get_num_threads());
    println!("autoencoder {ae:.2}");
    println!("contrastive {con:.2}");
}
