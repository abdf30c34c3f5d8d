//! Runs notebook cells in evcxr the way the Jupyter kernel does, headlessly,
//! and tells which cells failed and why.
use crate::protocol::{env, marks, PanicReport};
use crate::cells::session::Session;
use crate::cells::startup::{set_process_env, startup_script};
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
    /// Compiling and running the cell together took far longer than the time
    /// limit (the notebook process stopped making progress); it was stopped.
    Stalled(Duration),
    /// The cell asked for more memory than the limit allows (or the machine has).
    OutOfMemory(String),
    /// The process running the cells ended (exit, abort, stack overflow, signal).
    Crash(String),
}

impl Failure {
    /// A short name for the kind of failure (Jupyter's `ename`).
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Compile(_) => "CompileError",
            Failure::Panic(_) => "Panic",
            Failure::Error(_) => "Error",
            Failure::Timeout(_) | Failure::Stalled(_) => "Timeout",
            Failure::OutOfMemory(_) => "OutOfMemory",
            Failure::Crash(_) => "Crash",
        }
    }

    /// Whether the process running the cells was lost (its variables with it).
    pub fn lost_process(&self) -> bool {
        matches!(
            self,
            Failure::Timeout(_) | Failure::Stalled(_) | Failure::OutOfMemory(_) | Failure::Crash(_)
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Compile(m) => write!(f, "does not compile:\n{m}"),
            Failure::Panic(m) => write!(f, "panicked: {m}"),
            Failure::Error(m) => write!(f, "returned an error: {m}"),
            Failure::Timeout(d) => write!(
                f,
                "timed out after {} s of running (an endless loop? a cell waiting for input from stdin waits forever here)",
                d.as_secs_f64()
            ),
            Failure::Stalled(d) => write!(
                f,
                "was stopped after {} s of compiling and running without finishing: the notebook process made no progress",
                d.as_secs_f64()
            ),
            Failure::OutOfMemory(m) => write!(f, "ran out of memory: {m}"),
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

/// Options for a [`Runner`].
#[derive(Debug, Clone, Default)]
pub struct RunnerConfig {
    /// Limit on a cell's running time (compiling not included); `None` for no limit.
    pub timeout: Option<Duration>,
    /// Limit on the heap of the process running the cells, in MB.
    pub memory_mb: Option<u64>,
    /// Seeds libtorch after the start-up (and again after a restart).
    pub seed: Option<u64>,
    /// Extra environment for the process running the cells.
    pub env: Vec<(String, String)>,
    /// Limit on starting the notebook process (evcxr and the start-up
    /// script); `None` for none (building the template compiles for minutes).
    pub start_limit: Option<Duration>,
}

/// What a cell may take, compiling included, beyond its running-time limit,
/// before the notebook process counts as stalled and is stopped.
pub const COMPILE_ALLOWANCE: Duration = Duration::from_secs(180);

/// An evcxr context with the replearn start-up done, in a private build folder.
pub struct Runner {
    ctx: CommandContext,
    /// When the current cell started running (set by the child's mark).
    started: Arc<Mutex<Option<Instant>>>,
    /// The start-up script's statements, re-run when the child is restarted.
    startup_statements: String,
    reinitializing: bool,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    config: RunnerConfig,
    /// Limit on a cell's compiling and running together.
    total_limit: Option<Duration>,
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
        std::env::set_var(env::MARK_FAILURES, "1");
        std::env::set_var(env::HEADLESS, "1");
        match config.memory_mb {
            Some(mb) => std::env::set_var(env::MEMORY_MB, mb.to_string()),
            None => std::env::remove_var(env::MEMORY_MB),
        }
        for (key, value) in &config.env {
            std::env::set_var(key, value);
        }
        // A notebook process that never finishes starting (it once sat in a
        // futex under a small memory limit) is killed, and the start fails.
        let start_watch = config.start_limit.map(StartWatch::new);
        let started_evcxr = CommandContext::new();
        let stalled = start_watch.as_ref().is_some_and(StartWatch::fired);
        let (ctx, outputs) = started_evcxr.map_err(|e| match (stalled, config.start_limit) {
            (true, Some(limit)) => anyhow::anyhow!(
                "the notebook process did not start within {} s and was stopped ({e})",
                limit.as_secs()
            ),
            _ => anyhow::anyhow!("starting evcxr: {e}"),
        })?;
        let started = Arc::new(Mutex::new(None));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let started_by_mark = started.clone();
        let stdout_buf = stdout.clone();
        std::thread::spawn(move || {
            while let Ok(line) = outputs.stdout.recv() {
                stdout_buf.lock().expect("output buffer").push(line);
            }
        });
        let stderr_buf = stderr.clone();
        std::thread::spawn(move || {
            while let Ok(line) = outputs.stderr.recv() {
                if line == marks::STARTED {
                    *started_by_mark.lock().expect("start time") = Some(Instant::now());
                } else {
                    stderr_buf.lock().expect("output buffer").push(line);
                }
            }
        });
        let script = startup_script(root)?;
        let startup_statements = script
            .lines()
            .filter(|l| !l.trim_start().starts_with(':'))
            .collect::<Vec<_>>()
            .join("\n");
        let timeout = config.timeout;
        let start_limit = config.start_limit;
        let no_limit = RunnerConfig {
            timeout: None,
            ..config
        };
        let mut runner = Runner {
            ctx,
            started,
            startup_statements,
            reinitializing: false,
            stdout,
            stderr,
            config: no_limit,
            total_limit: start_limit.map(|s| s.saturating_sub(start_watch.map_or(Duration::ZERO, StartWatch::stop))),
            _session: session,
        };
        // evcxr ran a first cell of its own inside `CommandContext::new`: drop
        // its output and start mark before the clock means anything.
        runner.settle_stderr();
        runner.stdout.lock().expect("output buffer").clear();
        // That first cell's build pruned the lock: the `:dep` must see all of it.
        if let Some(folder) = std::env::var_os("EVCXR_TMPDIR") {
            crate::cells::lockfile::copy_into(root, Path::new(&folder))?;
        }
        let outcome = runner.run_cell(&script);
        runner.config.timeout = timeout;
        runner.total_limit = timeout.map(|t| t + COMPILE_ALLOWANCE);
        if let Some(failure) = outcome.failure {
            anyhow::bail!(
                "the start-up script (kernels/startup.evcxr) failed: {failure}\n{}",
                outcome.stderr
            );
        }
        runner.seed()?;
        Ok(runner)
    }

    fn seed(&mut self) -> Result<()> {
        if let Some(seed) = self.config.seed {
            let outcome = self.run_cell(&format!("replearn::seed({seed});"));
            if let Some(failure) = outcome.failure {
                anyhow::bail!("seeding libtorch failed: {failure}");
            }
        }
        Ok(())
    }

    /// After evcxr restarted its child (a crash or a timeout): the start-up's
    /// statements and the seed again. Variables are gone; items stay defined.
    fn reinitialize(&mut self) -> Result<()> {
        let code = self.startup_statements.clone();
        self.reinitializing = true;
        let outcome = self.run_cell(&code);
        self.reinitializing = false;
        if let Some(failure) = outcome.failure {
            anyhow::bail!("restarting the notebook process failed: {failure}");
        }
        self.seed()
    }

    /// Runs one cell's code and reports what it printed, showed, and whether it failed.
    pub fn run_cell(&mut self, code: &str) -> CellOutcome {
        self.stdout.lock().expect("output buffer").clear();
        self.stderr.lock().expect("output buffer").clear();
        *self.started.lock().expect("start time") = None;
        let started = Instant::now();
        let watchdog = (self.config.timeout.is_some() || self.total_limit.is_some()).then(|| {
            Watchdog::start(
                self.ctx.process_handle(),
                self.started.clone(),
                self.config.timeout,
                self.total_limit,
            )
        });
        let result = self.ctx.execute(code);
        let stopped = watchdog.map_or(Stop::No, Watchdog::stop);
        let duration = started.elapsed();
        let stderr_lines = self.settle_stderr();
        let stdout_lines = std::mem::take(&mut *self.stdout.lock().expect("output buffer"));

        let mut marked = None;
        let mut panic_report = None;
        let mut stdout = String::new();
        for line in &stdout_lines {
            if let Some(kind) = line.strip_prefix(marks::FAILURE) {
                marked = Some(kind.trim().to_string());
            } else if let Some(report) = PanicReport::parse_line(line) {
                panic_report = Some(report);
            } else {
                stdout.push_str(line);
                stdout.push('\n');
            }
        }
        let stderr: String = stderr_lines.iter().map(|l| format!("{l}\n")).collect();
        let mut outcome = CellOutcome {
            stdout,
            duration,
            ..Default::default()
        };
        match result {
            Ok(out) => {
                outcome.data = out.content_by_mime_type.into_iter().collect();
                outcome.failure = match marked.as_deref() {
                    Some("panic") => {
                        // The report's message, and the cell's line: Rust's own
                        // report is on stderr only before the start-up installs ours.
                        let (message, mut evidence) = match &panic_report {
                            Some(r) => (format!("{}\n{}", r.message, r.location(code)), vec![r.message.clone()]),
                            None => (panic_message(&stderr_lines), Vec::new()),
                        };
                        evidence.extend(stderr_lines.iter().cloned());
                        Some(match out_of_memory(&evidence, self.config.memory_mb) {
                            Some(oom) => Failure::OutOfMemory(oom),
                            None => Failure::Panic(message),
                        })
                    }
                    Some(_) => Some(Failure::Error(last_lines(&stderr_lines, 5))),
                    None => None,
                };
            }
            Err(_) if stopped == Stop::Running => {
                outcome.failure = Some(Failure::Timeout(self.config.timeout.unwrap_or_default()))
            }
            Err(_) if stopped == Stop::Stalled => {
                outcome.failure = Some(Failure::Stalled(self.total_limit.unwrap_or_default()))
            }
            Err(EvcxrError::CompilationErrors(errors)) => {
                outcome.failure = Some(Failure::Compile(format_compile_errors(&errors, code)));
            }
            Err(EvcxrError::SubprocessTerminated(msg)) => {
                outcome.failure = Some(match out_of_memory(&stderr_lines, self.config.memory_mb) {
                    Some(oom) => Failure::OutOfMemory(oom),
                    None => Failure::Crash(crash_reason(&msg, &stderr_lines)),
                });
            }
            Err(other) => outcome.failure = Some(Failure::Error(other.to_string())),
        }
        outcome.stderr = stderr;
        if !self.reinitializing && outcome.failure.as_ref().is_some_and(Failure::lost_process) {
            if let Err(e) = self.reinitialize() {
                outcome.failure = Some(Failure::Crash(format!(
                    "{}; then {e}",
                    outcome
                        .failure
                        .take()
                        .map(|f| f.to_string())
                        .unwrap_or_default()
                )));
            }
        }
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

/// Why a watchdog stopped a cell.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stop {
    No,
    /// It ran past its running-time limit.
    Running,
    /// Compiling and running took past the total limit.
    Stalled,
}

/// Kills the child process if a cell runs past its limit (the clock starts
/// when the child starts running the compiled cell, so compiling is free), or
/// kills every process under this one if compiling and running together take
/// past `total` (a stalled notebook process).
struct Watchdog {
    done: std::sync::mpsc::Sender<()>,
    handle: std::thread::JoinHandle<Stop>,
}

impl Watchdog {
    fn start(
        child: Arc<Mutex<std::process::Child>>,
        started: Arc<Mutex<Option<Instant>>>,
        running: Option<Duration>,
        total: Option<Duration>,
    ) -> Self {
        let (done, rx) = std::sync::mpsc::channel::<()>();
        let begun = Instant::now();
        let handle = std::thread::spawn(move || loop {
            match rx.recv_timeout(Duration::from_millis(25)) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                _ => return Stop::No,
            }
            let running_for = started.lock().ok().and_then(|s| s.map(|t| t.elapsed()));
            if running.is_some_and(|limit| running_for.is_some_and(|d| d >= limit)) {
                if let Ok(mut c) = child.lock() {
                    let _ = c.kill();
                }
                return Stop::Running;
            }
            if total.is_some_and(|limit| begun.elapsed() >= limit) {
                super::child::kill_descendants();
                return Stop::Stalled;
            }
        });
        Watchdog { done, handle }
    }

    /// Stops watching; says whether (and why) it stopped the cell.
    fn stop(self) -> Stop {
        let _ = self.done.send(());
        self.handle.join().unwrap_or(Stop::No)
    }
}

/// Kills everything under this process if evcxr has not started within a limit.
struct StartWatch {
    done: std::sync::mpsc::Sender<()>,
    fired: Arc<std::sync::atomic::AtomicBool>,
    begun: Instant,
}

impl StartWatch {
    fn new(limit: Duration) -> Self {
        let (done, rx) = std::sync::mpsc::channel::<()>();
        let fired = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = fired.clone();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                super::child::kill_descendants();
            }
        });
        StartWatch {
            done,
            fired,
            begun: Instant::now(),
        }
    }

    /// Whether the limit passed (the processes were then killed).
    fn fired(&self) -> bool {
        self.fired.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stops watching; returns how long the start took so far.
    fn stop(self) -> Duration {
        let _ = self.done.send(());
        self.begun.elapsed()
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

/// The out-of-memory report, if the cell's stderr shows a failed allocation
/// (Rust's allocator or libtorch's).
fn out_of_memory(stderr: &[String], limit_mb: Option<u64>) -> Option<String> {
    let line = stderr.iter().rev().find(|l| {
        l.contains("memory allocation of")
            || l.contains("can't allocate memory")
            || l.contains("CUDA out of memory")
    })?;
    let limit = limit_mb
        .map(|mb| format!(" (the limit is {mb} MB)"))
        .unwrap_or_default();
    Some(format!("{}{limit}", line.trim()))
}

/// Why the child ended, in words: stack overflow, exit, signal.
fn crash_reason(evcxr_message: &str, stderr: &[String]) -> String {
    let detail = last_lines(stderr, 5);
    // evcxr's own SIGSEGV handler runs on the overflowed stack, so a stack
    // overflow reaches us as a bare SIGSEGV.
    let reason = if stderr.iter().any(|l| l.contains("overflowed its stack")) {
        "stack overflow (a recursion too deep or without end?)".to_string()
    } else if evcxr_message.contains("signal: 11") {
        "stack overflow or memory fault (SIGSEGV): in safe Rust this is a recursion too deep or without end".to_string()
    } else if let Some(code) = evcxr_message.split("exit status: ").nth(1) {
        format!("the cell ended the process with exit status {} (std::process::exit is not allowed in a notebook)", code.trim())
    } else if evcxr_message.contains("signal: 6") {
        "the process aborted (std::process::abort or a failed check in native code)".to_string()
    } else {
        evcxr_message.trim().to_string()
    };
    if detail.is_empty() || reason.starts_with("stack overflow") || reason.contains("SIGSEGV") {
        reason
    } else {
        format!("{reason}\n{detail}")
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
        match e
            .primary_spanned_message()
            .and_then(|m| m.span.as_ref().map(|s| (s, &m.label)))
        {
            Some((span, label)) => {
                out.push_str(&format!(
                    "  --> line {}, column {}\n",
                    span.start_line, span.start_column
                ));
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
