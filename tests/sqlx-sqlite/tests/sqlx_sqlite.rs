//! The sqlx cases on SQLite (`tests/sqlx_cases`, shared with PostgreSQL and MySQL),
//! and what is SQLite's own: a key column that generates nothing, a busy database.
//! Each test has a database file of its own, so its pool's connections share it.

#[path = "../../sqlx_cases/mod.rs"]
mod cases;

use std::path::PathBuf;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use versioned::{Error, Versioned};

use cases::Note;

/// A database file of the test's own (removed first if a failed run left it), with
/// the `notes` table, and a pool on it whose connections wait up to `busy` for a lock.
async fn pool_waiting(test: &str, busy: Duration) -> SqlitePool {
    let path: PathBuf = std::env::temp_dir().join(format!("versioned-sqlx-{test}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let options = SqliteConnectOptions::new().filename(&path).create_if_missing(true).busy_timeout(busy);
    let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await.expect("open the database");
    sqlx::query("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, tag TEXT, version INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .expect("create the table");
    sqlx::query("CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, version INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .expect("create the accounts table");
    pool
}

/// The shared cases' pool: SQLite is always there.
async fn pool(test: &str) -> Option<SqlitePool> {
    Some(pool_waiting(test, Duration::from_secs(5)).await)
}

cases::cases!(sqlite_db, pool);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_column_that_generates_nothing_is_an_error() {
    let pool = pool_waiting("generates_nothing", Duration::from_secs(5)).await;
    sqlx::query("CREATE TABLE loose (id BIGINT PRIMARY KEY, body TEXT NOT NULL, version INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    #[derive(Debug, Versioned)]
    #[versioned(table = "loose")]
    struct Loose {
        #[id(auto)]
        id: i64,
        body: String,
        #[version]
        version: i64,
    }
    let mut loose = Loose { id: 0, body: "x".into(), version: 3 };
    let err = loose.insert(&pool).await.unwrap_err();
    let Error::NoGeneratedKey(missing) = &err else { panic!("no generated key, not {err:?}") };
    assert!(!missing.row_taken_back(), "sqlx on SQLite cannot find a row by a NULL key: {err}");
    assert_eq!((loose.id, loose.version), (0, 3), "the entity is unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_database_is_retryable() {
    let pool = pool_waiting("busy", Duration::from_millis(100)).await;
    let mut note = Note::new("base");
    note.insert(&pool).await.unwrap();
    // One connection holds the write lock; another's write waits 100 ms and gives up.
    let mut holder = pool.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *holder).await.unwrap();
    let err = note.save(&pool).await.unwrap_err();
    assert!(err.is_retryable(), "SQLITE_BUSY is retryable: {err:?}");
    assert_eq!(note.version, 0);
    sqlx::query("ROLLBACK").execute(&mut *holder).await.unwrap();
}
