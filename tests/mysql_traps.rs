//! MySQL and MariaDB traps: the REPEATABLE READ snapshot, deadlocks and lock wait
//! timeouts, a killed connection, changed-versus-matched row counts and generated
//! keys.
//!
//! Each test works in a database of its own (`mytrap_<test>`), so the tests run in
//! parallel. The server comes from `VERSIONED_MYSQL_URL`; when it does not answer the
//! tests say so and pass, except under `CI=true`, where they fail.

#![cfg(feature = "mysql")]

use std::thread;
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use mysql::{Conn, IsolationLevel, OptsBuilder, Pool, PoolConstraints, PoolOpts, TxOpts};
use versioned::{Error, Versioned};

mod common;
#[path = "suite/db/server.rs"]
mod server;
mod traps;

use server::{MYSQL, mysql_opts};
use traps::{Account, conflict, expect_conflict, new_account, row};

const ER_DUP_ENTRY: u16 = 1062;
const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
const ER_LOCK_DEADLOCK: u16 = 1213;
const ER_CHECKREAD: u16 = 1020;

/// The tables the tests use: `accounts` has a generated key, `notes` a key the
/// caller provides.
const TABLES: &[&str] = &[
    "CREATE TABLE accounts (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        owner VARCHAR(64) NOT NULL,
        balance BIGINT NOT NULL,
        version BIGINT NOT NULL
    ) ENGINE = InnoDB",
    "CREATE TABLE notes (
        id BIGINT NOT NULL PRIMARY KEY,
        body VARCHAR(64) NOT NULL,
        version BIGINT NOT NULL
    ) ENGINE = InnoDB",
];

#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "notes")]
struct Note {
    id: i64,
    body: String,
    #[version]
    version: i64,
}

/// One test's database; every connection it opens has it as the default database.
struct Db {
    name: String,
}

impl Db {
    /// Creates the database `mytrap_<test>` afresh with [`TABLES`]. `None` when no
    /// server answers (see [`server::Server::connect`]).
    fn open(test: &str) -> Option<Db> {
        let mut admin = MYSQL.connect(|| Conn::new(mysql_opts()))?;
        let name = format!("mytrap_{test}");
        admin.query_drop(format!("DROP DATABASE IF EXISTS `{name}`")).expect("drop the old test database");
        admin.query_drop(format!("CREATE DATABASE `{name}`")).expect("create the test database");
        let db = Db { name };
        let mut conn = db.conn();
        for ddl in TABLES {
            conn.query_drop(ddl).expect("create a table");
        }
        Some(db)
    }

    fn opts(&self) -> OptsBuilder {
        mysql_opts().db_name(Some(&self.name))
    }

    /// A new connection to the test's database.
    fn conn(&self) -> Conn {
        Conn::new(self.opts()).expect("connect to MySQL")
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        // A failed test leaves its database behind to look at; the next run drops it.
        if thread::panicking() {
            return;
        }
        if let Ok(mut admin) = Conn::new(mysql_opts()) {
            let _ = admin.query_drop("SET SESSION lock_wait_timeout = 5");
            let _ = admin.query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.name));
        }
    }
}

/// An `accounts` row as stored, `(owner, balance, version)`, read with plain SQL.
fn account_row(conn: &mut impl Queryable, id: i64) -> Option<(String, i64, i64)> {
    conn.exec_first("SELECT owner, balance, version FROM accounts WHERE id = ?", (id,)).expect("read an accounts row")
}

/// The server's error code inside an `Error::Database`, if the server sent one.
fn server_code(err: &Error) -> Option<u16> {
    match err {
        Error::Database(e) => match e.downcast_ref::<mysql::Error>() {
            Some(mysql::Error::MySqlError(m)) => Some(m.code),
            Some(_) => None,
            None => panic!("not a mysql::Error inside: {err:?}"),
        },
        other => panic!("expected Error::Database, got {other:?}"),
    }
}

