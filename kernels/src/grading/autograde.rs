//! `replearn-grade autograde`: grade many submissions, each in its own process
//! and build folder, `--jobs` at a time, and always write a result for each.
use super::assign::check_source;
use super::roles::{CellKind, CellRole};
use crate::cells::runner::COMPILE_ALLOWANCE;
use crate::grading::grade::{grade_notebook, GradeOptions, START_LIMIT};
use crate::notebook::{replearn_meta, write_atomic, Notebook};
use crate::grading::report::{grades_csv, SubmissionReport};
use crate::grading::shard::{fingerprint, read_results, Shard, ShardManifest};
use crate::grading::splice::splice;
use anyhow::{Context, Result};
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Exit code of `grade-one` when the grader itself failed (results.json still written).
pub const GRADER_FAULT: i32 = 3;

/// The tests an assignment has: (id, points, hidden), in order.
pub fn planned_tests(roles: &[Option<CellRole>]) -> Vec<(String, f64, bool)> {
    roles
        .iter()
        .flatten()
        .filter(|r| r.kind == CellKind::Test)
        .map(|r| (r.id.clone(), r.points, r.hidden))
        .collect()
}

/// The points of an assignment's written answers.
pub fn manual_points(roles: &[Option<CellRole>]) -> f64 {
    roles
        .iter()
        .flatten()
        .filter(|r| r.kind == CellKind::Answer)
        .map(|r| r.points)
        .fold(0.0, |a, b| a + b)
}

/// Grades one submission in this process. Never fails: what went wrong is in the report.
pub fn grade_submission(
    root: &Path,
    source: &Notebook,
    roles: &[Option<CellRole>],
    path: &Path,
    options: &GradeOptions,
) -> (SubmissionReport, bool) {
    let started = Instant::now();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut report = SubmissionReport {
        submission: name,
        run: None,
        error: None,
        notes: Vec::new(),
        answers: Vec::new(),
        planned: planned_tests(roles),
        manual_max: manual_points(roles),
        execution_time: 0.0,
    };
    let mut grader_fault = false;
    match Notebook::read(path) {
        Err(e) => {
            report.error = Some(format!(
                "{e:#}. Upload the .ipynb file that JupyterLab saved (File > Save, then download it), not a copy edited by hand."
            ))
        }
        Ok(submission) => {
            let source_ids: HashSet<&str> = roles.iter().flatten().map(|r| r.id.as_str()).collect();
            let matching = submission
                .cells()
                .iter()
                .filter_map(|c| replearn_meta(c).and_then(|m| m.get("id")).and_then(Value::as_str))
                .filter(|id| source_ids.contains(id))
                .count();
            if matching == 0 {
                report.notes.push(
                    "None of this assignment's cells were found in your notebook: is it the right notebook? It was graded as if nothing was written."
                        .into(),
                );
            }
            let spliced = splice(source, roles, &submission);
            report.notes.extend(spliced.notes);
            report.answers = spliced.answers;
            match grade_notebook(root, &spliced.notebook, roles, options) {
                Ok(run) => report.run = Some(run),
                Err(e) => {
                    grader_fault = true;
                    report.error = Some(format!("the grader could not run your notebook (not your fault; your instructor has been told): {e:#}"));
                }
            }
        }
    }
    report.execution_time = started.elapsed().as_secs_f64();
    (report, grader_fault)
}

/// One submission to grade and where its results go.
#[derive(Debug, Clone)]
pub struct Job {
    pub submission: PathBuf,
    /// The folder name under the output folder (the file's stem, made unique).
    pub name: String,
}

