//! `replearn-grade run` on fixtures: outputs written as Jupyter would,
//! failures named by cell, with the kernel's start-up. And every notebook of
//! `notebooks/`, found by name, none listed here: each assignment validated
//! (reference full marks, student version 0, every cell running), its student
//! version current; every other notebook run headlessly.
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

/// The library's answers to the FIXMEs are behind its `solutions` feature,
/// which the kernel's start-up leaves off: calling them does not compile.
#[test]
fn the_librarys_answers_cannot_be_called_from_a_notebook() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ipynb");
    let result = run(
        &root().join("kernels/tests/fixtures/answers_are_not_in_the_kernel.ipynb"),
        &out,
        &["--keep-going"],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    let nb: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    for (i, cell) in nb["cells"].as_array().unwrap().iter().enumerate() {
        let error = cell["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["output_type"] == "error")
            .unwrap_or_else(|| panic!("cell {} compiled: {cell}", i + 1));
        assert_eq!(error["ename"], "CompileError", "cell {}: {error}", i + 1);
    }
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

/// The notebooks of `notebooks/`: instructor notebooks (`*_source.ipynb`), and
/// the others that are not a student version of one.
fn discover() -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut all: Vec<PathBuf> = std::fs::read_dir(root().join("notebooks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ipynb"))
        .collect();
    all.sort();
    let is_source = |p: &Path| p.to_string_lossy().ends_with("_source.ipynb");
    let sources: Vec<PathBuf> = all.iter().filter(|p| is_source(p)).cloned().collect();
    let others = all
        .into_iter()
        .filter(|p| !is_source(p) && !student_of_some(p, &sources))
        .collect();
    (sources, others)
}

fn student_version(source: &Path) -> PathBuf {
    PathBuf::from(source.to_string_lossy().replace("_source.ipynb", ".ipynb"))
}

fn student_of_some(path: &Path, sources: &[PathBuf]) -> bool {
    sources.iter().any(|s| student_version(s) == path)
}

fn name_of(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().replace("_source.ipynb", "").replace(".ipynb", "")
}

/// Checks one instructor notebook: its committed student version is what
/// `assign` makes today and leaks no solution; `validate` passes (every cell
/// runs with the solutions, full marks; zero for the student version); the
/// student version first fails at a FIXME. Returns the graded reference run.
fn check_assignment(source: &Path) -> Result<Value, String> {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("student.ipynb");
    let made = Command::new(env!("CARGO_BIN_EXE_replearn-grade"))
        .arg("assign")
        .arg(source)
        .arg("-o")
        .arg(&fresh)
        .output()
        .unwrap();
    if !made.status.success() {
        return Err(format!("assign failed: {}", String::from_utf8_lossy(&made.stderr)));
    }
    let student = student_version(source);
    let committed = std::fs::read_to_string(&student)
        .map_err(|e| format!("{}: {e}: run `make assign`", student.display()))?;
    if std::fs::read_to_string(&fresh).unwrap() != committed {
        return Err(format!("{} is stale: run `make assign`", student.display()));
    }
    if committed.contains("BEGIN SOLUTION") {
        return Err(format!("{} contains a solution region", student.display()));
    }
    let runs = dir.path().join("runs");
    let validated = Command::new(env!("CARGO_BIN_EXE_replearn-grade"))
        .arg("validate")
        .arg(source)
        .arg("-o")
        .arg(&runs)
        .env_remove("REPLEARN_DATA")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&validated.stdout),
        String::from_utf8_lossy(&validated.stderr)
    );
    if !validated.status.success() || !String::from_utf8_lossy(&validated.stdout).contains(": valid") {
        return Err(format!("validate failed:\n{report}"));
    }
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(runs.join(name)).unwrap()).unwrap()
    };
    // The student version's first failing cell fails at a FIXME stub.
    let graded_student = read("student.ipynb");
    let first_error = graded_student["cells"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["outputs"].as_array().cloned().unwrap_or_default())
        .find(|o| o["output_type"] == "error");
    match first_error {
        Some(e) if e["evalue"].as_str().is_some_and(|v| v.contains("FIXME: the code of cell")) => {}
        other => return Err(format!("the student version's first failure is not a FIXME stub: {other:?}")),
    }
    let reference = read("reference.ipynb");
    // Data the notebook wrote, for the checks of particular notebooks.
    let data = dir.path().join("data");
    extra_checks(&name_of(source), &reference, &data)?;
    Ok(reference)
}

