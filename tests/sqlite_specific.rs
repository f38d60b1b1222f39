//! SQLite-only behaviour, outside the shared suite: values only SQLite's dynamic
//! typing can store (text or a blob in an INTEGER column), a busy database, and
//! `&mut` references to its connection types as executors.
#![cfg(feature = "sqlite")]

mod common;

use std::time::Duration;

use common::{Item, TempDb, User};
use rusqlite::{Connection, OptionalExtension};
use versioned::{Error, RetryPolicy, Versioned, retry};

const SCHEMA: &str = "
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT,
        email_address TEXT UNIQUE,
        version INTEGER NOT NULL
    );
    CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL, qty INTEGER, version INTEGER NOT NULL);
";

/// An in-memory database holding `users` and `items`, empty.
fn connection() -> Connection {
    let conn = Connection::open_in_memory().expect("open an in-memory database");
    conn.execute_batch(SCHEMA).expect("create the tables");
    conn
}

/// A new connection to the file, waiting up to 5 s on locks.
fn connect(db: &TempDb) -> Connection {
    let conn = Connection::open(db.path()).expect("open the database file");
    conn.busy_timeout(Duration::from_secs(5)).expect("set busy_timeout");
    conn
}

fn insert_user(conn: &Connection, name: &str) -> User {
    let mut user = User::new(name, Some(&format!("{name}@example.com")));
    user.insert(conn).expect("insert a user");
    user
}

/// `(name, version)` of the `users` row with key `id`.
fn user_row(conn: &Connection, id: i64) -> Option<(Option<String>, i64)> {
    conn.query_row("SELECT name, version FROM users WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .expect("read a users row")
}

/// `(table, column, id)` of a decode error.
fn decode_error(err: &Error) -> (&'static str, &'static str, String) {
    match err {
        Error::Decode(d) => {
            assert!(std::error::Error::source(d).is_some(), "the conversion error is the source");
            assert!(!err.is_retryable(), "a bad value does not pass by retrying");
            (d.table, d.column, d.id.clone())
        }
        other => panic!("expected Error::Decode, got {other:?}"),
    }
}

#[test]
fn text_in_an_integer_column() {
    let conn = connection();
    conn.execute("INSERT INTO items (id, label, qty, version) VALUES (3, 'bolt', 'lots', 0)", []).unwrap();
    let kind: String = conn.query_row("SELECT typeof(qty) FROM items WHERE id = 3", [], |r| r.get(0)).unwrap();
    assert_eq!(kind, "text");
    let err = Item::get(&conn, 3).unwrap_err();
    assert_eq!(decode_error(&err), ("items", "qty", "3".into()));
}

#[test]
fn a_real_in_an_integer_field() {
    let conn = connection();
    conn.execute("INSERT INTO items (id, label, qty, version) VALUES (3, 'bolt', 1.5, 0)", []).unwrap();
    let err = Item::find(&conn, 3).unwrap_err();
    assert_eq!(decode_error(&err), ("items", "qty", "3".into()));
}

#[test]
fn a_blob_in_a_renamed_text_field_names_the_column() {
    let conn = connection();
    conn.execute("INSERT INTO users (id, name, email_address, version) VALUES (7, 'ada', X'DEADBEEF', 0)", []).unwrap();
    let err = User::get(&conn, 7).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "email_address", "7".into()));
}

#[test]
fn verify_of_a_text_version() {
    let conn = connection();
    let ada = insert_user(&conn, "ada");
    conn.execute("UPDATE users SET version = 'v2' WHERE id = ?1", [ada.id]).unwrap();
    let err = ada.verify(&conn).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "version", ada.id.to_string()));
}

#[test]
fn a_write_that_misses_and_then_reads_a_text_version() {
    let conn = connection();
    let mut ada = insert_user(&conn, "ada");
    conn.execute("UPDATE users SET version = 'v2' WHERE id = ?1", [ada.id]).unwrap();
    ada.name = "unsaved".into();
    let before = ada.clone();
    let err = ada.save(&conn).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "version", ada.id.to_string()));
    assert_eq!(ada, before);
    let err = ada.touch(&conn).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "version", ada.id.to_string()));
    let err = ada.delete(&conn).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "version", ada.id.to_string()));
    assert_eq!(ada, before);
    let stored: String = conn.query_row("SELECT name FROM users WHERE id = ?1", [ada.id], |r| r.get(0)).unwrap();
    assert_eq!(stored, "ada");
}

