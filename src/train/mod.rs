//! Training helpers: progress display and loss history.
mod history;
mod progress;

pub use self::history::History;
pub use self::progress::Progress;
