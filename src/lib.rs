//! Optimistic locking for Rust entities.
#![warn(missing_docs)]

pub use versioned_core::*;
pub use versioned_derive::Versioned;
