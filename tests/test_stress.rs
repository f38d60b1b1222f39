//! Several connections on one WAL database incrementing shared rows with `retry`:
//! no increment is lost and none is applied twice.

mod common;

use std::sync::Barrier;
use std::time::Duration;

use common::{Account, TempDb};
use rusqlite::Connection;
use versioned::{Error, RetryPolicy, Versioned, retry};

const THREADS: usize = 4;
const INCREMENTS: usize = 1000;

#[derive(Versioned, Debug, Clone, PartialEq)]
struct Counter {
    id: i64,
    value: i64,
    #[version]
    version: i64,
}

fn policy() -> RetryPolicy {
    RetryPolicy::default().max_attempts(1000).base_delay(Duration::from_micros(100)).max_delay(Duration::from_millis(5))
}

/// A WAL database with the test schema and one counter row at zero.
fn wal_database(label: &str) -> TempDb {
    let db = TempDb::new(label);
    let conn = db.connect();
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    conn.execute_batch(common::SCHEMA).unwrap();
    Counter { id: 1, value: 0, version: 0 }.insert(&conn).unwrap();
    db
}

fn connect(db: &TempDb) -> Connection {
    let conn = db.connect();
    // Durability is not under test; skipping fsync keeps the test fast.
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn
}

fn total(expected: usize) -> i64 {
    i64::try_from(expected).unwrap()
}

/// Runs `work` on `THREADS` threads, each with its own connection and its index,
/// all starting together.
fn on_threads(db: &TempDb, work: impl Fn(usize, &Connection) + Sync) {
    let barrier = Barrier::new(THREADS);
    let (barrier, work) = (&barrier, &work);
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            s.spawn(move || {
                let conn = connect(db);
                barrier.wait();
                work(thread, &conn);
            });
        }
    });
}

#[test]
fn concurrent_increments_in_transactions_are_all_counted_once() {
    let db = wal_database("stress-tx");
    on_threads(&db, |_, conn| {
        for _ in 0..INCREMENTS {
            retry(policy(), || {
                let tx = conn.unchecked_transaction()?;
                let mut counter = Counter::get(&tx, 1)?;
                counter.value += 1;
                counter.save(&tx)?;
                tx.commit()?;
                Ok(())
            })
            .unwrap();
        }
    });
    let counter = Counter::get(&db.connect(), 1).unwrap();
    assert_eq!(counter.value, total(THREADS * INCREMENTS));
    assert_eq!(counter.version, total(THREADS * INCREMENTS));
}

#[test]
fn concurrent_increments_without_transactions_are_all_counted_once() {
    // Each read and each write is its own statement here, so a lost race shows up as
    // an optimistic lock conflict rather than a busy snapshot.
    let db = wal_database("stress-autocommit");
    on_threads(&db, |_, conn| {
        for _ in 0..INCREMENTS {
            retry(policy(), || {
                let mut counter = Counter::get(conn, 1)?;
                counter.value += 1;
                counter.save(conn)
            })
            .unwrap();
        }
    });
    let counter = Counter::get(&db.connect(), 1).unwrap();
    assert_eq!(counter.value, total(THREADS * INCREMENTS));
    assert_eq!(counter.version, total(THREADS * INCREMENTS));
}

#[test]
fn concurrent_transfers_conserve_the_sum() {
    const ACCOUNTS: usize = 5;
    const TRANSFERS: usize = 500;
    let db = wal_database("stress-transfers");
    {
        let conn = db.connect();
        for i in 0..ACCOUNTS {
            Account::new(&format!("acc-{i}"), 1_000).insert(&conn).unwrap();
        }
    }
    on_threads(&db, |seed, conn| {
        for n in 0..TRANSFERS {
            let from = (seed + n) % ACCOUNTS;
            let to = (from + 1 + (seed * 7 + n * 3) % (ACCOUNTS - 1)) % ACCOUNTS;
            let amount = i64::try_from(1 + (seed + n) % 17).unwrap();
            retry(policy(), || -> Result<(), Error> {
                let tx = conn.unchecked_transaction()?;
                let mut a = Account::get(&tx, format!("acc-{from}"))?;
                let mut b = Account::get(&tx, format!("acc-{to}"))?;
                a.balance -= amount;
                b.balance += amount;
                a.save(&tx)?;
                b.save(&tx)?;
                tx.commit()?;
                Ok(())
            })
            .unwrap();
        }
    });
    let conn = db.connect();
    let (sum, versions): (i64, i64) =
        conn.query_row("SELECT sum(balance), sum(version) FROM accounts", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(sum, total(ACCOUNTS * 1_000), "money is neither created nor lost");
    assert_eq!(versions, total(2 * THREADS * TRANSFERS), "each transfer saved exactly two rows once");
}
