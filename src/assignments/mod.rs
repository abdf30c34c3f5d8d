//! One module per assignment: its configuration with the original's budgets
//! (and a quick one), its choice of data (the real set or the offline
//! stand-in), the set-up function the notebook's first cell calls, and its
//! trainers (the training core of [`crate::train`] plus the student's loss).
//!
//! Adding an assignment: copy the smallest of these modules, its notebook
//! under `notebooks/NN_name_source.ipynb`, run `make assign`, and add a row to
//! the README (docs/adding-an-assignment.md walks through it).
pub mod clip;
pub mod dry_part;
pub mod lecture;
pub mod shapes;
pub mod stl10;
pub mod vit;
