//! The kernel Jupyter starts, and the spares it takes over.
//!
//! `run_kernel` is what Jupyter runs: it takes a ready spare (see [`super::pool`])
//! and passes messages to it ([`super::wire::proxy`]), or starts evcxr itself.
//! `run_spare` is a spare: evcxr's kernel on its own ports, offered to the
//! next notebook. `prestart` starts spares ahead (`make lab` does).
use super::wire::{self, ConnectionInfo};
use super::pool;
use crate::cells::{session::Session, startup};
use crate::paths;
use crate::protocol::env;
use anyhow::{Context, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The process that started this one (Jupyter's server, for a kernel).
fn parent_pid() -> u32 {
    // SAFETY: getppid cannot fail.
    unsafe { libc::getppid() as u32 }
}

/// The kernel Jupyter started: a spare's proxy, or evcxr itself.
pub fn run_kernel(connection_file: &Path) -> Result<()> {
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let root = paths::repo_root();
    let cwd = std::env::current_dir().context("reading the notebook's folder")?;
    let spares = pool::size();
    let shared = if spares > 0 {
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
    end_with_parent(server);
    let refill = |pool: &pool::Pool| {
        if let Err(e) = pool.fill(spares, server, &env) {
            eprintln!("replearn: starting a spare kernel: {e:#}");
        }
    };
    if let Some(pool) = &shared {
        if let Some(taken) = pool.take(&cwd, Duration::from_secs(120)) {
            refill(pool);
            return serve_taken(connection_file, taken);
        }
    }
    // No spare: this notebook's own kernel, started as a spare is and served
    // by the same proxy (so a panic is an error here too).
    if Session::template_missing(&root) {
        eprintln!(
            "replearn: no pre-built kernel folder for {}; this start compiles tch (minutes). \
             Run `make lab` (or `.venv/bin/replearn-grade warm`) once to make starts fast.",
            root.display()
        );
    }
    let own = pool::Pool::own(&root)?;
    own.fill(1, std::process::id(), &env)?;
    let taken = own.take(&cwd, Duration::from_secs(1800)).with_context(|| {
        format!(
            "the notebook's kernel did not start: its log is {}",
            own.dir.join("spares.log").display()
        )
    })?;
    // Spares start once this kernel answers: both at once would halve both.
    if let Some(pool) = &shared {
        refill(pool);
    }
    let result = serve_taken(connection_file, taken);
    own.remove();
    result
}

/// Ends this process when the Jupyter server that started it has ended, as
/// ipykernel's parent poller does. A server stopped in order shuts its kernels
/// down itself; one that is killed (a hub stopping a student's server
/// mid-start, the out-of-memory killer) cannot, and its kernel would wait,
/// holding a spare, for nobody. The spare and the process where cells run end
/// with this process (they watch it).
fn end_with_parent(server: u32) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(500));
        if parent_pid() != server {
            eprintln!("replearn: the Jupyter server (process {server}) has ended; so does this kernel");
            std::process::exit(0);
        }
    });
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
            r = super::proxy::proxy(&front, &taken.kernel) => r.context("passing messages to the notebook's kernel"),
            _ = done_rx => Ok(()),
        }
    })
}

/// A spare: evcxr's kernel on its own ports, offered to the next notebook.
pub fn run_spare(pool_dir: PathBuf, connection_file: &Path) -> Result<()> {
    let kernel = ConnectionInfo::read(connection_file)?;
    let root = paths::repo_root();
    startup::set_process_env(&root)?;
    // Failed cells are marked on stdout, for the proxy to turn into errors.
    std::env::set_var(env::MARK_FAILURES, "1");
    let session = Session::create(&root)?;
    anyhow::ensure!(
        session.from_template || std::env::var_os(env::POOL_OWN).is_some(),
        "no pre-built kernel folder for {}: a spare is not worth minutes of compiling",
        root.display()
    );
    session.activate();
    let fifo = session.dir.join("cwd.fifo");
    crate::cells::cwd_fifo::make_cwd_fifo(&fifo)?;
    std::env::set_var(env::CWD_FIFO, &fifo);
    startup::write_kernel_startup(&root, &session, pool::WARM_UP)?;
    let session_dir = session.dir.clone();
    std::thread::spawn(move || pool::serve_spare(pool_dir, kernel, fifo, session_dir));
    // evcxr_jupyter reads the connection file named on the command line.
    let result = evcxr_jupyter::main();
    let _ = std::fs::remove_file(connection_file);
    drop(session);
    result
}

/// Starts a spare ahead of the first notebook (`make lab` does, before
/// JupyterLab starts). `--watch PID`: the spare ends with that process.
/// `--wait`: returns once every spare has started.
pub fn prestart(args: &[String]) -> Result<()> {
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
            other => anyhow::bail!("prestart: unknown option {other}\n{}", crate::cli::kernel::USAGE),
        }
    }
    if pool::size() == 0 {
        println!(
            "no spare kernel: {} is 0, or the memory this user may use (MEM_LIMIT or the cgroup's limit) has no room for one beside a notebook (README, \"The kernel\")",
            env::KERNEL_POOL
        );
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
