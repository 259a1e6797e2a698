//! Queries for SQL engines (DuckDB, PostgreSQL, Spark): the per-customer feature table computed
//! where the order lines live, so that only one row per customer leaves the engine, and the
//! assignment of those customers with a saved model, so that not even that row has to.

pub mod dialect;
pub mod features;
pub mod score;

pub use dialect::Dialect;
