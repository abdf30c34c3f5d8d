//! The replearn Jupyter kernel and notebook runner, both built on evcxr.
//!
//! - `replearn-kernel`: evcxr's Jupyter kernel, started in a private copy of a
//!   pre-built crate folder, with `kernels/startup.evcxr` run first; a spare
//!   kernel started ahead serves the next notebook at once (`pool`, `wire`).
//! - `replearn-grade`: runs notebooks headlessly with the same start-up, and
//!   grades them: `assign`, `autograde`, `check`, `validate`.
pub mod assign;
pub mod autograde;
pub mod check;
pub mod child;
pub mod grade;
pub mod kernelspec;
pub mod lockfile;
pub mod notebook;
pub mod paths;
pub mod pool;
pub mod report;
pub mod run;
pub mod runner;
pub mod session;
pub mod splice;
pub mod startup;
pub mod validate;
pub mod warm;
pub mod wire;