/// Runs a notebook that is not an assignment headlessly, in quick mode.
fn check_other(path: &Path) -> Result<Value, String> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ipynb");
    let result = Command::new(env!("CARGO_BIN_EXE_replearn-grade"))
        .args(["run", "--timeout", "300", "-o"])
        .arg(&out)
        .arg(path)
        .env("REPLEARN_QUICK", "1")
        .env_remove("REPLEARN_DATA")
        .current_dir(dir.path())
        .output()
        .unwrap();
    if !result.status.success() {
        return Err(format!("run failed:\n{}", String::from_utf8_lossy(&result.stderr)));
    }
    let nb: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    extra_checks(&name_of(path), &nb, &dir.path().join("data"))?;
    Ok(nb)
}

/// What particular notebooks must show beyond running (a new notebook needs
/// no entry here).
fn extra_checks(name: &str, nb: &Value, data: &Path) -> Result<(), String> {
    let ensure = |ok: bool, what: String| if ok { Ok(()) } else { Err(what) };
    let png = |id: &str| output_data(cell_by_id(nb, id), "image/png").is_some();
    let svg = |id: &str| output_data(cell_by_id(nb, id), "image/svg+xml").map(text_of);
    match name {
        "00_welcome" => {
            let total = output_data(cell_by_id(nb, "welcome-tensor"), "text/plain").map(text_of).unwrap_or_default();
            ensure(total.trim() == "83.0", format!("welcome-tensor shows {total:?}"))?;
            // The gradient image: red grows to the right, green downwards, blue 0.5.
            let png_b64 = output_data(cell_by_id(nb, "welcome-image"), "image/png")
                .and_then(Value::as_str)
                .ok_or("no image/png output of welcome-image")?;
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD.decode(png_b64.trim()).unwrap();
            let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
            ensure((img.width(), img.height()) == (64, 64), "welcome-image is not 64x64".into())?;
            ensure(img.get_pixel(0, 0).0 == [0, 0, 128], format!("pixel (0, 0) is {:?}", img.get_pixel(0, 0).0))?;
            ensure(img.get_pixel(63, 0).0 == [255, 0, 128], format!("pixel (63, 0) is {:?}", img.get_pixel(63, 0).0))?;
            ensure(img.get_pixel(0, 63).0 == [0, 255, 128], format!("pixel (0, 63) is {:?}", img.get_pixel(0, 63).0))?;
            let plot = svg("welcome-plot").unwrap_or_default();
            ensure(plot.contains("sin x") && plot.contains("cos x"), "welcome-plot lacks its lines".into())?;
            let streams: String = cell_by_id(nb, "welcome-train")["outputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| text_of(&o["text"]))
                .collect();
            ensure(streams.contains("two moons 200/200 (100%) loss"), format!("progress lines missing:\n{streams}"))?;
            ensure(streams.contains("training accuracy: "), "no training accuracy".into())?;
            ensure(svg("welcome-history").is_some_and(|c| c.contains("cross-entropy")), "no loss curve".into())
        }
        "01_shapes" => {
            ensure(stdout_of(nb, "setup").contains("budget: quick"), stdout_of(nb, "setup"))?;
            ensure(stdout_of(nb, "test-ae-loss").contains("value and gradient are right"), "test-ae-loss".into())?;
            ensure(stdout_of(nb, "test-contrastive-loss").contains("are right"), "test-contrastive-loss".into())?;
            ensure(stdout_of(nb, "test-contrastive-gradient").contains("gradient is right"), "test-contrastive-gradient".into())?;
            let table = stdout_of(nb, "factor-table");
            for row in ["| random (untrained) |", "| autoencoder |", "| contrastive A |", "| contrastive B |", "| contrastive C |", "| chance"] {
                ensure(table.contains(row), format!("factor table lacks {row}:\n{table}"))?;
            }
            ensure(table.contains("linear"), format!("factor table lacks the linear probe:\n{table}"))?;
            let black = stdout_of(nb, "aug-black");
            ensure(["set A: ", "set B: ", "set C: "].iter().all(|s| black.contains(s)) && black.contains("entirely black"), black.clone())?;
            for id in ["data", "ae-reconstructions", "nn-ae-val", "aug-c", "nn-c"] {
                ensure(png(id), format!("{id} shows no image"))?;
            }
            ensure(svg("train-ae").is_some(), "no loss curve".into())?;
            ensure(stdout_of(nb, "theory-groups").contains("tight: diameters"), "theory-groups".into())
        }
        "02_stl10" => {
            ensure(stdout_of(nb, "setup").contains("offline stand-in"), stdout_of(nb, "setup"))?;
            ensure(data.join("stl10_stand_in_quick/train_X.bin").is_file(), "stand-in not written in STL-10's layout".into())?;
            for id in ["encoder", "decoder", "ae-loss", "classifier-loss", "supervised-switch"] {
                let test = format!("test-{id}");
                ensure(stdout_of(nb, &test).contains("correct"), format!("{test}: {}", stdout_of(nb, &test)))?;
            }
            let results = stdout_of(nb, "results");
            for method in ["I: frozen autoencoder encoder", "II: encoder trained with the labels", "III: frozen random encoder"] {
                let line = results.lines().find(|l| l.starts_with(method)).ok_or(format!("no {method} in\n{results}"))?;
                ensure(line.matches('%').count() == 2, line.to_string())?;
            }
            ensure(results.contains("chance (the most common test class)"), results.clone())?;
            ensure(png("reconstructions"), "reconstructions shows no image".into())?;
            // The labelled grid: the first image's class name under it.
            let grid = svg("data").ok_or("data shows no labelled grid")?;
            ensure(grid.contains("data:image/png;base64,") && grid.matches("<text").count() == 16, "data: 16 images with their labels".into())?;
            ensure(svg("train-ae").is_some(), "train-ae shows no plot".into())?;
            let bars = svg("results").ok_or("results shows no bar chart")?;
            ensure(bars.contains("accuracy per method") && bars.contains("train") && bars.contains("test"), "results: bar chart".into())
        }
        "03_clip" => {
            ensure(stdout_of(nb, "setup").contains("captioned shapes"), stdout_of(nb, "setup"))?;
            ensure(data.join("captioned_shapes_quick/captions.txt").is_file(), "captioned shapes not written in Flickr8k's layout".into())?;
            for (id, says) in [("test-head", "Head: correct"), ("test-clip-loss", "clip_loss: correct"), ("test-clip-model", "Clip: correct"), ("test-retrieve", "retrieve: correct")] {
                ensure(stdout_of(nb, id).contains(says), format!("{id}: {}", stdout_of(nb, id)))?;
            }
            // The pre-trained text encoder ranks the two dog sentences closest.
            let similarities = stdout_of(nb, "text-encoder");
            let first: Vec<f64> = similarities.lines().nth(1).unwrap_or("").split_whitespace().rev().take(3).filter_map(|v| v.parse().ok()).collect();
            ensure(first.len() == 3 && first[1] > first[0] + 0.2, similarities.clone())?;
            ensure(similarities.lines().next().is_some_and(|l| l.contains("[1]") && l.contains("[3]")), similarities.clone())?;
            let recall = stdout_of(nb, "recall");
            ensure(recall.contains("recall@10: ") && recall.contains("a random ranking: "), recall.clone())?;
            ensure(stdout_of(nb, "probe").contains("linear probe on the STL-10 stand-in: test accuracy"), stdout_of(nb, "probe"))?;
            let grid = svg("retrieval").ok_or("no retrieval grid")?;
            ensure(grid.contains("a red triangle in the upper left") && grid.contains("data:image/png;base64,"), "retrieval grid".into())?;
            ensure(png("data"), "data shows no image".into())
        }
        "05_vit" => {
            ensure(stdout_of(nb, "setup").contains("captioned shapes"), stdout_of(nb, "setup"))?;
            for (id, says) in [("test-attention", "attention: correct"), ("test-clip-loss", "clip_loss: correct"), ("test-recall", "recall_at_k: correct"), ("test-nt-xent", "nt_xent: correct")] {
                ensure(stdout_of(nb, id).contains(says), format!("{id}: {}", stdout_of(nb, id)))?;
            }
            let recall = stdout_of(nb, "evaluate-scratch");
            ensure(["R@1: image to text", "R@3: image to text", "R@5: image to text"].iter().all(|l| recall.contains(l)), recall.clone())?;
            let zero_shot = stdout_of(nb, "zero-shot");
            ensure(zero_shot.lines().filter(|l| l.starts_with("N = ")).count() == 5 && zero_shot.contains("(chance 4.0%)"), zero_shot.clone())?;
            let table = stdout_of(nb, "compare-recall");
            ensure(table.lines().any(|l| l.starts_with("from scratch")) && table.lines().any(|l| l.starts_with("after SimCLR")), table.clone())?;
            for id in ["data", "train-scratch", "pretrain", "align-pretrained", "compare-loss", "compare-zero-shot"] {
                ensure(svg(id).is_some(), format!("{id} shows no figure"))?;
            }
            ensure(svg("compare-zero-shot").is_some_and(|s| s.contains("chance 1/N")), "zero-shot plot without its chance curve".into())?;
            ensure(svg("compare-recall").is_some_and(|s| s.contains("Recall@K") && s.contains("after SimCLR")), "compare-recall shows no bar chart".into())?;
            ensure(stdout_of(nb, "q3-anisotropy").contains("centred:"), stdout_of(nb, "q3-anisotropy"))?;
            ensure(stdout_of(nb, "q4-depth").lines().count() == 2, stdout_of(nb, "q4-depth"))?;
            ensure(stdout_of(nb, "q4-bias").contains("CNN ("), stdout_of(nb, "q4-bias"))?;
            ensure(stdout_of(nb, "q4-data").contains("after SimCLR: R@5"), stdout_of(nb, "q4-data"))
        }
        "06_dry_part" => {
            ensure(stdout_of(nb, "setup").contains("8x8 digits"), stdout_of(nb, "setup"))?;
            for (id, says) in [("test-average", "average: correct"), ("test-jacobian", "Jacobian: correct"), ("test-reordered", "re-ordered attention: correct")] {
                ensure(stdout_of(nb, id).contains(says), format!("{id}: {}", stdout_of(nb, id)))?;
            }
            // Every experiment printed its measurement and every figure is there.
            for (id, says) in [
                ("q1-verdict", "measured: "),
                ("q2-by-hand", "MSE "),
                ("q3-run", "shift 3 px"),
                ("q3-linearity", "with a ReLU between"),
                ("q4-run", "plain / plain"),
                ("q5-function", "only for scalar outputs"),
                ("q5-compare", "v^T J in one pass"),
                ("q6-run", "which way was the digit moved?"),
                ("q7-run", "the operation counts n^2 d and n d^2 cross at n = d = 64"),
                ("q7-same", "on random inputs"),
                ("q8-run", "largest weight per row"),
                ("q9-run", "no path to theta"),
                ("q10-run", "VAE decoder on its prior"),
            ] {
                ensure(stdout_of(nb, id).contains(says), format!("{id} lacks {says:?}: {}", stdout_of(nb, id)))?;
            }
            for id in ["q1-run", "q2-run", "q3-matrix", "q4-losses", "q4-paths", "q7-run", "q8-map", "q9-curve", "q10-figure"] {
                ensure(svg(id).is_some() || png(id), format!("{id} shows no figure"))?;
            }
            // The EMA optimiser converges; the attention map's reversed rows are one-hot.
            ensure(stdout_of(nb, "q4-run").lines().next().is_some_and(|l| l.contains("EMA / EMA") && !l.contains("below 1e-2: never")), stdout_of(nb, "q4-run"))?;
            let maxima = stdout_of(nb, "q8-run");
            ensure(maxima.contains(r#"largest weight per row: ["1.00", "1.00""#) || maxima.contains(r#"largest weight per row: ["0.99""#), maxima.clone())?;
            // The prior term is the same before and after training.
            let elbo = stdout_of(nb, "q9-run");
            let priors: Vec<&str> = elbo.lines().filter(|l| l.starts_with("prior KL")).collect();
            ensure(priors.len() == 2 && priors[0] == priors[1], elbo.clone())
        }
        "04_representations" => {
            // 1. The learned features beat letter counts with the same h.
            let fgx = stdout_of(nb, "fgx");
            let percent = |line: &str| line.rsplit("right on ").next().and_then(|r| r.split('%').next()).and_then(|v| v.trim().parse::<f64>().ok());
            let shares: Vec<f64> = fgx.lines().filter_map(percent).collect();
            ensure(shares.len() == 2 && shares[1] > shares[0] + 30.0, fgx.clone())?;
            // 2. Equivariance holds away from the edges; pooling makes the moved shape look alike.
            let eq = stdout_of(nb, "equivariance");
            let error: f64 = eq.lines().find(|l| l.starts_with("equivariance")).and_then(|l| l.rsplit("= ").next()).and_then(|v| v.trim().parse().ok()).ok_or(eq.clone())?;
            ensure(error < 1e-3, eq.clone())?;
            ensure(png("equivariance"), "equivariance shows no image".into())?;
            ensure(svg("disentangle").is_some_and(|s| s.contains("PCA 6")), "disentangle: no heatmap".into())?;
            // 3. Seven methods, measured, in one figure.
            let seven = stdout_of(nb, "seven");
            for method in ["PCA", "ICA", "LDA", "MDS", "Isomap", "t-SNE", "UMAP"] {
                ensure(seven.lines().any(|l| l.starts_with(method) && l.split_whitespace().count() == 4), format!("no {method} row in\n{seven}"))?;
            }
            ensure(svg("seven").is_some_and(|s| s.contains("UMAP") && s.matches("<circle").count() > 7 * 500), "seven: the scatter grid".into())?;
            // 4. Isomap and UMAP unroll the swiss roll, PCA does not.
            let roll = stdout_of(nb, "manifold");
            let order = |method: &str| roll.lines().find(|l| l.starts_with(method)).and_then(|l| l.rsplit(": ").next()).and_then(|v| v.trim().parse::<f64>().ok());
            ensure(matches!((order("PCA"), order("Isomap"), order("UMAP")), (Some(p), Some(i), Some(u)) if i > p + 0.3 && u > p + 0.3), roll.clone())?;
            // 5-7. Shapes, layer by layer.
            ensure(stdout_of(nb, "network").contains("output              shape [1, 2]  dtype Float"), stdout_of(nb, "network"))?;
            let resnet = stdout_of(nb, "resnet");
            for line in ["layer1   [1, 64, 56, 56]", "layer2   [1, 128, 28, 28]", "avgpool  [1, 512, 1, 1]"] {
                ensure(resnet.contains(line), resnet.clone())?;
            }
            ensure(png("resnet") && png("resnet-layer3") && png("cnn") && png("cnn-layer2"), "feature maps missing".into())?;
            ensure(stdout_of(nb, "cnn").contains("held-out accuracy"), stdout_of(nb, "cnn"))?;
            let transformer = stdout_of(nb, "transformer");
            ensure(transformer.contains("after layer 6         [1, 18, 384]") && transformer.contains("norm 1.000"), transformer.clone())?;
            ensure(svg("transformer-last").is_some_and(|s| s.contains("##kie")), "transformer-last: no token heatmap".into())
        }
        _ => Ok(()),
    }
}

/// Every training cell of every notebook keeps a checkpoint: the assignments'
/// trainers take one, and a cell that builds its own `Trainer` must ask for it.
#[test]
fn every_training_cell_keeps_a_checkpoint() {
    let (sources, others) = discover();
    for path in sources.iter().chain(&others) {
        let nb: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for cell in nb["cells"].as_array().unwrap() {
            let code = text_of(&cell["source"]);
            let is_variant = cell["metadata"]["replearn"]["kind"] == "variant";
            if code.contains("Trainer::new") && !is_variant && name_of(path) != "00_welcome" {
                assert!(code.contains(".checkpoint("), "{}: a Trainer without a checkpoint:\n{code}", path.display());
            }
        }
    }
}

/// Run again unchanged, the STL-10 notebook's training cells load their
/// checkpoints instead of training (a kernel restart or an interrupt costs
/// no training), and say so.
#[test]
fn training_cells_reload_their_checkpoints_when_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let source = root().join("notebooks/02_stl10_source.ipynb");
    let run_once = |out: &str| -> Value {
        let result = Command::new(env!("CARGO_BIN_EXE_replearn-grade"))
            .args(["run", "--timeout", "300", "-o"])
            .arg(dir.path().join(out))
            .arg(&source)
            .env("REPLEARN_QUICK", "1")
            .env_remove("REPLEARN_DATA")
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(out)).unwrap()).unwrap()
    };
    let stderr_of = |nb: &Value, id: &str| -> String {
        cell_by_id(nb, id)["outputs"].as_array().unwrap().iter().filter(|o| o["name"] == "stderr").map(|o| text_of(&o["text"])).collect()
    };
    let first = run_once("first.ipynb");
    let second = run_once("second.ipynb");
    for id in ["train-ae", "method-1", "method-2", "method-3"] {
        assert!(!stderr_of(&first, id).contains("loaded the trained parameters"), "{id} loaded before anything was saved");
        assert!(stderr_of(&second, id).contains("loaded the trained parameters"), "{id} trained again:\n{}", stderr_of(&second, id));
    }
    assert_eq!(stdout_of(&first, "results"), stdout_of(&second, "results"), "the same accuracies from the reloaded models");
}

