//! PostgreSQL traps: snapshot isolation, deadlocks, lock timeouts, strict column
//! types, a killed backend and generated keys.
//!
//! Each test works in a schema of its own (`pgtrap_<test>`), so the tests run in
//! parallel. The server comes from `VERSIONED_PG_URL`; when it does not answer the
//! tests say so and pass, except under `CI=true`, where they fail.

#![cfg(feature = "postgres")]

use std::thread;
use std::time::{Duration, Instant};

use postgres::IsolationLevel;
use postgres::error::SqlState;
use versioned::{Error, RetryPolicy, Versioned, retry};

mod common;
#[path = "traps/pg.rs"]
mod pg;
#[path = "suite/db/server.rs"]
mod server;
mod traps;

use pg::{ACCOUNTS, Db, account_row, deposit, driver_error, sqlstate};
use server::chain;
use traps::{Account, conflict, expect_conflict, new_account, row};

/// A snapshot transaction whose row was changed since its snapshot gets a
/// retryable serialization failure, and a retry loop that starts a fresh transaction
/// per attempt then succeeds.
fn serialization_failure_is_retried(test: &str, level: IsolationLevel) {
    let Some(db) = Db::open(test, ACCOUNTS) else { return };
    let (mut a, mut b) = (db.client(), db.client());
    let id = new_account(&mut b, "ada", 100).id;

    let mut tx = a.build_transaction().isolation_level(level).start().unwrap();
    let mut mine = Account::get(&mut tx, id).unwrap(); // takes the snapshot
    deposit(&mut b, id, 1); // committed after the snapshot: version 1
    mine.balance += 10;
    let before = mine.clone();
    let err = mine.save(&mut tx).unwrap_err();
    assert_eq!(sqlstate(&err), Some(SqlState::T_R_SERIALIZATION_FAILURE), "{err:?}");
    assert!(err.is_retryable() && !err.is_conflict(), "{err:?}");
    assert_eq!(mine, before, "a failed save leaves the entity as it was");
    tx.rollback().unwrap();
    assert_eq!(account_row(&mut b, id), row("ada", 101, 1), "only the other writer's save is stored");

    let (mut attempts, mut failures) = (0, Vec::new());
    let saved = retry(RetryPolicy::default().no_delay(), || {
        attempts += 1;
        let mut tx = a.build_transaction().isolation_level(level).start()?;
        let mut mine = Account::get(&mut tx, id)?;
        if attempts == 1 {
            deposit(&mut b, id, 1); // the first attempt races another writer
        }
        mine.balance += 10;
        mine.save(&mut tx).inspect_err(|e| failures.push(sqlstate(e)))?;
        tx.commit()?;
        Ok(mine)
    })
    .expect("the retry loop succeeds once no other writer races it");
    assert_eq!(attempts, 2);
    assert_eq!(failures, [Some(SqlState::T_R_SERIALIZATION_FAILURE)]);
    assert_eq!((saved.balance, saved.version), (112, 3));
    assert_eq!(account_row(&mut b, id), row("ada", 112, 3), "no deposit is lost");
}

#[test]
fn repeatable_read_conflict_is_a_retryable_serialization_failure() {
    serialization_failure_is_retried("repeatable_read", IsolationLevel::RepeatableRead);
}

#[test]
fn serializable_conflict_is_a_retryable_serialization_failure() {
    serialization_failure_is_retried("serializable", IsolationLevel::Serializable);
}

impl traps::Transaction for postgres::Transaction<'_> {
    fn save(&mut self, account: &mut Account) -> Result<(), Error> {
        account.save(self)
    }

    fn commit(self) {
        postgres::Transaction::commit(self).unwrap();
    }

    fn rollback(self) {
        let _ = postgres::Transaction::rollback(self);
    }
}

/// Two transactions that lock two rows in opposite order deadlock; the victim
/// gets a retryable 40P01 and the other commits.
#[test]
fn deadlock_is_retryable() {
    let Some(db) = Db::open("deadlock", ACCOUNTS) else { return };
    let mut setup = db.client();
    let x = new_account(&mut setup, "x", 10);
    let y = new_account(&mut setup, "y", 20);
    let (mut c1, mut c2) = (db.client(), db.client());
    for c in [&mut c1, &mut c2] {
        // Should the deadlock go undetected, fail rather than hang.
        c.batch_execute("SET lock_timeout = '30s'").unwrap();
    }
    let (t1, t2) = (c1.transaction().unwrap(), c2.transaction().unwrap());
    let err = traps::deadlock(t1, t2, &x, &y);
    assert_eq!(sqlstate(&err), Some(SqlState::T_R_DEADLOCK_DETECTED), "{err:?}");
    assert!(err.is_retryable() && !err.is_conflict(), "{err:?}");
    // Only the survivor's two writes are stored: each row once more, version 1.
    assert_eq!(account_row(&mut setup, x.id), row("x", 11, 1));
    assert_eq!(account_row(&mut setup, y.id), row("y", 21, 1));
}