/// Inside a REPEATABLE READ transaction a plain SELECT shows the snapshot's
/// old version, but a refused save and `verify` report the version another
/// connection committed since.
#[test]
fn repeatable_read_conflict_reports_the_committed_version() {
    let Some(db) = Db::open("repeatable_read") else { return };
    let (mut a, mut b) = (db.conn(), db.conn());
    let id = new_account(&mut b, "ada", 100).id;

    let mut tx =
        a.start_transaction(TxOpts::default().set_isolation_level(Some(IsolationLevel::RepeatableRead))).unwrap();
    let mut mine = Account::get(&mut tx, id).unwrap(); // takes the snapshot
    let mut theirs = Account::get(&mut b, id).unwrap();
    theirs.balance = 150;
    theirs.save(&mut b).unwrap(); // committed: version 1
    assert_eq!(theirs.version, 1);

    // The trap is real: the transaction's plain reads still see version 0.
    assert_eq!(account_row(&mut tx, id), row("ada", 100, 0), "a plain SELECT reads the snapshot");
    assert_eq!(Account::get(&mut tx, id).unwrap().version, 0, "so does get");

    assert_eq!(expect_conflict(mine.verify(&mut tx).unwrap_err()), conflict(id, 0, Some(1)));
    mine.balance = 110;
    let before = mine.clone();
    let err = mine.save(&mut tx).unwrap_err();
    assert_eq!(expect_conflict(err), conflict(id, 0, Some(1)), "actual is the committed version, not the snapshot's");
    assert_eq!(mine, before, "a failed save leaves the entity as it was");
    tx.rollback().unwrap();
    assert_eq!(account_row(&mut b, id), row("ada", 150, 1));
}

impl traps::Transaction for mysql::Transaction<'_> {
    fn save(&mut self, account: &mut Account) -> Result<(), Error> {
        account.save(self)
    }

    fn commit(self) {
        mysql::Transaction::commit(self).unwrap();
    }

    fn rollback(self) {
        let _ = mysql::Transaction::rollback(self);
    }
}

/// A deadlock (1213) and a lock wait timeout (1205) are retryable; a
/// duplicate key (1062) is not.
#[test]
fn deadlock_and_lock_wait_timeout_are_retryable() {
    let Some(db) = Db::open("deadlock") else { return };
    let mut setup = db.conn();
    let x = new_account(&mut setup, "x", 10);
    let y = new_account(&mut setup, "y", 20);
    let (mut c1, mut c2) = (db.conn(), db.conn());
    for c in [&mut c1, &mut c2] {
        // Should the deadlock go undetected, fail rather than hang.
        c.query_drop("SET SESSION innodb_lock_wait_timeout = 30").unwrap();
    }
    let (t1, t2) = (c1.start_transaction(TxOpts::default()).unwrap(), c2.start_transaction(TxOpts::default()).unwrap());
    let err = traps::deadlock(t1, t2, &x, &y);
    assert_eq!(server_code(&err), Some(ER_LOCK_DEADLOCK), "{err:?}");
    assert!(err.is_retryable() && !err.is_conflict(), "{err:?}");
    // Only the survivor's two writes are stored: each row once more, version 1.
    assert_eq!(account_row(&mut setup, x.id), row("x", 11, 1));
    assert_eq!(account_row(&mut setup, y.id), row("y", 21, 1));

    // A lock wait timeout: c1 holds the row, c2 gives up after a second.
    let mut holder = c1.start_transaction(TxOpts::default()).unwrap();
    let mut held = Account::get(&mut holder, x.id).unwrap();
    held.balance = 500;
    held.save(&mut holder).unwrap();
    c2.query_drop("SET SESSION innodb_lock_wait_timeout = 1").unwrap();
    let mut waiter = Account::get(&mut c2, x.id).unwrap();
    waiter.balance = 600;
    let before = waiter.clone();
    let err = waiter.save(&mut c2).unwrap_err();
    assert_eq!(server_code(&err), Some(ER_LOCK_WAIT_TIMEOUT), "{err:?}");
    assert!(err.is_retryable() && !err.is_conflict(), "{err:?}");
    assert_eq!(waiter, before, "a failed save leaves the entity as it was");
    holder.rollback().unwrap();
    assert_eq!(account_row(&mut setup, x.id), row("x", 11, 1));
    waiter.save(&mut c2).expect("once the lock is gone the same save goes through");
    assert_eq!(account_row(&mut setup, x.id), row("x", 600, 2));

    // A duplicate key is not retryable.
    let mut note = Note { id: 1, body: "first".into(), version: 0 };
    note.insert(&mut setup).unwrap();
    let mut twin = Note { id: 1, body: "twin".into(), version: 4 };
    let before = twin.clone();
    let err = twin.insert(&mut setup).unwrap_err();
    assert_eq!(server_code(&err), Some(ER_DUP_ENTRY), "{err:?}");
    assert!(!err.is_retryable() && !err.is_conflict(), "{err:?}");
    assert_eq!(twin, before, "a failed insert leaves the entity as it was");
    let notes: Vec<(i64, String, i64)> = setup.query("SELECT id, body, version FROM notes").unwrap();
    assert_eq!(notes, [(1, "first".to_owned(), 0)]);
}

