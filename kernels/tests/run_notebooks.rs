//! `replearn-grade run` on real notebooks: outputs written as Jupyter would,
//! failures named by cell, with the kernel's start-up.
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn run(notebook: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_replearn-grade"))
        .arg("run")
        .arg(notebook)
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .expect("replearn-grade runs")
}

fn cell_by_id<'a>(nb: &'a Value, id: &str) -> &'a Value {
    nb["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metadata"]["replearn"]["id"] == id)
        .unwrap_or_else(|| panic!("no cell {id}"))
}

fn output_data<'a>(cell: &'a Value, mime: &str) -> Option<&'a Value> {
    cell["outputs"]
        .as_array()?
        .iter()
        .find_map(|o| o["data"].get(mime))
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

#[test]
fn welcome_notebook_runs_and_shows_its_image_plot_and_loss_curve() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("welcome.out.ipynb");
    let result = run(
        &root().join("notebooks/00_welcome.ipynb"),
        &out,
        &["--timeout", "300"],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        result.status.success(),
        "welcome notebook failed:\n{stderr}"
    );
    let nb: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();

    let total = output_data(cell_by_id(&nb, "welcome-tensor"), "text/plain")
        .map(text_of)
        .unwrap_or_default();
    assert_eq!(total.trim(), "83.0");

    // The gradient image: red grows to the right, green downwards, blue 0.5.
    let png_b64 = output_data(cell_by_id(&nb, "welcome-image"), "image/png")
        .and_then(Value::as_str)
        .expect("image/png output");
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(png_b64.trim())
        .unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgb8();
    assert_eq!((img.width(), img.height()), (64, 64));
    assert_eq!(img.get_pixel(0, 0).0, [0, 0, 128]);
    assert_eq!(img.get_pixel(63, 0).0, [255, 0, 128]);
    assert_eq!(img.get_pixel(0, 63).0, [0, 255, 128]);

    let svg = output_data(cell_by_id(&nb, "welcome-plot"), "image/svg+xml")
        .map(text_of)
        .expect("svg plot");
    assert!(svg.contains("sin x") && svg.contains("cos x"));

    let train = cell_by_id(&nb, "welcome-train");
    let streams: String = train["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| text_of(&o["text"]))
        .collect();
    assert!(
        streams.contains("two moons 200/200 (100%) loss"),
        "progress lines missing:\n{streams}"
    );
    assert!(streams.contains("training accuracy: "));
    let curve = output_data(cell_by_id(&nb, "welcome-history"), "image/svg+xml")
        .map(text_of)
        .expect("loss curve");
    assert!(curve.contains("cross-entropy"));
}

#[test]
fn a_panicking_cell_fails_the_run_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ipynb");
    let result = run(
        &root().join("kernels/tests/fixtures/panics.ipynb"),
        &out,
        &[],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cell 2 failed: panicked"), "{stderr}");
    assert!(stderr.contains("the list must not be empty"), "{stderr}");
    let nb: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let cells = nb["cells"].as_array().unwrap();
    assert_eq!(text_of(&cells[0]["outputs"][0]["text"]), "x = 4\n");
    let errors: Vec<&Value> = cells[1]["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["output_type"] == "error")
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["ename"], "Panic");
    assert_eq!(
        cells[2]["outputs"],
        Value::Array(vec![]),
        "the run stops at the first failure"
    );
}

#[test]
fn a_compile_error_is_shown_against_the_cells_own_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ipynb");
    let result = run(
        &root().join("kernels/tests/fixtures/compile_error.ipynb"),
        &out,
        &[],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cell 2 failed: does not compile"),
        "{stderr}"
    );
    assert!(stderr.contains("--> line 2"), "{stderr}");
    assert!(stderr.contains("let b: String = a + 1;"), "{stderr}");
}

#[test]
fn an_error_returned_with_question_mark_fails_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ipynb");
    let result = run(
        &root().join("kernels/tests/fixtures/question_mark.ipynb"),
        &out,
        &[],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cell 2 failed: returned an error: invalid digit"),
        "{stderr}"
    );
}

#[test]
fn warnings_on_stderr_do_not_fail_a_cell() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ipynb");
    let result = run(
        &root().join("kernels/tests/fixtures/stderr_warning.ipynb"),
        &out,
        &[],
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let nb: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let outputs = nb["cells"][0]["outputs"].as_array().unwrap();
    assert!(outputs
        .iter()
        .any(|o| o["name"] == "stderr" && text_of(&o["text"]).contains("only a warning")));
}

#[test]
fn an_unreadable_notebook_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ipynb");
    std::fs::write(&bad, "{\"cells\": [").unwrap();
    let result = run(&bad, &dir.path().join("out.ipynb"), &[]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2));
    assert!(
        stderr.contains("bad.ipynb is not a valid Jupyter notebook"),
        "{stderr}"
    );
}