/// A save that waits longer than `lock_timeout` for another transaction's row lock
/// gets a retryable 55P03, and a retry loop succeeds once the lock is released.
#[test]
fn lock_timeout_is_retryable() {
    let Some(db) = Db::open("lock_timeout", ACCOUNTS) else { return };
    let (mut holder, mut waiter) = (db.client(), db.client());
    let account = new_account(&mut waiter, "ada", 100);
    waiter.batch_execute("SET lock_timeout = '100ms'").unwrap();

    let mut lock = holder.transaction().unwrap();
    lock.execute("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", &[&account.id]).unwrap();
    let mut mine = account.clone();
    mine.balance = 150;
    let before = mine.clone();
    let err = mine.save(&mut waiter).unwrap_err();
    assert_eq!(sqlstate(&err), Some(SqlState::LOCK_NOT_AVAILABLE), "{err:?}");
    assert!(err.is_retryable() && !err.is_conflict(), "{err:?}");
    assert_eq!(mine, before, "a failed save leaves the entity as it was");

    let mut attempts = 0;
    let mut lock = Some(lock);
    retry(RetryPolicy::default().no_delay(), || {
        attempts += 1;
        if attempts == 2 {
            lock.take().unwrap().commit().unwrap(); // the holder is done
        }
        mine.save(&mut waiter)
    })
    .expect("the save goes through once the lock is released");
    assert_eq!(attempts, 2);
    drop(lock);
    assert_eq!(account_row(&mut holder, account.id), row("ada", 150, 1));
}

