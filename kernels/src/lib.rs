//! The replearn Jupyter kernel and notebook runner, both built on evcxr.
//!
//! - `replearn-kernel`: evcxr's Jupyter kernel, started in a private copy of a
//!   pre-built crate folder, with `kernels/startup.evcxr` run first.
//! - `replearn-grade`: runs notebooks headlessly with the same start-up.
pub mod assign;
pub mod child;
pub mod kernelspec;
pub mod notebook;
pub mod paths;
pub mod run;
pub mod runner;
pub mod session;
pub mod startup;
pub mod warm;
