//! [`AsyncCachingClient`] and its transactions: a `tokio_postgres::Client` that
//! prepares each statement of `versioned` once per connection, then only binds and
//! runs it, as `CachingClient` does for the blocking driver.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row, Statement, Transaction, TransactionBuilder};

use super::cached::{Cached, Store};
use super::tokio::{Session, async_executor};
use super::{OnStale, Param, transaction_settings};
use crate::error::Error;

/// Prepared statements of one connection, keyed by their text. Locked only to look a
/// statement up or to keep one, never across an `.await`.
#[derive(Default)]
struct Prepared(Mutex<HashMap<Box<str>, Statement>>);

impl Prepared {
    fn lock(&self) -> MutexGuard<'_, HashMap<Box<str>, Statement>> {
        // The map is whole after any panic: each change is one call of its own.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn len(&self) -> usize {
        self.lock().len()
    }
}

impl Store for Prepared {
    #[inline]
    async fn prepare(&self, client: &Client, sql: &str, types: &[Type]) -> Result<Statement, tokio_postgres::Error> {
        let kept = self.lock().get(sql).cloned();
        if let Some(statement) = kept {
            return Ok(statement);
        }
        // Two first uses at once each prepare it; the one kept last stays.
        let statement = client.prepare_typed(sql, types).await?;
        self.lock().insert(sql.into(), statement.clone());
        Ok(statement)
    }

    fn forget(&self, sql: &str, _types: &[Type]) {
        self.lock().remove(sql);
    }

    fn clear(&self) {
        self.lock().clear();
    }
}

/// A `tokio_postgres::Client` that prepares each statement of `versioned` once and
/// reuses it, saving PostgreSQL the parsing and planning of every call: the async
/// counterpart of `CachingClient`, for code that holds a
/// connection of its own rather than a deadpool pool (whose `Object` keeps statements
/// in deadpool's cache already).
///
/// Adopt it in one line, `let db = AsyncCachingClient::new(client);`, then pass `&db`
/// wherever `&client` went: `user.save(&db).await?`. Like the `Client`, it is shared
/// by reference, so several tasks can run their statements on it at once. Run your
/// own SQL on the `Client` it derefs to; it does not hand out the `Client` mutably,
/// so the connection under its statements cannot be swapped. Its transactions come
/// from [`AsyncCachingClient::transaction`] and
/// [`AsyncCachingClient::build_transaction`].
///
/// A statement the server no longer has (after `DEALLOCATE ALL` or `DISCARD ALL`,
/// or behind a pooler that hands out another server session: SQLSTATE 26000) is
/// prepared again, as is one whose result's column types changed under it (`ALTER
/// TABLE .. ALTER COLUMN .. TYPE`: 0A000), and the call runs once more. Inside an
/// [`AsyncCachingTransaction`], which such a failure aborts, the statement is
/// forgotten and the call fails with a retryable error, so that the whole
/// transaction run again in `retry_async` goes through.
///
/// ```no_run
/// use versioned_core::backend::postgres::AsyncCachingClient;
/// use versioned_core::backend::{Bind, Postgres};
/// use versioned_core::{Error, Versioned};
///
/// /// Saves `note`, then bumps its version in a transaction: every statement
/// /// prepared once, on its first use.
/// async fn publish<T>(note: &mut T, client: tokio_postgres::Client) -> Result<(), Error>
/// where
///     T: Versioned + Bind<Postgres>,
/// {
///     let mut db = AsyncCachingClient::new(client);
///     note.save(&db).await?;
///
///     let tx = db.transaction().await?;
///     note.touch(&tx).await?;
///     tx.commit().await
/// }
/// ```
pub struct AsyncCachingClient {
    client: Client,
    prepared: Prepared,
}

impl AsyncCachingClient {
    /// Wraps a connection; no statement is prepared until it is first used.
    pub fn new(client: Client) -> Self {
        AsyncCachingClient { client, prepared: Prepared::default() }
    }

    /// Starts a transaction that shares this connection's prepared statements.
    pub async fn transaction(&mut self) -> Result<AsyncCachingTransaction<'_>, Error> {
        Ok(AsyncCachingTransaction { transaction: self.client.transaction().await?, prepared: &self.prepared })
    }

    /// A builder for a transaction with an isolation level, access mode or
    /// deferrability of its own, sharing this connection's prepared statements.
    pub fn build_transaction(&mut self) -> AsyncCachingTransactionBuilder<'_> {
        AsyncCachingTransactionBuilder { builder: self.client.build_transaction(), prepared: &self.prepared }
    }

    /// The connection, dropping the prepared statements' handles (the driver closes
    /// them on the server).
    pub fn into_inner(self) -> Client {
        self.client
    }
}

