//! SQLite through rusqlite.
//!
//! Executors: `&rusqlite::Connection`, `&rusqlite::Transaction` and
//! `&rusqlite::Savepoint`, and the same behind `&mut`. Statements go through the connection's
//! `prepare_cached`, so each is compiled once per connection.

use rusqlite::types::{FromSql, Null, ToSql, ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, ErrorCode, ParamsFromIter, Row, Savepoint, Transaction};

use super::{Backend, Decode, Encode, Executor};
use crate::error::{BoxError, DatabaseError, Error};
use crate::sql::{Dialect, Statements};

/// The SQLite backend (cargo feature `sqlite`, on by default).
#[derive(Debug, Clone, Copy)]
pub enum Sqlite {}

impl Backend for Sqlite {
    const NAME: &'static str = "SQLite";
    const DIALECT: Dialect = Dialect::Sqlite;
    /// A field's value converted by its own type's `ToSql`, so binding needs no
    /// dynamic dispatch; a conversion that failed is bound as that error.
    type Param<'a> = rusqlite::Result<ToSqlOutput<'a>>;
    /// rusqlite lends rows by shared reference.
    type Row<'r> = &'r Row<'r>;
    /// The key column's value, read back with `INSERT .. RETURNING`.
    type GeneratedKey = Value;

    #[inline]
    fn generated_nothing(key: &Value) -> bool {
        *key == Value::Null
    }

    fn render_generated(key: &Value) -> String {
        match key {
            Value::Null => "NULL".to_owned(),
            Value::Integer(i) => i.to_string(),
            Value::Real(f) => f.to_string(),
            Value::Text(t) => format!("{t:?}"),
            Value::Blob(b) => format!("{b:?}"),
        }
    }
}

impl<T: ToSql> Encode<Sqlite> for T {
    #[inline]
    fn encode(&self) -> Param<'_> {
        self.to_sql()
    }
}

impl<T: FromSql> Decode<Sqlite> for T {
    #[inline]
    fn decode(row: &mut <Sqlite as Backend>::Row<'_>, index: usize) -> Result<Self, BoxError> {
        // A match with a cold error arm, not `map_err`: the value passes through
        // untouched, as in hand-written `row.get(i)?`.
        match row.get(index) {
            Ok(value) => Ok(value),
            Err(e) => Err(boxed(e)),
        }
    }

    fn decode_generated(key: &Value) -> Result<Self, BoxError> {
        T::column_result(ValueRef::from(key)).map_err(Into::into)
    }
}

/// The driver's error, boxed: the cold arm of a column read.
#[cold]
#[inline(never)]
fn boxed(e: rusqlite::Error) -> BoxError {
    Box::new(e)
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        let retryable = matches!(e.sqlite_error_code(), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked));
        Error::Database(DatabaseError::new(e, retryable))
    }
}

type Param<'a> = <Sqlite as Backend>::Param<'a>;

/// Fails with the first parameter whose conversion failed, taking its error out.
#[inline]
fn converted(params: &mut [Param<'_>]) -> Result<(), Error> {
    match params.iter_mut().find(|p| p.is_err()) {
        None => Ok(()),
        Some(failed) => Err(std::mem::replace(failed, Ok(ToSqlOutput::from(Null))).unwrap_err().into()),
    }
}

/// A converted parameter as the driver binds it.
struct Bound<'p, 'a: 'p>(&'p Param<'a>);

impl ToSql for Bound<'_, '_> {
    #[inline]
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self.0 {
            Ok(ToSqlOutput::Borrowed(value)) => Ok(ToSqlOutput::Borrowed(*value)),
            Ok(ToSqlOutput::Owned(value)) => Ok(ToSqlOutput::Borrowed(ValueRef::from(value))),
            Ok(other) => other.to_sql(),
            // `converted` took every failed conversion out before binding.
            Err(_) => Err(rusqlite::Error::InvalidQuery),
        }
    }
}

/// The parameters, for the driver's own binding loop.
#[inline]
fn bound<'p, 'a: 'p>(params: &'p [Param<'a>]) -> ParamsFromIter<impl Iterator<Item = Bound<'p, 'a>>> {
    rusqlite::params_from_iter(params.iter().map(Bound))
}

#[inline]
fn execute(conn: &Connection, sql: &str, params: &mut [Param<'_>]) -> Result<u64, Error> {
    converted(params)?;
    Ok(conn.prepare_cached(sql)?.execute(bound(params))? as u64)
}

/// Runs `INSERT .. RETURNING key`; returns the key column's value.
fn insert_generated(conn: &Connection, sql: &str, params: &mut [Param<'_>]) -> Result<Value, Error> {
    converted(params)?;
    Ok(conn.prepare_cached(sql)?.query_row(bound(params), |row| row.get::<_, Value>(0))?)
}

/// Deletes the row just stored under `key`: by the key, or by its rowid when the
/// column generated nothing (the rowid of the insert is still the connection's last).
fn discard_generated(conn: &Connection, sql: &Statements, key: &Value) -> Result<Option<u64>, Error> {
    let removed = match key {
        Value::Null => execute(conn, &sql.delete_no_key, &mut [conn.last_insert_rowid().to_sql()])?,
        key => execute(conn, &sql.delete_generated, &mut [key.to_sql()])?,
    };
    Ok(Some(removed))
}

#[inline]
fn query_row<T>(
    conn: &Connection,
    sql: &str,
    params: &mut [Param<'_>],
    read: impl FnOnce(&mut <Sqlite as Backend>::Row<'_>) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    converted(params)?;
    // `read`'s own error travels inside the driver's `Ok`.
    let read = |row: &Row<'_>| {
        let mut row: <Sqlite as Backend>::Row<'_> = row;
        Ok(read(&mut row))
    };
    match conn.prepare_cached(sql)?.query_row(bound(params), read) {
        Ok(read) => read.map(Some),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Implements [`Executor`] for a reference to a type that derefs to `Connection`.
macro_rules! sqlite_executor {
    ($($ty:ty),*) => {$(
        impl Executor for $ty {
            type Backend = Sqlite;

            #[inline]
            fn execute(&mut self, sql: &str, params: &mut [Param<'_>]) -> Result<u64, Error> {
                execute(self, sql, params)
            }

            #[inline]
            fn insert_generated(&mut self, sql: &str, params: &mut [Param<'_>]) -> Result<Value, Error> {
                insert_generated(self, sql, params)
            }

            fn discard_generated(&mut self, sql: &Statements, key: &Value) -> Result<Option<u64>, Error> {
                discard_generated(self, sql, key)
            }

            #[inline]
            fn query_row<T>(
                &mut self,
                sql: &str,
                params: &mut [Param<'_>],
                read: impl FnOnce(&mut <Sqlite as Backend>::Row<'_>) -> Result<T, Error>,
            ) -> Result<Option<T>, Error> {
                query_row(self, sql, params, read)
            }
        }
    )*};
}

sqlite_executor!(&Connection, &Transaction<'_>, &Savepoint<'_>);
// `&mut` too, so code generic over `&mut C: Executor` serves SQLite as it serves
// PostgreSQL and MySQL.
sqlite_executor!(&mut Connection, &mut Transaction<'_>, &mut Savepoint<'_>);
