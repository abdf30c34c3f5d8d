//! `check_notebook()`: grade your own notebook's visible tests from inside it,
//! like otter's `grader.check_all()`.
use crate::{Error, Result};
use std::path::Path;
use std::process::Command;

/// Runs `replearn-grade check` on the notebook this kernel belongs to (as last
/// saved: save first) and prints each visible test's result and the score.
///
/// JupyterLab tells the kernel its notebook in `JPY_SESSION_NAME`; elsewhere,
/// use [`check_notebook_file`]. Does nothing inside a headless run, so a
/// notebook that calls it can itself be graded.
pub fn check_notebook() -> Result<()> {
    if std::env::var_os(crate::protocol::env::HEADLESS).is_some() {
        println!("check_notebook(): skipped, this notebook is being run by replearn-grade");
        return Ok(());
    }
    let path = std::env::var("JPY_SESSION_NAME").map_err(|_| {
        Error::invalid(
            "JPY_SESSION_NAME",
            "unset",
            "this kernel does not know its notebook; call check_notebook_file(\"path/to/notebook.ipynb\") instead",
        )
    })?;
    // jupyter-server gives the path from its root folder; the kernel runs in
    // the notebook's own folder.
    let path = Path::new(&path);
    let here = path
        .file_name()
        .map(Path::new)
        .filter(|name| !path.is_file() && name.is_file());
    check_notebook_file(here.unwrap_or(path))
}

/// Runs `replearn-grade check` on `path` in a fresh process; its report is printed here.
pub fn check_notebook_file(path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    if std::env::var_os(crate::protocol::env::HEADLESS).is_some() {
        println!("check_notebook_file(): skipped, this notebook is being run by replearn-grade");
        return Ok(());
    }
    if !path.is_file() {
        return Err(Error::not_found(path, "no such notebook (save it first?)"));
    }
    let program = std::env::var(crate::protocol::env::GRADE_PROGRAM).unwrap_or_else(|_| "replearn-grade".into());
    println!(
        "checking {} as last saved (in a fresh kernel, as the grader will)...",
        path.display()
    );
    let status = Command::new(&program).arg("check").arg(path).status().map_err(|e| {
        Error::Command {
            program: program.clone(),
            detail: format!("cannot run it ({e}): run `make setup` in the replearn checkout, which installs it into .venv/bin"),
        }
    })?;
    match status.code() {
        Some(0) | Some(1) => Ok(()),
        _ => Err(Error::Command {
            program,
            detail: format!("check {} failed ({status}); see the message above", path.display()),
        }),
    }
}
