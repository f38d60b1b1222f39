//! The operations through sqlx on PostgreSQL and MySQL/MariaDB, on every sqlx executor
//! type: a pool, a pooled connection, a transaction and the connection `&mut *tx`
//! gives, awaited inside `tokio::spawn` (so each operation's future is `Send`).
//!
//! Each test has a schema (PostgreSQL) or database (MySQL) of its own. The servers
//! come from `VERSIONED_PG_URL` and `VERSIONED_MYSQL_URL`; when one does not answer
//! its cases are skipped with a note, except under `CI=true`, where they fail.

#![cfg(all(feature = "sqlx-postgres", feature = "sqlx-mysql", feature = "tokio"))]

#[path = "sqlx_cases/mod.rs"]
mod cases;
#[path = "suite/db/server.rs"]
mod server;

use std::str::FromStr;

use cases::Note;
use server::{MYSQL, POSTGRES, mysql_opts, pg_config, place_name};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{MySqlPool, PgPool};
use versioned::Versioned;

/// A pool on the test's own PostgreSQL schema, `None` when the server does not answer.
async fn pg_pool(test: &str) -> Option<PgPool> {
    let schema = place_name("sqlx", test);
    let ddl = format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE; CREATE SCHEMA \"{schema}\"; SET search_path TO \"{schema}\";
         CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL, tag TEXT, version BIGINT NOT NULL);
         CREATE TABLE accounts (id BIGSERIAL PRIMARY KEY, balance BIGINT NOT NULL, version BIGINT NOT NULL);"
    );
    // The schema is made with the blocking client, off the runtime's async work.
    tokio::task::block_in_place(|| {
        let mut client = POSTGRES.connect(|| pg_config().connect(postgres::NoTls))?;
        client.batch_execute(&ddl).expect("create the test's schema");
        Some(())
    })?;
    let options =
        PgConnectOptions::from_str(&POSTGRES.url()).expect("a PostgreSQL URL").options([("search_path", &schema)]);
    Some(PgPoolOptions::new().max_connections(4).connect_with(options).await.expect("connect with sqlx"))
}

/// A pool on the test's own MySQL database, `None` when the server does not answer.
async fn mysql_pool(test: &str) -> Option<MySqlPool> {
    use mysql::prelude::Queryable;
    let database = place_name("sqlx", test);
    // The database is made with the blocking client, off the runtime's async work.
    tokio::task::block_in_place(|| {
        let mut conn = MYSQL.connect(|| mysql::Conn::new(mysql_opts()))?;
        conn.query_drop(format!("DROP DATABASE IF EXISTS `{database}`")).expect("drop the test's database");
        conn.query_drop(format!("CREATE DATABASE `{database}`")).expect("create the test's database");
        conn.query_drop(format!(
            "CREATE TABLE `{database}`.notes (id BIGINT AUTO_INCREMENT PRIMARY KEY, body TEXT NOT NULL, tag TEXT, \
             version BIGINT NOT NULL)"
        ))
        .expect("create the table");
        conn.query_drop(format!(
            "CREATE TABLE `{database}`.accounts (id BIGINT AUTO_INCREMENT PRIMARY KEY, balance BIGINT NOT NULL, \
             version BIGINT NOT NULL)"
        ))
        .expect("create the accounts table");
        Some(())
    })?;
    let options = MySqlConnectOptions::from_str(&MYSQL.url()).expect("a MySQL URL").database(&database);
    Some(MySqlPoolOptions::new().max_connections(4).connect_with(options).await.expect("connect with sqlx"))
}

cases::cases!(postgres_db, pg_pool);
cases::cases!(mysql_db, mysql_pool);

/// The connection `&mut *tx` and `&mut *conn` give is an executor too, where its
/// driver is named (features `sqlx-postgres`, `sqlx-mysql`).
macro_rules! deref_cases {
    ($name:ident, $pool:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some(pool) = $pool(stringify!($name)).await else { return };
            let mut conn = pool.acquire().await.unwrap();
            let mut note = Note::new("on the connection itself");
            note.insert(&mut *conn).await.unwrap();
            note.save(&mut *conn).await.unwrap();
            drop(conn);
            let mut tx = pool.begin().await.unwrap();
            let mut fresh = Note::get(&mut *tx, note.id).await.unwrap();
            fresh.touch(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(Note::get(&pool, note.id).await.unwrap().version, 2);
        }
    };
}