/// Output folder names: each file's stem; on a clash, `<parent folder>_<stem>`, then a number.
pub fn job_names(submissions: &[PathBuf]) -> Vec<Job> {
    let mut used = HashSet::new();
    submissions
        .iter()
        .map(|path| {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| "submission".into());
            let parent = path
                .parent()
                .and_then(Path::file_name)
                .map(|p| p.to_string_lossy().to_string());
            let mut candidates = vec![stem.clone()];
            if let Some(parent) = parent {
                candidates.push(format!("{parent}_{stem}"));
            }
            let name = candidates
                .into_iter()
                .find(|c| !used.contains(c))
                .unwrap_or_else(|| {
                    (2..)
                        .map(|i| format!("{stem}_{i}"))
                        .find(|c| !used.contains(c))
                        .expect("a free name")
                });
            used.insert(name.clone());
            Job {
                submission: path.clone(),
                name,
            }
        })
        .collect()
}

/// How long one submission's grading may take in all before it counts as
/// stalled: the start-up limit, and per code cell the time limit and the
/// allowance for compiling, and a minute for writing the results.
pub fn job_limit(source: &Notebook, options: &GradeOptions) -> Duration {
    let cells = source.cells().iter().filter(|c| crate::notebook::is_code(c)).count() as u32;
    START_LIMIT + (options.timeout + COMPILE_ALLOWANCE) * cells.max(1) + Duration::from_secs(60)
}

/// Options of `autograde`.
#[derive(Debug, Clone)]
pub struct AutogradeOptions {
    pub grade: GradeOptions,
    pub jobs: usize,
    /// Grade only this shard's submissions (all of them when `None`).
    pub shard: Option<Shard>,
    /// Grade again what this source already graded in `out` (by default it is kept).
    pub regrade: bool,
}

/// The file in a graded folder naming the source notebook's fingerprint.
pub const GRADED_WITH: &str = "graded_with";

/// What `autograde` did.
#[derive(Debug, Clone, Default)]
pub struct AutogradeSummary {
    pub graded: usize,
    pub grader_faults: usize,
    /// Submissions already graded with the same source, kept as they were.
    pub kept: usize,
}

