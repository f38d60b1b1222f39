//! The async executors on `tokio-postgres`: `&Client` and `&Transaction` (and the same
//! behind `&mut`), which run each statement as the blocking `postgres::Client` does.
//! The executors of `deadpool-postgres` share their [`Executor`](crate::backend::Executor)
//! impl, given here.

use tokio_postgres::{Client, Row, Transaction};

use super::{Param, param_types, typed, values};
use crate::error::Error;

/// Where an async executor's statements run: how it runs a write and a query.
///
/// The futures are not declared `Send`: each implementation's are, for its concrete
/// type, and the operations built on them inherit that.
pub(super) trait Session {
    /// Runs a write; returns the number of rows it matched.
    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error>;

    /// Runs a query; returns its one row, if any (several are an error).
    async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error>;
}

/// A statement in one round trip when every parameter's type is known; otherwise
/// prepared first, so the server names the types left unknown. `tokio-postgres` keeps
/// no statements: a statement prepared here is closed when it is dropped.
impl Session for Client {
    #[inline]
    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        if typed(params) {
            return Ok(self.execute_typed(sql, params).await?);
        }
        let statement = self.prepare_typed(sql, &param_types(params)).await?;
        Ok(Client::execute(self, &statement, &values(params)).await?)
    }

    #[inline]
    async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
        if typed(params) {
            return Ok(self.query_typed_opt(sql, params).await?);
        }
        let statement = self.prepare_typed(sql, &param_types(params)).await?;
        Ok(Client::query_opt(self, &statement, &values(params)).await?)
    }
}

/// A transaction's statements run on its client, as its own methods do.
impl Session for Transaction<'_> {
    #[inline]
    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        Session::execute(self.client(), sql, params).await
    }

    #[inline]
    async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
        Session::query_opt(self.client(), sql, params).await
    }
}

/// Implements [`Executor`](crate::backend::Executor) in [`Async`](crate::backend::Async) mode for references to
/// types that implement [`Session`].
macro_rules! async_executor {
    ($($ty:ty),* $(,)?) => {$(
        impl crate::backend::Executor for $ty {
            type Backend = super::Postgres;
            type Mode = crate::backend::Async;

            #[inline]
            fn execute(
                &mut self,
                sql: &'static str,
                params: crate::backend::Params<'_, '_, Self::Backend>,
            ) -> impl Future<Output = Result<u64, crate::Error>> {
                super::tokio::Session::execute(&**self, sql, params.0)
            }

            #[inline]
            fn insert_generated(
                &mut self,
                sql: &'static str,
                params: crate::backend::Params<'_, '_, Self::Backend>,
            ) -> impl Future<Output = Result<tokio_postgres::Row, crate::Error>> {
                let session = &**self;
                async move { super::tokio::Session::query_opt(session, sql, params.0).await?.ok_or_else(super::no_returned_row) }
            }

            fn discard_generated(
                &mut self,
                sql: &'static crate::sql::Statements,
                row: &tokio_postgres::Row,
            ) -> impl Future<Output = Result<Option<u64>, crate::Error>> {
                let session = &**self;
                async move {
                    let Some(key) = super::generated_key(row)? else { return Ok(None) };
                    super::tokio::Session::execute(session, &sql.delete_generated, &[key.param()]).await.map(Some)
                }
            }

            #[inline]
            fn query_row<T>(
                &mut self,
                sql: &'static str,
                params: crate::backend::Params<'_, '_, Self::Backend>,
                read: impl FnOnce(Option<&mut tokio_postgres::Row>) -> Result<T, crate::Error>,
            ) -> impl Future<Output = Result<T, crate::Error>> {
                let session = &**self;
                async move {
                    match super::tokio::Session::query_opt(session, sql, params.0).await? {
                        Some(mut row) => read(Some(&mut row)),
                        None => read(None),
                    }
                }
            }
        }
    )*};
}
pub(super) use async_executor;

async_executor!(&Client, &mut Client, &Transaction<'_>, &mut Transaction<'_>);
