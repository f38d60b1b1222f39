//! What the tokio-postgres tests share: a schema per test, connections and pools that
//! work in it, a multi-threaded runtime to run each test on, and reading rows, prepared
//! statements and SQLSTATEs back.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};
use versioned::Error;

use crate::server::POSTGRES;

/// The table most tests use: a generated `bigint` key and a `bigint` version.
#[allow(unused_imports)] // not every file that includes this one creates it
pub use crate::traps::PG_ACCOUNTS as ACCOUNTS;

/// One test's schema; every connection it opens works in it.
pub struct Db {
    schema: String,
}

/// The server's settings from `VERSIONED_PG_URL`, giving up after 5 s when nothing
/// answers unless the URL sets its own `connect_timeout`.
pub fn server_config() -> tokio_postgres::Config {
    let url = POSTGRES.url();
    let mut config: tokio_postgres::Config =
        url.parse().unwrap_or_else(|e| panic!("VERSIONED_PG_URL={url} is not a PostgreSQL URL: {e}"));
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    config
}

/// A connection from `config`, its connection task spawned.
pub async fn connect(config: &tokio_postgres::Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

impl Db {
    /// Creates the schema `tpg_<test>` afresh with the `accounts` table. `None` when
    /// no server answers (see [`crate::server::Server::connect`]).
    pub async fn open(test: &str) -> Option<Db> {
        let connected = connect(&server_config()).await;
        let admin = POSTGRES.connect(|| connected)?;
        let schema = format!("tpg_{test}");
        admin
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}; {ACCOUNTS}"
            ))
            .await
            .expect("create the test schema");
        Some(Db { schema })
    }

    /// Settings whose sessions start in the test's schema, also after `DISCARD ALL`.
    pub fn config(&self) -> tokio_postgres::Config {
        let mut config = server_config();
        config.options(format!("-c search_path={}", self.schema));
        config
    }

    /// A new connection working in the test's schema.
    pub async fn client(&self) -> Client {
        connect(&self.config()).await.expect("connect to PostgreSQL")
    }

    /// A pool of up to `size` connections working in the test's schema.
    #[cfg(feature = "deadpool-postgres")]
    pub fn pool(&self, size: usize) -> deadpool_postgres::Pool {
        use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
        let config = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let manager = Manager::from_config(self.config(), NoTls, config);
        Pool::builder(manager).max_size(size).build().expect("build the pool")
    }

    /// Drops the schema; a failed test keeps it to look at (the next run drops it).
    pub async fn close(self) {
        let admin = self.client().await;
        let sql = format!("SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {} CASCADE", self.schema);
        admin.batch_execute(&sql).await.expect("drop the test schema");
    }
}

/// Runs `body` on a multi-threaded runtime with a fresh schema named after `test`;
/// skips it when no server answers.
pub fn run<F: Future<Output = ()>>(test: &str, body: impl FnOnce(Arc<Db>) -> F) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    runtime.block_on(async {
        let Some(db) = Db::open(test).await else { return };
        let db = Arc::new(db);
        body(db.clone()).await;
        Arc::into_inner(db).expect("the test let go of its schema").close().await;
    });
}

/// An `accounts` row as stored, `(owner, balance, version)`, read with plain SQL.
pub async fn account_row(client: &Client, id: i64) -> Option<(String, i64, i64)> {
    client
        .query_opt("SELECT owner, balance, version FROM accounts WHERE id = $1", &[&id])
        .await
        .expect("read an accounts row")
        .map(|r| (r.get(0), r.get(1), r.get(2)))
}

/// The SQLSTATE of a database error, if the server sent one.
pub fn sqlstate(err: &Error) -> Option<SqlState> {
    match err {
        Error::Database(e) => e.downcast_ref::<tokio_postgres::Error>().and_then(|e| e.code()).cloned(),
        _ => None,
    }
}

/// Asserts that `err` is [`Error::NotFound`] for account `id`.
pub fn expect_not_found(err: Error, id: i64) {
    match err {
        Error::NotFound { table, id: key, .. } => assert_eq!((table, key), ("accounts", id.to_string())),
        other => panic!("expected Error::NotFound, got {other:?}"),
    }
}

/// Waits until the session `pid` waits for a lock: the write it was sent is blocked.
pub async fn wait_for_lock(observer: &Client, pid: i32) {
    let sql = "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1";
    for _ in 0..500 {
        if observer.query_one(sql, &[&pid]).await.unwrap().get::<_, Option<bool>>(0) == Some(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("session {pid} never waited for the row lock");
}

/// The statements `versioned` prepared on a session, one entry per prepared statement
/// (a duplicate would mean a statement prepared twice).
pub async fn prepared_statements(client: &Client) -> Vec<String> {
    let sql = "SELECT statement FROM pg_prepared_statements \
               WHERE statement LIKE '%accounts%' AND statement NOT LIKE '%pg_prepared_statements%' ORDER BY 1";
    client.query(sql, &[]).await.unwrap().iter().map(|r| r.get(0)).collect()
}
