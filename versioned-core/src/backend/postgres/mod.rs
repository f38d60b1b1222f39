//! PostgreSQL through the `postgres` crate (blocking) and through `tokio-postgres` and
//! `deadpool-postgres` (async): one backend, [`Postgres`], so the same entity runs on
//! both.
//!
//! Blocking executors (cargo feature `postgres`): `&mut postgres::Client` and
//! `&mut postgres::Transaction`, which send a statement whose parameters' types are
//! all known in one round trip with those types (PostgreSQL parses the text each
//! time); and [`CachingClient`] / [`CachingTransaction`], which prepare each statement
//! once per connection and then only bind and execute it, as hand-written code with
//! prepared statements does.
//!
//! Async executors (cargo feature `tokio-postgres`): `&tokio_postgres::Client` and
//! `&tokio_postgres::Transaction`, which run statements as `postgres::Client` does;
//! [`AsyncCachingClient`] / [`AsyncCachingTransaction`], which prepare each statement
//! once per connection, as `CachingClient` does; and (cargo feature
//! `deadpool-postgres`) `&deadpool_postgres::Object` and
//! `&deadpool_postgres::Transaction`, whose statements go through deadpool's own
//! statement cache (`prepare_typed_cached`), prepared once per pooled connection. Each
//! also behind `&mut`. Their operations return futures that are `Send`, so they can
//! be awaited in `tokio::spawn` and web handlers: `user.save(&client).await?`.
//!
//! A parameter is sent with a type only where every conversion the server may apply
//! to it keeps the value or fails loudly: the integers (an `i16`, `i32` or `i64` is
//! `int2`, `int4` or `int8`, converted to a wider or narrower integer column or
//! refused when out of range), `text`, `bool`, `bytea`, `uuid`, and arrays of these;
//! `Option<T>` is sent as `T`. Any other type (`f64`, the date and time types, a
//! custom enum) is left to the server, which names the column's own type: a float
//! into a `real` or `numeric` column, or a `DateTime<Utc>` into a `timestamp` one, is
//! then refused by the driver, as with a statement prepared by hand, instead of being
//! rounded or shifted by the session's `TimeZone`. A statement with such a parameter
//! is prepared before it runs (two round trips on a plain `Client`).
//!
//! Retryable ([`Error::is_retryable`]): serialization failures (40001), deadlocks
//! (40P01) and locks not obtained in time (55P03, after `lock_timeout` or `NOWAIT`).
//! A statement kept prepared that the server dropped (26000: `DEALLOCATE ALL`,
//! `DISCARD ALL`) or whose result's column types changed (0A000: `ALTER TABLE ..
//! TYPE`) is forgotten, then prepared again and run once more by a `CachingClient`,
//! an `AsyncCachingClient` or a deadpool `Object` outside a transaction; inside one of
//! their transactions, which the failure aborted, the call fails with a retryable
//! error, so that the whole transaction run again goes through.

#[cfg(feature = "tokio-postgres")]
mod async_caching;
#[cfg(feature = "postgres")]
mod blocking;
#[cfg(feature = "tokio-postgres")]
mod cached;
#[cfg(feature = "postgres")]
mod caching;
#[cfg(feature = "deadpool-postgres")]
mod deadpool;
#[cfg(feature = "tokio-postgres")]
mod tokio;

use bytes::BytesMut;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, FromSqlOwned, IsNull, ToSql, Type};

use super::{Backend, Decode, Encode};
use crate::error::{BoxError, DatabaseError, Error};
use crate::sql::Dialect;

#[cfg(feature = "tokio-postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-postgres")))]
pub use async_caching::{AsyncCachingClient, AsyncCachingTransaction, AsyncCachingTransactionBuilder};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use caching::{CachingClient, CachingTransaction, CachingTransactionBuilder};

/// The settings of a caching client's transaction builder, kept in its field
/// `builder` (a driver's `TransactionBuilder`, blocking or async): they are the
/// driver's own.
#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
macro_rules! transaction_settings {
    () => {
        /// Sets the isolation level (by default the session's, `READ COMMITTED` unless
        /// changed).
        pub fn isolation_level(mut self, isolation_level: tokio_postgres::IsolationLevel) -> Self {
            self.builder = self.builder.isolation_level(isolation_level);
            self
        }

        /// Makes the transaction read-only, or read-write.
        pub fn read_only(mut self, read_only: bool) -> Self {
            self.builder = self.builder.read_only(read_only);
            self
        }

        /// Makes the transaction deferrable, which matters for a `SERIALIZABLE READ ONLY`
        /// one: it may wait to start, then never fails to serialize.
        pub fn deferrable(mut self, deferrable: bool) -> Self {
            self.builder = self.builder.deferrable(deferrable);
            self
        }
    };
}
#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
use transaction_settings;

