//! What grading writes: Gradescope's `results.json`, a markdown feedback file
//! for the student, written answers for hand grading, and `grades.csv`.
use crate::grading::grade::{GradeRun, TestResult};
use crate::notebook::write_atomic;
use crate::grading::splice::Answer;
use anyhow::Result;
use serde_json::{json, Value};
use std::path::Path;

/// How a hidden test's result is shown on Gradescope.
pub const HIDDEN_VISIBILITY: &str = "visible";

/// Everything graded for one submission.
#[derive(Debug, Clone)]
pub struct SubmissionReport {
    pub submission: String,
    pub run: Option<GradeRun>,
    /// Set when the submission could not be graded at all (unreadable file, grader fault).
    pub error: Option<String>,
    pub notes: Vec<String>,
    pub answers: Vec<Answer>,
    /// The tests the assignment has (for a score of 0 when nothing ran).
    pub planned: Vec<(String, f64, bool)>,
    /// The points of the assignment's written answers (graded by hand).
    pub manual_max: f64,
    pub execution_time: f64,
}

impl SubmissionReport {
    /// A submission that could not be graded at all: every test at 0, with `error` as the reason.
    pub fn not_graded(
        submission: &Path,
        planned: Vec<(String, f64, bool)>,
        manual_max: f64,
        error: String,
        execution_time: f64,
    ) -> Self {
        SubmissionReport {
            submission: submission
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
            run: None,
            error: Some(error),
            notes: Vec::new(),
            answers: Vec::new(),
            planned,
            manual_max,
            execution_time,
        }
    }

    /// The test results, or every planned test at 0 when nothing could run.
    pub fn tests(&self) -> Vec<TestResult> {
        match &self.run {
            Some(run) => run.tests.clone(),
            None => self
                .planned
                .iter()
                .map(|(id, points, hidden)| TestResult {
                    id: id.clone(),
                    max_score: *points,
                    score: 0.0,
                    hidden: *hidden,
                    passed: false,
                    message: self.error.clone().unwrap_or_default(),
                    output: String::new(),
                })
                .collect(),
        }
    }

    pub fn score(&self) -> f64 {
        self.tests().iter().map(|t| t.score).fold(0.0, |a, b| a + b)
    }

    pub fn max_score(&self) -> f64 {
        self.planned
            .iter()
            .map(|(_, p, _)| p)
            .fold(0.0, |a, b| a + b)
    }

    pub fn manual_points(&self) -> f64 {
        self.manual_max
    }

