//! `replearn-kernel`: evcxr's Jupyter kernel with replearn preloaded.
//!
//! Jupyter starts it as `replearn-kernel --control_file FILE` (see the
//! kernelspec). It takes a spare kernel from the pool when one is ready, else
//! starts evcxr itself; either way it starts a spare for the next notebook.
//! `replearn-kernel install --venv DIR` writes the kernelspec (with
//! `--prefix` and `--shared-cache`, a JupyterHub's: see `deploy/hub/`);
//! `replearn-kernel prestart [--watch PID] [--wait]` starts a spare ahead.
use crate::jupyter::{kernel, kernelspec};
use crate::paths;
use crate::protocol::env;
use anyhow::Result;
use std::path::PathBuf;

pub const USAGE: &str = "usage: replearn-kernel --control_file FILE   (started by Jupyter)
       replearn-kernel install [--venv DIR] [--prefix DIR] [--shared-cache DIR]
       replearn-kernel prestart [--watch PID] [--wait]";

/// The binary's `main` (call nothing before it: it may turn this process into
/// evcxr's child).
pub fn main() -> Result<()> {
    crate::cells::child::runtime_hook();
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("install") => {
            let config = install_options(&args[2..])?;
            let dir = kernelspec::install(&config)?;
            println!(
                "installed kernelspec \"{}\" in {}",
                kernelspec::DISPLAY_NAME,
                dir.display()
            );
            Ok(())
        }
        Some("prestart") => kernel::prestart(&args[2..]),
        Some("--control_file") if args.len() == 3 => {
            let file = PathBuf::from(&args[2]);
            match std::env::var_os(env::POOL_SPARE) {
                Some(dir) => kernel::run_spare(PathBuf::from(dir), &file),
                None => kernel::run_kernel(&file),
            }
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

fn install_options(args: &[String]) -> Result<kernelspec::KernelspecConfig> {
    let mut config = kernelspec::KernelspecConfig {
        venv: paths::venv_dir(&paths::repo_root()),
        prefix: None,
        shared_cache: None,
    };
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().map(PathBuf::from);
        let Some(value) = value.filter(|_| flag.starts_with("--")) else {
            anyhow::bail!("`replearn-kernel install {}`: each option takes a folder\n{USAGE}", args.join(" "));
        };
        let value = std::path::absolute(&value)?;
        match flag.as_str() {
            "--venv" => config.venv = value,
            "--prefix" => config.prefix = Some(value),
            "--shared-cache" => config.shared_cache = Some(value),
            _ => anyhow::bail!("`replearn-kernel install`: unknown option {flag}\n{USAGE}"),
        }
    }
    Ok(config)
}
