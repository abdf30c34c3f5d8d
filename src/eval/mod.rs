//! Evaluating representations: features of a data set, neighbours, probes.
mod factor_table;
mod features;
mod neighbours;
mod retrieval;

pub use self::factor_table::{FactorProbe, FactorTable, HUE_BINS, LOCATION_GRID, PROBE_K};
pub use self::features::{encode_shapes, query_indices};
pub use self::neighbours::{
    knn_accuracy, knn_indices, knn_vote_accuracy, nearest_neighbours, squared_distances,
};
pub use self::retrieval::top_k;
