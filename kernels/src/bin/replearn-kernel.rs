//! `replearn-kernel`: evcxr's Jupyter kernel with replearn preloaded.
//!
//! Jupyter starts it as `replearn-kernel --control_file FILE` (see the
//! kernelspec). `replearn-kernel install --venv DIR` writes that kernelspec.
use anyhow::{Context, Result};
use replearn_kernel::{kernelspec, paths, session::Session, startup};
use std::path::PathBuf;

fn main() -> Result<()> {
    replearn_kernel::child::runtime_hook();
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("install") {
        let venv = match (args.get(2).map(String::as_str), args.get(3)) {
            (Some("--venv"), Some(dir)) => PathBuf::from(dir),
            _ => paths::venv_dir(&paths::repo_root()),
        };
        let dir = kernelspec::install(&venv)?;
        println!(
            "installed kernelspec \"{}\" in {}",
            kernelspec::DISPLAY_NAME,
            dir.display()
        );
        return Ok(());
    }
    if args.get(1).map(String::as_str) != Some("--control_file") {
        eprintln!("usage: replearn-kernel --control_file FILE   (started by Jupyter)\n       replearn-kernel install [--venv DIR]");
        std::process::exit(2);
    }
    let root = paths::repo_root();
    startup::set_process_env(&root)?;
    let session = Session::create(&root)?;
    if !session.from_template {
        eprintln!(
            "replearn: no pre-built kernel folder for {}; this start compiles tch (minutes). \
             Run `make lab` (or `.venv/bin/replearn-grade warm`) once to make starts fast.",
            root.display()
        );
    }
    session.activate();
    let script = startup::startup_script(&root)?;
    let init = session.config_dir.join("init.evcxr");
    std::fs::write(&init, script).with_context(|| format!("writing {}", init.display()))?;
    let result = evcxr_jupyter::main();
    drop(session);
    result
}
