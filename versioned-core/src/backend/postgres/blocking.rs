//! The blocking executors on the `postgres` crate: `&mut Client` and
//! `&mut Transaction`, which run each statement as it comes, and `&mut CachingClient`
//! and `&mut CachingTransaction`, which prepare it once per connection.

use postgres::types::{ToSql, Type};
use postgres::{Client, Row, Statement, Transaction};

use super::{
    CachingClient, CachingTransaction, Param, Postgres, generated_key, no_returned_row, param_types, typed, values,
};
use crate::backend::{RunNow, blocking_executor};
use crate::error::Error;
use crate::sql::Statements;

/// The operations `Client` and `Transaction` share, so one set of executors serves both.
pub(super) trait Connection {
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
    Ok(conn.execute(&statement, &values(params))?)
}

/// Runs a query as [`execute_once`] runs a write.
fn query_once(conn: &mut impl Connection, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
    if typed(params) {
        return Ok(conn.query_typed_opt(sql, params)?);
    }
    let statement = conn.prepare_typed(sql, &param_types(params))?;
    Ok(conn.query_opt(&statement, &values(params))?)
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
                $query(sql, params)?.ok_or_else(no_returned_row)
            }

            fn discard_generated(&mut self, sql: &Statements, row: &Row) -> Result<Option<u64>, Error> {
                let Some(key) = generated_key(row)? else { return Ok(None) };
                let $this = self;
                $execute(&sql.delete_generated, &mut [key.param()]).map(Some)
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
