//! The shapes assignment's factor table outside the notebook: trains the
//! autoencoder and the three contrastive encoders (augmentation sets A, B, C),
//! then probes shape, hue bin and location bin from each encoder's features
//! (k-NN on validation images), beside a random encoder and chance.
//!
//! ```text
//! cargo run --release --example shapes_factor_table                 # the original: 64,000 images, 30 and 15 epochs
//! cargo run --release --example shapes_factor_table -- --images 16000 --train 10000 --ae-epochs 4 --cl-epochs 6
//! ```
//! `--images N` generates N images, the first `--train M` for training (the
//! rest for validation). Prints the budget, the seconds and a markdown table.
use replearn::assignments::shapes::{self, train_autoencoder, train_contrastive, ShapesAssignment};
use replearn::augment::{AugmentationSet, Augmenter};
use replearn::data::{ImageSet, Shapes, ShapesConfig};
use replearn::eval::FactorTable;
use replearn::losses::{info_nce, reconstruction_loss};
use replearn::models::{ShapesDecoder, ShapesEncoder, ShapesEncoderConfig};
use std::time::Instant;
use tch::nn;

const USAGE: &str =
    "usage: shapes_factor_table [--images N] [--train M] [--ae-epochs E] [--cl-epochs E]";

fn flag(args: &[String], name: &str, default: usize) -> Result<usize, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name} takes a whole number\n{USAGE}")),
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(unknown) = args
        .iter()
        .step_by(2)
        .find(|a| !["--images", "--train", "--ae-epochs", "--cl-epochs"].contains(&a.as_str()))
    {
        return Err(format!("unknown argument {unknown}\n{USAGE}").into());
    }
    let images = flag(&args, "--images", ShapesConfig::default().len)?;
    let train_len = flag(&args, "--train", 40_000.min(images * 5 / 8))?;
    let original = ShapesAssignment::original();
    let ae_epochs = flag(&args, "--ae-epochs", original.autoencoder.run.epochs)?;
    let cl_epochs = flag(&args, "--cl-epochs", original.contrastive.run.epochs)?;
    if train_len == 0 || train_len >= images {
        return Err(format!("--train {train_len} must be at least 1 and less than --images {images} (the rest are validation images)").into());
    }

    tch::manual_seed(0);
    let device = replearn::device();
    let (train, val) = Shapes::generate(&ShapesConfig {
        len: images,
        ..ShapesConfig::default()
    })?
    .split_at(train_len);
    println!(
        "{} training / {} validation images; autoencoder {ae_epochs} epochs, contrastive {cl_epochs} epochs each; device {device:?}",
        train.len(),
        val.len()
    );
    let started = Instant::now();
    let mut table = FactorTable::new(&val);
    let probe =
        |table: &mut FactorTable, name: &str, encoder: &ShapesEncoder| -> replearn::Result<()> {
            let train_features = shapes::encode(encoder, &train, device)?;
            let val_features = shapes::encode(encoder, &val, device)?;
            table.probe(name, &train_features, &train, &val_features, &val)?;
            Ok(())
        };

    let random_vs = nn::VarStore::new(device);
    let random = ShapesEncoder::new(&random_vs.root(), &ShapesEncoderConfig::default());
    probe(&mut table, "random (untrained)", &random)?;

    let ae_vs = nn::VarStore::new(device);
    let encoder = ShapesEncoder::new(&(ae_vs.root() / "encoder"), &ShapesEncoderConfig::default());
    let decoder = ShapesDecoder::new(&(ae_vs.root() / "decoder"), &ShapesEncoderConfig::default());
    let mut config = original.autoencoder.clone();
    config.run.epochs = ae_epochs;
    config.run.device = device;
    let history = train_autoencoder(
        &encoder,
        &decoder,
        &ae_vs,
        &train,
        &config,
        reconstruction_loss,
        "checkpoints/factor_table_autoencoder",
    )?;
    println!(
        "autoencoder: final MSE {:.4}",
        history.last().unwrap_or(f64::NAN)
    );
    probe(&mut table, "autoencoder", &encoder)?;

    let normalised = ShapesEncoderConfig {
        normalize: true,
        ..ShapesEncoderConfig::default()
    };
    let mut config = original.contrastive.clone();
    config.run.epochs = cl_epochs;
    config.run.device = device;
    for (seed, set) in [AugmentationSet::A, AugmentationSet::B, AugmentationSet::C]
        .into_iter()
        .enumerate()
    {
        let vs = nn::VarStore::new(device);
        let encoder = ShapesEncoder::new(&vs.root(), &normalised);
        let mut augmenter = Augmenter::new(set, seed as u64 + 1);
        let history = train_contrastive(&encoder, &vs, &train, &mut augmenter, &config, info_nce, &format!("checkpoints/factor_table_{set:?}"))?;
        println!(
            "contrastive {set:?}: final InfoNCE {:.4}",
            history.last().unwrap_or(f64::NAN)
        );
        probe(&mut table, &format!("contrastive {set:?}"), &encoder)?;
    }
    println!(
        "\n{table}\n{:.0} s in all on {} ({} threads)",
        started.elapsed().as_secs_f64(),
        if device.is_cuda() { "CUDA" } else { "CPU" },
        tch::get_num_threads()
    );
    Ok(())
}
