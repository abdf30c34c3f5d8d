//! Times the seven reductions of `replearn::reduce` on scikit-learn's digits
//! (1,797 x 64) against scikit-learn and umap-learn on the same data, in the
//! same run on the same machine, and prints a markdown table with the quality
//! of both embeddings (trustworthiness at k = 5, leave-one-out 5-NN accuracy).
//!
//! `cargo run --release --example bench_reduce` (`make bench` runs it).
use replearn::data::Digits;
use replearn::reduce::{leave_one_out_knn_accuracy, trustworthiness, Reducer};
use std::process::Command;
use std::time::Instant;
use tch::Tensor;

fn main() -> replearn::Result<()> {
    let digits = Digits::from_scikit_learn()?;
    let python = std::env::var_os("VIRTUAL_ENV").map(std::path::PathBuf::from).unwrap_or_else(|| ".venv".into()).join("bin/python");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/reduce_reference.py");
    let out = Command::new(&python).arg(script).output().map_err(|e| replearn::Error::io(&python, e))?;
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        std::process::exit(1);
    }
    let reference: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the reference script prints JSON");
    println!("| method | replearn (s) | reference (s) | trustworthiness replearn / reference | 5-NN accuracy replearn / reference |");
    println!("|---|---|---|---|---|");
    for method in Reducer::ALL {
        let start = Instant::now();
        let ours = method.embed_2d(&digits.pixels, &digits.labels, 0)?;
        let seconds = start.elapsed().as_secs_f64();
        let key = match method {
            Reducer::Pca => "pca",
            Reducer::Ica => "ica_digits",
            Reducer::Lda => "lda",
            Reducer::Mds => "mds",
            Reducer::Isomap => "isomap",
            Reducer::Tsne => "tsne",
            Reducer::Umap => "umap",
        };
        let rows: Vec<Vec<f64>> = serde_json::from_value(reference[key].clone()).expect("an embedding");
        let theirs = Tensor::from_slice(&rows.concat()).view([rows.len() as i64, 2]);
        let quality = |e: &Tensor| -> replearn::Result<(f64, f64)> {
            Ok((trustworthiness(&digits.pixels, e, 5)?, leave_one_out_knn_accuracy(e, &digits.labels, 5)?))
        };
        let ((t, k), (rt, rk)) = (quality(&ours)?, quality(&theirs)?);
        let their_seconds = reference[format!("{key}_seconds")].as_f64().unwrap_or(f64::NAN);
        println!("| {method} | {seconds:.2} | {their_seconds:.2} | {t:.3} / {rt:.3} | {k:.3} / {rk:.3} |");
    }
    Ok(())
}
