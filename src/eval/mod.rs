//! Evaluating representations: features of a data set, accuracy, neighbours,
//! probes and retrieval. Every function takes any [`crate::data::ImageSet`].
mod accuracy;
mod factor_table;
mod features;
mod neighbours;
#[cfg(feature = "solutions")]
mod retrieval;

pub use self::accuracy::accuracy;
pub use self::factor_table::{FactorProbe, FactorTable, HUE_BINS, LOCATION_GRID, PROBE_K};
pub use self::features::{encode_all, query_indices};
pub use self::neighbours::{
    knn_accuracy, knn_indices, knn_vote_accuracy, nearest_neighbours, squared_distances,
};
#[cfg(feature = "solutions")]
pub use self::retrieval::top_k;
