//! Queries for SQL engines (DuckDB, PostgreSQL, Spark): the per-customer feature table computed
//! where the order lines live, so that only one row per customer leaves the engine.

pub mod dialect;
pub mod features;

pub use dialect::Dialect;
