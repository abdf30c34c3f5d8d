//! Times one training step of the shapes autoencoder and of the contrastive
//! encoder (batch 256 by default) in replearn. scripts/bench_train_step.py runs
//! this and the same steps in PyTorch, and prints both side by side.
//!
//! `cargo run --release --example bench_train_step -- [BATCH] [STEPS]`
//! Prints one line per model: `autoencoder <median ms>` and `contrastive <median ms>`.
use replearn::losses::{info_nce, reconstruction_loss};
use replearn::models::{ShapesDecoder, ShapesEncoder, ShapesEncoderConfig};
use std::time::Instant;
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

fn median_ms(mut step: impl FnMut(), warmup: usize, steps: usize, device: Device) -> f64 {
    for _ in 0..warmup {
        step();
    }
    let mut times: Vec<f64> = (0..steps)
        .map(|_| {
            if let Device::Cuda(_) = device {
                tch::Cuda::synchronize(0);
            }
            let t = Instant::now();
            step();
            if let Device::Cuda(_) = device {
                tch::Cuda::synchronize(0);
            }
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (batch, steps) = (
        *args.first().unwrap_or(&256) as i64,
        *args.get(1).unwrap_or(&10),
    );
    let device = replearn::device();
    tch::manual_seed(0);
    let x = Tensor::rand([batch, 3, 64, 64], (Kind::Float, device)) * 2.0 - 1.0;
    let x2 = Tensor::rand([batch, 3, 64, 64], (Kind::Float, device)) * 2.0 - 1.0;

    let vs = nn::VarStore::new(device);
    let cfg = ShapesEncoderConfig::default();
    let enc = ShapesEncoder::new(&(vs.root() / "enc"), &cfg);
    let dec = ShapesDecoder::new(&(vs.root() / "dec"), &cfg);
    let mut opt = nn::Adam::default().build(&vs, 2e-4).expect("optimizer");
    let ae = median_ms(
        || opt.backward_step(&reconstruction_loss(&dec.forward(&enc.forward(&x)), &x)),
        2,
        steps,
        device,
    );

    let vs2 = nn::VarStore::new(device);
    let enc2 = ShapesEncoder::new(
        &vs2.root(),
        &ShapesEncoderConfig {
            normalize: true,
            ..cfg
        },
    );
    let mut opt2 = nn::Adam::default().build(&vs2, 2e-4).expect("optimizer");
    let con = median_ms(
        || opt2.backward_step(&info_nce(&enc2.forward(&x), &enc2.forward(&x2), 0.07)),
        2,
        steps,
        device,
    );

    println!("device {device:?} threads {}", tch::get_num_threads());
    println!("autoencoder {ae:.2}");
    println!("contrastive {con:.2}");
}
