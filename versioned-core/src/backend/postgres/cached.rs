//! Running `versioned`'s statements through a per-connection statement cache, for the
//! async executors that keep one: deadpool-postgres' `Object` and `Transaction` (in
//! deadpool's own cache) and [`AsyncCachingClient`](super::AsyncCachingClient) and its
//! transactions (in one of ours). Each statement is prepared once per connection, with
//! its parameters' types, then only bound and run; one the server no longer runs as
//! prepared is forgotten and prepared again, or fails retryably inside a transaction.

use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row, Statement};

use super::{OnStale, Param, Stale, database_error, param_types, stale, values};
use crate::error::Error;

/// Where a connection keeps its prepared statements.
pub(super) trait Store {
    /// The statement for `sql` with parameters of the types `types`, prepared on
    /// `client` on first use.
    async fn prepare(&self, client: &Client, sql: &str, types: &[Type]) -> Result<Statement, tokio_postgres::Error>;

    /// Forgets the statement for `sql`, so that its next use prepares it again.
    fn forget(&self, sql: &str, types: &[Type]);

    /// Forgets every statement: the server dropped them all.
    fn clear(&self);
}

/// A connection's statements through its statement cache.
pub(super) struct Cached<'c, S> {
    client: &'c Client,
    store: &'c S,
    on_stale: OnStale,
}

impl<'c, S: Store> Cached<'c, S> {
    /// The statements of `client`, kept in `store`. `on_stale`: what a statement the
    /// server no longer runs as prepared leads to (inside a transaction, which that
    /// aborts, a retryable error).
    #[inline]
    pub(super) fn new(client: &'c Client, store: &'c S, on_stale: OnStale) -> Self {
        Cached { client, store, on_stale }
    }

    /// After `e` from running the statement for `sql`: when it says the statement is
    /// stale, forgets it (every statement, when the server dropped them all) and
    /// returns `Ok` to have it prepared again and run once more, or a retryable error
    /// inside a transaction, as `on_stale` says. Any other error is returned as it is.
    #[cold]
    fn recover(&self, sql: &str, types: &[Type], e: tokio_postgres::Error) -> Result<(), Error> {
        match stale(&e) {
            Some(Stale::Deallocated) => self.store.clear(),
            Some(Stale::ResultTypeChanged) => self.store.forget(sql, types),
            None => return Err(e.into()),
        }
        match self.on_stale {
            OnStale::Prepare => Ok(()),
            OnStale::Fail => Err(database_error(e, true)),
        }
    }

    /// Runs the write, the values handed to the driver as an iterator (as
    /// `Client::execute` hands them on), so that they need no array of their own.
    pub(super) async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        let types = param_types(params);
        let values = || params.iter().map(|(value, _)| *value);
        let statement = self.store.prepare(self.client, sql, &types).await?;
        match self.client.execute_raw(&statement, values()).await {
            Ok(rows) => Ok(rows),
            Err(e) => {
                self.recover(sql, &types, e)?;
                let statement = self.store.prepare(self.client, sql, &types).await?;
                Ok(self.client.execute_raw(&statement, values()).await?)
            }
        }
    }

    /// Runs the query; returns its one row, if any (several are an error).
    pub(super) async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
        let (types, values) = (param_types(params), values(params));
        let statement = self.store.prepare(self.client, sql, &types).await?;
        match self.client.query_opt(&statement, &values).await {
            Ok(row) => Ok(row),
            Err(e) => {
                self.recover(sql, &types, e)?;
                let statement = self.store.prepare(self.client, sql, &types).await?;
                Ok(self.client.query_opt(&statement, &values).await?)
            }
        }
    }
}
