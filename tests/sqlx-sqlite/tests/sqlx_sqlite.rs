//! The operations through sqlx on SQLite, on every sqlx executor type that needs no
//! driver type named: a pool, a pooled connection and a transaction, awaited inside
//! `tokio::spawn`. Each test has a database file of its own, so its pool's
//! connections share it.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use versioned::{Error, RetryPolicy, Versioned, retry_async};

#[derive(Debug, Clone, PartialEq, Versioned)]
#[versioned(table = "notes")]
struct Note {
    #[id(auto)]
    id: i64,
    body: String,
    tag: Option<String>,
    #[version]
    version: i64,
}

impl Note {
    fn new(body: &str) -> Note {
        Note { id: 0, body: body.to_owned(), tag: None, version: 0 }
    }
}

/// A database file of the test's own (removed first if a failed run left it), with
/// the `notes` table, and a pool on it.
async fn pool(test: &str) -> SqlitePool {
    let path: PathBuf = std::env::temp_dir().join(format!("versioned-sqlx-{test}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let options =
        SqliteConnectOptions::new().filename(&path).create_if_missing(true).busy_timeout(Duration::from_millis(100));
    let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await.expect("open the database");
    sqlx::query("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, tag TEXT, version INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .expect("create the table");
    pool
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_on_a_pool() {
    let pool = pool("every_operation").await;
    let mut note = Note::new("first");
    note.insert(&pool).await.unwrap();
    assert!(note.id > 0, "the generated key is stored: {note:?}");
    assert_eq!(Note::get(&pool, note.id).await.unwrap(), note);

    note.body = "second".into();
    note.tag = Some("t".into());
    note.save(&pool).await.unwrap();
    note.touch(&pool).await.unwrap();
    assert_eq!(note.version, 2);
    note.verify(&pool).await.unwrap();
    let mut copy = Note::new("stale");
    copy.id = note.id;
    copy.reload(&pool).await.unwrap();
    assert_eq!(copy, note);

    note.delete(&pool).await.unwrap();
    assert_eq!(Note::find(&pool, note.id).await.unwrap(), None);
    assert!(matches!(Note::get(&pool, note.id).await, Err(Error::NotFound { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_save_is_a_conflict_and_changes_nothing() {
    let pool = pool("stale_save").await;
    let mut mine = Note::new("base");
    mine.insert(&pool).await.unwrap();
    let mut theirs = mine.clone();
    theirs.body = "theirs".into();
    theirs.save(&pool).await.unwrap();

    mine.body = "mine".into();
    let err = mine.save(&pool).await.unwrap_err();
    let conflict = err.as_conflict().expect("a conflict");
    assert_eq!((conflict.expected, conflict.actual), (0, Some(1)));
    assert_eq!(mine.version, 0);
    assert_eq!(Note::get(&pool, mine.id).await.unwrap(), theirs);

    theirs.delete(&pool).await.unwrap();
    let err = theirs.save(&pool).await.unwrap_err();
    assert_eq!(err.as_conflict().expect("a conflict").actual, None, "the row is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_connections_and_transactions_are_executors() {
    let pool = pool("connections_and_transactions").await;
    let mut conn = pool.acquire().await.unwrap();
    let mut note = Note::new("on a connection");
    note.insert(&mut conn).await.unwrap();
    note.save(&mut conn).await.unwrap();
    drop(conn);

    let mut tx = pool.begin().await.unwrap();
    note.body = "rolled back".into();
    note.save(&mut tx).await.unwrap();
    tx.rollback().await.unwrap();
    let stored = Note::get(&pool, note.id).await.unwrap();
    assert_eq!((stored.body.as_str(), stored.version), ("on a connection", 1));

    let mut tx = pool.begin().await.unwrap();
    let mut fresh = Note::get(&mut tx, note.id).await.unwrap();
    fresh.body = "committed".into();
    fresh.save(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(Note::get(&pool, note.id).await.unwrap(), fresh);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_column_that_generates_nothing_is_an_error() {
    let pool = pool("generates_nothing").await;
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
async fn concurrent_increments_with_retry_async_lose_nothing() {
    let pool = pool("concurrent_increments").await;
    let mut counter = Note::new("0");
    counter.insert(&pool).await.unwrap();
    let id = counter.id;
    let policy = RetryPolicy::default().max_attempts(1000).max_delay(Duration::from_millis(5));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (pool, policy) = (pool.clone(), policy.clone());
            tokio::spawn(async move {
                for _ in 0..50 {
                    retry_async(policy.clone(), || {
                        let pool = pool.clone();
                        async move {
                            let mut note = Note::get(&pool, id).await?;
                            note.body = (note.body.parse::<u32>().unwrap() + 1).to_string();
                            note.save(&pool).await
                        }
                    })
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let done = Note::get(&pool, id).await.unwrap();
    assert_eq!((done.body.as_str(), done.version), ("400", 400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_database_is_retryable() {
    let pool = pool("busy").await;
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
