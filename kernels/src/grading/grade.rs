//! Runs a notebook for grading and scores its test cells.
//!
//! Every code cell runs, in order, whatever failed before it: a test fails
//! only if it cannot compile or run because of what it depends on. When a
//! cell takes the process down (exit, abort, stack overflow, out of memory,
//! time limit), evcxr restarts it, and the cells that had worked before are
//! run again so that later tests still have their variables.
use super::roles::{CellKind, CellRole};
use crate::notebook::{cell_label, cell_source, is_code, Notebook};
use crate::cells::run::outputs_of;
use super::redact::redact_hidden;
use crate::cells::runner::{CellOutcome, Runner, RunnerConfig};
use crate::protocol::{env, CreditRecord, CREDIT_MIME};
use anyhow::Result;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// The longest a notebook process may take to start while grading (a
/// pre-built kernel folder starts in about 20 s on 2 cores).
pub const START_LIMIT: Duration = Duration::from_secs(300);

/// The smallest heap limit (`--memory`) accepted. Measured on 2 cores: the
/// notebook process starts and runs a tensor cell under 1,152 MB and cannot
/// spawn its threads under 1,024 MB; libtorch starts more threads on more
/// cores, hence the margin.
pub const MIN_MEMORY_MB: u64 = 1536;

/// The longest message or output shown for one test.
const MAX_TEXT: usize = 4000;

/// One graded test cell.
#[derive(Debug, Clone, PartialEq)]
pub struct TestResult {
    pub id: String,
    pub max_score: f64,
    pub score: f64,
    pub hidden: bool,
    pub passed: bool,
    /// Student-facing: why it failed, or the partial-credit message.
    /// For hidden tests, nothing of the test's source is in it.
    pub message: String,
    /// What the test printed (empty for hidden tests).
    pub output: String,
}

/// Everything a grading run found.
#[derive(Debug, Clone)]
pub struct GradeRun {
    pub tests: Vec<TestResult>,
    /// Student-facing notes (cells replayed after a crash, and so on).
    pub notes: Vec<String>,
    /// Every cell that failed, tests included: (label, first lines of the failure).
    pub failed_cells: Vec<(String, String)>,
    /// The notebook with its outputs, for the instructor.
    pub notebook: Notebook,
    pub duration: Duration,
}

impl GradeRun {
    pub fn score(&self) -> f64 {
        self.tests.iter().map(|t| t.score).fold(0.0, |a, b| a + b)
    }

    pub fn max_score(&self) -> f64 {
        self.tests
            .iter()
            .map(|t| t.max_score)
            .fold(0.0, |a, b| a + b)
    }
}

/// Options for a grading run.
#[derive(Debug, Clone)]
pub struct GradeOptions {
    /// Per-cell limit on running time.
    pub timeout: Duration,
    /// Heap limit for the process running the cells, in MB.
    pub memory_mb: Option<u64>,
    /// libtorch's seed, set after the start-up: the same for the reference and every submission.
    pub seed: u64,
}

impl Default for GradeOptions {
    fn default() -> Self {
        GradeOptions {
            timeout: Duration::from_secs(300),
            memory_mb: None,
            seed: 0,
        }
    }
}

/// A fresh random token (hex), so that printed text cannot pose as a credit.
fn random_token() -> String {
    let mut bytes = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut bytes);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    token.push_str(&format!("{nanos:x}"));
    token
}

/// Runs every code cell of `notebook` (whose cells `roles` describes) and scores its tests.
pub fn grade_notebook(
    root: &Path,
    notebook: &Notebook,
    roles: &[Option<CellRole>],
    options: &GradeOptions,
) -> Result<GradeRun> {
    Ok(GradingSession::start(root, options)?.grade(notebook, roles))
}

/// A notebook process set up for grading (the per-run credit token, the seed,
/// the limits), which can run a notebook and then more cells in the same
/// process (`validate` checks an assignment's variant solutions that way).
pub struct GradingSession {
    runner: Runner,
    token: String,
}

impl GradingSession {
    /// Starts the notebook process with the kernel's start-up.
    pub fn start(root: &Path, options: &GradeOptions) -> Result<GradingSession> {
        let token = random_token();
        let config = RunnerConfig {
            start_limit: Some(START_LIMIT),
            timeout: Some(options.timeout),
            memory_mb: options.memory_mb,
            seed: Some(options.seed),
            env: vec![
                (env::CREDIT_TOKEN.to_string(), token.clone()),
                // Grading needs no full training budget: the notebook's budget turns quick.
                (env::GRADING.to_string(), "1".to_string()),
            ],
        };
        Ok(GradingSession {
            runner: Runner::start(root, config)?,
            token,
        })
    }

    /// Runs one more cell in the same process.
    pub fn run_cell(&mut self, source: &str) -> CellOutcome {
        self.runner.run_cell(source)
    }

    /// Scores a test cell's outcome (`failed_solutions`: solution cells that
    /// failed before it, named in its message).
    pub fn score(
        &self,
        role: &CellRole,
        source: &str,
        outcome: &CellOutcome,
        failed_solutions: &[(String, String)],
    ) -> TestResult {
        score_test(role, source, outcome, &self.token, failed_solutions)
    }

