//! SQLite through rusqlite.
//!
//! Executors: `&rusqlite::Connection`, `&rusqlite::Transaction` and
//! `&rusqlite::Savepoint`, and the same behind `&mut`. Statements go through the connection's
//! `prepare_cached`, so each is compiled once per connection.

use rusqlite::types::{FromSql, Null, ToSql, ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, ErrorCode, Row, Savepoint, Statement, Transaction};

use super::{Backend, Decode, Encode, RunNow, blocking_executor};
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
    type ReadError = rusqlite::Error;

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
    fn decode(row: &mut <Sqlite as Backend>::Row<'_>, index: usize) -> rusqlite::Result<Self> {
        row.get(index)
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

type Param<'a> = <Sqlite as Backend>::Param<'a>;

/// Binds `params` to `stmt`, one by one; a parameter whose conversion failed is the
/// error, taken out.
///
/// The statement text and the parameters come from the same entity metadata, so
/// their counts agree; the check stays, as the driver's own binding makes it.
#[inline(always)]
fn bind(stmt: &mut Statement<'_>, params: &mut [Param<'_>]) -> Result<(), Error> {
    if stmt.parameter_count() != params.len() {
        return Err(miscounted(stmt, params.len()));
    }
    for (index, param) in params.iter_mut().enumerate() {
        match param {
            // An integer (keys, versions) binds as one, as hand-written code binds an
            // `i64`.
            Ok(ToSqlOutput::Owned(Value::Integer(value)) | ToSqlOutput::Borrowed(ValueRef::Integer(value))) => {
                stmt.raw_bind_parameter(index + 1, *value)?
            }
            Ok(value) => stmt.raw_bind_parameter(index + 1, Bound(value))?,
            Err(_) => return Err(failed(param)),
        }
    }
    Ok(())
}

/// A converted parameter as the driver binds it, borrowed.
struct Bound<'p, 'a>(&'p ToSqlOutput<'a>);

impl ToSql for Bound<'_, '_> {
    #[inline]
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self.0 {
            ToSqlOutput::Borrowed(value) => Ok(ToSqlOutput::Borrowed(*value)),
            ToSqlOutput::Owned(value) => Ok(ToSqlOutput::Borrowed(ValueRef::from(value))),
            other => other.to_sql(),
        }
    }
}

/// The error for a statement whose placeholders do not match the parameters.
#[cold]
#[inline(never)]
fn miscounted(stmt: &Statement<'_>, params: usize) -> Error {
    rusqlite::Error::InvalidParameterCount(params, stmt.parameter_count()).into()
}

/// The error of a parameter whose conversion failed.
#[cold]
#[inline(never)]
fn failed(param: &mut Param<'_>) -> Error {
    match std::mem::replace(param, Ok(ToSqlOutput::from(Null))) {
        Err(e) => e.into(),
        Ok(_) => rusqlite::Error::InvalidQuery.into(),
    }
}

#[inline]
fn execute(conn: &Connection, sql: &str, params: &mut [Param<'_>]) -> Result<u64, Error> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    Ok(stmt.raw_execute()? as u64)
}

/// Runs `INSERT .. RETURNING key`; returns the key column's value.
fn insert_generated(conn: &Connection, sql: &str, params: &mut [Param<'_>]) -> Result<Value, Error> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    let mut rows = stmt.raw_query();
    match rows.next()? {
        Some(row) => Ok(row.get::<_, Value>(0)?),
        None => Err(rusqlite::Error::QueryReturnedNoRows.into()),
    }
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
    read: impl FnOnce(Option<&mut <Sqlite as Backend>::Row<'_>>) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    let mut rows = stmt.raw_query();
    match rows.next()? {
        Some(mut row) => read(Some(&mut row)),
        None => read(None),
    }
}

/// Implements [`RunNow`] for a reference to a type that derefs to `Connection`.
macro_rules! sqlite_executor {
    ($($ty:ty),*) => {$(
        impl RunNow for $ty {
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
                read: impl FnOnce(Option<&mut <Sqlite as Backend>::Row<'_>>) -> Result<T, Error>,
            ) -> Result<T, Error> {
                query_row(self, sql, params, read)
            }
        }
        blocking_executor!(Sqlite: $ty);
    )*};
}

sqlite_executor!(&Connection, &Transaction<'_>, &Savepoint<'_>);
// `&mut` too, so code generic over `&mut C: Executor` serves SQLite as it serves
// PostgreSQL and MySQL.
sqlite_executor!(&mut Connection, &mut Transaction<'_>, &mut Savepoint<'_>);
