//! Evaluating representations: features of a data set, accuracy, neighbours,
//! probes and retrieval. Every function takes any [`crate::data::ImageSet`].
mod accuracy;
mod factor_table;
mod features;
mod linear_probe;
mod neighbours;
#[cfg(feature = "solutions")]
mod recall;
#[cfg(feature = "solutions")]
mod retrieval;

pub use self::accuracy::{accuracy, majority_fraction};
pub use self::factor_table::{FactorProbe, FactorScores, FactorTable, HUE_BINS, LOCATION_GRID, PROBE_K};
pub use self::features::{encode_all, query_indices};
pub use self::linear_probe::{linear_probe_accuracy, LinearProbeConfig};
pub use self::neighbours::{
    knn_accuracy, knn_indices, knn_vote_accuracy, nearest_neighbours, squared_distances,
};
#[cfg(feature = "solutions")]
pub use self::recall::recall_both_ways;
#[cfg(feature = "solutions")]
pub use self::retrieval::top_k;