    /// Gradescope's `results.json`.
    pub fn results_json(&self) -> Value {
        let tests: Vec<Value> = self
            .tests()
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut output = t.message.clone();
                if !t.output.trim().is_empty() {
                    if !output.is_empty() {
                        output.push_str("\n\n");
                    }
                    output.push_str(&format!("It printed:\n{}", t.output.trim_end()));
                }
                json!({
                    "name": if t.hidden { format!("{} (hidden test)", t.id) } else { t.id.clone() },
                    "number": (i + 1).to_string(),
                    "score": round(t.score),
                    "max_score": t.max_score,
                    "status": if t.passed { "passed" } else { "failed" },
                    "output": output,
                    "output_format": "text",
                    "visibility": if t.hidden { HIDDEN_VISIBILITY } else { "visible" },
                })
            })
            .collect();
        json!({
            "score": round(self.score()),
            "execution_time": self.execution_time.round() as u64,
            "output": self.summary(),
            "output_format": "md",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": tests,
            "extra_data": {
                "max_score": self.max_score(),
                "manual_points": self.manual_points(),
                "error": self.error,
            },
        })
    }

    /// The overall message: score, and notes on how the notebook was read.
    fn summary(&self) -> String {
        let mut text = format!(
            "Autograded score: {} / {}",
            fmt_points(self.score()),
            fmt_points(self.max_score())
        );
        if self.manual_points() > 0.0 {
            text.push_str(&format!(
                " (written answers, {} points, are graded by hand)",
                fmt_points(self.manual_points())
            ));
        }
        text.push('\n');
        if let Some(error) = &self.error {
            text.push_str(&format!(
                "\n**Your notebook could not be graded:** {error}\n"
            ));
        }
        for note in self
            .notes
            .iter()
            .chain(self.run.iter().flat_map(|r| r.notes.iter()))
        {
            text.push_str(&format!("\n- {note}"));
        }
        text
    }

    /// The student's feedback file (markdown): score, each test, notes.
    pub fn feedback_markdown(&self) -> String {
        let mut md = format!("# Feedback: {}\n\n{}\n\n", self.submission, self.summary());
        md.push_str("| test | points | result |\n|---|---|---|\n");
        for t in self.tests() {
            let name = if t.hidden {
                format!("{} (hidden)", t.id)
            } else {
                t.id.clone()
            };
            let result = if t.passed {
                "passed"
            } else if t.score > 0.0 {
                "partial"
            } else {
                "failed"
            };
            md.push_str(&format!(
                "| {name} | {} / {} | {result} |\n",
                fmt_points(t.score),
                fmt_points(t.max_score)
            ));
        }
        for t in self
            .tests()
            .iter()
            .filter(|t| !t.message.is_empty() || !t.output.trim().is_empty())
        {
            md.push_str(&format!("\n## {}\n", t.id));
            if !t.message.is_empty() {
                md.push_str(&format!("\n```text\n{}\n```\n", t.message.trim_end()));
            }
            if !t.output.trim().is_empty() {
                md.push_str(&format!(
                    "\nIt printed:\n\n```text\n{}\n```\n",
                    t.output.trim_end()
                ));
            }
        }
        md
    }

    /// The written answers, for whoever grades them by hand.
    pub fn answers_markdown(&self) -> String {
        let mut md = format!("# Written answers: {}\n", self.submission);
        for a in &self.answers {
            let text = if a.text.trim().is_empty() {
                "(no answer)"
            } else {
                a.text.trim()
            };
            md.push_str(&format!(
                "\n## {} ({} points)\n\n{}\n",
                a.id,
                fmt_points(a.points),
                text
            ));
        }
        md
    }

    /// Writes `results.json`, `feedback.md`, `answers.md` and, if it ran, `graded.ipynb` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        if let Some(run) = &self.run {
            run.notebook.write(&dir.join("graded.ipynb"))?;
        }
        if !self.answers.is_empty() {
            write_atomic(&dir.join("answers.md"), self.answers_markdown().as_bytes())?;
        }
        write_atomic(
            &dir.join("feedback.md"),
            self.feedback_markdown().as_bytes(),
        )?;
        let json = serde_json::to_string_pretty(&self.results_json())? + "\n";
        write_atomic(&dir.join("results.json"), json.as_bytes())
    }
}

/// Scores to 4 decimals (partial credit can be any fraction).
fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

pub fn fmt_points(x: f64) -> String {
    // `+ 0.0` turns -0 (the sum of nothing) into 0.
    let r = round(x) + 0.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r}")
    }
}

/// One CSV field, quoted when it needs to be.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// `grades.csv` from the `results.json` files of every graded submission:
/// `submission, score, max_score, status, <one column per test>, manual_points`.
pub fn grades_csv(test_ids: &[String], rows: &[(String, Value)]) -> String {
    let mut csv = String::from("submission,score,max_score,status");
    for id in test_ids {
        csv.push(',');
        csv.push_str(&csv_field(id));
    }
    csv.push_str(",manual_points\n");
    for (name, results) in rows {
        let error = results["extra_data"]["error"].as_str();
        let status = if error.is_some() {
            "not graded"
        } else {
            "graded"
        };
        let number = |v: &Value| fmt_points(v.as_f64().unwrap_or(0.0));
        csv.push_str(&format!(
            "{},{},{},{status}",
            csv_field(name),
            number(&results["score"]),
            number(&results["extra_data"]["max_score"])
        ));
        for (i, _) in test_ids.iter().enumerate() {
            csv.push_str(&format!(",{}", number(&results["tests"][i]["score"])));
        }
        csv.push_str(&format!(
            ",{}\n",
            number(&results["extra_data"]["manual_points"])
        ));
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting_and_points_print_plainly() {
        assert_eq!(csv_field("alice"), "alice");
        assert_eq!(csv_field("o'neil, \"bob\""), "\"o'neil, \"\"bob\"\"\"");
        assert_eq!(fmt_points(2.0), "2");
        assert_eq!(fmt_points(1.0 / 3.0), "0.3333");
    }
}
