//! What test cells use when a notebook is graded: partial credit, and checking
//! your own notebook from inside it.
mod check;
mod credit;

pub use self::check::{check_notebook, check_notebook_file};
pub use self::credit::Credit;