/// Strict column types. A version field narrower or wider than its column
/// cannot be read, and a text field cannot be written into an integer column; each
/// is a typed error naming the column, and nothing changes.
#[test]
fn strict_types_give_typed_errors() {
    #[derive(Versioned, Debug, Clone, PartialEq)]
    #[versioned(table = "narrow")]
    struct Narrow {
        id: i64,
        name: String,
        #[version]
        version: i32,
    }

    #[derive(Versioned, Debug, Clone, PartialEq)]
    #[versioned(table = "wide")]
    struct Wide {
        id: i64,
        name: String,
        #[version]
        version: i64,
    }

    #[derive(Versioned, Debug, Clone, PartialEq)]
    #[versioned(table = "counted")]
    struct Counted {
        id: i64,
        qty: String,
        #[version]
        version: i64,
    }

    let Some(db) = Db::open(
        "strict_types",
        "
        CREATE TABLE narrow (id BIGINT PRIMARY KEY, name TEXT NOT NULL, version BIGINT NOT NULL);
        CREATE TABLE wide (id BIGINT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL);
        CREATE TABLE counted (id BIGINT PRIMARY KEY, qty INTEGER NOT NULL, version BIGINT NOT NULL);
        INSERT INTO narrow VALUES (1, 'n', 4);
        INSERT INTO wide VALUES (1, 'w', 4);
        INSERT INTO counted VALUES (1, 5, 0);
        ",
    ) else {
        return;
    };
    let mut client = db.client();

    fn expect_decode(err: Error, table: &str) {
        match &err {
            Error::Decode(e) => {
                assert_eq!((e.table, e.column, e.id.as_str()), (table, "version", "1"), "{err}");
                assert!(std::error::Error::source(e).is_some(), "the conversion error is kept");
            }
            other => panic!("expected Error::Decode on {table}.version, got {other:?}"),
        }
        assert!(!err.is_retryable());
    }

    // An i32 version over a BIGINT column.
    expect_decode(Narrow::get(&mut client, 1).unwrap_err(), "narrow");
    expect_decode(Narrow::find(&mut client, 1).unwrap_err(), "narrow");
    let mut narrow = Narrow { id: 1, name: "mine".into(), version: 4 };
    let before = narrow.clone();
    expect_decode(narrow.reload(&mut client).unwrap_err(), "narrow");
    assert_eq!(narrow, before, "a failed reload leaves the entity as it was");
    expect_decode(narrow.verify(&mut client).unwrap_err(), "narrow");

    // An i64 version over an INTEGER column.
    expect_decode(Wide::get(&mut client, 1).unwrap_err(), "wide");
    expect_decode(Wide::find(&mut client, 1).unwrap_err(), "wide");
    let mut wide = Wide { id: 1, name: "mine".into(), version: 4 };
    let before = wide.clone();
    expect_decode(wide.reload(&mut client).unwrap_err(), "wide");
    assert_eq!(wide, before, "a failed reload leaves the entity as it was");

    // A String field over an INTEGER column: the server refuses the write and names
    // the column.
    let expect_mismatch = |err: Error| {
        let driver = driver_error(&err);
        assert_eq!(driver.code(), Some(&SqlState::DATATYPE_MISMATCH), "{err:?}");
        let message = driver.as_db_error().expect("a server error").message();
        assert!(message.contains("\"qty\""), "the server's message names the column: {message}");
        assert!(chain(&err).contains("\"qty\""), "the error's source chain names the column: {err:?}");
        assert!(!err.is_retryable() && !err.is_conflict());
    };
    let mut counted = Counted { id: 1, qty: "6".into(), version: 0 };
    let before = counted.clone();
    expect_mismatch(counted.save(&mut client).unwrap_err());
    assert_eq!(counted, before, "a failed save leaves the entity as it was");
    let mut fresh = Counted { id: 2, qty: "7".into(), version: 3 };
    let before = fresh.clone();
    expect_mismatch(fresh.insert(&mut client).unwrap_err());
    assert_eq!(fresh, before, "a failed insert leaves the entity as it was");

    let rows: Vec<(String, i64, i64)> = client
        .query(
            "SELECT 'narrow', id, version::bigint FROM narrow UNION ALL SELECT 'wide', id, version::bigint FROM wide \
             UNION ALL SELECT 'counted', id, qty::bigint * 100 + version FROM counted ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let expected = [("counted", 1, 500), ("narrow", 1, 4), ("wide", 1, 4)].map(|(t, i, v)| (t.to_owned(), i, v));
    assert_eq!(rows, expected, "nothing was written");
}

/// A database error's chain says what the server said, once: the library's text adds
/// the SQLSTATE, and the driver's error, its source, carries the server's message.
#[test]
fn database_error_text_carries_the_server_message() {
    let Some(db) = Db::open("error_text", ACCOUNTS) else { return };
    let mut client = db.client();
    client.batch_execute("ALTER TABLE accounts ADD CONSTRAINT positive CHECK (balance > 0)").unwrap();
    let mut account = new_account(&mut client, "ada", 1);
    account.balance = -1;
    let err = account.save(&mut client).unwrap_err();
    assert_eq!(sqlstate(&err), Some(SqlState::CHECK_VIOLATION), "{err:?}");
    assert_eq!(err.to_string(), "database error (SQLSTATE 23514)");
    let text = chain(&err);
    assert_eq!(text.matches("positive").count(), 1, "the chain names the violated constraint once: {text}");
}

/// The server ends a connection in the middle of a transaction. The next save
/// is a typed error, the entity keeps the version it had, and the row holds what was
/// committed before the transaction.
#[test]
fn terminated_backend_gives_a_typed_error_and_rolls_back() {
    let Some(db) = Db::open("terminated", ACCOUNTS) else { return };
    let (mut a, mut b) = (db.client(), db.client());
    let committed = new_account(&mut b, "ada", 100);
    let pid: i32 = a.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);

    let mut tx = a.transaction().unwrap();
    let mut mine = committed.clone();
    mine.balance = 150;
    mine.save(&mut tx).expect("the save inside the transaction succeeds");
    assert_eq!(mine.version, 1);

    let terminated: bool = b.query_one("SELECT pg_terminate_backend($1)", &[&pid]).unwrap().get(0);
    assert!(terminated, "the backend {pid} was signalled");
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.query_one("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", &[&pid]).unwrap().get::<_, i64>(0) > 0 {
        assert!(Instant::now() < deadline, "the backend {pid} did not end");
        thread::sleep(Duration::from_millis(20));
    }

    mine.balance = 200;
    let before = mine.clone();
    let err = mine.save(&mut tx).unwrap_err();
    let driver = driver_error(&err);
    assert!(driver.code() == Some(&SqlState::ADMIN_SHUTDOWN) || driver.is_closed(), "{err:?}");
    assert!(!err.is_conflict(), "{err:?}");
    assert_eq!(mine, before, "the failed save leaves the entity's version at 1");
    drop(tx);

    assert_eq!(account_row(&mut b, committed.id), row("ada", 100, 0), "the in-transaction write was rolled back");
    // The row is not locked either: a save of the committed version goes through.
    let mut again = committed.clone();
    again.balance = 120;
    again.save(&mut b).unwrap();
    assert_eq!(account_row(&mut b, committed.id), row("ada", 120, 1));
}

