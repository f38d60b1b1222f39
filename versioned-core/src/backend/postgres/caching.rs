//! [`CachingClient`] and its transactions: each statement of `versioned` prepared once
//! per connection, then only bound and executed.

use std::collections::HashMap;
use std::ops::Deref;
use std::time::Duration;

use postgres::types::{ToSql, Type};
use postgres::{Client, Row, SimpleQueryMessage, Statement, ToStatement, Transaction, TransactionBuilder};

use super::blocking::Connection;
use super::{OnStale, Param, Stale, database_error, param_types, stale, transaction_settings, values};
use crate::error::Error;

/// Prepared statements of one connection, keyed by their text.
#[derive(Default)]
struct Prepared(HashMap<Box<str>, Statement>);

impl Prepared {
    /// The statement for `sql`, prepared on first use with the parameters' types
    /// where they are known.
    fn get(&mut self, conn: &mut impl Connection, sql: &str, params: &[Param<'_>]) -> Result<Statement, Error> {
        if let Some(statement) = self.0.get(sql) {
            return Ok(statement.clone());
        }
        let statement = conn.prepare_typed(sql, &param_types(params))?;
        self.0.insert(sql.into(), statement.clone());
        Ok(statement)
    }

    /// Runs the statement for `sql` with `run` (a write or a query).
    #[inline]
    fn run<C: Connection, R>(
        &mut self,
        conn: &mut C,
        sql: &str,
        params: &[Param<'_>],
        on_stale: OnStale,
        run: impl Fn(&mut C, &Statement, &[&(dyn ToSql + Sync)]) -> Result<R, postgres::Error>,
    ) -> Result<R, Error> {
        let statement = self.get(conn, sql, params)?;
        match run(conn, &statement, &values(params)) {
            Ok(result) => Ok(result),
            Err(e) => self.recover(conn, sql, params, on_stale, e, run),
        }
    }

    /// After `e` from running the statement for `sql`: when it says the statement is
    /// stale, forgets it and prepares it again or fails retryably, as `on_stale` says.
    #[cold]
    fn recover<C: Connection, R>(
        &mut self,
        conn: &mut C,
        sql: &str,
        params: &[Param<'_>],
        on_stale: OnStale,
        e: postgres::Error,
        run: impl Fn(&mut C, &Statement, &[&(dyn ToSql + Sync)]) -> Result<R, postgres::Error>,
    ) -> Result<R, Error> {
        match stale(&e) {
            Some(Stale::Deallocated) => self.0.clear(),
            Some(Stale::ResultTypeChanged) => drop(self.0.remove(sql)),
            None => return Err(e.into()),
        }
        match on_stale {
            OnStale::Fail => Err(database_error(e, true)),
            OnStale::Prepare => {
                let statement = self.get(conn, sql, params)?;
                Ok(run(conn, &statement, &values(params))?)
            }
        }
    }

    #[inline]
    fn execute(
        &mut self,
        conn: &mut impl Connection,
        sql: &str,
        params: &[Param<'_>],
        on_stale: OnStale,
    ) -> Result<u64, Error> {
        self.run(conn, sql, params, on_stale, |conn, statement, values| conn.execute(statement, values))
    }

    #[inline]
    fn query(
        &mut self,
        conn: &mut impl Connection,
        sql: &str,
        params: &[Param<'_>],
        on_stale: OnStale,
    ) -> Result<Option<Row>, Error> {
        self.run(conn, sql, params, on_stale, |conn, statement, values| conn.query_opt(statement, values))
    }
}

/// The driver's methods for the caller's own SQL, forwarded to the connection in the
/// field `$conn`: they behave, and fail, as the driver's own do.
macro_rules! forward_sql {
    ($conn:ident) => {
        /// Runs a statement and returns the number of rows it changed, as
        /// `postgres::Client::execute` does.
        pub fn execute<T>(&mut self, query: &T, params: &[&(dyn ToSql + Sync)]) -> Result<u64, postgres::Error>
        where
            T: ?Sized + ToStatement,
        {
            self.$conn.execute(query, params)
        }

        /// Runs a statement with its parameters' types given, in one round trip, as
        /// `postgres::Client::execute_typed` does.
        pub fn execute_typed(
            &mut self,
            query: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> Result<u64, postgres::Error> {
            self.$conn.execute_typed(query, params)
        }

        /// Runs a query and returns its rows, as `postgres::Client::query` does.
        pub fn query<T>(&mut self, query: &T, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, postgres::Error>
        where
            T: ?Sized + ToStatement,
        {
            self.$conn.query(query, params)
        }

        /// Runs a query that returns exactly one row, as `postgres::Client::query_one`
        /// does.
        pub fn query_one<T>(&mut self, query: &T, params: &[&(dyn ToSql + Sync)]) -> Result<Row, postgres::Error>
        where
            T: ?Sized + ToStatement,
        {
            self.$conn.query_one(query, params)
        }

        /// Runs a query that returns at most one row, as `postgres::Client::query_opt`
        /// does.
        pub fn query_opt<T>(
            &mut self,
            query: &T,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<Option<Row>, postgres::Error>
        where
            T: ?Sized + ToStatement,
        {
            self.$conn.query_opt(query, params)
        }

        /// Runs a query with its parameters' types given, in one round trip, as
        /// `postgres::Client::query_typed` does.
        pub fn query_typed(
            &mut self,
            query: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> Result<Vec<Row>, postgres::Error> {
            self.$conn.query_typed(query, params)
        }

        /// Prepares a statement of the caller's own, as `postgres::Client::prepare`
        /// does (it is not added to the statements `versioned` keeps).
        pub fn prepare(&mut self, query: &str) -> Result<Statement, postgres::Error> {
            self.$conn.prepare(query)
        }

        /// Prepares a statement with its parameters' types given, as
        /// `postgres::Client::prepare_typed` does.
        pub fn prepare_typed(&mut self, query: &str, types: &[Type]) -> Result<Statement, postgres::Error> {
            self.$conn.prepare_typed(query, types)
        }

        /// Runs statements separated by semicolons with the simple query protocol, as
        /// `postgres::Client::batch_execute` does.
        pub fn batch_execute(&mut self, query: &str) -> Result<(), postgres::Error> {
            self.$conn.batch_execute(query)
        }

        /// Runs statements with the simple query protocol and returns their rows as
        /// text, as `postgres::Client::simple_query` does.
        pub fn simple_query(&mut self, query: &str) -> Result<Vec<SimpleQueryMessage>, postgres::Error> {
            self.$conn.simple_query(query)
        }
    };
}

/// A `postgres::Client` that prepares each statement of `versioned` once and reuses it,
/// saving PostgreSQL the parsing and planning of every call.
///
/// Adopt it in one line, `let mut db = CachingClient::new(client);`, then pass
/// `&mut db` wherever `&mut client` went. Run your own SQL with its methods of the
/// same names as the `Client`'s (`execute`, `query`, `batch_execute`...), and read the
/// `Client` through `Deref`; it does not hand out the `Client` mutably, so the
/// connection under its statements cannot be swapped. Its transactions come from
/// [`CachingClient::transaction`] and [`CachingClient::build_transaction`].
///
/// A statement the server no longer has (after `DEALLOCATE ALL` or `DISCARD ALL`,
/// or behind a pooler that hands out another server session: SQLSTATE 26000) is
/// prepared again, as is one whose result's column types changed under it (`ALTER
/// TABLE .. ALTER COLUMN .. TYPE`: 0A000, "cached plan must not change result
/// type"), and the call runs once more. Inside a [`CachingTransaction`], which such
/// a failure aborts, the statement is dropped and the call fails with a retryable
/// error, so that the whole transaction run again in [`retry`](crate::retry) goes
/// through.
pub struct CachingClient {
    client: Client,
    prepared: Prepared,
}

impl CachingClient {
    /// Wraps a connection; no statement is prepared until it is first used.
    pub fn new(client: Client) -> Self {
        CachingClient { client, prepared: Prepared::default() }
    }

    /// Starts a transaction that shares this connection's prepared statements.
    pub fn transaction(&mut self) -> Result<CachingTransaction<'_>, Error> {
        Ok(CachingTransaction { transaction: self.client.transaction()?, prepared: &mut self.prepared })
    }

    /// A builder for a transaction with an isolation level, access mode or
    /// deferrability of its own, sharing this connection's prepared statements.
    pub fn build_transaction(&mut self) -> CachingTransactionBuilder<'_> {
        CachingTransactionBuilder { builder: self.client.build_transaction(), prepared: &mut self.prepared }
    }

    /// Checks that the connection answers within `timeout`, as
    /// `postgres::Client::is_valid` does.
    pub fn is_valid(&mut self, timeout: Duration) -> Result<(), postgres::Error> {
        self.client.is_valid(timeout)
    }

    forward_sql!(client);

    /// The connection, dropping the prepared statements' handles.
    pub fn into_inner(self) -> Client {
        self.client
    }

    /// Runs one of `versioned`'s writes through its prepared statement.
    #[inline]
    pub(super) fn execute_cached(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        self.prepared.execute(&mut self.client, sql, params, OnStale::Prepare)
    }

    /// Runs one of `versioned`'s queries through its prepared statement.
    #[inline]
    pub(super) fn query_cached(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
        self.prepared.query(&mut self.client, sql, params, OnStale::Prepare)
    }
}

impl Deref for CachingClient {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::fmt::Debug for CachingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachingClient").field("prepared", &self.prepared.0.len()).finish_non_exhaustive()
    }
}

/// Builds a [`CachingTransaction`] with settings of its own, as
/// `postgres::TransactionBuilder` builds a `Transaction`: from
/// [`CachingClient::build_transaction`].
pub struct CachingTransactionBuilder<'a> {
    builder: TransactionBuilder<'a>,
    prepared: &'a mut Prepared,
}

impl<'a> CachingTransactionBuilder<'a> {
    transaction_settings!();

    /// Begins the transaction; dropped without commit, it rolls back.
    pub fn start(self) -> Result<CachingTransaction<'a>, Error> {
        Ok(CachingTransaction { transaction: self.builder.start()?, prepared: self.prepared })
    }
}

impl std::fmt::Debug for CachingTransactionBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachingTransactionBuilder").finish_non_exhaustive()
    }
}

/// A transaction of a [`CachingClient`], using its prepared statements. Commit it with
/// [`CachingTransaction::commit`]; dropped without commit, it rolls back.
///
/// A call whose statement the server no longer runs as prepared fails with a
/// retryable error (see [`CachingClient`]): run the whole transaction again.
pub struct CachingTransaction<'a> {
    transaction: Transaction<'a>,
    prepared: &'a mut Prepared,
}

impl CachingTransaction<'_> {
    /// Commits the transaction (releases the savepoint, for a nested one).
    pub fn commit(self) -> Result<(), Error> {
        Ok(self.transaction.commit()?)
    }