    /// Runs every code cell of `notebook` in order, whatever failed before,
    /// and scores its tests.
    pub fn grade(&mut self, notebook: &Notebook, roles: &[Option<CellRole>]) -> GradeRun {
        let started = Instant::now();
        let mut notebook = notebook.clone();
        let mut tests = Vec::new();
        let mut notes = Vec::new();
        let mut failed_cells = Vec::new();
        // Cells that worked, to replay after a restart; solution cells that failed.
        let mut worked: Vec<usize> = Vec::new();
        let mut failed_solutions: Vec<(String, String)> = Vec::new();
        let mut count = 0;
        for index in 0..notebook.cells().len() {
            let cell = &notebook.cells()[index];
            let role = roles.get(index).cloned().flatten();
            if !is_code(cell) || role.as_ref().is_some_and(|r| r.kind == CellKind::Variant) {
                continue;
            }
            let label = cell_label(index, cell);
            let source = cell_source(cell);
            count += 1;
            let outcome = self.runner.run_cell(&source);
            let cell = &mut notebook.cells_mut()[index];
            cell["execution_count"] = json!(count);
            cell["outputs"] = Value::Array(outputs_of(&outcome, count));

            let is_test = role.as_ref().is_some_and(|r| r.kind == CellKind::Test);
            if is_test {
                let role = role.as_ref().expect("test role");
                tests.push(self.score(role, &source, &outcome, &failed_solutions));
            }
            match &outcome.failure {
                None if !is_test => worked.push(index),
                None => {}
                Some(failure) => {
                    failed_cells.push((label.clone(), first_lines(&failure.to_string(), 4)));
                    if let Some(r) = role.as_ref().filter(|r| r.kind == CellKind::Solution) {
                        failed_solutions.push((r.id.clone(), first_lines(&failure.to_string(), 8)));
                    }
                    if failure.lost_process() {
                        replay(&mut self.runner, &notebook, &worked, &label, &mut notes);
                    }
                }
            }
        }
        GradeRun {
            tests,
            notes,
            failed_cells,
            notebook,
            duration: started.elapsed(),
        }
    }
}

/// Runs the cells that worked again, after the process was restarted.
fn replay(
    runner: &mut Runner,
    notebook: &Notebook,
    worked: &[usize],
    after: &str,
    notes: &mut Vec<String>,
) {
    let mut lost = Vec::new();
    for &i in worked {
        let outcome = runner.run_cell(&cell_source(&notebook.cells()[i]));
        if let Some(failure) = outcome.failure {
            lost.push(format!(
                "{} ({})",
                cell_label(i, &notebook.cells()[i]),
                first_line(&failure.to_string())
            ));
        }
    }
    let mut note = format!("{after} ended the notebook process; it was restarted and the {} cells that had worked were run again.", worked.len());
    if !lost.is_empty() {
        note.push_str(&format!(
            " These failed the second time: {}.",
            lost.join("; ")
        ));
    }
    notes.push(note);
}

fn score_test(
    role: &CellRole,
    source: &str,
    outcome: &CellOutcome,
    token: &str,
    failed_solutions: &[(String, String)],
) -> TestResult {
    let mut result = TestResult {
        id: role.id.clone(),
        max_score: role.points,
        score: 0.0,
        hidden: role.hidden,
        passed: false,
        message: String::new(),
        output: if role.hidden {
            String::new()
        } else {
            truncate(&outcome.stdout)
        },
    };
    match &outcome.failure {
        None => {
            let credit = outcome
                .data
                .get(CREDIT_MIME)
                .and_then(|text| parse_credit(text, token));
            match credit {
                Some((fraction, message)) => {
                    result.score = role.points * fraction;
                    result.passed = fraction >= 1.0;
                    result.message = message;
                }
                None => {
                    result.score = role.points;
                    result.passed = true;
                }
            }
        }
        Some(failure) => {
            let text = failure.to_string();
            let text = if role.hidden {
                redact_hidden(&text, source, failure)
            } else {
                text
            };
            let mut message = truncate(&text);
            if !failed_solutions.is_empty() {
                message
                    .push_str("\n\nIt may fail because of an earlier cell of yours that failed:");
                for (id, why) in failed_solutions {
                    message.push_str(&format!(
                        "\n- solution cell '{id}': {}",
                        why.replace('\n', "\n    ")
                    ));
                }
            }
            result.message = message;
        }
    }
    result
}

/// A credit's fraction and message, if it carries this run's token.
fn parse_credit(text: &str, token: &str) -> Option<(f64, String)> {
    let record: CreditRecord = serde_json::from_str(text.trim()).ok()?;
    (record.token == token && record.fraction.is_finite())
        .then(|| (record.fraction.clamp(0.0, 1.0), record.message))
}

fn first_line(text: &str) -> String {
    first_lines(text, 1)
}

pub(crate) fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(n)
        .collect();
    truncate(&lines.join("\n"))
}

fn truncate(text: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text.to_string();
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[... {} more bytes not shown]",
        &text[..end],
        text.len() - end
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_count_only_with_the_runs_token() {
        let good = r#"{"fraction": 0.5, "message": "half", "token": "abc"}"#;
        assert_eq!(parse_credit(good, "abc"), Some((0.5, "half".into())));
        assert_eq!(parse_credit(good, "xyz"), None);
        assert_eq!(
            parse_credit(r#"{"fraction": 1.0, "message": "forged"}"#, "abc"),
            None
        );
        assert_eq!(parse_credit("not json", "abc"), None);
    }
}
