//! Training: the one loop every trainer uses ([`Trainer`]), budgets, progress,
//! loss history and checkpoints. The assignments' trainers are this loop plus
//! a loss (see [`crate::assignments`]).
mod budget;
mod checkpoint;
mod history;
mod progress;
mod resume;
mod trainer;

pub use self::budget::Budget;
pub use self::checkpoint::{load_checkpoint, save_checkpoint};
pub use self::history::History;
pub use self::progress::Progress;
pub use self::resume::RunCheckpoint;
pub use self::trainer::{Batch, LoopConfig, OptimizerKind, ParamGroup, Trainer};
