//! The replearn Jupyter kernel, notebook runner and grader, all on evcxr.
//!
//! Three layers, each a folder, each using only the ones below it:
//! - [`grading`]: the authoring format, `assign`, splicing a submission into
//!   the source, grading, reports, `autograde`, `check`, `validate`;
//! - `jupyter`: the Jupyter kernel, its kernelspec, spare kernels started
//!   ahead, and the proxy that joins Jupyter to a spare;
//! - `cells`: running notebook cells in evcxr (the kernel's start-up script,
//!   the private build folder copied from a pre-built template, the child
//!   process where cells run, headless runs).
//!
//! [`cli`] holds the two binaries' command lines; `protocol` is the library's
//! `src/protocol.rs`, compiled here too, so the names both sides share cannot
//! drift.
mod cells;
pub mod cli;
pub mod grading;
mod jupyter;
pub mod notebook;
mod paths;
#[path = "../../src/protocol.rs"]
mod protocol;