    /// Rolls the transaction back (to the savepoint, for a nested one).
    pub fn rollback(self) -> Result<(), Error> {
        Ok(self.transaction.rollback()?)
    }

    /// Starts a nested transaction, a savepoint named `name` (an SQL identifier, sent
    /// as is), sharing the prepared statements. Its rollback, or its drop without
    /// commit, undoes only its own writes.
    pub fn savepoint(&mut self, name: impl Into<String>) -> Result<CachingTransaction<'_>, Error> {
        Ok(CachingTransaction { transaction: self.transaction.savepoint(name)?, prepared: &mut *self.prepared })
    }

    /// Starts a nested transaction, a savepoint named by the driver, as
    /// [`CachingTransaction::savepoint`] does.
    pub fn transaction(&mut self) -> Result<CachingTransaction<'_>, Error> {
        Ok(CachingTransaction { transaction: self.transaction.transaction()?, prepared: &mut *self.prepared })
    }

    forward_sql!(transaction);

    /// Runs one of `versioned`'s writes through its prepared statement.
    #[inline]
    pub(super) fn execute_cached(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        self.prepared.execute(&mut self.transaction, sql, params, OnStale::Fail)
    }

    /// Runs one of `versioned`'s queries through its prepared statement.
    #[inline]
    pub(super) fn query_cached(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, Error> {
        self.prepared.query(&mut self.transaction, sql, params, OnStale::Fail)
    }
}

impl<'a> Deref for CachingTransaction<'a> {
    type Target = Transaction<'a>;
    fn deref(&self) -> &Transaction<'a> {
        &self.transaction
    }
}

impl std::fmt::Debug for CachingTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachingTransaction").finish_non_exhaustive()
    }
}