/// With `innodb_snapshot_isolation` (MariaDB's default from 11.6), a write to a row
/// another transaction changed since the snapshot fails with 1020, "record has
/// changed since last read": retryable, and a retry of the whole transaction
/// succeeds. Servers without the variable (MySQL, MariaDB before 10.6.18) skip it.
#[test]
fn a_row_changed_since_the_snapshot_is_retryable() {
    let Some(db) = Db::open("checkread") else { return };
    let (mut a, mut b) = (db.conn(), db.conn());
    if a.query_drop("SET SESSION innodb_snapshot_isolation = ON").is_err() {
        println!("skipped: this server has no innodb_snapshot_isolation");
        return;
    }
    let id = new_account(&mut b, "ada", 100).id;
    let rr = || TxOpts::default().set_isolation_level(Some(IsolationLevel::RepeatableRead));

    let mut tx = a.start_transaction(rr()).unwrap();
    let mut mine = Account::get(&mut tx, id).unwrap(); // takes the snapshot
    let mut theirs = Account::get(&mut b, id).unwrap();
    theirs.balance = 150;
    theirs.save(&mut b).unwrap();
    mine.balance += 1;
    let err = mine.save(&mut tx).unwrap_err();
    assert_eq!(server_code(&err), Some(ER_CHECKREAD), "{err:?}");
    assert!(err.is_retryable() && !err.is_conflict(), "{err:?}");
    assert_eq!(mine.version, 0, "the entity is unchanged");
    drop(tx);

    // Each attempt runs the whole transaction: read, change, save, commit.
    let saved = versioned::retry(versioned::RetryPolicy::default().no_delay(), || {
        let mut tx = a.start_transaction(rr())?;
        let mut fresh = Account::get(&mut tx, id)?;
        fresh.balance += 1;
        fresh.save(&mut tx)?;
        tx.commit()?;
        Ok(fresh)
    })
    .unwrap();
    assert_eq!(saved.version, 2);
    assert_eq!(account_row(&mut b, id), row("ada", 151, 2));
}

