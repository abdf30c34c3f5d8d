//! The `reduce` module against scikit-learn and umap-learn on scikit-learn's
//! digits, computed by the venv's Python in the same run
//! (`tests/fixtures/reduce_reference.py`).
use replearn::data::Digits;
use replearn::reduce::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use tch::{Kind, Tensor};

fn python() -> PathBuf {
    let venv = std::env::var_os("VIRTUAL_ENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv"));
    venv.join("bin/python")
}

/// The reference results, computed once for all the tests of this file.
fn reference() -> &'static Value {
    static REFERENCE: OnceLock<Value> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reduce_reference.py");
        let out = Command::new(python()).arg(script).env("NUMBA_CACHE_DIR", std::env::temp_dir().join("replearn-numba")).output().expect("the venv's python runs");
        assert!(out.status.success(), "reduce_reference.py failed:\n{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("reduce_reference.py printed JSON")
    })
}

fn matrix(v: &Value) -> Tensor {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).expect("a matrix");
    let (n, d) = (rows.len() as i64, rows[0].len() as i64);
    Tensor::from_slice(&rows.concat()).view([n, d])
}

fn digits() -> Digits {
    Digits::from_scikit_learn().expect("make setup installs scikit-learn")
}

/// Trustworthiness (k = 5) and 5-NN accuracy of an embedding of the digits.
fn quality(d: &Digits, e: &Tensor) -> (f64, f64) {
    (trustworthiness(&d.pixels, e, 5).unwrap(), leave_one_out_knn_accuracy(e, &d.labels, 5).unwrap())
}

#[test]
fn pca_matches_scikit_learn() {
    let d = digits();
    let pca = Pca::fit(&d.pixels, 10).unwrap();
    let theirs = matrix(&reference()["pca_components"]);
    let ratio: Vec<f64> = serde_json::from_value(reference()["pca_ratio"].clone()).unwrap();
    let ours = Vec::<f64>::try_from(&pca.explained_variance_ratio).unwrap();
    for (a, b) in ours.iter().zip(&ratio) {
        assert!((a - b).abs() < 1e-4, "explained variance ratios {ours:?} vs {ratio:?}");
    }
    // Components up to sign: |<ours_i, theirs_i>| = 1 for unit vectors.
    let dots = (&pca.components * &theirs).sum_dim_intlist(1, false, Kind::Double).abs();
    assert!((dots - 1.0).abs().max().double_value(&[]) < 1e-4);
}

#[test]
fn lda_matches_scikit_learn_up_to_rotation() {
    let d = digits();
    let ours = Lda::fit(&d.pixels, &d.labels, 2).unwrap().transform(&d.pixels).unwrap();
    let disparity = procrustes_disparity(&ours, &matrix(&reference()["lda"])).unwrap();
    assert!(disparity < 1e-6, "Procrustes disparity {disparity}");
}

#[test]
fn isomap_matches_scikit_learn_up_to_rotation() {
    let d = digits();
    let ours = isomap(&d.pixels, &IsomapConfig::default()).unwrap();
    let theirs = matrix(&reference()["isomap"]);
    // Close, not equal: the digits' integer pixels tie many distances, so the two
    // neighbour searches keep different points at the 5th place.
    let disparity = procrustes_disparity(&ours, &theirs).unwrap();
    assert!(disparity < 5e-3, "Procrustes disparity {disparity}");
    let ((t, k), (rt, rk)) = (quality(&d, &ours), quality(&d, &theirs));
    assert!((t - rt).abs() < 0.01 && (k - rk).abs() < 0.01, "ours: trustworthiness {t:.3}, 5-NN {k:.3}; scikit-learn's {rt:.3}, {rk:.3}");
}

