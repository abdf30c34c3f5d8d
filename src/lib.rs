//! # replearn
//!
//! A course kit for representation learning on [`tch`] (libtorch): data sets,
//! models, losses, training loops and figures, used from Rust notebooks.
//!
//! Notebooks start with `use replearn::prelude::*;` (the `replearn` Jupyter
//! kernel does it for you). Every figure is a [`viz::Figure`]: inline in a
//! notebook, a file elsewhere.
//!
//! Tensors live on [`device()`]: CUDA when a GPU is present, else the CPU.

pub mod assignments;
pub mod augment;
pub mod data;
mod device;
mod error;
pub mod eval;
pub mod grading;
#[cfg(feature = "solutions")]
pub mod losses;
pub mod models;
mod panic_report;
pub mod prelude;
pub mod reduce;
mod protocol;
mod seed;
pub mod theory;
pub mod train;
pub mod viz;

pub use device::{device, load_cuda_backend, DeviceReport, LIBTORCH_LIB};
pub use error::{Context, Error, Result};
pub use panic_report::install_panic_report;
pub use seed::seed;

/// Re-exported so that notebooks and dependants use the same `tch`.
pub use tch;
