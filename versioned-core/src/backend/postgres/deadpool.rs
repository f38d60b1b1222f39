//! The async executors on `deadpool-postgres`: a pooled connection, `&Object` (or the
//! `&ClientWrapper` that `&*object` gives), and its `&Transaction` (and the same behind
//! `&mut`), whose statements go through
//! deadpool's own statement cache, as hand-written deadpool code's do: each is
//! prepared once per connection, with its parameters' types, then only bound and run.

use deadpool_postgres::{ClientWrapper, Object, StatementCache, Transaction};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row, Statement};

use super::cached::{Cached, Store};
use super::tokio::{Session, async_executor};
use super::{OnStale, Param};
use crate::error::Error;

/// Deadpool's statement cache as the store of a connection's statements (deadpool
/// has concurrent first uses share one preparation).
impl Store for StatementCache {
    #[inline]
    async fn prepare(&self, client: &Client, sql: &str, types: &[Type]) -> Result<Statement, tokio_postgres::Error> {
        self.prepare_typed(client, sql, types).await
    }

    fn forget(&self, sql: &str, types: &[Type]) {
        drop(self.remove(sql, types));
    }

    fn clear(&self) {
        StatementCache::clear(self);
    }
}

/// A pooled connection's statements: outside a transaction, a stale statement is
/// prepared again.
#[inline]
fn connection(client: &ClientWrapper) -> Cached<'_, StatementCache> {
    Cached::new(client, &client.statement_cache, OnStale::Prepare)
}

/// A transaction's, which a stale statement aborts: the call fails, retryably.
#[inline]
fn transaction<'c>(transaction: &'c Transaction<'_>) -> Cached<'c, StatementCache> {
    Cached::new(transaction.client(), &transaction.statement_cache, OnStale::Fail)
}

impl Session for ClientWrapper {
    #[inline]
    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        connection(self).execute(sql, params).await
    }

    #[inline]
    async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
        connection(self).query_opt(sql, params).await
    }
}

impl Session for Transaction<'_> {
    #[inline]
    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        transaction(self).execute(sql, params).await
    }

    #[inline]
    async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
        transaction(self).query_opt(sql, params).await
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