/// The server kills a connection in the middle of a transaction. The next
/// save is a typed error, the entity keeps the version it had, and the row holds what
/// was committed before the transaction.
#[test]
fn killed_connection_gives_a_typed_error_and_rolls_back() {
    let Some(db) = Db::open("killed") else { return };
    let (mut a, mut b) = (db.conn(), db.conn());
    let committed = new_account(&mut b, "ada", 100);
    let connection_id: u64 = a.query_first("SELECT CONNECTION_ID()").unwrap().unwrap();

    let mut tx = a.start_transaction(TxOpts::default()).unwrap();
    let mut mine = committed.clone();
    mine.balance = 150;
    mine.save(&mut tx).expect("the save inside the transaction succeeds");
    assert_eq!(mine.version, 1);

    b.query_drop(format!("KILL {connection_id}")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while b
        .exec_first::<u64, _, _>("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", (connection_id,))
        .unwrap()
        != Some(0)
    {
        assert!(Instant::now() < deadline, "the connection {connection_id} did not end");
        thread::sleep(Duration::from_millis(20));
    }

    mine.balance = 200;
    let before = mine.clone();
    let err = mine.save(&mut tx).unwrap_err();
    server_code(&err); // an Error::Database holding the driver's error
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

/// MySQL counts changed rows, not matched ones. A save that writes the values
/// the row already holds still changes the version, so it succeeds; a stale save is
/// refused even when its values equal the row's.
#[test]
fn unchanged_values_still_save_and_stale_versions_are_refused() {
    let Some(db) = Db::open("changed_rows") else { return };
    let (mut conn, mut check) = (db.conn(), db.conn());
    let mut account = new_account(&mut conn, "ada", 100);
    let id = account.id;

    // The trap is real: an update that changes nothing reports zero rows.
    check.exec_drop("UPDATE accounts SET owner = owner, balance = balance WHERE id = ?", (id,)).unwrap();
    assert_eq!(check.affected_rows(), 0, "MySQL counts changed rows");

    let stale = account.clone();
    account.save(&mut conn).expect("a save of identical values succeeds");
    assert_eq!(account.version, 1);
    assert_eq!(account_row(&mut check, id), row("ada", 100, 1), "the version moved");
    account.save(&mut conn).unwrap();
    account.touch(&mut conn).unwrap();
    assert_eq!(account.version, 3);
    assert_eq!(account_row(&mut check, id), row("ada", 100, 3));

    // The stale copy holds the same values as the row, but version 0.
    for mut copy in [stale.clone(), Account { version: 2, ..stale.clone() }] {
        let before = copy.clone();
        let expected = copy.version;
        let err = copy.save(&mut conn).unwrap_err();
        assert_eq!(expect_conflict(err), conflict(id, expected, Some(3)));
        let err = copy.touch(&mut conn).unwrap_err();
        assert_eq!(expect_conflict(err), conflict(id, expected, Some(3)));
        let err = copy.delete(&mut conn).unwrap_err();
        assert_eq!(expect_conflict(err), conflict(id, expected, Some(3)));
        assert_eq!(copy, before, "failed writes leave the entity as it was");
    }
    assert_eq!(account_row(&mut check, id), row("ada", 100, 3), "nothing was written");

    account.delete(&mut conn).expect("the current version deletes");
    assert_eq!(account_row(&mut check, id), None);
}

/// Generated keys come back through the last insert id, on a connection, a
/// pooled connection and inside a transaction.
#[test]
fn generated_keys_come_back_through_last_insert_id() {
    let Some(db) = Db::open("generated_keys") else { return };
    let (mut conn, mut check) = (db.conn(), db.conn());

    let first = new_account(&mut conn, "ada", 1);
    let second = new_account(&mut conn, "bob", 2);
    assert!(first.id > 0 && second.id > 0 && first.id != second.id, "{first:?} {second:?}");

    let mut tx = conn.start_transaction(TxOpts::default()).unwrap();
    let mut third = Account { id: 0, owner: "cy".into(), balance: 3, version: 9 };
    third.insert(&mut tx).unwrap();
    assert_eq!(third.version, 0);
    assert_eq!(Account::get(&mut tx, third.id).unwrap(), third);
    tx.commit().unwrap();

    let pool_opts = PoolOpts::default().with_constraints(PoolConstraints::new(1, 1).unwrap());
    let pool = Pool::new(db.opts().pool_opts(pool_opts)).unwrap();
    let mut pooled = pool.get_conn().unwrap();
    let mut fourth = Account { id: 0, owner: "dee".into(), balance: 4, version: 0 };
    fourth.insert(&mut pooled).unwrap();
    assert_eq!(Account::get(&mut pooled, fourth.id).unwrap(), fourth);

    let ids = [first.id, second.id, third.id, fourth.id];
    let mut distinct = ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "every insert got its own key: {ids:?}");
    let rows: Vec<(i64, String, i64, i64)> =
        check.query("SELECT id, owner, balance, version FROM accounts ORDER BY id").unwrap();
    let expected: Vec<_> =
        [&first, &second, &third, &fourth].iter().map(|a| (a.id, a.owner.clone(), a.balance, 0)).collect();
    assert_eq!(rows, expected);
}