#[test]
fn mds_matches_scikit_learn_up_to_rotation() {
    let d = digits();
    let distances = {
        let x = d.pixels.to_kind(Kind::Double);
        (x.unsqueeze(1) - x.unsqueeze(0)).square().sum_dim_intlist(2, false, Kind::Double).sqrt()
    };
    let ours = smacof(&distances, &MdsConfig::default()).unwrap();
    let theirs = matrix(&reference()["mds"]);
    let disparity = procrustes_disparity(&ours, &theirs).unwrap();
    let (mine, sklearn) = (stress(&distances, &ours).unwrap(), stress(&distances, &theirs).unwrap());
    assert!(disparity < 0.01, "Procrustes disparity {disparity}");
    assert!(mine <= sklearn * 1.01, "stress {mine} against scikit-learn's {sklearn}");
}

#[test]
fn ica_unmixes_like_scikit_learn() {
    let mixed = matrix(&reference()["ica_mixed"]);
    let theirs = matrix(&reference()["ica_sources"]);
    let ica = FastIca::fit(&mixed, &FastIcaConfig { components: 3, ..Default::default() }).unwrap();
    let ours = ica.transform(&mixed).unwrap();
    let z = |m: &Tensor| (m - m.mean_dim(0, true, Kind::Double)) / m.std_dim(0, false, true);
    let corr = z(&ours).tr().matmul(&z(&theirs)) / ours.size()[0] as f64;
    // Each of our sources is one of theirs, up to order and sign.
    let best = corr.abs().amax(1, false);
    assert!(best.min().double_value(&[]) > 0.99, "{corr}");
}

#[test]
fn our_trustworthiness_is_scikit_learns() {
    let d = digits();
    for name in ["lda", "isomap", "tsne"] {
        let theirs = reference()[format!("{name}_trustworthiness")].as_f64().unwrap();
        let ours = trustworthiness(&d.pixels, &matrix(&reference()[name]), 5).unwrap();
        // Not to the last digit: the digits' integer pixels give tied distances, which the two sorts order differently.
        assert!((ours - theirs).abs() < 1e-4, "{name}: {ours} vs scikit-learn's {theirs}");
    }
}

#[test]
fn tsne_affinities_match_scikit_learn() {
    let d = digits();
    let ours = replearn::reduce::tsne_affinities(&d.pixels.narrow(0, 0, 300), 30.0).unwrap();
    let theirs = matrix(&reference()["affinities"]);
    let off = Tensor::eye(300, (Kind::Bool, tch::Device::Cpu)).logical_not();
    let diff = ((&ours - &theirs) * &off).abs().max().double_value(&[]);
    let scale = theirs.max().double_value(&[]);
    assert!(diff < 1e-4 * scale, "largest difference {diff} (largest affinity {scale})");
}

#[test]
fn tsne_is_as_good_as_scikit_learns() {
    let d = digits();
    let (t, k) = quality(&d, &tsne(&d.pixels, &TsneConfig::default()).unwrap());
    let (rt, rk) = quality(&d, &matrix(&reference()["tsne"]));
    assert!(t > rt - 0.02 && k > rk - 0.03, "ours: trustworthiness {t:.3}, 5-NN {k:.3}; scikit-learn's {rt:.3}, {rk:.3}");
}

#[test]
fn umap_is_as_good_as_umap_learns() {
    let d = digits();
    let ab: Vec<f64> = serde_json::from_value(reference()["umap_ab"].clone()).unwrap();
    let (a, b) = find_ab(1.0, 0.1);
    assert!((a - ab[0]).abs() < 1e-3 && (b - ab[1]).abs() < 1e-3, "a {a} b {b} vs umap-learn's {ab:?}");
    let (t, k) = quality(&d, &umap(&d.pixels, &UmapConfig::default()).unwrap());
    let (rt, rk) = quality(&d, &matrix(&reference()["umap"]));
    assert!(t > rt - 0.02 && k > rk - 0.03, "ours: trustworthiness {t:.3}, 5-NN {k:.3}; umap-learn's {rt:.3}, {rk:.3}");
}
