//! `replearn-kernel`: evcxr's Jupyter kernel with replearn preloaded.
//!
//! Jupyter starts it as `replearn-kernel --control_file FILE` (see the
//! kernelspec). It takes a spare kernel from the pool when one is ready
//! (see `replearn_kernel::pool`), else starts evcxr itself; either way it
//! starts a spare for the next notebook.
//! `replearn-kernel install --venv DIR` writes the kernelspec;
//! `replearn-kernel prestart [--watch PID] [--wait]` starts a spare ahead.
use anyhow::{Context, Result};
use replearn_kernel::wire::{self, ConnectionInfo};
use replearn_kernel::{kernelspec, paths, pool, session::Session, startup};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

const USAGE: &str = "usage: replearn-kernel --control_file FILE   (started by Jupyter)
       replearn-kernel install [--venv DIR]
       replearn-kernel prestart [--watch PID] [--wait]";

fn main() -> Result<()> {
    replearn_kernel::child::runtime_hook();
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("install") => {
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
            Ok(())
        }
        Some("prestart") => prestart(&args[2..]),
        Some("--control_file") if args.len() == 3 => {
            let file = PathBuf::from(&args[2]);
            match std::env::var_os(pool::SPARE_ENV) {
                Some(dir) => run_spare(PathBuf::from(dir), &file),
                None => run_kernel(&file),
            }
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

/// The process that started this one (Jupyter's server, for a kernel).
fn parent_pid() -> u32 {
    // SAFETY: getppid cannot fail.
    unsafe { libc::getppid() as u32 }
}

/// The kernel Jupyter started: a spare's proxy, or evcxr itself.
fn run_kernel(connection_file: &Path) -> Result<()> {
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let root = paths::repo_root();
    let spares = pool::size();
    let pool = if spares > 0 {
        match pool::Pool::for_root(&root, &env) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("replearn: no spare kernels ({e:#}); starting without");
                None
            }
        }
    } else {
        None
    };
    let server = parent_pid();
    if let Some(pool) = &pool {
        let cwd = std::env::current_dir().context("reading the notebook's folder")?;
        if let Some(taken) = pool.take(&cwd, Duration::from_secs(120)) {
            if let Err(e) = pool.fill(spares, server, &env) {
                eprintln!("replearn: starting a spare kernel: {e:#}");
            }
            return serve_taken(connection_file, taken);
        }
    }
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
    startup::write_kernel_startup(&root, &session, "")?;
    if let Some(pool) = pool {
        // The spare starts once this kernel answers: both at once would halve both.
        let front = ConnectionInfo::read(connection_file)?;
        std::thread::spawn(move || {
            let Ok(runtime) = wire::runtime() else {
                return;
            };
            let answering =
                runtime.block_on(wire::wait_until_answering(&front, Duration::from_secs(900)));
            if answering.is_ok() {
                if let Err(e) = pool.fill(spares, server, &env) {
                    eprintln!("replearn: starting a spare kernel: {e:#}");
                }
            }
        });
    }
    let result = evcxr_jupyter::main();
    drop(session);
    result
}

/// Passes Jupyter's messages to a taken spare until the spare ends.
fn serve_taken(connection_file: &Path, taken: pool::Taken) -> Result<()> {
    let front = ConnectionInfo::read(connection_file)?;
    let runtime = wire::runtime()?;
    let link = taken.link;
    // The spare closes the link when it ends.
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut rest = Vec::new();
        let _ = std::io::Read::read_to_end(&mut &link, &mut rest);
        let _ = done_tx.send(());
    });
    runtime.block_on(async {
        tokio::select! {
            r = wire::proxy(&front, &taken.kernel) => r.context("passing messages to the spare kernel"),
            _ = done_rx => Ok(()),
        }
    })
}

/// A spare: evcxr's kernel on its own ports, offered to the next notebook.
fn run_spare(pool_dir: PathBuf, connection_file: &Path) -> Result<()> {
    let kernel = ConnectionInfo::read(connection_file)?;
    let root = paths::repo_root();
    startup::set_process_env(&root)?;
    let session = Session::create(&root)?;
    anyhow::ensure!(
        session.from_template,
        "no pre-built kernel folder for {}: a spare is not worth minutes of compiling",
        root.display()
    );
    session.activate();
    let fifo = session.dir.join("cwd.fifo");
    pool::make_cwd_fifo(&fifo)?;
    std::env::set_var(pool::CWD_FIFO_ENV, &fifo);
    startup::write_kernel_startup(&root, &session, pool::WARM_UP)?;
    std::thread::spawn(move || pool::serve_spare(pool_dir, kernel, fifo));
    // evcxr_jupyter reads the connection file named on the command line.
    let result = evcxr_jupyter::main();
    let _ = std::fs::remove_file(connection_file);
    drop(session);
    result
}

/// Starts a spare ahead of the first notebook (`make lab` does, before
/// JupyterLab starts). `--watch PID`: the spare ends with that process.
/// `--wait`: returns once every spare has started.
fn prestart(args: &[String]) -> Result<()> {
    let mut watch = None;
    let mut wait = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--watch" => {
                let pid = rest.next().context("--watch needs a process id")?;
                watch = Some(
                    pid.parse::<u32>()
                        .with_context(|| format!("--watch {pid}: not a process id"))?,
                );
            }
            "--wait" => wait = true,
            other => anyhow::bail!("prestart: unknown option {other}\n{USAGE}"),
        }
    }
    if pool::size() == 0 {
        println!("{}=0: no spare kernel", pool::POOL_ENV);
        return Ok(());
    }
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let root = paths::repo_root();
    let pool = pool::Pool::for_root(&root, &env)?;
    let watch = watch.unwrap_or_else(parent_pid);
    let started = pool.fill(pool::size(), watch, &env)?;
    println!("spare kernels: {started} started in {}", pool.dir.display());
    if wait {
        pool.wait_ready(Duration::from_secs(900))?;
        println!("spare kernels ready");
    }
    Ok(())
}
