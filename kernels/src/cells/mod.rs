//! Running notebook cells in evcxr, as the kernel and the grader both do.
pub mod child;
pub mod cwd_fifo;
pub mod lockfile;
pub mod run;
pub mod runner;
pub mod session;
pub mod startup;
pub mod warm;
