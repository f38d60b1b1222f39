//! PostgreSQL through the `postgres` crate.
//!
//! Executors: `&mut postgres::Client` and `&mut postgres::Transaction`, which send a
//! statement whose parameters' types are all known in one round trip with those types
//! (PostgreSQL parses the text each time); and [`CachingClient`] /
//! [`CachingTransaction`], which prepare each statement once per connection and then
//! only bind and execute it, as hand-written code with prepared statements does.
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
//! (40P01) and locks not obtained in time (55P03, after `lock_timeout` or `NOWAIT`);
//! in a [`CachingTransaction`], a prepared statement the server dropped (26000) or
//! whose result's column types changed (0A000), which a [`CachingClient`] outside a
//! transaction prepares again by itself.

mod caching;

use bytes::BytesMut;
use postgres::error::SqlState;
use postgres::types::{FromSql, FromSqlOwned, IsNull, ToSql, Type};
use postgres::{Client, Row, Statement, Transaction};

use super::{Backend, Decode, Encode, RunNow, blocking_executor};
use crate::error::{BoxError, DatabaseError, Error};
use crate::sql::{Dialect, Statements};

pub use caching::{CachingClient, CachingTransaction, CachingTransactionBuilder};

/// The PostgreSQL backend (cargo feature `postgres`).
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
fn conversion_error(e: postgres::Error) -> BoxError {
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

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        let retryable = e.code().is_some_and(is_retryable_code);
        database_error(e, retryable)
    }
}

/// The driver's error as an [`Error::Database`], retryable or not.
fn database_error(e: postgres::Error, retryable: bool) -> Error {
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

    postgres::types::to_sql_checked!();
}

/// Whether every parameter's type is known, so the statement can go typed.
#[inline]
fn typed(params: &[Param<'_>]) -> bool {
    params.iter().all(|(_, ty)| *ty != Type::UNKNOWN)
}

/// The parameters' types to prepare a statement with: `Type::UNKNOWN`, which the
/// server takes as unspecified, where it is to name the type.
fn param_types(params: &[Param<'_>]) -> Vec<Type> {
    params.iter().map(|(_, ty)| ty.clone()).collect()
}

/// The values alone.
fn values<'a>(params: &[Param<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|(value, _)| *value).collect()
}

/// Hands `f` the values alone, from the stack for up to 32 parameters: a prepared
/// statement's call allocates no more than hand-written code.
#[inline]
fn with_values<R>(params: &[Param<'_>], f: impl FnOnce(&[&(dyn ToSql + Sync)]) -> R) -> R {
    const INLINE: usize = 32;
    if params.len() > INLINE {
        return f(&values(params));
    }
    let mut inline: [&(dyn ToSql + Sync); INLINE] = [&0_i32; INLINE];
    for (slot, (value, _)) in inline.iter_mut().zip(params) {
        *slot = *value;
    }
    f(&inline[..params.len()])
}

/// The operations `Client` and `Transaction` share, so one set of executors serves both.
trait Connection {
    fn execute_typed(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, postgres::Error>;
    fn query_typed_opt(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, postgres::Error>;
    fn execute(&mut self, sql: &Statement, params: &[&(dyn ToSql + Sync)]) -> Result<u64, postgres::Error>;
    fn query_opt(&mut self, sql: &Statement, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>, postgres::Error>;
    fn prepare_typed(&mut self, sql: &str, types: &[Type]) -> Result<Statement, postgres::Error>;
}

/// Implements [`Connection`] by forwarding to the driver's inherent methods.
macro_rules! connection {
    ($($ty:ty),*) => {$(
        impl Connection for $ty {
            #[inline]
            fn execute_typed(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, postgres::Error> {
                <$ty>::execute_typed(self, sql, params)
            }
            #[inline]
            fn query_typed_opt(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, postgres::Error> {
                <$ty>::query_typed_opt(self, sql, params)
            }
            #[inline]
            fn execute(&mut self, sql: &Statement, params: &[&(dyn ToSql + Sync)]) -> Result<u64, postgres::Error> {
                <$ty>::execute(self, sql, params)
            }
            #[inline]
            fn query_opt(&mut self, sql: &Statement, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>, postgres::Error> {
                <$ty>::query_opt(self, sql, params)
            }
            fn prepare_typed(&mut self, sql: &str, types: &[Type]) -> Result<Statement, postgres::Error> {
                <$ty>::prepare_typed(self, sql, types)
            }
        }
    )*};
}

connection!(Client, Transaction<'_>);

/// Runs a write in one round trip when every parameter's type is known; otherwise
/// prepares it first, so the server names the types left unknown.
fn execute_once(conn: &mut impl Connection, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
    if typed(params) {
        return Ok(conn.execute_typed(sql, params)?);
    }
    let statement = conn.prepare_typed(sql, &param_types(params))?;
    Ok(with_values(params, |values| conn.execute(&statement, values))?)
}

/// Runs a query as [`execute_once`] runs a write.
fn query_once(conn: &mut impl Connection, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
    if typed(params) {
        return Ok(conn.query_typed_opt(sql, params)?);
    }
    let statement = conn.prepare_typed(sql, &param_types(params))?;
    Ok(with_values(params, |values| conn.query_opt(&statement, values))?)
}

/// Implements [`RunNow`] and so [`Executor`] for an executor type, given how it runs a
/// write and a query.
macro_rules! postgres_executor {
    ($ty:ty, |$this:ident| $execute:expr, $query:expr) => {
        impl RunNow for $ty {
            type Backend = Postgres;

            #[inline]
            fn execute(&mut self, sql: &str, params: &mut [Param<'_>]) -> Result<u64, Error> {
                let $this = self;
                $execute(sql, params)
            }

            fn insert_generated(&mut self, sql: &str, params: &mut [Param<'_>]) -> Result<Row, Error> {
                let $this = self;
                $query(sql, params)?
                    .ok_or_else(|| Error::Database(DatabaseError::new("INSERT .. RETURNING returned no row", false)))
            }

            fn discard_generated(&mut self, sql: &Statements, row: &Row) -> Result<Option<u64>, Error> {
                let key = row.try_get::<_, RawValue>(0)?;
                if key.bytes.is_none() {
                    // A NULL key finds no row.
                    return Ok(None);
                }
                let $this = self;
                $execute(&sql.delete_generated, &mut [(&key as &(dyn ToSql + Sync), key.ty.clone())]).map(Some)
            }

            #[inline]
            fn query_row<T>(
                &mut self,
                sql: &str,
                params: &mut [Param<'_>],
                read: impl FnOnce(Option<&mut Row>) -> Result<T, Error>,
            ) -> Result<T, Error> {
                let $this = self;
                match $query(sql, params)? {
                    Some(mut row) => read(Some(&mut row)),
                    None => read(None),
                }
            }
        }
        blocking_executor!(Postgres: $ty);
    };
}

postgres_executor!(&mut Client, |c| |sql, params| execute_once(*c, sql, params), |sql, params| query_once(
    *c, sql, params
));
postgres_executor!(&mut Transaction<'_>, |t| |sql, params| execute_once(*t, sql, params), |sql, params| query_once(
    *t, sql, params
));
postgres_executor!(&mut CachingClient, |c| |sql, params| c.execute_cached(sql, params), |sql, params| c
    .query_cached(sql, params));
postgres_executor!(&mut CachingTransaction<'_>, |t| |sql, params| t.execute_cached(sql, params), |sql, params| t
    .query_cached(sql, params));

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
        assert_eq!(param_types(&[(&1_i64, Type::INT8), (&1.5_f64, Type::UNKNOWN)]), [Type::INT8, Type::UNKNOWN]);
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
