//! Code that runs in evcxr's child process (the binary re-run with `EVCXR_IS_RUNTIME`).
//!
//! evcxr reports a cell that panics, or returns early through `?`, as a success,
//! and it cannot tell compiling time from running time. When
//! `REPLEARN_MARK_FAILURES` is set, the child passes its stdin and stdout
//! through pipes: it writes [`marks::STARTED`] to stderr when evcxr asks it to
//! run a compiled cell, and [`marks::FAILURE`] to stdout before each of evcxr's
//! private notices of a panic or a `?` error, which the runner sees in order
//! with the cell's output. `REPLEARN_MEMORY_MB` limits the child's data memory (heap).
use std::io::{BufRead, BufReader, Write};
use std::os::fd::FromRawFd;

use crate::protocol::{env, marks};
const EVCXR_PANIC: &str = "EVCXR_PANIC_NOTIFICATION";
const EVCXR_ERROR: &str = "EVCXR_ERROR_OCCURRED";
const EVCXR_RUN: &str = "LOAD_AND_RUN";

/// Call first in `main` of a binary that embeds evcxr; returns only in the parent.
pub fn runtime_hook() {
    let is_child = std::env::var_os("EVCXR_IS_RUNTIME").is_some();
    if is_child {
        watch_parent();
        if let Some(mb) = std::env::var(env::MEMORY_MB)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            limit_memory(mb);
        }
        if std::env::var_os(env::MARK_FAILURES).is_some() {
            mark_events();
        }
        super::cwd_fifo::follow_cwd_fifo();
    }
    evcxr::runtime_hook();
}

/// Ends this process (evcxr's child) when the process that started it ends,
/// so that a grader or kernel that is killed leaves no notebook process
/// behind. (Not `PR_SET_PDEATHSIG`: evcxr restarts its child from worker
/// threads, whose end would kill it.)
fn watch_parent() {
    // SAFETY: getppid cannot fail.
    let parent = unsafe { libc::getppid() };
    let _ = std::thread::Builder::new().spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
        // SAFETY: as above.
        if unsafe { libc::getppid() } != parent {
            std::process::exit(0);
        }
    });
}

/// Kills every process this one started, and theirs (evcxr's child, cargo,
/// rustc): what a stalled notebook process is stopped with.
pub fn kill_descendants() {
    let me = std::process::id();
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_str()?.parse::<u32>().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut doomed = vec![me];
    let mut i = 0;
    while i < doomed.len() {
        let parent = doomed[i];
        doomed.extend(parents.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    for pid in doomed.into_iter().skip(1) {
        // SAFETY: kill with a pid read from /proc; a process that ended meanwhile gives ESRCH.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
        }
    }
}

/// Caps the heap (`RLIMIT_DATA`): an allocation past it fails at once instead
/// of pushing the machine into swap. Address space is left alone (libtorch
/// and CUDA reserve far more than they use).
fn limit_memory(mb: u64) {
    let bytes = mb.saturating_mul(1 << 20) as libc::rlim_t;
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    // SAFETY: setrlimit reads a valid struct; failure only leaves no limit.
    unsafe {
        libc::setrlimit(libc::RLIMIT_DATA, &limit);
    }
}

/// Replaces fd `target` by the end of a new pipe; returns (the other end, a dup
/// of the original fd). `target_reads` says whether `target` becomes a read end.
fn splice_pipe(target: i32, target_reads: bool) -> Option<(std::fs::File, std::fs::File)> {
    let mut fds = [0; 2];
    // SAFETY: plain POSIX calls on fds this function owns; `target` is
    // replaced before evcxr's runtime reads or writes it.
    unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return None;
        }
        let (mine, ours) = if target_reads {
            (fds[0], fds[1])
        } else {
            (fds[1], fds[0])
        };
        let original = libc::dup(target);
        if original < 0 || libc::dup2(mine, target) < 0 {
            return None;
        }
        libc::close(mine);
        Some((
            std::fs::File::from_raw_fd(ours),
            std::fs::File::from_raw_fd(original),
        ))
    }
}

fn mark_events() {
    let Some((stdout_pipe, real_stdout)) = splice_pipe(1, false) else {
        return;
    };
    // The start mark goes to stderr: evcxr waits for its stdout channel to be
    // drained after each cell, including the one it runs before the runner
    // reads that channel; stderr has no such wait.
    let Ok(mark_writer) = dup_file(2) else { return };
    if let Some((stdin_pipe, real_stdin)) = splice_pipe(0, true) {
        std::thread::spawn(move || forward_commands(real_stdin, stdin_pipe, mark_writer));
    }
    std::thread::spawn(move || forward_output(stdout_pipe, real_stdout));
}

/// A second handle on an open fd.
fn dup_file(fd: i32) -> std::io::Result<std::fs::File> {
    // SAFETY: dup of an open fd; the new fd is owned by the returned File.
    let fd = unsafe { libc::dup(fd) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(unsafe { std::fs::File::from_raw_fd(fd) })
}

fn forward_commands(
    real_stdin: std::fs::File,
    to_runtime: std::fs::File,
    mut marks: std::fs::File,
) {
    let mut reader = BufReader::new(real_stdin);
    let mut to_runtime = to_runtime;
    let mut line = Vec::new();
    while reader
        .read_until(b'\n', &mut line)
        .map(|n| n > 0)
        .unwrap_or(false)
    {
        if line.starts_with(EVCXR_RUN.as_bytes()) {
            let _ = marks.write_all(format!("{}\n", marks::STARTED).as_bytes());
        }
        if to_runtime
            .write_all(&line)
            .and_then(|_| to_runtime.flush())
            .is_err()
        {
            break;
        }
        line.clear();
    }
}

fn forward_output(from_cells: std::fs::File, real_stdout: std::fs::File) {
    let mut reader = BufReader::new(from_cells);
    let mut out = std::io::LineWriter::new(real_stdout);
    let mut line = Vec::new();
    while reader
        .read_until(b'\n', &mut line)
        .map(|n| n > 0)
        .unwrap_or(false)
    {
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let kind = match text {
            t if t == EVCXR_PANIC.as_bytes() => Some("panic"),
            t if t == EVCXR_ERROR.as_bytes() => Some("error"),
            _ => None,
        };
        if let Some(kind) = kind {
            let _ = writeln!(out, "{} {kind}", marks::FAILURE);
        }
        if out.write_all(&line).and_then(|_| out.flush()).is_err() {
            break;
        }
        line.clear();
    }
}