/// Every notebook, two at a time (the machine has two cores), each failure named.
#[test]
fn every_assignment_validates_and_every_notebook_runs() {
    let (sources, others) = discover();
    assert!(!sources.is_empty(), "no *_source.ipynb under notebooks/");
    let mut jobs: Vec<(PathBuf, bool)> = sources.into_iter().map(|p| (p, true)).collect();
    jobs.extend(others.into_iter().map(|p| (p, false)));
    // REPLEARN_ONLY_NOTEBOOKS=03_clip,04 checks only the notebooks whose names contain one of these.
    if let Some(only) = std::env::var("REPLEARN_ONLY_NOTEBOOKS").ok().filter(|o| !o.is_empty()) {
        jobs.retain(|(p, _)| only.split(',').any(|o| name_of(p).contains(o.trim())));
    }
    let queue = std::sync::Mutex::new(jobs.into_iter());
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let next = queue.lock().unwrap().next();
                let Some((path, assignment)) = next else { break };
                let started = std::time::Instant::now();
                let result = if assignment { check_assignment(&path) } else { check_other(&path) };
                eprintln!("{}: {} in {:.0} s", path.display(), if result.is_ok() { "ok" } else { "FAILED" }, started.elapsed().as_secs_f64());
                if let Err(e) = result {
                    failures.lock().unwrap().push(format!("{}: {e}", path.display()));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
