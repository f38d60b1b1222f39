//! SQLite through rusqlite.
//!
//! Executors: `&rusqlite::Connection`, `&rusqlite::Transaction` and
//! `&rusqlite::Savepoint`, and the same behind `&mut`. Statements go through the connection's
//! `prepare_cached`, so each is compiled once per connection.

use rusqlite::types::{FromSql, ToSql, ValueRef};
use rusqlite::{Connection, ErrorCode, Row, Savepoint, Transaction};

use super::{Backend, Decode, Encode, Executor};
use crate::error::{BoxError, DatabaseError, Error};
use crate::sql::Dialect;

/// The SQLite backend (cargo feature `sqlite`, on by default).
#[derive(Debug, Clone, Copy)]
pub enum Sqlite {}

impl Backend for Sqlite {
    const NAME: &'static str = "SQLite";
    const DIALECT: Dialect = Dialect::Sqlite;
    type Param<'a> = &'a dyn ToSql;
    /// rusqlite lends rows by shared reference.
    type Row<'r> = &'r Row<'r>;
    /// `sqlite3_last_insert_rowid`: the generated key of an `INTEGER PRIMARY KEY`.
    type GeneratedKey = i64;
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

    fn decode_generated(key: &i64) -> Result<Self, BoxError> {
        T::column_result(ValueRef::Integer(*key)).map_err(Into::into)
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

fn insert_generated(conn: &Connection, sql: &str, params: &mut [&dyn ToSql]) -> Result<i64, Error> {
    conn.prepare_cached(sql)?.execute(&*params)?;
    Ok(conn.last_insert_rowid())
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
            fn insert_generated(&mut self, sql: &str, params: &mut [&dyn ToSql]) -> Result<i64, Error> {
                insert_generated(self, sql, params)
            }

            fn discard_generated(&mut self, sql: &str, key: &i64) -> Result<(), Error> {
                execute(self, sql, &mut [key]).map(drop)
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