/// The PostgreSQL backend (cargo features `postgres` and `tokio-postgres`), shared by
/// the blocking and the async executors.
#[derive(Debug, Clone, Copy)]
pub enum Postgres {}

/// A value and the PostgreSQL type it is sent as (`Type::UNKNOWN`: none known).
type Param<'a> = (&'a (dyn ToSql + Sync), Type);

impl Backend for Postgres {
    const NAME: &'static str = "PostgreSQL";
    const DIALECT: Dialect = Dialect::Postgres;
    type Param<'a> = Param<'a>;
    type Row<'r> = Row;
    /// The row of `INSERT .. RETURNING key`.
    type GeneratedKey = Row;
    type ReadError = BoxError;

    #[inline]
    fn generated_nothing(row: &Row) -> bool {
        row.try_get::<_, RawValue>(0).is_ok_and(|key| key.bytes.is_none())
    }

    fn render_generated(row: &Row) -> String {
        if let Ok(key) = row.try_get::<_, i64>(0) {
            return key.to_string();
        }
        if let Ok(key) = row.try_get::<_, i32>(0) {
            return key.to_string();
        }
        if let Ok(key) = row.try_get::<_, i16>(0) {
            return key.to_string();
        }
        if let Ok(key) = row.try_get::<_, String>(0) {
            return format!("{key:?}");
        }
        match row.try_get::<_, RawValue>(0) {
            Ok(RawValue { ty, bytes: Some(bytes) }) => format!("a {ty} of {} bytes", bytes.len()),
            _ => "NULL".to_owned(),
        }
    }
}

/// The types a parameter is sent as, most specific first: those whose conversions by
/// the server either keep the value or fail (an `int8` into an `int4` column beyond
/// its range). Floats, numerics, dates and times are not among them: the server
/// would round or shift them into a column of a neighbouring type.
const CANDIDATES: &[Type] = &[
    Type::INT8,
    Type::INT4,
    Type::INT2,
    Type::BOOL,
    Type::TEXT,
    Type::BYTEA,
    Type::UUID,
    Type::INT8_ARRAY,
    Type::INT4_ARRAY,
    Type::INT2_ARRAY,
    Type::BOOL_ARRAY,
    Type::TEXT_ARRAY,
    Type::BYTEA_ARRAY,
    Type::UUID_ARRAY,
];

/// The PostgreSQL type `T` is sent as, or `Type::UNKNOWN` to let the server name it
/// from the statement (the column's type).
#[inline]
fn natural_type<T: ToSql>() -> Type {
    match CANDIDATES.iter().find(|ty| T::accepts(ty)) {
        Some(ty) => ty.clone(),
        None => Type::UNKNOWN,
    }
}

impl<T: ToSql + Sync> Encode<Postgres> for T {
    #[inline]
    fn encode(&self) -> Param<'_> {
        (self, natural_type::<T>())
    }
}

impl<T: FromSqlOwned> Decode<Postgres> for T {
    #[inline]
    fn decode(row: &mut Row, index: usize) -> Result<Self, BoxError> {
        row.try_get(index).map_err(conversion_error)
    }

    fn decode_generated(row: &Row) -> Result<Self, BoxError> {
        row.try_get(0).map_err(conversion_error)
    }
}

/// The conversion's own error ("cannot convert between the Rust type `i32` and the
/// Postgres type `int8`"), rather than the driver's "error deserializing column 3".
fn conversion_error(e: tokio_postgres::Error) -> BoxError {
    match std::error::Error::source(&e) {
        Some(_) => e.into_source().unwrap_or_else(|| "a column could not be read".into()),
        None => e.into(),
    }
}

/// Whether running the same work again may succeed after the server's `code`: a
/// serialization failure (40001), a deadlock (40P01), or a lock not obtained in time
/// (55P03: `lock_timeout`, `NOWAIT`).
fn is_retryable_code(code: &SqlState) -> bool {
    *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
        || *code == SqlState::LOCK_NOT_AVAILABLE
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        let retryable = e.code().is_some_and(is_retryable_code);
        database_error(e, retryable)
    }
}

