//! Runs notebook cells in evcxr the way the Jupyter kernel does, headlessly,
//! and tells which cells failed and why.
use crate::child::FAILURE_MARK;
use crate::session::Session;
use crate::startup::{set_process_env, startup_script};
use anyhow::Result;
use evcxr::{CommandContext, CompilationError, Error as EvcxrError};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why a cell failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The cell did not compile; the text points at the cell's own lines.
    Compile(String),
    /// The cell panicked (message included).
    Panic(String),
    /// The cell returned early with an error through `?`.
    Error(String),
    /// The cell ran past the time limit and was stopped.
    Timeout(Duration),
    /// The process running the cells ended (exit, abort, crash, out of memory).
    Crash(String),
}

impl Failure {
    /// A short name for the kind of failure (Jupyter's `ename`).
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Compile(_) => "CompileError",
            Failure::Panic(_) => "Panic",
            Failure::Error(_) => "Error",
            Failure::Timeout(_) => "Timeout",
            Failure::Crash(_) => "Crash",
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Compile(m) => write!(f, "does not compile:\n{m}"),
            Failure::Panic(m) => write!(f, "panicked: {m}"),
            Failure::Error(m) => write!(f, "returned an error: {m}"),
            Failure::Timeout(d) => write!(f, "timed out after {} s", d.as_secs()),
            Failure::Crash(m) => write!(f, "crashed the notebook process: {m}"),
        }
    }
}

/// What one cell produced.
#[derive(Debug, Clone, Default)]
pub struct CellOutcome {
    pub stdout: String,
    pub stderr: String,
    /// Rich output by MIME type (`image/png` is base64), as evcxr reports it.
    pub data: BTreeMap<String, String>,
    pub failure: Option<Failure>,
    pub duration: Duration,
}

impl CellOutcome {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Options for a [`Runner`].
#[derive(Debug, Clone, Default)]
pub struct RunnerConfig {
    /// Wall-clock limit per cell (compiling included); `None` for no limit.
    pub timeout: Option<Duration>,
}

/// An evcxr context with the replearn start-up done, in a private build folder.
pub struct Runner {
    ctx: CommandContext,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    config: RunnerConfig,
    // Declared last: the context (and its child) must go before the folder.
    _session: Option<Session>,
}

impl Runner {
    /// Starts evcxr in a copy of the pre-built template and runs the start-up script.
    pub fn start(root: &Path, config: RunnerConfig) -> Result<Runner> {
        let session = Session::create(root)?;
        session.activate();
        Self::start_in(root, config, Some(session))
    }

    /// Starts evcxr in whatever `EVCXR_TMPDIR` says (used to build the template itself).
    pub fn start_in(root: &Path, config: RunnerConfig, session: Option<Session>) -> Result<Runner> {
        set_process_env(root)?;
        std::env::set_var("REPLEARN_MARK_FAILURES", "1");
        let (ctx, outputs) = CommandContext::new().map_err(|e| anyhow::anyhow!("starting evcxr: {e}"))?;
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        for (rx, buf) in [(outputs.stdout, stdout.clone()), (outputs.stderr, stderr.clone())] {
            std::thread::spawn(move || {
                while let Ok(line) = rx.recv() {
                    buf.lock().expect("output buffer").push(line);
                }
            });
        }
        let mut runner = Runner { ctx, stdout, stderr, config, _session: session };
        let script = startup_script(root)?;
        let outcome = runner.run_cell(&script);
        if let Some(failure) = outcome.failure {
            anyhow::bail!("the start-up script (kernels/startup.evcxr) failed: {failure}\n{}", outcome.stderr);
        }
        Ok(runner)
    }

