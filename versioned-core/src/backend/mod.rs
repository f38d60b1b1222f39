//! The database drivers, one module per cargo feature, and the traits that connect
//! them to entities.
//!
//! Everything above this module is written once, generic over [`Executor`]; a backend
//! supplies the placeholders' values ([`Encode`]), reads columns back ([`Decode`]),
//! and runs statement text on its driver, through the driver's prepared-statement
//! cache where it has one.

pub use crate::entity::Bind;
use crate::error::{BoxError, Error};
use crate::sql::{Dialect, Statements};

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub mod sqlite;

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::Sqlite;

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod postgres;

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::Postgres;

#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub mod mysql;

#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub use mysql::Mysql;

/// A database driver: its dialect, how it binds values and how it hands back rows.
///
/// Implemented by the marker types of this module ([`Sqlite`], ...). An entity can be
/// used with a backend when every field's type implements [`Encode`] and [`Decode`]
/// for it, which the driver's own `ToSql`/`FromSql` traits give.
pub trait Backend: Sized + 'static {
    /// The backend's name, for messages.
    const NAME: &'static str;
    #[doc(hidden)]
    const DIALECT: Dialect;
    /// A bound value, borrowing the field it came from where the driver allows.
    #[doc(hidden)]
    type Param<'a>;
    /// A row handed back by a query.
    #[doc(hidden)]
    type Row<'r>;
    /// What the driver reports after an insert that generated the key.
    #[doc(hidden)]
    type GeneratedKey;
    /// The driver's error for a column it could not read, passed up as it is and
    /// boxed only on the way into [`Error::Decode`](crate::Error::Decode).
    #[doc(hidden)]
    type ReadError: Into<BoxError>;

    /// Whether the database generated no key (a NULL, or MySQL's 0).
    #[doc(hidden)]
    fn generated_nothing(key: &Self::GeneratedKey) -> bool;

    /// A generated key as text, for messages.
    #[doc(hidden)]
    fn render_generated(key: &Self::GeneratedKey) -> String;
}

/// A type the backend `B` can bind as a statement parameter.
///
/// Implemented for every type the driver can bind (e.g. every
/// `rusqlite::types::ToSql`); implement the driver's trait for your own types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be bound as a parameter on this backend",
    label = "an entity field of type `{Self}` cannot be bound here",
    note = "implement the driver's own `ToSql` (rusqlite, postgres) or `mysql::prelude::ToValue` (given for every `Into<mysql::Value> + Clone` type) for it, or mark the field #[versioned(skip)]"
)]
pub trait Encode<B: Backend> {
    #[doc(hidden)]
    fn encode(&self) -> B::Param<'_>;
}

/// A type the backend `B` can read from a column.
///
/// Implemented for every type the driver can read (e.g. every
/// `rusqlite::types::FromSql`); implement the driver's trait for your own types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a column on this backend",
    label = "an entity field of type `{Self}` cannot be read here",
    note = "implement the driver's own `FromSql` (rusqlite, postgres) or `FromValue` (mysql) for it, or mark the field #[versioned(skip)]"
)]
pub trait Decode<B: Backend>: Sized {
    #[doc(hidden)]
    fn decode(row: &mut B::Row<'_>, index: usize) -> Result<Self, B::ReadError>;
    #[doc(hidden)]
    fn decode_generated(key: &B::GeneratedKey) -> Result<Self, BoxError>;
}

/// Something statements run on: a connection, a transaction, a savepoint.
///
/// Methods of [`Versioned`](crate::Versioned) take an executor by value, e.g.
/// `&rusqlite::Connection` or `&rusqlite::Transaction`. `&mut E` is an executor too,
/// so one executor can be lent to several calls (across [`retry`](crate::retry)
/// attempts, say).
pub trait Executor {
    /// The backend this executor's statements run on.
    type Backend: Backend;

    /// Runs a write; returns the number of rows it matched.
    #[doc(hidden)]
    fn execute(&mut self, sql: &str, params: &mut [<Self::Backend as Backend>::Param<'_>]) -> Result<u64, Error>;

    /// Runs an insert whose key the database generates; returns that key.
    #[doc(hidden)]
    fn insert_generated(
        &mut self,
        sql: &str,
        params: &mut [<Self::Backend as Backend>::Param<'_>],
    ) -> Result<<Self::Backend as Backend>::GeneratedKey, Error>;

    /// Deletes the row an insert just stored under `key`, a key that is missing or
    /// could not become the entity's key field, so that the failed insert leaves
    /// nothing behind. Returns how many rows the delete removed; `None` when no
    /// statement can find the row.
    #[doc(hidden)]
    fn discard_generated(
        &mut self,
        sql: &Statements,
        key: &<Self::Backend as Backend>::GeneratedKey,
    ) -> Result<Option<u64>, Error>;

    /// Runs a query and hands its first row to `read`, `None` when there is none
    /// (mutably, so a driver whose rows own their values can move them out rather
    /// than copy them); `read` decides what no row means.
    #[doc(hidden)]
    fn query_row<T>(
        &mut self,
        sql: &str,
        params: &mut [<Self::Backend as Backend>::Param<'_>],
        read: impl FnOnce(Option<&mut <Self::Backend as Backend>::Row<'_>>) -> Result<T, Error>,
    ) -> Result<T, Error>;
}

impl<E: Executor + ?Sized> Executor for &mut E {
    type Backend = E::Backend;

    #[inline]
    fn execute(&mut self, sql: &str, params: &mut [<Self::Backend as Backend>::Param<'_>]) -> Result<u64, Error> {
        (**self).execute(sql, params)
    }

    #[inline]
    fn insert_generated(
        &mut self,
        sql: &str,
        params: &mut [<Self::Backend as Backend>::Param<'_>],
    ) -> Result<<Self::Backend as Backend>::GeneratedKey, Error> {
        (**self).insert_generated(sql, params)
    }

    fn discard_generated(
        &mut self,
        sql: &Statements,
        key: &<Self::Backend as Backend>::GeneratedKey,
    ) -> Result<Option<u64>, Error> {
        (**self).discard_generated(sql, key)
    }

    #[inline]
    fn query_row<T>(
        &mut self,
        sql: &str,
        params: &mut [<Self::Backend as Backend>::Param<'_>],
        read: impl FnOnce(Option<&mut <Self::Backend as Backend>::Row<'_>>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        (**self).query_row(sql, params, read)
    }
}