/// The driver's error as an [`Error::Database`], retryable or not.
fn database_error(e: tokio_postgres::Error, retryable: bool) -> Error {
    // The server's message is in the driver error's source; its code is in no text.
    match e.code().map(|code| format!("SQLSTATE {}", code.code())) {
        Some(context) => Error::Database(DatabaseError::with_context(e, retryable, context)),
        None => Error::Database(DatabaseError::new(e, retryable)),
    }
}

/// A column's value as the server sent it, bound back unchanged: lets a generated key
/// that no field can hold be used to delete its row.
#[derive(Debug)]
struct RawValue {
    ty: Type,
    bytes: Option<Vec<u8>>,
}

impl RawValue {
    /// The value as a parameter, sent with the type it came back with.
    fn param(&self) -> Param<'_> {
        (self, self.ty.clone())
    }
}

impl<'a> FromSql<'a> for RawValue {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(RawValue { ty: ty.clone(), bytes: Some(raw.to_vec()) })
    }

    fn from_sql_null(ty: &Type) -> Result<Self, BoxError> {
        Ok(RawValue { ty: ty.clone(), bytes: None })
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

impl ToSql for RawValue {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match &self.bytes {
            Some(bytes) => {
                out.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// Whether every parameter's type is known, so the statement can go typed.
#[inline]
fn typed(params: &[Param<'_>]) -> bool {
    params.iter().all(|(_, ty)| *ty != Type::UNKNOWN)
}

/// The parameters' types to prepare a statement with: `Type::UNKNOWN`, which the
/// server takes as unspecified, where it is to name the type.
#[inline]
fn param_types(params: &[Param<'_>]) -> Inline<Type> {
    Inline::new(|| Type::UNKNOWN, params.iter().map(|(_, ty)| ty.clone()))
}

/// The values alone, as a prepared statement takes them.
#[inline]
fn values<'a>(params: &[Param<'a>]) -> Inline<&'a (dyn ToSql + Sync)> {
    Inline::new(|| &0_i32, params.iter().map(|(value, _)| *value))
}

/// How many items an [`Inline`] holds without the heap.
const INLINE: usize = 32;

/// Up to [`INLINE`] items held in place (on the stack, or in the future that awaits a
/// statement), more on the heap: a statement's values and types for the driver's
/// calls, with no more allocation than hand-written code.
struct Inline<T> {
    items: [T; INLINE],
    len: usize,
    spilled: Vec<T>,
}

impl<T> Inline<T> {
    #[inline]
    fn new(filler: impl Fn() -> T, items: impl ExactSizeIterator<Item = T>) -> Self {
        let len = items.len();
        if len > INLINE {
            return Inline { items: std::array::from_fn(|_| filler()), len, spilled: items.collect() };
        }
        let mut inline = Inline { items: std::array::from_fn(|_| filler()), len, spilled: Vec::new() };
        for (slot, item) in inline.items.iter_mut().zip(items) {
            *slot = item;
        }
        inline
    }
}

impl<T> std::ops::Deref for Inline<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        if self.len > INLINE { &self.spilled } else { &self.items[..self.len] }
    }
}

/// The error for an `INSERT .. RETURNING` that returned no row.
#[cold]
fn no_returned_row() -> Error {
    Error::Database(DatabaseError::new("INSERT .. RETURNING returned no row", false))
}

/// The key in the row of `INSERT .. RETURNING key`, as a value that finds its row
/// again whatever its type; `None` for a NULL key, which finds no row.
fn generated_key(row: &Row) -> Result<Option<RawValue>, Error> {
    let key = row.try_get::<_, RawValue>(0)?;
    Ok(key.bytes.is_some().then_some(key))
}

/// What follows when the server no longer runs a statement as it was prepared.
#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
#[derive(Debug, Clone, Copy)]
enum OnStale {
    /// Outside a transaction: prepare it again and run it once more.
    Prepare,
    /// Inside a transaction, which the failure aborted: a retryable error, so the
    /// whole transaction can be run again.
    Fail,
}

/// Why the server no longer runs a prepared statement.
#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
#[derive(Debug, PartialEq)]
enum Stale {
    /// It does not exist (26000): `DEALLOCATE ALL`, `DISCARD ALL`, or a pooler that
    /// hands out another server session, each of which drops every statement.
    Deallocated,
    /// A table it reads changed the type of a column it returns (0A000, "cached plan
    /// must not change result type").
    ResultTypeChanged,
}

/// Whether the server's error says the statement run is stale, and why.
#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
fn stale(e: &tokio_postgres::Error) -> Option<Stale> {
    let db = e.as_db_error()?;
    if *db.code() == SqlState::INVALID_SQL_STATEMENT_NAME {
        return Some(Stale::Deallocated);
    }
    // 0A000 is "feature not supported" at large: only the plan cache's own check
    // (named by the routine that raised it, where the server says) is a stale plan.
    let replanned = db.routine().is_none_or(|routine| routine == "RevalidateCachedQuery");
    (*db.code() == SqlState::FEATURE_NOT_SUPPORTED && replanned).then_some(Stale::ResultTypeChanged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_typed_where_conversions_keep_the_value() {
        assert_eq!(natural_type::<i16>(), Type::INT2);
        assert_eq!(natural_type::<i32>(), Type::INT4);
        assert_eq!(natural_type::<i64>(), Type::INT8);
        assert_eq!(natural_type::<Option<i64>>(), Type::INT8);
        assert_eq!(natural_type::<String>(), Type::TEXT);
        assert_eq!(natural_type::<Option<String>>(), Type::TEXT);
        assert_eq!(natural_type::<&str>(), Type::TEXT);
        assert_eq!(natural_type::<bool>(), Type::BOOL);
        assert_eq!(natural_type::<Vec<u8>>(), Type::BYTEA);
        assert_eq!(natural_type::<Vec<i64>>(), Type::INT8_ARRAY);
        assert_eq!(natural_type::<Vec<String>>(), Type::TEXT_ARRAY);
        assert_eq!(natural_type::<Vec<Vec<u8>>>(), Type::BYTEA_ARRAY);
    }

    #[test]
    fn types_the_server_would_round_or_shift_are_left_to_it() {
        // `real`, `numeric`: rounded; `timestamp` and `timestamptz`: shifted by the
        // session's time zone; `oid` into `int4`: negative.
        assert_eq!(natural_type::<f64>(), Type::UNKNOWN);
        assert_eq!(natural_type::<f32>(), Type::UNKNOWN);
        assert_eq!(natural_type::<Option<f64>>(), Type::UNKNOWN);
        assert_eq!(natural_type::<Vec<f64>>(), Type::UNKNOWN);
        assert_eq!(natural_type::<std::time::SystemTime>(), Type::UNKNOWN);
        assert_eq!(natural_type::<std::net::IpAddr>(), Type::UNKNOWN);
        assert_eq!(natural_type::<u32>(), Type::UNKNOWN);
        assert_eq!(natural_type::<i8>(), Type::UNKNOWN);
        assert!(!typed(&[(&1_i64, Type::INT8), (&1.5_f64, Type::UNKNOWN)]));
        assert!(typed(&[(&1_i64, Type::INT8), (&"a", Type::TEXT)]));
        assert_eq!(*param_types(&[(&1_i64, Type::INT8), (&1.5_f64, Type::UNKNOWN)]), [Type::INT8, Type::UNKNOWN]);
    }

    #[test]
    fn values_and_types_stay_in_place_up_to_the_inline_size() {
        let numbers: Vec<i64> = (0..40).collect();
        for n in [0, 1, INLINE, INLINE + 1, 40] {
            let params: Vec<Param<'_>> = numbers[..n].iter().map(|v| (v as &(dyn ToSql + Sync), Type::INT8)).collect();
            let (values, types) = (values(&params), param_types(&params));
            assert_eq!((values.len(), types.len()), (n, n));
            assert_eq!(values.spilled.is_empty(), n <= INLINE, "{n} parameters");
            assert!(types.iter().all(|ty| *ty == Type::INT8));
            for (value, expected) in values.iter().zip(&numbers) {
                assert_eq!(format!("{value:?}"), format!("{expected:?}"));
            }
        }
    }

    #[test]
    fn transient_server_errors_are_retryable() {
        assert!(is_retryable_code(&SqlState::T_R_SERIALIZATION_FAILURE));
        assert!(is_retryable_code(&SqlState::T_R_DEADLOCK_DETECTED));
        assert!(is_retryable_code(&SqlState::LOCK_NOT_AVAILABLE));
        assert!(!is_retryable_code(&SqlState::UNIQUE_VIOLATION));
        assert!(!is_retryable_code(&SqlState::QUERY_CANCELED));
    }
}