    /// Runs one cell's code and reports what it printed, showed, and whether it failed.
    pub fn run_cell(&mut self, code: &str) -> CellOutcome {
        self.stdout.lock().expect("output buffer").clear();
        self.stderr.lock().expect("output buffer").clear();
        let started = Instant::now();
        let watchdog = self.config.timeout.map(|limit| Watchdog::start(self.ctx.process_handle(), limit));
        let result = self.ctx.execute(code);
        let timed_out = watchdog.is_some_and(|w| w.stop());
        let duration = started.elapsed();
        let stderr_lines = self.settle_stderr();
        let stdout_lines = std::mem::take(&mut *self.stdout.lock().expect("output buffer"));

        let mut marked = None;
        let mut stdout = String::new();
        for line in &stdout_lines {
            match line.strip_prefix(FAILURE_MARK) {
                Some(kind) => marked = Some(kind.trim().to_string()),
                None => {
                    stdout.push_str(line);
                    stdout.push('\n');
                }
            }
        }
        let stderr: String = stderr_lines.iter().map(|l| format!("{l}\n")).collect();
        let mut outcome = CellOutcome { stdout, duration, ..Default::default() };
        match result {
            Ok(out) => {
                outcome.data = out.content_by_mime_type.into_iter().collect();
                outcome.failure = match marked.as_deref() {
                    Some("panic") => Some(Failure::Panic(panic_message(&stderr_lines))),
                    Some(_) => Some(Failure::Error(last_lines(&stderr_lines, 5))),
                    None => None,
                };
            }
            Err(_) if timed_out => outcome.failure = Some(Failure::Timeout(self.config.timeout.unwrap_or_default())),
            Err(EvcxrError::CompilationErrors(errors)) => {
                outcome.failure = Some(Failure::Compile(format_compile_errors(&errors, code)));
            }
            Err(EvcxrError::SubprocessTerminated(msg)) => {
                let detail = last_lines(&stderr_lines, 5);
                let msg = if detail.is_empty() { msg } else { format!("{msg}\n{detail}") };
                outcome.failure = Some(Failure::Crash(msg));
            }
            Err(other) => outcome.failure = Some(Failure::Error(other.to_string())),
        }
        outcome.stderr = stderr;
        outcome
    }

    /// Waits until the child's stderr has been quiet for a moment (it arrives
    /// on its own pipe, after the cell's end is known), then takes it.
    fn settle_stderr(&self) -> Vec<String> {
        let quiet = Duration::from_millis(60);
        let give_up = Instant::now() + Duration::from_millis(600);
        let mut seen = usize::MAX;
        let mut last_change = Instant::now();
        while Instant::now() < give_up {
            let n = self.stderr.lock().expect("output buffer").len();
            if n != seen {
                seen = n;
                last_change = Instant::now();
            } else if last_change.elapsed() >= quiet {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        std::mem::take(&mut *self.stderr.lock().expect("output buffer"))
    }
}

/// Kills the child process if a cell runs past its limit.
struct Watchdog {
    done: std::sync::mpsc::Sender<()>,
    handle: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    fn start(child: Arc<Mutex<std::process::Child>>, limit: Duration) -> Self {
        let (done, rx) = std::sync::mpsc::channel::<()>();
        let handle = std::thread::spawn(move || match rx.recv_timeout(limit) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Ok(mut c) = child.lock() {
                    let _ = c.kill();
                }
                true
            }
            _ => false,
        });
        Watchdog { done, handle }
    }

    /// Stops watching; returns whether the limit was hit.
    fn stop(self) -> bool {
        let _ = self.done.send(());
        self.handle.join().unwrap_or(false)
    }
}

/// The panic's own message: the lines after `panicked at <generated file>:`,
/// up to the backtrace or the note about it.
fn panic_message(stderr: &[String]) -> String {
    let Some(start) = stderr.iter().rposition(|l| l.contains("panicked at")) else {
        return last_lines(stderr, 5);
    };
    let message: Vec<&str> = stderr[start + 1..]
        .iter()
        .map(String::as_str)
        .take_while(|l| !l.starts_with("stack backtrace:") && !l.starts_with("note: "))
        .collect();
    if message.is_empty() {
        stderr[start].clone()
    } else {
        message.join("\n")
    }
}

fn last_lines(lines: &[String], n: usize) -> String {
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Compile errors against the cell's own line numbers, with the offending line.
pub fn format_compile_errors(errors: &[CompilationError], code: &str) -> String {
    let lines: Vec<&str> = code.lines().collect();
    let mut out = String::new();
    for e in errors {
        let code_tag = e.code().map(|c| format!("[{c}]")).unwrap_or_default();
        out.push_str(&format!("{}{code_tag}: {}\n", e.level(), e.message()));
        match e.primary_spanned_message().and_then(|m| m.span.as_ref().map(|s| (s, &m.label))) {
            Some((span, label)) => {
                out.push_str(&format!("  --> line {}, column {}\n", span.start_line, span.start_column));
                if let Some(src) = lines.get(span.start_line.wrapping_sub(1)) {
                    out.push_str(&format!("{:>4} | {src}\n", span.start_line));
                    let width = if span.end_line == span.start_line {
                        span.end_column.saturating_sub(span.start_column).max(1)
                    } else {
                        1
                    };
                    out.push_str(&format!(
                        "     | {}{} {label}\n",
                        " ".repeat(span.start_column.saturating_sub(1)),
                        "^".repeat(width)
                    ));
                }
            }
            None => out.push_str(&format!("{}\n", e.rendered())),
        }
        for help in e.help() {
            out.push_str(&format!("  = help: {help}\n"));
        }
    }
    out
}
