//! `replearn-grade`: runs and grades replearn notebooks headlessly, with the
//! Jupyter kernel's start-up. Commands, flags and exit codes: [`USAGE`].
use anyhow::{bail, Result};
use crate::cells::run::{run_notebook, RunOptions};
use crate::cells::warm;
use crate::grading::assign::check_source;
use crate::grading::autograde::{
    autograde, grade_submission, manual_points, planned_tests, AutogradeOptions, GRADER_FAULT,
};
use crate::grading::check::check;
use crate::grading::grade::{GradeOptions, MIN_MEMORY_MB};
use crate::grading::report::SubmissionReport;
use crate::grading::validate::validate;
use crate::notebook::Notebook;
use crate::paths;
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "usage:
  replearn-grade run NOTEBOOK.ipynb [-o OUT.ipynb] [--timeout SECONDS] [--keep-going] [--timings]
      Run every code cell with the kernel's start-up; write the outputs to OUT
      (default: NOTEBOOK.out.ipynb). Exits 1 naming the first failing cell.
  replearn-grade assign SOURCE.ipynb -o STUDENT.ipynb
      Make the student version: solutions replaced by FIXME stubs, hidden tests
      removed, outputs cleared.
  replearn-grade autograde --source SOURCE.ipynb --out DIR [--jobs N] [--timeout SECONDS]
                           [--memory MB] [--seed N] [--shard I/N] [--regrade] SUBMISSION.ipynb...
      Grade each submission in its own process: DIR/<name>/results.json
      (Gradescope), feedback.md (for the student), answers.md (written answers),
      graded.ipynb and grader.log (for you), and DIR/grades.csv. What DIR already
      holds graded with the same SOURCE is kept (--regrade grades it again).
      --shard I/N grades only shard I of N (by a hash of each file's name): give
      every machine the same submission list and its own I and DIR.
  replearn-grade merge --out DIR SHARD_DIR...
      Combine the shards' folders into DIR with one DIR/grades.csv; refuses
      (naming them) submissions not graded or graded twice.
  replearn-grade check NOTEBOOK.ipynb [--timeout SECONDS] [--memory MB]
      Run a student's notebook as it is and print each visible test's result
      and the score.
  replearn-grade validate SOURCE.ipynb [--timeout SECONDS] [--memory MB] [-o DIR]
      Check an assignment: every cell runs with its solutions, which score full
      marks, and its student version scores zero on every test with points.
      -o DIR writes both graded runs there (reference.ipynb, student.ipynb).
  replearn-grade warm [--force]
      Pre-build the folder every kernel and run starts from (done by make).

--timeout limits each cell's running time (compiling is not counted), default 300 s;
--memory limits the heap of the process running the cells (default: none);
--seed seeds libtorch after the start-up, the same for every run (default: the
notebook's metadata.replearn.seed, else 0). While grading, REPLEARN_GRADING=1 is
set, so a notebook can shorten its training budgets.

Exit codes: 0 done (for check: every visible test passed; for validate: valid;
autograde: every submission graded, whatever its score); 1 a cell or test failed
(run, check) or the assignment is not valid (validate); 2 bad usage, or an
unreadable or malformed notebook given by the instructor; 3 the grader itself
failed on some submission (its results.json says so and scores it 0).";

/// The binary's `main` (call nothing before it: it may turn this process into
/// evcxr's child).
pub fn main() {
    crate::cells::child::runtime_hook();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match dispatch(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("replearn-grade: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

/// Flags and positional arguments, parsed the same way for every command.
#[derive(Default)]
struct Args {
    positional: Vec<PathBuf>,
    output: Option<PathBuf>,
    source: Option<PathBuf>,
    dest: Option<PathBuf>,
    timeout: Option<Duration>,
    memory_mb: Option<u64>,
    seed: Option<u64>,
    jobs: Option<usize>,
    shard: Option<crate::grading::shard::Shard>,
    regrade: bool,
    keep_going: bool,
    timings: bool,
    force: bool,
}

fn number<T: std::str::FromStr>(flag: &str, value: Option<&String>) -> Result<T> {
    let value = value.map(String::as_str).unwrap_or("");
    value
        .parse()
        .map_err(|_| anyhow::anyhow!("{flag} needs a number, got \"{value}\""))
}

fn parse(args: &[String]) -> Result<Args> {
    let mut parsed = Args::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-o" | "--output" | "--out" => parsed.output = it.next().map(PathBuf::from),
            "--source" => parsed.source = it.next().map(PathBuf::from),
            "--dest" => parsed.dest = it.next().map(PathBuf::from),
            "--timeout" => {
                let secs: f64 = number(arg, it.next())?;
                anyhow::ensure!(secs > 0.0, "--timeout must be positive");
                parsed.timeout = Some(Duration::from_secs_f64(secs));
            }
            "--memory" => {
                let mb: u64 = number(arg, it.next())?;
                anyhow::ensure!(
                    mb >= MIN_MEMORY_MB,
                    "--memory {mb}: the notebook process needs at least {MIN_MEMORY_MB} MB to start \
                     (measured: under 1,024 MB it cannot start its threads); give --memory {MIN_MEMORY_MB} or more"
                );
                parsed.memory_mb = Some(mb);
            }
            "--seed" => parsed.seed = Some(number(arg, it.next())?),
            "--jobs" | "-j" => parsed.jobs = Some(number(arg, it.next())?),
            "--shard" => parsed.shard = Some(crate::grading::shard::Shard::parse(it.next().map(String::as_str).unwrap_or(""))?),
            "--regrade" => parsed.regrade = true,
            "--keep-going" => parsed.keep_going = true,
            "--timings" => parsed.timings = true,
            "--force" => parsed.force = true,
            other if other.starts_with('-') => bail!("unknown option \"{other}\"\n{USAGE}"),
            other => parsed.positional.push(PathBuf::from(other)),
        }
    }
    Ok(parsed)
}

impl Args {
    /// Options for grading `notebook`: the seed is `--seed`, else the
    /// notebook's `metadata.replearn.seed`, else 0.
    fn grade_options(&self, notebook: &Notebook) -> GradeOptions {
        let default = GradeOptions::default();
        let notebook_seed = notebook.json["metadata"]["replearn"]["seed"].as_u64();
        GradeOptions {
            timeout: self.timeout.unwrap_or(default.timeout),
            memory_mb: self.memory_mb,
            seed: self.seed.or(notebook_seed).unwrap_or(default.seed),
        }
    }

    fn one_notebook(&self, command: &str) -> Result<PathBuf> {
        match self.positional.as_slice() {
            [one] => Ok(one.clone()),
            _ => bail!("{command} needs exactly one notebook\n{USAGE}"),
        }
    }
}

fn dispatch(args: &[String]) -> Result<i32> {
    let Some(command) = args.first() else {
        eprintln!("{USAGE}");
        return Ok(2);
    };
    let parsed = parse(&args[1..])?;
    match command.as_str() {
        "run" => cmd_run(parsed),
        "assign" => cmd_assign(parsed),
        "autograde" => cmd_autograde(parsed),
        "merge" => cmd_merge(parsed),
        "grade-one" => cmd_grade_one(parsed),
        "check" => cmd_check(parsed),
        "validate" => cmd_validate(parsed),
        "warm" => {
            let root = paths::repo_root();
            let rebuilt = warm::warm(&root, parsed.force)?;
            println!(
                "kernel folder for {}: {}",
                root.display(),
                if rebuilt { "built" } else { "up to date" }
            );
            Ok(0)
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(0)
        }
        other => {
            eprintln!("replearn-grade: unknown command \"{other}\"\n{USAGE}");
            Ok(2)
        }
    }
}

fn cmd_run(args: Args) -> Result<i32> {
    let input = args.one_notebook("run")?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| input.with_extension("out.ipynb"));
    if output == input {
        bail!("run would overwrite {}: choose another -o", input.display());
    }
    let options = RunOptions {
        runner: crate::cells::runner::RunnerConfig {
            timeout: args.timeout,
            memory_mb: args.memory_mb,
            seed: args.seed,
            env: Vec::new(),
            start_limit: None,
        },
        keep_going: args.keep_going,
        timings: args.timings,
    };
    let mut notebook = Notebook::read(&input)?;
    let report = run_notebook(&paths::repo_root(), &mut notebook, &options)?;
    notebook.write(&output)?;
    match report.failures.first() {
        None => {
            println!(
                "{}: {} code cells ran, all passed; outputs in {}",
                input.display(),
                report.cells_run,
                output.display()
            );
            Ok(0)
        }
        Some(first) => {
            eprintln!(
                "{}: {} failed: {}",
                input.display(),
                first.label,
                first.message
            );
            eprintln!("outputs so far are in {}", output.display());
            Ok(1)
        }
    }
}

fn cmd_assign(args: Args) -> Result<i32> {
    let (Ok(input), Some(output)) = (args.one_notebook("assign"), args.output.clone()) else {
        bail!("assign needs SOURCE.ipynb -o STUDENT.ipynb\n{USAGE}");
    };
    if input == output {
        bail!(
            "assign would overwrite the instructor notebook {}: choose another -o",
            input.display()
        );
    }
    let source = Notebook::read(&input)?;
    let student = crate::grading::assign::assign(&source)
        .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    student.write(&output)?;
    println!(
        "{}: student version written to {}",
        input.display(),
        output.display()
    );
    Ok(0)
}

fn cmd_autograde(args: Args) -> Result<i32> {
    let (Some(source), Some(out)) = (args.source.clone(), args.output.clone()) else {
        bail!("autograde needs --source SOURCE.ipynb --out DIR\n{USAGE}");
    };
    if args.positional.is_empty() {
        bail!("autograde needs at least one submission\n{USAGE}");
    }
    if let Some(missing) = args.positional.iter().find(|p| !p.is_file()) {
        bail!("no such submission file: {}", missing.display());
    }
    let source_nb = Notebook::read(&source)?;
    let options = AutogradeOptions {
        grade: args.grade_options(&source_nb),
        jobs: args.jobs.unwrap_or(1),
        shard: args.shard,
        regrade: args.regrade,
    };
    let summary = autograde(&source, &source_nb, &out, &args.positional, &options)?;
    println!(
        "graded {} submission(s){}{}; grades in {}",
        summary.graded,
        if summary.kept > 0 { format!(", kept {} graded before", summary.kept) } else { String::new() },
        args.shard.map(|s| format!(" (shard {}/{}: merge the shards' folders with `replearn-grade merge`)", s.index, s.count)).unwrap_or_default(),
        out.join("grades.csv").display()
    );
    if summary.grader_faults > 0 {
        eprintln!(
            "the grader itself failed on {} submission(s): see grader.log in their folders",
            summary.grader_faults
        );
        return Ok(GRADER_FAULT);
    }
    Ok(0)
}

fn cmd_merge(args: Args) -> Result<i32> {
    let Some(out) = args.output.clone() else {
        bail!("merge needs --out DIR and the shards' folders\n{USAGE}");
    };
    let summary = crate::grading::shard::merge(&args.positional, &out)?;
    println!("merged {} submission(s) from {} shard folder(s); grades in {}", summary.merged, args.positional.len(), out.join("grades.csv").display());
    Ok(0)
}

/// One submission, in this process (what `autograde` runs for each).
fn cmd_grade_one(args: Args) -> Result<i32> {
    let (Some(source_path), Some(dest)) = (args.source.clone(), args.dest.clone()) else {
        bail!("grade-one needs --source SOURCE.ipynb --dest DIR SUBMISSION.ipynb");
    };
    let submission = args.one_notebook("grade-one")?;
    let source = Notebook::read(&source_path)?;
    let roles =
        check_source(&source).map_err(|e| anyhow::anyhow!("{}: {e}", source_path.display()))?;
    let options = args.grade_options(&source);
    let root = paths::repo_root();
    let graded = std::panic::catch_unwind(|| {
        grade_submission(&root, &source, &roles, &submission, &options)
    });
    let (report, fault) = match graded {
        Ok(result) => result,
        Err(_) => {
            let error = "the grader failed on your notebook (not your fault; your instructor has the details)".to_string();
            (
                SubmissionReport::not_graded(
                    &submission,
                    planned_tests(&roles),
                    manual_points(&roles),
                    error,
                    0.0,
                ),
                true,
            )
        }
    };
    report.write(&dest)?;
    if let Some(error) = &report.error {
        eprintln!("{}: {error}", submission.display());
    }
    Ok(if fault { GRADER_FAULT } else { 0 })
}

fn cmd_check(args: Args) -> Result<i32> {
    let path = args.one_notebook("check")?;
    let notebook = Notebook::read(&path)?;
    let report = check(
        &paths::repo_root(),
        &notebook,
        &args.grade_options(&notebook),
    )
    .map_err(|e| anyhow::anyhow!("{}: {e:#}", path.display()))?;
    print!("{}", report.render(&path.display().to_string()));
    Ok(if report.all_passed() { 0 } else { 1 })
}

fn cmd_validate(args: Args) -> Result<i32> {
    let path = args.one_notebook("validate")?;
    let source = Notebook::read(&path)?;
    let validation = validate(&paths::repo_root(), &source, &args.grade_options(&source))
        .map_err(|e| anyhow::anyhow!("{}: {e:#}", path.display()))?;
    print!("{}", validation.render());
    if let Some(dir) = &args.output {
        validation.write_runs(dir)?;
        println!("graded runs written to {}", dir.display());
    }
    if validation.is_valid() {
        println!("{}: valid", path.display());
        Ok(0)
    } else {
        eprintln!(
            "{}: not valid ({} problem(s) above)",
            path.display(),
            validation.problems.len()
        );
        Ok(1)
    }
}
