//! Runtime of the [`versioned`](https://docs.rs/versioned-entity) optimistic-locking entity
//! framework: the [`Versioned`] trait, errors, [`retry`], statement text and the
//! database backends.
//!
//! Use it through the `versioned-entity` package (library `versioned`), which adds
//! `#[derive(Versioned)]`.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]
#![cfg_attr(
    not(any(
        feature = "sqlite",
        feature = "postgres",
        feature = "tokio-postgres",
        feature = "mysql",
        feature = "sqlx"
    )),
    allow(dead_code, unused_variables, unused_imports)
)]

pub mod backend;
mod entity;
mod error;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
mod retry;
mod sql;

pub use backend::{Backend, Executor};
pub use entity::{VersionNumber, Versioned};
pub use error::{DatabaseError, DecodeError, Error, NoGeneratedKeyError, Operation, OptimisticLockError};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use retry::retry_async;
pub use retry::{RetryPolicy, retry};

/// Items the derive's generated code uses. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::backend::{Backend, Decode, Encode};
    pub use crate::entity::Bind;
    pub use crate::entity::{decode, decode_generated};
    pub use crate::error::ColumnError;
    pub use crate::sql::{Dialect, EntityMeta, StatementCache, Statements};
    pub use core::default::Default;
    pub use core::result::Result;
    pub use std::format;
    pub use std::string::String;
}
