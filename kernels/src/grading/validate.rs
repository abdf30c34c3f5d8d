//! `replearn-grade validate`: an assignment is sound when every cell runs
//! with its solutions, which score full marks, its student version scores
//! zero on every test with points, and its variant solutions prove the tests:
//! each correct variant keeps every point, each wrong one loses exactly the
//! points its metadata says. No grader we know of checks its own tests so.
use super::assign::{assign, check_source};
use super::grade::{first_lines, grade_notebook, GradeOptions, GradeRun, GradingSession};
use super::report::fmt_points;
use super::roles::{CellKind, CellRole};
use super::splice::splice;
use crate::notebook::{cell_label, cell_source, is_code, Notebook};
use anyhow::Result;
use std::path::Path;

/// How one variant solution fared.
#[derive(Debug, Clone)]
pub struct VariantResult {
    pub id: String,
    pub of: String,
    pub correct: bool,
    /// Points it must lose (0 for a correct variant).
    pub loses: f64,
    /// Points it lost.
    pub lost: f64,
    /// The tests it failed, with the first line of each message.
    pub failed: Vec<String>,
}

impl VariantResult {
    fn problem(&self) -> Option<String> {
        let failed = if self.failed.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.failed.join("; "))
        };
        if self.correct && self.lost > 1e-9 {
            Some(format!(
                "correct variant '{}' of '{}' loses {} point(s){failed}: a test rejects a right answer",
                self.id,
                self.of,
                fmt_points(self.lost)
            ))
        } else if !self.correct && self.lost < 1e-9 {
            Some(format!(
                "wrong variant '{}' of '{}' keeps every point: no test catches it",
                self.id, self.of
            ))
        } else if !self.correct && (self.lost - self.loses).abs() > 1e-9 {
            Some(format!(
                "wrong variant '{}' of '{}' loses {} point(s), its metadata says {}{failed}",
                self.id,
                self.of,
                fmt_points(self.lost),
                fmt_points(self.loses)
            ))
        } else {
            None
        }
    }
}

/// Both runs, the variants, and what is wrong with the assignment (empty when valid).
#[derive(Debug, Clone)]
pub struct Validation {
    pub reference: GradeRun,
    pub student: GradeRun,
    pub variants: Vec<VariantResult>,
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
        if !self.variants.is_empty() {
            text.push_str("\n| variant | of | right or wrong | points it must lose | points it lost |\n|---|---|---|---|---|\n");
            for v in &self.variants {
                text.push_str(&format!(
                    "| {} | {} | {} | {} | {} |\n",
                    v.id,
                    v.of,
                    if v.correct { "right" } else { "wrong" },
                    fmt_points(v.loses),
                    fmt_points(v.lost)
                ));
            }
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
    let reference_nb = splice(source, &roles, source).notebook;
    let mut session = GradingSession::start(root, options)?;
    let reference = session.grade(&reference_nb, &roles);
    let variants = grade_variants(&mut session, &reference_nb, &roles);
    drop(session);
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
    problems.extend(variants.iter().filter_map(VariantResult::problem));
    Ok(Validation {
        reference,
        student,
        variants,
        problems,
    })
}

/// Grades each variant in the reference run's process: the variant replaces
/// its solution, then the tests after it run again (every cell after it for
/// `rerun: "all"`), then the solution is put back. A variant that fails to
/// run fails every test after it, as its solution would in a submission.
fn grade_variants(
    session: &mut GradingSession,
    notebook: &Notebook,
    roles: &[Option<CellRole>],
) -> Vec<VariantResult> {
    let cells = notebook.cells();
    let index_of = |id: &str| roles.iter().position(|r| r.as_ref().is_some_and(|r| r.id == id));
    let mut results = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        let Some((role, variant)) = role.as_ref().and_then(|r| Some((r, r.variant.as_ref()?))) else {
            continue;
        };
        let Some(solution) = index_of(&variant.of) else { continue };
        let later: Vec<usize> = (solution + 1..cells.len())
            .filter(|&j| is_code(&cells[j]))
            .filter(|&j| roles[j].as_ref().is_none_or(|r| r.kind != CellKind::Variant))
            .filter(|&j| variant.rerun_all || roles[j].as_ref().is_some_and(|r| r.kind == CellKind::Test))
            .collect();
        let tests_after = |j: &usize| roles[*j].as_ref().filter(|r| r.kind == CellKind::Test);
        let mut result = VariantResult {
            id: role.id.clone(),
            of: variant.of.clone(),
            correct: variant.correct,
            loses: variant.loses,
            lost: 0.0,
            failed: Vec::new(),
        };
        let ran = session.run_cell(&cell_source(&cells[i]));
        match ran.failure {
            Some(failure) => {
                for test in later.iter().filter_map(tests_after) {
                    result.lost += test.points;
                    result.failed.push(format!("{}: not run, the variant itself {}", test.id, first_lines(&failure.to_string(), 1)));
                }
            }
            None => {
                for &j in &later {
                    let source = cell_source(&cells[j]);
                    let outcome = session.run_cell(&source);
                    if let Some(test) = tests_after(&j) {
                        let scored = session.score(test, &source, &outcome, &[]);
                        if scored.score < scored.max_score - 1e-9 {
                            result.lost += scored.max_score - scored.score;
                            result.failed.push(format!("{}: {}", test.id, first_lines(&scored.message, 1)));
                        }
                    }
                }
            }
        }
        // The solution back, and for rerun = all what was computed from it.
        let mut restore = vec![solution];
        if variant.rerun_all {
            restore.extend(later.iter().copied().filter(|j| tests_after(j).is_none()));
        }
        for j in restore {
            if let Some(failure) = session.run_cell(&cell_source(&cells[j])).failure {
                result.failed.push(format!(
                    "{} failed when put back after the variant: {}",
                    cell_label(j, &cells[j]),
                    first_lines(&failure.to_string(), 1)
                ));
            }
        }
        results.push(result);
    }
    results
}

