//! The async executors on `deadpool-postgres`: a pooled connection, `&Object` (or the
//! `&ClientWrapper` that `&*object` gives), and its `&Transaction` (and the same behind
//! `&mut`), whose statements go through
//! deadpool's own statement cache, as hand-written deadpool code's do: each is
//! prepared once per connection, with its parameters' types, then only bound and run.

use deadpool_postgres::{ClientWrapper, Object, StatementCache, Transaction};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row, Statement};

use super::tokio::{Session, async_executor};
use super::{OnStale, Param, Stale, database_error, param_types, stale, values};
use crate::error::Error;

/// A connection's statements through its statement cache.
struct Cached<'c> {
    client: &'c Client,
    cache: &'c StatementCache,
    on_stale: OnStale,
}

impl<'c> Cached<'c> {
    /// A pooled connection's: outside a transaction, a stale statement is prepared
    /// again.
    #[inline]
    fn connection(client: &'c ClientWrapper) -> Self {
        Cached { client, cache: &client.statement_cache, on_stale: OnStale::Prepare }
    }

    /// A transaction's, which a stale statement aborts: the call fails, retryably.
    #[inline]
    fn transaction(transaction: &'c Transaction<'_>) -> Self {
        Cached { client: transaction.client(), cache: &transaction.statement_cache, on_stale: OnStale::Fail }
    }

    /// The statement for `sql` with parameters of the types `types`, prepared on first
    /// use (deadpool has concurrent first uses share one preparation).
    #[inline]
    async fn prepare(&self, sql: &str, types: &[Type]) -> Result<Statement, Error> {
        Ok(self.cache.prepare_typed(self.client, sql, types).await?)
    }

    /// After `e` from running the statement for `sql`: when it says the statement is
    /// stale, forgets it (every statement, when the server dropped them all) and
    /// returns `Ok` to have it prepared again and run once more, or a retryable error
    /// inside a transaction, as `on_stale` says. Any other error is returned as it is.
    #[cold]
    fn recover(&self, sql: &str, types: &[Type], e: tokio_postgres::Error) -> Result<(), Error> {
        match stale(&e) {
            Some(Stale::Deallocated) => self.cache.clear(),
            Some(Stale::ResultTypeChanged) => drop(self.cache.remove(sql, types)),
            None => return Err(e.into()),
        }
        match self.on_stale {
            OnStale::Prepare => Ok(()),
            OnStale::Fail => Err(database_error(e, true)),
        }
    }

    /// Runs the write, the values handed to the driver as an iterator (as
    /// `Client::execute` hands them on), so that they need no array of their own.
    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        let types = param_types(params);
        let values = || params.iter().map(|(value, _)| *value);
        let statement = self.prepare(sql, &types).await?;
        match self.client.execute_raw(&statement, values()).await {
            Ok(rows) => Ok(rows),
            Err(e) => {
                self.recover(sql, &types, e)?;
                let statement = self.prepare(sql, &types).await?;
                Ok(self.client.execute_raw(&statement, values()).await?)
            }
        }
    }

    async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
        let (types, values) = (param_types(params), values(params));
        let statement = self.prepare(sql, &types).await?;
        match self.client.query_opt(&statement, &values).await {
            Ok(row) => Ok(row),
            Err(e) => {
                self.recover(sql, &types, e)?;
                let statement = self.prepare(sql, &types).await?;
                Ok(self.client.query_opt(&statement, &values).await?)
            }
        }
    }
}

impl Session for ClientWrapper {
    #[inline]
    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        Cached::connection(self).execute(sql, params).await
    }

    #[inline]
    async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
        Cached::connection(self).query_opt(sql, params).await
    }
}

impl Session for Transaction<'_> {
    #[inline]
    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        Cached::transaction(self).execute(sql, params).await
    }

    #[inline]
    async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
        Cached::transaction(self).query_opt(sql, params).await
    }
}

impl Session for Object {
    #[inline]
    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        Session::execute(&**self, sql, params).await
    }

    #[inline]
    async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
        Session::query_opt(&**self, sql, params).await
    }
}

async_executor!(&Object, &mut Object, &ClientWrapper, &mut ClientWrapper, &Transaction<'_>, &mut Transaction<'_>);