impl Deref for AsyncCachingClient {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::fmt::Debug for AsyncCachingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncCachingClient").field("prepared", &self.prepared.len()).finish_non_exhaustive()
    }
}

/// Builds an [`AsyncCachingTransaction`] with settings of its own, as
/// `tokio_postgres::TransactionBuilder` builds a `Transaction`: from
/// [`AsyncCachingClient::build_transaction`].
pub struct AsyncCachingTransactionBuilder<'a> {
    builder: TransactionBuilder<'a>,
    prepared: &'a Prepared,
}

impl<'a> AsyncCachingTransactionBuilder<'a> {
    transaction_settings!();

    /// Begins the transaction; dropped without commit, it rolls back.
    pub async fn start(self) -> Result<AsyncCachingTransaction<'a>, Error> {
        Ok(AsyncCachingTransaction { transaction: self.builder.start().await?, prepared: self.prepared })
    }
}

impl std::fmt::Debug for AsyncCachingTransactionBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncCachingTransactionBuilder").finish_non_exhaustive()
    }
}

/// A transaction of an [`AsyncCachingClient`], using its prepared statements. Commit
/// it with [`AsyncCachingTransaction::commit`]; dropped without commit, it rolls back.
/// Run your own SQL on the `tokio_postgres::Transaction` it derefs to.
///
/// A call whose statement the server no longer runs as prepared fails with a
/// retryable error (see [`AsyncCachingClient`]): run the whole transaction again.
pub struct AsyncCachingTransaction<'a> {
    transaction: Transaction<'a>,
    prepared: &'a Prepared,
}

impl AsyncCachingTransaction<'_> {
    /// Commits the transaction (releases the savepoint, for a nested one).
    pub async fn commit(self) -> Result<(), Error> {
        Ok(self.transaction.commit().await?)
    }

    /// Rolls the transaction back (to the savepoint, for a nested one).
    pub async fn rollback(self) -> Result<(), Error> {
        Ok(self.transaction.rollback().await?)
    }

    /// Starts a nested transaction, a savepoint named `name` (an SQL identifier, sent
    /// as is), sharing the prepared statements. Its rollback, or its drop without
    /// commit, undoes only its own writes.
    pub async fn savepoint(&mut self, name: impl Into<String>) -> Result<AsyncCachingTransaction<'_>, Error> {
        let transaction = self.transaction.savepoint(name).await?;
        Ok(AsyncCachingTransaction { transaction, prepared: self.prepared })
    }

    /// Starts a nested transaction, a savepoint named by the driver, as
    /// [`AsyncCachingTransaction::savepoint`] does.
    pub async fn transaction(&mut self) -> Result<AsyncCachingTransaction<'_>, Error> {
        let transaction = self.transaction.transaction().await?;
        Ok(AsyncCachingTransaction { transaction, prepared: self.prepared })
    }
}

impl<'a> Deref for AsyncCachingTransaction<'a> {
    type Target = Transaction<'a>;
    fn deref(&self) -> &Transaction<'a> {
        &self.transaction
    }
}

impl std::fmt::Debug for AsyncCachingTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncCachingTransaction").finish_non_exhaustive()
    }
}

/// Outside a transaction a stale statement is prepared again.
impl Session for AsyncCachingClient {
    #[inline]
    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        Cached::new(&self.client, &self.prepared, OnStale::Prepare).execute(sql, params).await
    }

    #[inline]
    async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
        Cached::new(&self.client, &self.prepared, OnStale::Prepare).query_opt(sql, params).await
    }
}

/// Inside one, which a stale statement aborts, the call fails retryably.
impl Session for AsyncCachingTransaction<'_> {
    #[inline]
    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        Cached::new(self.transaction.client(), self.prepared, OnStale::Fail).execute(sql, params).await
    }

    #[inline]
    async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
        Cached::new(self.transaction.client(), self.prepared, OnStale::Fail).query_opt(sql, params).await
    }
}

async_executor!(
    &AsyncCachingClient,
    &mut AsyncCachingClient,
    &AsyncCachingTransaction<'_>,
    &mut AsyncCachingTransaction<'_>,
);
