//! `replearn-grade run`: execute a notebook headlessly, as Jupyter would.
use crate::notebook::{
    cell_label, cell_source, error_output, is_code, multiline, replearn_meta, stream_output, Notebook,
};
use crate::cells::runner::{CellOutcome, Runner, RunnerConfig};
use anyhow::Result;
use serde_json::{json, Map, Value};
use std::path::Path;

/// The first failing cell of a run.
#[derive(Debug, Clone)]
pub struct CellFailure {
    pub label: String,
    pub message: String,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub cells_run: usize,
    pub failures: Vec<CellFailure>,
}

/// Options for [`run_notebook`].
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub runner: RunnerConfig,
    /// Run every cell even after one fails (by default the run stops, like nbconvert).
    pub keep_going: bool,
    /// Print how long the start-up and each cell took (compiling included) to stderr.
    pub timings: bool,
}

/// Runs every code cell of `notebook` in order, filling in its outputs.
pub fn run_notebook(
    root: &Path,
    notebook: &mut Notebook,
    options: &RunOptions,
) -> Result<RunReport> {
    let started = std::time::Instant::now();
    let mut runner = Runner::start(root, options.runner.clone())?;
    if options.timings {
        eprintln!("start-up: {:.2} s", started.elapsed().as_secs_f64());
    }
    let mut report = RunReport::default();
    let mut count = 0;
    for index in 0..notebook.cells().len() {
        let cell = &notebook.cells()[index];
        // A variant solution (an instructor notebook's alternative answer) is
        // for `validate` only: running it would replace the solution.
        let is_variant = replearn_meta(cell).and_then(|m| m.get("kind")) == Some(&json!("variant"));
        if !is_code(cell) || is_variant {
            continue;
        }
        let label = cell_label(index, cell);
        let source = cell_source(cell);
        count += 1;
        let outcome = runner.run_cell(&source);
        report.cells_run += 1;
        if options.timings {
            eprintln!("{label}: {:.2} s", outcome.duration.as_secs_f64());
        }
        let cell = &mut notebook.cells_mut()[index];
        cell["execution_count"] = json!(count);
        cell["outputs"] = Value::Array(outputs_of(&outcome, count));
        if let Some(failure) = &outcome.failure {
            report.failures.push(CellFailure {
                label,
                message: failure.to_string(),
            });
            if !options.keep_going {
                break;
            }
        }
    }
    Ok(report)
}

/// Jupyter outputs for one cell: streams, rich data, and the error if it failed.
pub fn outputs_of(outcome: &CellOutcome, execution_count: usize) -> Vec<Value> {
    let mut outputs = Vec::new();
    if !outcome.stdout.is_empty() {
        outputs.push(stream_output("stdout", &outcome.stdout));
    }
    if !outcome.stderr.is_empty() {
        outputs.push(stream_output("stderr", &outcome.stderr));
    }
    if !outcome.data.is_empty() {
        let mut data = Map::new();
        for (mime, content) in &outcome.data {
            let value = if mime.starts_with("text/") || mime == "image/svg+xml" {
                multiline(content)
            } else {
                Value::String(content.clone())
            };
            data.insert(mime.clone(), value);
        }
        outputs.push(json!({
            "output_type": "execute_result",
            "execution_count": execution_count,
            "data": data,
            "metadata": {},
        }));
    }
    if let Some(failure) = &outcome.failure {
        outputs.push(error_output(
            failure.kind(),
            &failure.to_string(),
            &failure.to_string(),
        ));
    }
    outputs
}
