//! `replearn-grade`: runs replearn notebooks headlessly with the kernel's start-up.
//!
//! Exit codes: 0 success; 1 a cell failed; 2 bad usage or unreadable input.
use anyhow::Result;
use replearn_kernel::notebook::Notebook;
use replearn_kernel::run::{run_notebook, RunOptions};
use replearn_kernel::{paths, warm};
use std::path::PathBuf;
use std::time::Duration;

const USAGE: &str = "usage:
  replearn-grade run NOTEBOOK.ipynb [-o OUT.ipynb] [--timeout SECONDS] [--keep-going] [--timings]
      Run every code cell with the kernel's start-up; write the outputs to OUT
      (default: NOTEBOOK.out.ipynb). Exits 1 naming the first failing cell.
      --timings prints how long the start-up and each cell took.
  replearn-grade assign SOURCE.ipynb -o STUDENT.ipynb
      Make the student version: solutions replaced by FIXME stubs, hidden tests
      removed, outputs cleared. Exits 2 naming the cell if the source is malformed.
  replearn-grade warm [--force]
      Pre-build the folder every kernel and run starts from (done by make).";

fn main() {
    replearn_kernel::child::runtime_hook();
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

fn dispatch(args: &[String]) -> Result<i32> {
    match args.first().map(String::as_str) {
        Some("run") => cmd_run(&args[1..]),
        Some("assign") => cmd_assign(&args[1..]),
        Some("warm") => {
            let root = paths::repo_root();
            let rebuilt = warm::warm(&root, args.iter().any(|a| a == "--force"))?;
            println!("kernel folder for {}: {}", root.display(), if rebuilt { "built" } else { "up to date" });
            Ok(0)
        }
        _ => {
            eprintln!("{USAGE}");
            Ok(2)
        }
    }
}

fn cmd_run(args: &[String]) -> Result<i32> {
    let mut input = None;
    let mut output = None;
    let mut options = RunOptions::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-o" | "--output" => output = it.next().map(PathBuf::from),
            "--keep-going" => options.keep_going = true,
            "--timings" => options.timings = true,
            "--timeout" => {
                let value = it.next().map(String::as_str).unwrap_or("");
                let secs: f64 = value
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--timeout needs a number of seconds, got \"{value}\""))?;
                options.runner.timeout = Some(Duration::from_secs_f64(secs));
            }
            other if input.is_none() && !other.starts_with('-') => input = Some(PathBuf::from(other)),
            other => anyhow::bail!("unexpected argument \"{other}\"\n{USAGE}"),
        }
    }
    let Some(input) = input else { anyhow::bail!("run needs a notebook\n{USAGE}") };
    let output = output.unwrap_or_else(|| input.with_extension("out.ipynb"));
    let mut notebook = Notebook::read(&input)?;
    let report = run_notebook(&paths::repo_root(), &mut notebook, &options)?;
    notebook.write(&output)?;
    match report.failures.first() {
        None => {
            println!("{}: {} code cells ran, all passed; outputs in {}", input.display(), report.cells_run, output.display());
            Ok(0)
        }
        Some(first) => {
            eprintln!("{}: {} failed: {}", input.display(), first.label, first.message);
            eprintln!("outputs so far are in {}", output.display());
            Ok(1)
        }
    }
}

fn cmd_assign(args: &[String]) -> Result<i32> {
    let (input, output) = match args {
        [input, flag, output] if flag == "-o" || flag == "--output" => (PathBuf::from(input), PathBuf::from(output)),
        _ => anyhow::bail!("assign needs SOURCE.ipynb -o STUDENT.ipynb\n{USAGE}"),
    };
    if input == output {
        anyhow::bail!("assign would overwrite the instructor notebook {}: choose another -o", input.display());
    }
    let source = Notebook::read(&input)?;
    let student = replearn_kernel::assign::assign(&source)
        .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    student.write(&output)?;
    println!("{}: student version written to {}", input.display(), output.display());
    Ok(0)
}