#[test]
fn retries_a_busy_database() {
    let db = TempDb::new("retry-busy");
    let conn = connect(&db);
    conn.execute_batch(SCHEMA).unwrap();
    let mut ada = insert_user(&conn, "ada");

    let other = connect(&db);
    let blocker = other.unchecked_transaction().unwrap();
    blocker.execute("UPDATE users SET name = name WHERE id = ?1", [ada.id]).unwrap();
    conn.busy_timeout(Duration::ZERO).unwrap();

    // The first attempt finds the database locked by `blocker`; before the second
    // one the blocking transaction ends.
    let mut blocker = Some(blocker);
    let mut calls = 0;
    retry(RetryPolicy::default().max_attempts(3).no_delay(), || {
        calls += 1;
        if calls == 2 {
            blocker.take().expect("still blocking").commit()?;
        }
        ada.name = "after the lock".into();
        ada.save(&conn).inspect_err(|e| {
            assert!(matches!(e, Error::Database(d) if d.is_retryable()), "busy is retryable: {e:?}");
            assert!(e.is_retryable());
        })
    })
    .unwrap();
    assert_eq!(calls, 2);
    assert_eq!(ada.version, 1);
    assert_eq!(user_row(&conn, ada.id).unwrap().0.as_deref(), Some("after the lock"));
    assert!(db.path().exists());
}

#[test]
fn mutable_references_are_executors_too() {
    // The suite runs SQLite through shared references; code generic over
    // `&mut C: Executor` lends `&mut` ones.
    let mut conn = connection();
    let mut ada = User::new("ada", None);
    ada.insert(&mut conn).unwrap();
    {
        let mut tx = conn.transaction().unwrap();
        ada.save(&mut tx).unwrap();
        {
            let mut sp = tx.savepoint().unwrap();
            ada.touch(&mut sp).unwrap();
            ada.verify(&mut sp).unwrap();
            sp.commit().unwrap();
        }
        assert_eq!(User::get(&mut tx, ada.id).unwrap(), ada);
        tx.commit().unwrap();
    }
    assert_eq!(user_row(&conn, ada.id), Some((Some("ada".into()), 2)));
    ada.delete(&mut conn).unwrap();
    assert_eq!(User::find(&mut conn, ada.id).unwrap(), None);
}

/// A value whose `ToSql` refuses negative numbers, as a user's own type may refuse
/// what it cannot store.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Total(i64);

impl rusqlite::ToSql for Total {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        if self.0 < 0 {
            return Err(rusqlite::Error::ToSqlConversionFailure("a total cannot be negative".into()));
        }
        self.0.to_sql()
    }
}

impl rusqlite::types::FromSql for Total {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        i64::column_result(value).map(Total)
    }
}

#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "counts")]
struct Count {
    id: i64,
    total: Total,
    #[version]
    version: i64,
}

#[test]
fn a_value_its_type_cannot_bind_is_a_database_error_and_writes_nothing() {
    let conn = connection();
    conn.execute_batch(
        "CREATE TABLE counts (id INTEGER PRIMARY KEY, total INTEGER NOT NULL, version INTEGER NOT NULL)",
    )
    .unwrap();
    let mut count = Count { id: 1, total: Total(5), version: 0 };
    count.insert(&conn).unwrap();

    count.total = Total(-1);
    let before = count.clone();
    let err = count.save(&conn).unwrap_err();
    let Error::Database(db) = &err else { panic!("expected Error::Database, got {err:?}") };
    assert!(
        matches!(db.downcast_ref::<rusqlite::Error>(), Some(rusqlite::Error::ToSqlConversionFailure(_))),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(count, before, "the entity is unchanged");
    let stored: (i64, i64) =
        conn.query_row("SELECT total, version FROM counts", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(stored, (5, 0), "the row is unchanged");

    let err = Count { id: 2, total: Total(-1), version: 0 }.insert(&conn).unwrap_err();
    assert!(matches!(err, Error::Database(_)), "{err:?}");
    let rows: i64 = conn.query_row("SELECT count(*) FROM counts", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 1, "the failed insert stored nothing");
}
