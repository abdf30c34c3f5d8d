//! The STL-10 assignment at the original budgets, outside the notebook: the
//! autoencoder (100 epochs on 10,000 unlabeled images), then the three linear
//! classifiers (100 epochs each): I on the frozen autoencoder encoder, II on an
//! encoder trained with the labels, III on a frozen random encoder.
//!
//! ```text
//! cargo run --release --example stl10_probes -- --data data/stl10_binary     # real STL-10 (make data-stl10)
//! cargo run --release --example stl10_probes -- --stand-in data/stl10_stand_in  # the offline stand-in
//! ```
//! `--epochs N` shortens both budgets (a smoke test). Prints a markdown table.
use replearn::data::{stl10_or_stand_in, Stl10, Stl10Split, Stl10StandInConfig};
use replearn::models::{Stl10AutoencoderConfig, Stl10Decoder, Stl10Encoder};
use replearn::assignments::stl10::{
    accuracy, train_autoencoder, train_classifier, Stl10Assignment,
};
use replearn::data::ImageSet;
use replearn::losses::{stl10_autoencoder_loss, stl10_classifier_loss};
use std::path::PathBuf;
use std::time::Instant;
use tch::nn::{self, Module};

const USAGE: &str = "usage: stl10_probes (--data DIR | --stand-in DIR) [--epochs N]";

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let epochs: Option<usize> = value("--epochs")
        .map(|e| e.parse())
        .transpose()
        .map_err(|_| format!("--epochs takes a number\n{USAGE}"))?;
    let (dir, stand_in) = match (value("--data"), value("--stand-in")) {
        (Some(dir), None) => {
            let dir = PathBuf::from(dir);
            if !dir.join("unlabeled_X.bin").is_file() {
                return Err(format!("{}: no unlabeled_X.bin. Run `make data-stl10` first (downloads 2.6 GB), or use --stand-in DIR", dir.display()).into());
            }
            (dir, false)
        }
        (None, Some(dir)) => {
            let source = stl10_or_stand_in(
                PathBuf::from(&dir).join("none"),
                &dir,
                &Stl10StandInConfig::default(),
            )?;
            (source.dir, true)
        }
        _ => return Err(USAGE.into()),
    };
    tch::manual_seed(4);
    let device = replearn::device();
    let unlabeled = Stl10::load(&dir, Stl10Split::Unlabeled, Some(10_000))?;
    let train = Stl10::load(&dir, Stl10Split::Train, None)?;
    let test = Stl10::load(&dir, Stl10Split::Test, None)?;
    let mut budgets = Stl10Assignment::original();
    for run in [&mut budgets.autoencoder.run, &mut budgets.classifier.run] {
        run.epochs = epochs.unwrap_or(run.epochs);
        run.device = device;
        run.seed = 4;
    }
    let cfg = Stl10AutoencoderConfig::default();
    let started = Instant::now();

    let ae_vs = nn::VarStore::new(device);
    let encoder = Stl10Encoder::new(&(ae_vs.root() / "encoder"), &cfg);
    let decoder = Stl10Decoder::new(&(ae_vs.root() / "decoder"), &cfg);
    let ae = train_autoencoder(
        &encoder,
        &decoder,
        &ae_vs,
        &unlabeled,
        &budgets.autoencoder,
        stl10_autoencoder_loss,
        "checkpoints/stl10_probes_autoencoder",
    )?;
    let ae_seconds = started.elapsed().as_secs_f64();

    let random_vs = nn::VarStore::new(device);
    let random_encoder = Stl10Encoder::new(&random_vs.root(), &cfg);
    let supervised_vs = nn::VarStore::new(device);
    let supervised_encoder = Stl10Encoder::new(&supervised_vs.root(), &cfg);
    let mut rows = Vec::new();
    for (name, encoder, encoder_vs, supervised) in [
        (
            "I: frozen autoencoder encoder",
            &encoder as &dyn Module,
            &ae_vs,
            false,
        ),
        (
            "II: encoder trained with the labels",
            &supervised_encoder,
            &supervised_vs,
            true,
        ),
        ("III: frozen random encoder", &random_encoder, &random_vs, false),
    ] {
        let t = Instant::now();
        let head_vs = nn::VarStore::new(device);
        let head = nn::linear(head_vs.root(), cfg.features(), 10, Default::default());
        train_classifier(
            encoder,
            encoder_vs,
            &head,
            &head_vs,
            &train,
            &budgets.classifier,
            supervised,
            stl10_classifier_loss,
            &format!("checkpoints/stl10_probes_{}", name.split(':').next().unwrap_or(name)),
        )?;
        let train_acc = accuracy(encoder, &head, &train, device)?;
        let test_acc = accuracy(encoder, &head, &test, device)?;
        rows.push((name, train_acc, test_acc, t.elapsed().as_secs_f64()));
    }

    println!(
        "\n{} ({} unlabeled, {} train, {} test images), device {device:?}, {} CPU threads",
        if stand_in {
            "STL-10 offline stand-in (9 shape classes)"
        } else {
            "STL-10"
        },
        unlabeled.len(),
        train.len(),
        test.len(),
        tch::get_num_threads()
    );
    println!(
        "autoencoder: {} epochs, final MSE {:.4}, {:.0} s\n",
        ae.epoch_means().len(),
        ae.last().unwrap_or(f64::NAN),
        ae_seconds
    );
    println!("| method | train accuracy | test accuracy | seconds |\n|---|---:|---:|---:|");
    for (name, train_acc, test_acc, seconds) in rows {
        println!(
            "| {name} | {:.1}% | {:.1}% | {seconds:.0} |",
            100.0 * train_acc,
            100.0 * test_acc
        );
    }
    println!("\ntotal {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
