//! Code that runs in evcxr's child process (the binary re-run with `EVCXR_IS_RUNTIME`).
//!
//! evcxr reports a cell that panics, or returns early through `?`, as a success.
//! When `REPLEARN_MARK_FAILURES` is set, the child's stdout is passed through a
//! pipe, and each of evcxr's private notices of such an event is preceded by a
//! [`FAILURE_MARK`] line, which the runner sees in order with the cell's output.
use std::io::{BufRead, BufReader, Write};
use std::os::fd::FromRawFd;

/// Written before evcxr's panic or `?`-error notice, followed by the kind.
pub const FAILURE_MARK: &str = "REPLEARN_CELL_FAILED";
const EVCXR_PANIC: &str = "EVCXR_PANIC_NOTIFICATION";
const EVCXR_ERROR: &str = "EVCXR_ERROR_OCCURRED";

/// Call first in `main` of a binary that embeds evcxr; returns only in the parent.
pub fn runtime_hook() {
    let is_child = std::env::var_os("EVCXR_IS_RUNTIME").is_some();
    if is_child && std::env::var_os("REPLEARN_MARK_FAILURES").is_some() {
        mark_failures();
    }
    evcxr::runtime_hook();
}

fn mark_failures() {
    let mut fds = [0; 2];
    // SAFETY: plain POSIX calls on fds this function owns; fd 1 is replaced by
    // the pipe's write end before any output is written.
    let real_stdout = unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return;
        }
        let real = libc::dup(1);
        if real < 0 || libc::dup2(fds[1], 1) < 0 {
            return;
        }
        libc::close(fds[1]);
        real
    };
    let (read_end, real_stdout) = unsafe { (std::fs::File::from_raw_fd(fds[0]), std::fs::File::from_raw_fd(real_stdout)) };
    std::thread::spawn(move || {
        let mut reader = BufReader::new(read_end);
        let mut out = std::io::LineWriter::new(real_stdout);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).map(|n| n > 0).unwrap_or(false) {
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let kind = match text {
                t if t == EVCXR_PANIC.as_bytes() => Some("panic"),
                t if t == EVCXR_ERROR.as_bytes() => Some("error"),
                _ => None,
            };
            if let Some(kind) = kind {
                let _ = writeln!(out, "{FAILURE_MARK} {kind}");
            }
            if out.write_all(&line).and_then(|_| out.flush()).is_err() {
                break;
            }
            line.clear();
        }
    });
}
