//! SQLite through rusqlite.
//!
//! Executors: `&rusqlite::Connection`, `&rusqlite::Transaction` and
//! `&rusqlite::Savepoint`, and the same behind `&mut`. Statements go through the connection's
//! `prepare_cached`, so each is compiled once per connection.

use rusqlite::types::{FromSql, ToSql, Value, ValueRef};
use rusqlite::{Connection, ErrorCode, Row, Savepoint, Transaction};

use super::{Backend, Decode, Encode, Executor};
use crate::error::{BoxError, DatabaseError, Error};
use crate::sql::{Dialect, Statements};

/// The SQLite backend (cargo feature `sqlite`, on by default).
#[derive(Debug, Clone, Copy)]
pub enum Sqlite {}

impl Backend for Sqlite {
    const NAME: &'static str = "SQLite";
    const DIALECT: Dialect = Dialect::Sqlite;
    type Param<'a> = &'a dyn ToSql;
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
    fn encode(&self) -> &dyn ToSql {
        self
    }
}

impl<T: FromSql> Decode<Sqlite> for T {
    #[inline]
    fn decode(row: &mut <Sqlite as Backend>::Row<'_>, index: usize) -> Result<Self, BoxError> {
        row.get(index).map_err(Into::into)
    }

    fn decode_generated(key: &Value) -> Result<Self, BoxError> {
        T::column_result(ValueRef::from(key)).map_err(Into::into)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        let retryable = matches!(e.sqlite_error_code(), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked));
        Error::Database(DatabaseError::new(e, retryable))
    }
}

#[inline]
fn execute(conn: &Connection, sql: &str, params: &mut [&dyn ToSql]) -> Result<u64, Error> {
    Ok(conn.prepare_cached(sql)?.execute(&*params)? as u64)
}

/// Runs `INSERT .. RETURNING key`; returns the key column's value.
fn insert_generated(conn: &Connection, sql: &str, params: &mut [&dyn ToSql]) -> Result<Value, Error> {
    Ok(conn.prepare_cached(sql)?.query_row(&*params, |row| row.get::<_, Value>(0))?)
}

/// Deletes the row just stored under `key`: by the key, or by its rowid when the
/// column generated nothing (the rowid of the insert is still the connection's last).
fn discard_generated(conn: &Connection, sql: &Statements, key: &Value) -> Result<Option<u64>, Error> {
    let removed = match key {
        Value::Null => execute(conn, &sql.delete_no_key, &mut [&conn.last_insert_rowid()])?,
        key => execute(conn, &sql.delete_generated, &mut [key])?,
    };
    Ok(Some(removed))
}

#[inline]
fn query_row<T>(
    conn: &Connection,
    sql: &str,
    params: &mut [&dyn ToSql],
    read: impl FnOnce(&mut <Sqlite as Backend>::Row<'_>) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(&*params)?;
    match rows.next()? {
        Some(mut row) => read(&mut row).map(Some),
        None => Ok(None),
    }
}

/// Implements [`Executor`] for a reference to a type that derefs to `Connection`.
macro_rules! sqlite_executor {
    ($($ty:ty),*) => {$(
        impl Executor for $ty {
            type Backend = Sqlite;

            #[inline]
            fn execute(&mut self, sql: &str, params: &mut [&dyn ToSql]) -> Result<u64, Error> {
                execute(self, sql, params)
            }

            #[inline]
            fn insert_generated(&mut self, sql: &str, params: &mut [&dyn ToSql]) -> Result<Value, Error> {
                insert_generated(self, sql, params)
            }

            fn discard_generated(&mut self, sql: &Statements, key: &Value) -> Result<Option<u64>, Error> {
                discard_generated(self, sql, key)
            }

            #[inline]
            fn query_row<T>(
                &mut self,
                sql: &str,
                params: &mut [&dyn ToSql],
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