/// Runs `source` with `replearn-grade run` in quick mode in a fresh folder
/// (which it returns, with the executed notebook), asserting that it passes.
fn run_quick(source: &str) -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ipynb");
    let result = Command::new(env!("CARGO_BIN_EXE_replearn-grade"))
        .args(["run", "--timeout", "300", "-o"])
        .arg(&out)
        .arg(root().join(source))
        .env("REPLEARN_QUICK", "1")
        .env_remove("REPLEARN_DATA")
        .current_dir(dir.path())
        .output()
        .expect("replearn-grade runs");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{source} failed:\n{stderr}");
    let nb = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    (dir, nb)
}

/// Everything cell `id` printed to stdout.
fn stdout_of(nb: &Value, id: &str) -> String {
    cell_by_id(nb, id)["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["name"] == "stdout")
        .map(|o| text_of(&o["text"]))
        .collect()
}

#[test]
fn shapes_assignment_runs_end_to_end_in_quick_mode() {
    let (dir, nb) = run_quick("notebooks/01_shapes_source.ipynb");
    assert!(stdout_of(&nb, "setup").contains("mode: quick"));
    assert!(stdout_of(&nb, "test-ae-loss").contains("value and gradient are right"));
    assert!(stdout_of(&nb, "test-contrastive-loss").contains("are right"));
    assert!(stdout_of(&nb, "test-contrastive-gradient").contains("gradient is right"));
    let table = stdout_of(&nb, "factor-table");
    for row in [
        "| random (untrained) |",
        "| autoencoder |",
        "| contrastive A |",
        "| contrastive B |",
        "| contrastive C |",
        "| chance",
    ] {
        assert!(table.contains(row), "factor table lacks {row}:\n{table}");
    }
    for id in ["data", "nn-ae-val", "aug-c", "nn-c"] {
        assert!(
            output_data(cell_by_id(&nb, id), "image/png").is_some(),
            "{id} shows no image"
        );
    }
    assert!(
        output_data(cell_by_id(&nb, "train-ae"), "image/svg+xml").is_some(),
        "no loss curve"
    );
    assert!(
        dir.path()
            .join("checkpoints/shapes_autoencoder.safetensors")
            .exists(),
        "checkpoint not written"
    );
    assert!(stdout_of(&nb, "theory-groups").contains("tight: diameters"));
}

/// `student` is what `assign` makes of `source` today, leaks none of `leaks`,
/// and its first failure in quick mode is `first_failure`.
fn assert_student_version_is_current(
    source: &str,
    student: &str,
    leaks: &[&str],
    first_failure: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("student.ipynb");
    let made = Command::new(env!("CARGO_BIN_EXE_replearn-grade"))
        .arg("assign")
        .arg(root().join(source))
        .arg("-o")
        .arg(&fresh)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let committed = std::fs::read_to_string(root().join(student)).unwrap();
    assert_eq!(
        std::fs::read_to_string(&fresh).unwrap(),
        committed,
        "{student} is stale: regenerate it with replearn-grade assign {source} -o {student}"
    );
    for leak in ["BEGIN SOLUTION"].iter().chain(leaks) {
        assert!(!committed.contains(leak), "{student} contains {leak:?}");
    }
    let result = Command::new(env!("CARGO_BIN_EXE_replearn-grade"))
        .args(["run", "--timeout", "300", "-o"])
        .arg(dir.path().join("out.ipynb"))
        .arg(&fresh)
        .env("REPLEARN_QUICK", "1")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(first_failure), "{stderr}");
}

#[test]
fn shapes_student_version_is_current_and_first_fails_at_a_fixme() {
    assert_student_version_is_current(
        "notebooks/01_shapes_source.ipynb",
        "notebooks/01_shapes.ipynb",
        &["cross_entropy_for_logits", "square().mean", "test-contrastive-gradient"],
        "cell 9 (id \"test-ae-loss\") failed: panicked: FIXME: the code of cell 'ae-loss' is not written yet",
    );
}

#[test]
fn stl10_student_version_is_current_and_first_fails_at_a_fixme() {
    assert_student_version_is_current(
        "notebooks/02_stl10_source.ipynb",
        "notebooks/02_stl10.ipynb",
        &["conv2d(p / \"conv0\"", "cross_entropy_for_logits(labels)", "test-classifier-frozen-gradients"],
        "cell 7 (id \"test-encoder\") failed: panicked: FIXME: the code of cell 'encoder' is not written yet",
    );
}