/// Generated keys come back through `RETURNING`, for `bigserial` and
/// `serial` (an `i32` key) columns, inside a transaction too.
#[test]
fn generated_keys_come_back_through_returning() {
    #[derive(Versioned, Debug, Clone, PartialEq)]
    #[versioned(table = "tags")]
    struct Tag {
        #[id(auto)]
        id: i32,
        label: String,
        #[version]
        version: i32,
    }

    let ddl =
        format!("{ACCOUNTS} CREATE TABLE tags (id SERIAL PRIMARY KEY, label TEXT NOT NULL, version INTEGER NOT NULL);");
    let Some(db) = Db::open("generated_keys", &ddl) else { return };
    let (mut client, mut check) = (db.client(), db.client());

    let first = new_account(&mut client, "ada", 1);
    let second = new_account(&mut client, "bob", 2);
    assert!(first.id > 0 && second.id > 0 && first.id != second.id, "{first:?} {second:?}");
    assert_eq!(account_row(&mut check, first.id), row("ada", 1, 0));
    assert_eq!(account_row(&mut check, second.id), row("bob", 2, 0));

    let mut tx = client.transaction().unwrap();
    let mut third = Account { id: 0, owner: "cy".into(), balance: 3, version: 9 };
    third.insert(&mut tx).unwrap();
    assert_eq!(third.version, 0);
    assert!(third.id > 0 && third.id != first.id && third.id != second.id, "{third:?}");
    assert_eq!(Account::get(&mut tx, third.id).unwrap(), third);
    tx.commit().unwrap();
    assert_eq!(account_row(&mut check, third.id), row("cy", 3, 0));

    let mut ids = Vec::new();
    for label in ["red", "green"] {
        let mut tag = Tag { id: 0, label: label.into(), version: 5 };
        tag.insert(&mut client).unwrap();
        assert_eq!(tag.version, 0);
        assert_eq!(Tag::get(&mut client, tag.id).unwrap(), tag);
        tag.save(&mut client).unwrap();
        ids.push(tag.id);
    }
    assert!(ids[0] > 0 && ids[0] != ids[1], "{ids:?}");
    let rows: Vec<(i32, String, i32)> = check
        .query("SELECT id, label, version FROM tags ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(rows, [(ids[0], "red".to_owned(), 1), (ids[1], "green".to_owned(), 1)]);
}

/// The retryable serialization failure (40001) PostgreSQL raises when a REPEATABLE READ
/// transaction reads the version of a row committed since its snapshot with
/// `SELECT .. FOR SHARE`, as `verify` and the read after a missed write do: never an
/// answer from the snapshot.
fn expect_serialization_failure(result: Result<(), Error>) {
    let err = result.expect_err("a row changed since the snapshot cannot be read for share");
    assert_eq!(sqlstate(&err), Some(SqlState::T_R_SERIALIZATION_FAILURE), "{err:?}");
    assert!(err.is_retryable() && !err.is_conflict(), "{err:?}");
}

/// `verify` inside a REPEATABLE READ transaction checks the committed row, not the
/// snapshot: a row committed since the snapshot is a serialization failure, and the
/// next transaction's `verify` reports the committed version.
#[test]
fn repeatable_read_verify_sees_past_the_snapshot() {
    let Some(db) = Db::open("rr_verify", ACCOUNTS) else { return };
    let (mut a, mut b) = (db.client(), db.client());
    let id = new_account(&mut b, "ada", 100).id;
    deposit(&mut b, id, 1); // version 1
    let mut tx = a.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start().unwrap();
    let mine = Account::get(&mut tx, id).unwrap(); // snapshot: version 1
    assert_eq!(mine.version, 1);
    deposit(&mut b, id, 1); // committed after the snapshot: version 2
    expect_serialization_failure(mine.verify(&mut tx));
    drop(tx);

    let mut tx = a.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start().unwrap();
    assert_eq!(expect_conflict(mine.verify(&mut tx).unwrap_err()), conflict(id, 1, Some(2)));
    drop(tx);
    assert_eq!(account_row(&mut b, id), row("ada", 102, 2));
}

/// A stale save inside a REPEATABLE READ transaction whose row was committed since
/// the snapshot is a serialization failure, not a conflict naming the snapshot's
/// version; in the next transaction it is a conflict naming the committed version.
#[test]
fn repeatable_read_conflict_names_the_committed_version() {
    let Some(db) = Db::open("rr_conflict", ACCOUNTS) else { return };
    let (mut a, mut b) = (db.client(), db.client());
    let mut stale = new_account(&mut b, "ada", 100); // version 0
    let id = stale.id;
    deposit(&mut b, id, 1); // version 1
    let mut tx = a.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start().unwrap();
    assert_eq!(Account::get(&mut tx, id).unwrap().version, 1, "the snapshot holds version 1");
    deposit(&mut b, id, 1); // committed after the snapshot: version 2
    stale.balance = 0;
    let before = stale.clone();
    expect_serialization_failure(stale.save(&mut tx));
    assert_eq!(stale, before, "a failed save leaves the entity as it was");
    drop(tx);

    let mut tx = a.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start().unwrap();
    assert_eq!(expect_conflict(stale.save(&mut tx).unwrap_err()), conflict(id, 0, Some(2)));
    assert_eq!(stale, before, "a failed save leaves the entity as it was");
    drop(tx);
    assert_eq!(account_row(&mut b, id), row("ada", 102, 2));
}
