//! MySQL and MariaDB through the `mysql` crate.
//!
//! Executors: `&mut mysql::Conn`, `&mut mysql::PooledConn` and
//! `&mut mysql::Transaction`. The driver keeps a prepared-statement cache per
//! connection, keyed by the statement's text, so each statement is prepared once per
//! connection and then only executed.
//!
//! Two traps of this database shape the code:
//! - MySQL reports the rows a write *changed*, not the rows it *matched* (unless the
//!   connection sets `CLIENT_FOUND_ROWS`, which is the caller's choice, not ours).
//!   Every write here stores a new version, so a matched row is always a changed row
//!   and the count is the number of rows matched. A future write that may leave a row
//!   as it was (an update that sets only equal values, say) must not read "0 rows" as
//!   a conflict without first checking the version.
//! - Inside a REPEATABLE READ transaction a plain `SELECT` reads the transaction's
//!   snapshot, which may still hold the version the caller expected. The version read
//!   after a refused write is a locking read (`LOCK IN SHARE MODE`, understood by both
//!   MySQL and MariaDB), which sees the latest committed row.

use mysql::prelude::{FromValue, Queryable, ToValue};
use mysql::{Conn, Params, PooledConn, Row, Transaction, Value};

use super::{Backend, Decode, Encode, RunNow, blocking_executor};
use crate::error::{BoxError, DatabaseError, Error};
use crate::sql::{Dialect, Statements};

/// The MySQL and MariaDB backend (cargo feature `mysql`).
#[derive(Debug, Clone, Copy)]
pub enum Mysql {}

impl Backend for Mysql {
    const NAME: &'static str = "MySQL";
    const DIALECT: Dialect = Dialect::Mysql;
    type Param<'a> = Value;
    type Row<'r> = Row;
    /// `LAST_INSERT_ID()`.
    type GeneratedKey = u64;
    type ReadError = BoxError;

    /// `LAST_INSERT_ID()` is 0 after an insert into a table without `AUTO_INCREMENT`.
    #[inline]
    fn generated_nothing(key: &u64) -> bool {
        *key == 0
    }

    fn render_generated(key: &u64) -> String {
        key.to_string()
    }
}

impl<T: ToValue> Encode<Mysql> for T {
    #[inline]
    fn encode(&self) -> Value {
        self.to_value()
    }
}

impl<T: FromValue> Decode<Mysql> for T {
    #[inline]
    fn decode(row: &mut Row, index: usize) -> Result<Self, BoxError> {
        // Taken, not cloned: each column is read once.
        match row.take_opt(index) {
            Some(value) => value.map_err(Into::into),
            None => Err(format!("the row has no column {index}").into()),
        }
    }

    fn decode_generated(key: &u64) -> Result<Self, BoxError> {
        T::from_value_opt(Value::UInt(*key)).map_err(Into::into)
    }
}

/// MySQL's codes for a deadlock, a lock wait timeout and a row changed since the
/// transaction's snapshot (MariaDB's `innodb_snapshot_isolation`, on by default from
/// MariaDB 11.6): the transaction may succeed when run again.
const ER_LOCK_DEADLOCK: u16 = 1213;
const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
const ER_CHECKREAD: u16 = 1020;

impl From<mysql::Error> for Error {
    fn from(e: mysql::Error) -> Self {
        let retryable = matches!(&e, mysql::Error::MySqlError(m)
            if matches!(m.code, ER_LOCK_DEADLOCK | ER_LOCK_WAIT_TIMEOUT | ER_CHECKREAD));
        Error::Database(DatabaseError::new(e, retryable))
    }
}

/// The parameters, moved out of the bind slice (no second copy of the values).
#[inline]
fn params(values: &mut [Value]) -> Params {
    Params::Positional(values.iter_mut().map(|v| std::mem::replace(v, Value::NULL)).collect())
}

/// Implements [`RunNow`], and so [`Executor`], for one of the driver's `Queryable`
/// types; `$last_id` reads the generated key after an insert.
macro_rules! mysql_executor {
    ($ty:ty, |$this:ident| $last_id:expr) => {
        impl RunNow for $ty {
            type Backend = Mysql;

            #[inline]
            fn execute(&mut self, sql: &str, values: &mut [Value]) -> Result<u64, Error> {
                self.exec_drop(sql, params(values))?;
                // Rows changed = rows matched here: every write stores a new version.
                Ok(self.affected_rows())
            }

            fn insert_generated(&mut self, sql: &str, values: &mut [Value]) -> Result<u64, Error> {
                self.exec_drop(sql, params(values))?;
                let $this = self;
                Ok($last_id)
            }

            fn discard_generated(&mut self, sql: &Statements, key: &u64) -> Result<Option<u64>, Error> {
                match *key {
                    0 => self.exec_drop(&sql.delete_no_key, ())?,
                    key => self.exec_drop(&sql.delete_generated, (key,))?,
                }
                Ok(Some(self.affected_rows()))
            }

            #[inline]
            fn query_row<T>(
                &mut self,
                sql: &str,
                values: &mut [Value],
                read: impl FnOnce(Option<&mut Row>) -> Result<T, Error>,
            ) -> Result<T, Error> {
                match self.exec_first::<Row, _, _>(sql, params(values))? {
                    Some(mut row) => read(Some(&mut row)),
                    None => read(None),
                }
            }
        }
        blocking_executor!(Mysql: $ty);
    };
}

mysql_executor!(&mut Conn, |c| c.last_insert_id());
mysql_executor!(&mut PooledConn, |c| c.last_insert_id());
mysql_executor!(&mut Transaction<'_>, |t| t.last_insert_id().unwrap_or_default());
