//! Temporary: replaced by the formatting leaf.
pub use crate::report::{count, money, percent};
