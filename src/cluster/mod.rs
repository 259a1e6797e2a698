//! Stage 4 — cluster: discover segments with k-means and DBSCAN (SPEC §5).

pub mod dbscan;
pub mod distance;
pub mod gmm;
pub mod kmeans;

pub use dbscan::{DbscanOptions, DbscanResult};
pub use gmm::{GmmOptions, GmmResult};
pub use kmeans::{KScore, KmeansOptions, KmeansResult};