deref_cases!(a_postgres_connection_is_an_executor, pg_pool);
deref_cases!(a_mysql_connection_is_an_executor, mysql_pool);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_serialization_failure_is_retryable() {
    let Some(pool) = pg_pool("a_serialization_failure").await else { return };
    let mut note = Note::new("base");
    note.insert(&pool).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await.unwrap();
    let mut stale = Note::get(&mut tx, note.id).await.unwrap();
    note.save(&pool).await.unwrap();
    let err = stale.save(&mut tx).await.unwrap_err();
    assert!(err.is_retryable(), "40001 is retryable: {err:?}");
    assert!(err.to_string().contains("40001"), "the SQLSTATE is named: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mysql_lock_wait_timeout_is_retryable() {
    let Some(pool) = mysql_pool("a_lock_wait_timeout").await else { return };
    let mut note = Note::new("base");
    note.insert(&pool).await.unwrap();
    let mut holder = pool.begin().await.unwrap();
    let mut held = Note::get(&mut holder, note.id).await.unwrap();
    held.touch(&mut holder).await.unwrap();

    let mut waiter = pool.begin().await.unwrap();
    sqlx::query("SET SESSION innodb_lock_wait_timeout = 1").execute(&mut *waiter).await.unwrap();
    let err = note.save(&mut waiter).await.unwrap_err();
    assert!(err.is_retryable(), "1205 is retryable: {err:?}");
    assert_eq!(note.version, 0);
    holder.rollback().await.unwrap();
}

/// A connection the server kills under the library: the next write is a database
/// error, and neither the entity nor the row changes. `$kill` ends the session of
/// `$conn` through `$pool`.
macro_rules! killed_case {
    ($name:ident, $pool:ident, |$p:ident, $conn:ident| $kill:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some($p) = $pool(stringify!($name)).await else { return };
            let mut note = Note::new("before");
            note.insert(&$p).await.unwrap();
            let mut $conn = $p.acquire().await.unwrap();
            $kill;

            note.body = "after".into();
            let err = note.save(&mut $conn).await.unwrap_err();
            assert!(matches!(err, versioned::Error::Database(_)), "a database error, not {err:?}");
            assert_eq!(note.version, 0, "the entity keeps its version");
            drop($conn);
            let stored = Note::get(&$p, note.id).await.unwrap();
            assert_eq!((stored.body.as_str(), stored.version), ("before", 0), "the row is unchanged");
        }
    };
}

killed_case!(a_killed_postgres_connection_is_a_typed_error_and_changes_nothing, pg_pool, |pool, conn| {
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut *conn).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)").bind(pid).execute(&pool).await.unwrap();
});
killed_case!(a_killed_mysql_connection_is_a_typed_error_and_changes_nothing, mysql_pool, |pool, conn| {
    let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()").fetch_one(&mut *conn).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("KILL {id}"))).execute(&pool).await.unwrap();
});

/// Two transactions each hold one row and then ask for the other's: the database
/// ends one of them with a deadlock error, which is retryable.
macro_rules! deadlock_case {
    ($name:ident, $pool:ident, $code:literal) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some(pool) = $pool(stringify!($name)).await else { return };
            let (mut a, mut b) = (Note::new("a"), Note::new("b"));
            a.insert(&pool).await.unwrap();
            b.insert(&pool).await.unwrap();
            let (mut tx1, mut tx2) = (pool.begin().await.unwrap(), pool.begin().await.unwrap());
            let (mut a1, mut b2) = (a.clone(), b.clone());
            a1.touch(&mut tx1).await.unwrap();
            b2.touch(&mut tx2).await.unwrap();
            let (mut b1, mut a2) = (b.clone(), a.clone());
            let (first, second) = tokio::join!(b1.touch(&mut tx1), a2.touch(&mut tx2));
            let err = match (first, second) {
                (Err(e), _) | (_, Err(e)) => e,
                (Ok(()), Ok(())) => panic!("one of the two transactions must fail"),
            };
            assert!(err.is_retryable(), "a deadlock is retryable: {err:?}");
            assert!(err.to_string().contains($code), "the SQLSTATE is named: {err}");
        }
    };
}

deadlock_case!(a_postgres_deadlock_is_retryable, pg_pool, "40P01");
deadlock_case!(a_mysql_deadlock_is_retryable, mysql_pool, "40001");