#[test]
fn stl10_assignment_runs_end_to_end_in_quick_mode_on_the_stand_in() {
    let (dir, nb) = run_quick("notebooks/02_stl10_source.ipynb");
    assert!(
        stdout_of(&nb, "data").contains("offline stand-in"),
        "{}",
        stdout_of(&nb, "data")
    );
    assert!(
        dir.path()
            .join("data/stl10_stand_in_quick/train_X.bin")
            .is_file(),
        "stand-in not written in STL-10's layout"
    );
    for id in ["encoder", "decoder", "ae-step", "classifier-step"] {
        let test = format!("test-{id}");
        assert!(
            stdout_of(&nb, &test).contains("correct"),
            "{test}: {}",
            stdout_of(&nb, &test)
        );
    }
    let results = stdout_of(&nb, "results");
    for method in [
        "I: frozen autoencoder encoder",
        "II: encoder trained with the labels",
        "III: frozen random encoder",
    ] {
        let line = results
            .lines()
            .find(|l| l.starts_with(method))
            .unwrap_or_else(|| panic!("no {method} in\n{results}"));
        assert_eq!(line.matches('%').count(), 2, "{line}");
    }
    for id in ["data", "reconstructions"] {
        assert!(
            output_data(cell_by_id(&nb, id), "image/png").is_some(),
            "{id} shows no image"
        );
    }
    for id in ["train-ae", "results"] {
        assert!(
            output_data(cell_by_id(&nb, id), "image/svg+xml").is_some(),
            "{id} shows no plot"
        );
    }
    assert!(
        dir.path()
            .join("checkpoints/stl10_autoencoder.safetensors")
            .exists(),
        "checkpoint not written"
    );
}

#[test]
fn clip_student_version_is_current_and_first_fails_at_a_fixme() {
    assert_student_version_is_current(
        "notebooks/03_clip_source.ipynb",
        "notebooks/03_clip.ipynb",
        &[
            "logits.tr().cross_entropy_for_logits",
            "topk(k, 0, true, true)",
            "test-clip-loss-symmetric",
        ],
        "(id \"test-head\") failed: panicked: FIXME: the code of cell 'head' is not written yet",
    );
}

#[test]
fn clip_assignment_runs_end_to_end_in_quick_mode_on_captioned_shapes() {
    let (dir, nb) = run_quick("notebooks/03_clip_source.ipynb");
    assert!(
        stdout_of(&nb, "data").contains("captioned shapes"),
        "{}",
        stdout_of(&nb, "data")
    );
    assert!(
        dir.path()
            .join("data/captioned_shapes_quick/captions.txt")
            .is_file(),
        "captioned shapes not written in Flickr8k's layout"
    );
    for (id, says) in [
        ("test-head", "Head: correct"),
        ("test-clip-loss", "clip_loss: correct"),
        ("test-retrieve", "retrieve: correct"),
    ] {
        assert!(
            stdout_of(&nb, id).contains(says),
            "{id}: {}",
            stdout_of(&nb, id)
        );
    }
    // The pre-trained text encoder ranks the two dog sentences closest.
    let similarities = stdout_of(&nb, "text-encoder");
    let first: Vec<f64> = similarities
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .rev()
        .take(3)
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(first[1] > first[0] + 0.2, "{similarities}");
    assert!(
        stdout_of(&nb, "recall").contains("recall@10: "),
        "{}",
        stdout_of(&nb, "recall")
    );
    assert!(stdout_of(&nb, "probe").contains("linear probe on the STL-10 stand-in: test accuracy"));
    let grid = output_data(cell_by_id(&nb, "retrieval"), "image/svg+xml")
        .map(text_of)
        .expect("retrieval grid");
    assert!(
        grid.contains("a red triangle in the upper left")
            && grid.contains("data:image/png;base64,")
    );
    assert!(output_data(cell_by_id(&nb, "data"), "image/png").is_some());
}

#[test]
fn assign_rejects_a_malformed_source_and_never_overwrites_it() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.ipynb");
    std::fs::write(&src, r#"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": "a", "source": "let x = 1;", "metadata": {"replearn": {"id": "dup", "kind": "locked"}}, "outputs": [], "execution_count": null},
        {"cell_type": "code", "id": "b", "source": "let y = 2;", "metadata": {"replearn": {"id": "dup", "kind": "locked"}}, "outputs": [], "execution_count": null}]}"#).unwrap();
    let run = |out: &Path| {
        Command::new(env!("CARGO_BIN_EXE_replearn-grade"))
            .arg("assign")
            .arg(&src)
            .arg("-o")
            .arg(out)
            .output()
            .unwrap()
    };
    let result = run(&dir.path().join("student.ipynb"));
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr)
        .contains("cell 2 (id \"dup\"): the id \"dup\" is used twice"));
    let before = std::fs::read(&src).unwrap();
    assert_eq!(run(&src).status.code(), Some(2));
    assert_eq!(
        std::fs::read(&src).unwrap(),
        before,
        "the source must never be overwritten"
    );
}
