//! Evaluating representations: features of a data set, neighbours, probes.
mod features;
mod neighbours;

pub use self::features::{encode_shapes, query_indices};
pub use self::neighbours::{knn_accuracy, nearest_neighbours, squared_distances};