/// Grades every submission (of the shard, with `--shard`) in a child process
/// of this binary (`grade-one`), `jobs` at a time, then writes `grades.csv`
/// and `shard.json`. A submission whose folder already holds results from the
/// same source notebook is kept, not graded again (unless `regrade`), so a
/// re-run after a crash or a lost machine grades only what is missing.
pub fn autograde(
    source_path: &Path,
    source: &Notebook,
    out: &Path,
    submissions: &[PathBuf],
    options: &AutogradeOptions,
) -> Result<AutogradeSummary> {
    let roles =
        check_source(source).map_err(|e| anyhow::anyhow!("{}: {e}", source_path.display()))?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let exe = std::env::current_exe().context("finding replearn-grade itself")?;
    let all = job_names(submissions);
    let shard = options.shard.unwrap_or(Shard { index: 1, count: 1 });
    let source_fingerprint = fingerprint(&std::fs::read(source_path).with_context(|| format!("reading {}", source_path.display()))?);
    ShardManifest {
        shard,
        source: source_fingerprint.clone(),
        all: all.iter().map(|j| (j.name.clone(), super::shard::shard_of(&j.name, shard.count))).collect(),
        tests: planned_tests(&roles).into_iter().map(|(id, _, _)| id).collect(),
    }
    .write(out)?;
    let jobs: Vec<Job> = all.into_iter().filter(|j| shard.owns(&j.name)).collect();
    let total = jobs.len();
    let mut summary = AutogradeSummary::default();
    // Each job's results.json, read once, in submission order (for grades.csv).
    let mut results: Vec<Option<Value>> = vec![None; total];
    for (slot, job) in jobs.iter().enumerate() {
        let dest = out.join(&job.name);
        let same_source = std::fs::read_to_string(dest.join(GRADED_WITH)).is_ok_and(|f| f.trim() == source_fingerprint);
        if !options.regrade && same_source {
            if let Some(json) = read_results(&dest) {
                results[slot] = Some(json);
                summary.kept += 1;
            }
        }
    }
    if summary.kept > 0 {
        println!("{} of {total} submission(s) already graded with this source in {}: kept (--regrade grades them again)", summary.kept, out.display());
    }
    let limit = job_limit(source, &options.grade);
    let mut queue = jobs.iter().cloned().enumerate().filter(|(slot, _)| results[*slot].is_none()).collect::<Vec<_>>().into_iter();
    let mut running: Vec<(Child, usize, Job, Instant)> = Vec::new();
    loop {
        while running.len() < options.jobs.max(1) {
            let Some((slot, job)) = queue.next() else {
                break;
            };
            let dest = out.join(&job.name);
            std::fs::create_dir_all(&dest)?;
            // Until it has finished, this folder's results are not this source's.
            let _ = std::fs::remove_file(dest.join(GRADED_WITH));
            let log = std::fs::File::create(dest.join("grader.log"))?;
            let child = Command::new(&exe)
                .arg("grade-one")
                .arg("--source")
                .arg(source_path)
                .arg("--dest")
                .arg(&dest)
                .arg("--timeout")
                .arg(options.grade.timeout.as_secs_f64().to_string())
                .arg("--seed")
                .arg(options.grade.seed.to_string())
                .args(
                    options
                        .grade
                        .memory_mb
                        .map(|m| vec!["--memory".to_string(), m.to_string()])
                        .unwrap_or_default(),
                )
                .arg(&job.submission)
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()
                .context("starting replearn-grade grade-one")?;
            running.push((child, slot, job, Instant::now()));
        }
        if running.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        // A job past its bound has stopped making progress: kill it; the
        // results it did not write are written below.
        let mut stopped: Vec<usize> = Vec::new();
        for (child, slot, _, started) in running.iter_mut() {
            if started.elapsed() > limit && child.try_wait()?.is_none() {
                let _ = child.kill();
                let _ = child.wait();
                stopped.push(*slot);
            }
        }
        let mut i = 0;
        while i < running.len() {
            let status = running[i].0.try_wait()?;
            let Some(status) = status else {
                i += 1;
                continue;
            };
            let (_, slot, job, started) = running.swap_remove(i);
            let dest = out.join(&job.name);
            let written = std::fs::read_to_string(dest.join("results.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok());
            let valid = written.is_some();
            let json = match written {
                Some(json) => json,
                None => {
                    let error = if stopped.contains(&slot) {
                        format!("grading was stopped after {} s without finishing (the notebook process stopped making progress); this is not your fault and your instructor has the details", limit.as_secs())
                    } else {
                        format!("the grader failed on your notebook ({status}); this is not your fault and your instructor has the details")
                    };
                    let report = SubmissionReport::not_graded(
                        &job.submission,
                        planned_tests(&roles),
                        manual_points(&roles),
                        error,
                        started.elapsed().as_secs_f64(),
                    );
                    report.write(&dest)?;
                    report.results_json()
                }
            };
            if !valid || status.code() == Some(GRADER_FAULT) {
                summary.grader_faults += 1;
            } else {
                write_atomic(&dest.join(GRADED_WITH), source_fingerprint.as_bytes())?;
            }
            summary.graded += 1;
            println!(
                "[{}/{total}] {}: {} / {} in {:.0} s{}",
                summary.graded + summary.kept,
                job.submission.display(),
                json["score"],
                json["extra_data"]["max_score"],
                started.elapsed().as_secs_f64(),
                if valid && status.success() {
                    String::new()
                } else {
                    format!(
                        " (grader problem: see {})",
                        dest.join("grader.log").display()
                    )
                }
            );
            results[slot] = Some(json);
        }
    }
    let rows: Vec<(String, Value)> = jobs
        .iter()
        .zip(results)
        .map(|(job, json)| (job.name.clone(), json.expect("every job finished")))
        .collect();
    let ids: Vec<String> = planned_tests(&roles)
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    write_atomic(&out.join("grades.csv"), grades_csv(&ids, &rows).as_bytes())?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_folders_are_unique() {
        let names: Vec<String> = job_names(&[
            "a/hw.ipynb".into(),
            "b/hw.ipynb".into(),
            "hw.ipynb".into(),
            "c/x.ipynb".into(),
        ])
        .into_iter()
        .map(|j| j.name)
        .collect();
        assert_eq!(names, ["hw", "b_hw", "hw_2", "x"]);
    }
}
