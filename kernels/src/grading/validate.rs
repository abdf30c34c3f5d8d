//! `replearn-grade validate`: an assignment is sound when its solutions score
//! full marks and its student version scores zero on every test with points.
use crate::grading::assign::{assign, check_source};
use crate::grading::grade::{grade_notebook, GradeOptions, GradeRun};
use crate::notebook::Notebook;
use crate::grading::report::fmt_points;
use crate::grading::splice::splice;
use anyhow::Result;
use std::path::Path;

/// Both runs, and what is wrong with the assignment (empty when valid).
#[derive(Debug, Clone)]
pub struct Validation {
    pub reference: GradeRun,
    pub student: GradeRun,
    pub problems: Vec<String>,
}

impl Validation {
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// Writes both graded runs, with their outputs, as `reference.ipynb` and
    /// `student.ipynb` into `dir` (for the instructor to read, and for tests).
    pub fn write_runs(&self, dir: &Path) -> Result<()> {
        self.reference.notebook.write(&dir.join("reference.ipynb"))?;
        self.student.notebook.write(&dir.join("student.ipynb"))
    }

    pub fn render(&self) -> String {
        let mut text = String::from(
            "| test | points | with the solutions | student version |\n|---|---|---|---|\n",
        );
        for (r, s) in self.reference.tests.iter().zip(&self.student.tests) {
            text.push_str(&format!(
                "| {}{} | {} | {} | {} |\n",
                r.id,
                if r.hidden { " (hidden)" } else { "" },
                fmt_points(r.max_score),
                fmt_points(r.score),
                fmt_points(s.score)
            ));
        }
        for p in &self.problems {
            text.push_str(&format!("problem: {p}\n"));
        }
        text
    }
}

/// Grades the source as a submission (its own solutions) and the student
/// version as a submission (the stubs), with the same seed and options.
pub fn validate(root: &Path, source: &Notebook, options: &GradeOptions) -> Result<Validation> {
    let roles = check_source(source)?;
    let reference = grade_notebook(
        root,
        &splice(source, &roles, source).notebook,
        &roles,
        options,
    )?;
    let student_nb = assign(source)?;
    let student = grade_notebook(
        root,
        &splice(source, &roles, &student_nb).notebook,
        &roles,
        options,
    )?;
    let mut problems = Vec::new();
    // A failing test is reported below with its own message.
    let test_labels: Vec<&str> = reference.tests.iter().map(|t| t.id.as_str()).collect();
    for (label, why) in &reference.failed_cells {
        if test_labels.iter().any(|id| label.contains(&format!("\"{id}\""))) {
            continue;
        }
        problems.push(format!(
            "{label} fails with the solutions: {}",
            why.lines().next().unwrap_or("")
        ));
    }
    for t in &reference.tests {
        if t.score < t.max_score || !t.passed {
            problems.push(format!(
                "test '{}' does not pass with the solutions: {}",
                t.id,
                t.message.lines().next().unwrap_or("")
            ));
        }
    }
    for t in student
        .tests
        .iter()
        .filter(|t| t.max_score > 0.0 && t.score > 0.0)
    {
        problems.push(format!(
            "test '{}' gives {} points to the student version, where nothing is written: make it depend on a solution, or give it 0 points",
            t.id,
            fmt_points(t.score)
        ));
    }
    Ok(Validation {
        reference,
        student,
        problems,
    })
}
