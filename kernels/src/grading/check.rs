//! `replearn-grade check`: a student runs the visible tests of their own
//! notebook, exactly as the grader would, and sees each result and the score.
use super::roles::{parse_roles, CellKind};
use crate::grading::grade::{grade_notebook, GradeOptions, GradeRun};
use crate::notebook::{cell_source, replearn_meta, Notebook};
use crate::paths::short_hash;
use crate::grading::report::fmt_points;
use anyhow::Result;
use std::path::Path;

/// The report `check` prints.
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub run: GradeRun,
    /// Test or locked cells whose text differs from what the assignment gave.
    pub edited: Vec<String>,
    pub hidden_tests: u64,
    pub hidden_points: f64,
    pub manual_points: f64,
}

impl CheckReport {
    pub fn all_passed(&self) -> bool {
        self.run.tests.iter().all(|t| t.passed)
    }

    pub fn render(&self, name: &str) -> String {
        let mut text = format!("{name}\n");
        let width = self.run.tests.iter().map(|t| t.id.len()).max().unwrap_or(4);
        for t in &self.run.tests {
            let status = if t.passed {
                "passed".to_string()
            } else if t.score > 0.0 {
                "partial".to_string()
            } else {
                "FAILED".to_string()
            };
            text.push_str(&format!(
                "  {:<width$}  {:>5} / {:<3}  {status}\n",
                t.id,
                fmt_points(t.score),
                fmt_points(t.max_score)
            ));
            if !t.message.is_empty() {
                for line in t.message.lines().take(12) {
                    text.push_str(&format!("      {line}\n"));
                }
            }
        }
        text.push_str(&format!(
            "visible tests: {} / {} points\n",
            fmt_points(self.run.score()),
            fmt_points(self.run.max_score())
        ));
        if self.hidden_tests > 0 {
            text.push_str(&format!(
                "hidden tests: {} more test(s), {} points, run only when your notebook is graded\n",
                self.hidden_tests,
                fmt_points(self.hidden_points)
            ));
        }
        if self.manual_points > 0.0 {
            text.push_str(&format!(
                "written answers: {} points, graded by hand\n",
                fmt_points(self.manual_points)
            ));
        }
        for id in &self.edited {
            text.push_str(&format!(
                "note: you changed cell '{id}'; the grader runs it as the assignment gives it, so your change will not count\n"
            ));
        }
        for note in &self.run.notes {
            text.push_str(&format!("note: {note}\n"));
        }
        text
    }
}

/// Runs a student's notebook as it is and scores its visible tests.
pub fn check(root: &Path, notebook: &Notebook, options: &GradeOptions) -> Result<CheckReport> {
    let roles = parse_roles(notebook)?;
    anyhow::ensure!(
        roles.iter().flatten().any(|r| r.kind == CellKind::Test),
        "this notebook has no test cells (metadata.replearn.kind = \"test\"): is it a replearn assignment?"
    );
    let edited = notebook
        .cells()
        .iter()
        .filter_map(|cell| {
            let meta = replearn_meta(cell)?;
            let checksum = meta.get("checksum")?.as_str()?;
            (short_hash(cell_source(cell).as_bytes()) != checksum)
                .then(|| meta.get("id")?.as_str().map(str::to_string))?
        })
        .collect();
    let meta = &notebook.json["metadata"]["replearn"];
    let manual_points = crate::grading::autograde::manual_points(&roles);
    let run = grade_notebook(root, notebook, &roles, options)?;
    Ok(CheckReport {
        run,
        edited,
        hidden_tests: meta["hidden_tests"].as_u64().unwrap_or(0),
        hidden_points: meta["hidden_points"].as_f64().unwrap_or(0.0),
        manual_points,
    })
}
