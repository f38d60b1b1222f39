//! The async executors on PostgreSQL: `&tokio_postgres::Client` and its
//! `Transaction`, and (feature `deadpool-postgres`) a pool's `Object` and its
//! `Transaction`, each also behind `&mut`: every operation, conflicts, a row gone,
//! futures run in `tokio::spawn`, a real serialization failure, a `save` cut short by a
//! timeout, and concurrent read-modify-write increments through a pool.
//!
//! Each test works in a schema of its own (`tpg_<test>`), so the tests run in
//! parallel. The server comes from `VERSIONED_PG_URL`; when it does not answer the
//! tests say so and pass, except under `CI=true`, where they fail.

#![cfg(feature = "tokio-postgres")]

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, IsolationLevel};
use versioned::Versioned;
use versioned::backend::postgres::AsyncCachingClient;
use versioned::backend::{Async, Executor, Postgres};

mod common;
#[path = "suite/db/server.rs"]
mod server;
#[path = "traps/tokio_pg.rs"]
mod tpg;
#[allow(dead_code)] // the trap files' blocking helpers are not used here
mod traps;

use tpg::{account_row, expect_not_found, run, sqlstate, wait_for_lock};
use traps::{Account, conflict, expect_conflict, row};

/// Every operation through the executor `&X`: insert with a generated key, find, get,
/// save, touch, verify, reload; a stale copy's writes and check are conflicts that
/// name the version the row holds and leave the copy as it was; once the row is
/// deleted, conflicts with no version, `find` is `None`, `get` and `reload` are
/// `NotFound`. Returns the key of an account it leaves behind, at version 1.
async fn every_operation<X>(x: &X) -> i64
where
    for<'a> &'a X: Executor<Backend = Postgres, Mode = Async>,
{
    let mut account = Account { id: 0, owner: "ada".into(), balance: 100, version: 7 };
    account.insert(x).await.unwrap();
    assert!(account.id > 0, "the generated key is filled in");
    assert_eq!(account.version, 0);
    let mut kept = Account { id: 0, owner: "bob".into(), balance: 5, version: 0 };
    kept.insert(x).await.unwrap();
    assert!(kept.id > account.id, "each insert has a key of its own");
    let id = account.id;

    assert_eq!(Account::find(x, id).await.unwrap().as_ref(), Some(&account));
    assert_eq!(Account::get(x, id).await.unwrap(), account);

    let stale = account.clone();
    account.balance = 150;
    account.save(x).await.unwrap();
    assert_eq!(account.version, 1);
    account.touch(x).await.unwrap();
    assert_eq!(account.version, 2);
    account.verify(x).await.unwrap();
    assert_eq!(Account::get(x, id).await.unwrap(), account);
    let mut reloaded = stale.clone();
    reloaded.reload(x).await.unwrap();
    assert_eq!(reloaded, account);

    // A stale copy: every write and the check are conflicts naming version 2.
    let mut copy = stale.clone();
    copy.balance = 1;
    let before = copy.clone();
    assert_eq!(expect_conflict(copy.save(x).await.unwrap_err()), conflict(id, 0, Some(2)));
    assert_eq!(expect_conflict(copy.touch(x).await.unwrap_err()), conflict(id, 0, Some(2)));
    assert_eq!(expect_conflict(copy.verify(x).await.unwrap_err()), conflict(id, 0, Some(2)));
    assert_eq!(expect_conflict(copy.delete(x).await.unwrap_err()), conflict(id, 0, Some(2)));
    assert_eq!(copy, before, "failed writes leave the entity as it was");
    assert_eq!(Account::get(x, id).await.unwrap(), account, "and the row too");

    // The row gone: conflicts with no version, and nothing to read.
    account.delete(x).await.unwrap();
    let mut gone = account.clone();
    assert_eq!(expect_conflict(gone.save(x).await.unwrap_err()), conflict(id, 2, None));
    assert_eq!(expect_conflict(gone.touch(x).await.unwrap_err()), conflict(id, 2, None));
    assert_eq!(expect_conflict(gone.verify(x).await.unwrap_err()), conflict(id, 2, None));
    assert_eq!(expect_conflict(gone.delete(x).await.unwrap_err()), conflict(id, 2, None));
    expect_not_found(gone.reload(x).await.unwrap_err(), id);
    assert_eq!(gone, account, "the entity is unchanged");
    assert_eq!(Account::find(x, id).await.unwrap(), None);
    expect_not_found(Account::get(x, id).await.unwrap_err(), id);

    kept.save(x).await.unwrap();
    kept.id
}

/// The operations through the executor `&mut X`, lent to each call.
async fn through_mut<X>(x: &mut X)
where
    for<'a> &'a mut X: Executor<Backend = Postgres, Mode = Async>,
{
    let mut account = Account { id: 0, owner: "mut".into(), balance: 1, version: 0 };
    account.insert(&mut *x).await.unwrap();
    let id = account.id;
    account.balance = 2;
    account.save(&mut *x).await.unwrap();
    account.touch(&mut *x).await.unwrap();
    account.verify(&mut *x).await.unwrap();
    let mut reloaded = Account { balance: 0, version: 0, ..account.clone() };
    reloaded.reload(&mut *x).await.unwrap();
    assert_eq!(reloaded, account);
    assert_eq!(Account::find(&mut *x, id).await.unwrap().as_ref(), Some(&account));
    assert_eq!(Account::get(&mut *x, id).await.unwrap(), account);
    let mut stale = Account { version: 1, ..account.clone() };
    assert_eq!(expect_conflict(stale.save(&mut *x).await.unwrap_err()), conflict(id, 1, Some(2)));
    account.delete(&mut *x).await.unwrap();
    assert_eq!(Account::find(&mut *x, id).await.unwrap(), None);
}

#[test]
fn client_runs_every_operation() {
    run("client_ops", |db| async move {
        let mut client = db.client().await;
        let kept = every_operation(&client).await;
        through_mut(&mut client).await;
        assert_eq!(account_row(&client, kept).await, row("bob", 5, 1));
    });
}

#[test]
fn transaction_runs_every_operation_and_commits() {
    run("tx_ops", |db| async move {
        let (mut client, other) = (db.client().await, db.client().await);
        let mut tx = client.transaction().await.unwrap();
        let kept = every_operation(&tx).await;
        through_mut(&mut tx).await;
        assert_eq!(account_row(&other, kept).await, None, "nothing visible before commit");
        tx.commit().await.unwrap();
        assert_eq!(account_row(&other, kept).await, row("bob", 5, 1));

        // Rolled back, explicitly and by drop: the row keeps its version.
        let mut account = Account::get(&client, kept).await.unwrap();
        let tx = client.transaction().await.unwrap();
        account.save(&tx).await.unwrap();
        tx.rollback().await.unwrap();
        {
            let tx = client.transaction().await.unwrap();
            let mut doomed = Account::get(&tx, kept).await.unwrap();
            doomed.save(&tx).await.unwrap();
        }
        assert_eq!(account_row(&other, kept).await, row("bob", 5, 1), "rolled back");
        assert_eq!(account.version, 2, "the entity holds the version its rolled-back write stored");
        account.reload(&client).await.unwrap();
        assert_eq!(account.version, 1);
    });
}

#[cfg(feature = "deadpool-postgres")]
#[test]
fn pooled_object_runs_every_operation() {
    run("object_ops", |db| async move {
        let pool = db.pool(2);
        let mut object = pool.get().await.unwrap();
        let kept = every_operation(&object).await;
        through_mut(&mut object).await;
        assert_eq!(account_row(&object, kept).await, row("bob", 5, 1));
        // The client an `Object` derefs to is an executor too, on the same cache.
        let kept = every_operation(&*object).await;
        through_mut(&mut *object).await;
        assert_eq!(account_row(&object, kept).await, row("bob", 5, 1));
    });
}

#[cfg(feature = "deadpool-postgres")]
#[test]
fn pooled_transaction_runs_every_operation_and_commits() {
    run("pooled_tx_ops", |db| async move {
        let pool = db.pool(2);
        let (mut object, other) = (pool.get().await.unwrap(), pool.get().await.unwrap());
        let mut tx = object.transaction().await.unwrap();
        let kept = every_operation(&tx).await;
        through_mut(&mut tx).await;
        assert_eq!(account_row(&other, kept).await, None, "nothing visible before commit");
        tx.commit().await.unwrap();
        assert_eq!(account_row(&other, kept).await, row("bob", 5, 1));
    });
}

/// Runs `$body` with `$x` bound to the executor `&*$shared` (an `Arc`) in a task of
/// its own, and returns what it returns.
macro_rules! shared {
    ($shared:ident, |$x:ident| $body:expr) => {{
        let shared = Arc::clone(&$shared);
        tokio::spawn(async move {
            let $x = &*shared;
            $body
        })
        .await
        .expect("the task ran to completion")
    }};
}

/// Runs `$body` with `$x` bound to the executor `&mut $owned` in a task of its own,
/// which takes `$owned` and gives it back, and returns what `$body` returns.
macro_rules! owned {
    ($owned:ident, |$x:ident| $body:expr) => {{
        let mut owned = $owned;
        let (back, out) = tokio::spawn(async move {
            let out = {
                let $x = &mut owned;
                $body
            };
            (owned, out)
        })
        .await
        .expect("the task ran to completion");
        $owned = back;
        out
    }};
}

/// Each operation in a `tokio::spawn`ed task of its own on the executor `$exec`
/// lends (see [`shared!`] and [`owned!`]): compiles only if every operation's future
/// is `Send`. Conflicts included, since an operation's future is one type whatever
/// path it takes.
macro_rules! spawn_each_operation {
    ($lend:ident, $exec:ident) => {{
        let mut account = Account { id: 0, owner: "spawned".into(), balance: 1, version: 0 };
        account = $lend!($exec, |x| {
            let mut account = account;
            account.insert(x).await.unwrap();
            account
        });
        let id = account.id;
        assert_eq!($lend!($exec, |x| Account::find(x, id).await.unwrap()).as_ref(), Some(&account));
        assert_eq!($lend!($exec, |x| Account::get(x, id).await.unwrap()), account);
        account.balance = 2;
        account = $lend!($exec, |x| {
            let mut account = account;
            account.save(x).await.unwrap();
            account
        });
        account = $lend!($exec, |x| {
            let mut account = account;
            account.touch(x).await.unwrap();
            account
        });
        account = $lend!($exec, |x| {
            account.verify(x).await.unwrap();
            account
        });
        let stale = Account { balance: 0, version: 0, ..account.clone() };
        let reloaded = $lend!($exec, |x| {
            let mut stale = stale;
            stale.reload(x).await.unwrap();
            stale
        });
        assert_eq!(reloaded, account);
        let mut stale = Account { version: 0, ..account.clone() };
        let err = $lend!($exec, |x| stale.save(x).await.unwrap_err());
        assert_eq!(expect_conflict(err), conflict(id, 0, Some(2)));
        account = $lend!($exec, |x| {
            account.delete(x).await.unwrap();
            account
        });
        assert_eq!($lend!($exec, |x| Account::find(x, id).await.unwrap()), None);
        account
    }};
}

#[test]
fn operations_run_in_spawned_tasks_on_every_executor() {
    run("spawned", |db| async move {
        let client = Arc::new(db.client().await);
        spawn_each_operation!(shared, client);
        let mut client = Arc::into_inner(client).unwrap();
        spawn_each_operation!(owned, client);

        // A spawned task must own what it borrows, and a transaction borrows its
        // client: a leaked client gives a transaction that lives as long as needed.
        let leaked: &'static mut Client = Box::leak(Box::new(db.client().await));
        let tx = Arc::new(leaked.transaction().await.unwrap());
        spawn_each_operation!(shared, tx);
        let mut tx = Arc::into_inner(tx).unwrap();
        spawn_each_operation!(owned, tx);
        tx.commit().await.unwrap();

        let caching = Arc::new(AsyncCachingClient::new(db.client().await));
        spawn_each_operation!(shared, caching);
        let mut caching = Arc::into_inner(caching).unwrap();
        spawn_each_operation!(owned, caching);
        let leaked: &'static mut AsyncCachingClient = Box::leak(Box::new(caching));
        let tx = Arc::new(leaked.transaction().await.unwrap());
        spawn_each_operation!(shared, tx);
        let mut tx = Arc::into_inner(tx).unwrap();
        spawn_each_operation!(owned, tx);
        tx.commit().await.unwrap();

        #[cfg(feature = "deadpool-postgres")]
        {
            let pool = db.pool(2);
            let object = Arc::new(pool.get().await.unwrap());
            spawn_each_operation!(shared, object);
            let mut object = Arc::into_inner(object).unwrap();
            spawn_each_operation!(owned, object);
            assert!(!object.is_closed());

            let leaked: &'static mut deadpool_postgres::Object = Box::leak(Box::new(pool.get().await.unwrap()));
            let tx = Arc::new(leaked.transaction().await.unwrap());
            spawn_each_operation!(shared, tx);
            let mut tx = Arc::into_inner(tx).unwrap();
            spawn_each_operation!(owned, tx);
            tx.commit().await.unwrap();
        }
        let count: i64 = client.query_one("SELECT count(*) FROM accounts", &[]).await.unwrap().get(0);
        assert_eq!(count, 0, "every spawned insert was deleted again");
    });
}

/// Reads account `id` through `tx`, which takes the snapshot of a REPEATABLE READ
/// transaction; lets `other` commit a deposit; then saves the account through `tx`.
/// PostgreSQL refuses to write a row changed since the snapshot: a serialization
/// failure (40001), retryable, not a conflict, and the entity keeps its version.
async fn lose_to_a_concurrent_update<X>(tx: &X, other: &Client, id: i64)
where
    for<'a> &'a X: Executor<Backend = Postgres, Mode = Async>,
{
    let mut mine = Account::get(tx, id).await.unwrap();
    let mut theirs = Account::get(other, id).await.unwrap();
    theirs.balance += 1;
    theirs.save(other).await.unwrap();
    mine.balance += 10;
    let before = mine.clone();
    let err = mine.save(tx).await.unwrap_err();
    assert!(err.is_retryable() && !err.is_conflict(), "{err:?}");
    assert_eq!(sqlstate(&err), Some(SqlState::T_R_SERIALIZATION_FAILURE), "{err:?}");
    assert_eq!(mine, before, "a failed save leaves the entity as it was");
}

#[test]
fn a_serialization_failure_in_a_transaction_is_retryable() {
    run("serialization", |db| async move {
        let (mut client, other) = (db.client().await, db.client().await);
        let mut account = Account { id: 0, owner: "ada".into(), balance: 100, version: 0 };
        account.insert(&client).await.unwrap();
        let id = account.id;

        let tx = client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start().await.unwrap();
        lose_to_a_concurrent_update(&tx, &other, id).await;
        tx.rollback().await.unwrap();

        // Run again, the whole transaction goes through.
        let tx = client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start().await.unwrap();
        let mut mine = Account::get(&tx, id).await.unwrap();
        mine.balance += 10;
        mine.save(&tx).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(account_row(&other, id).await, row("ada", 111, 2));

        #[cfg(feature = "deadpool-postgres")]
        {
            let pool = db.pool(1);
            let mut object = pool.get().await.unwrap();
            let tx = object.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start().await.unwrap();
            lose_to_a_concurrent_update(&tx, &other, id).await;
            tx.rollback().await.unwrap();
            assert_eq!(account_row(&other, id).await, row("ada", 112, 3));
        }
    });
}

/// A `save` cut short by a timeout while another transaction holds the row lock. The
/// entity keeps its version, which is set only once the write's await completes; the
/// write, already sent, runs when the lock is released: it changes nothing when the
/// other transaction committed a write of its own, and goes through when it rolled
/// back, leaving the entity behind the row, never ahead. Either way a fresh read and
/// save loses nothing. `pid` is the session behind `x`.
async fn a_save_cut_short<X>(x: &X, pid: i32, holder: &mut Client, observer: &Client, id: i64)
where
    for<'a> &'a X: Executor<Backend = Postgres, Mode = Async>,
{
    let start = Account::get(x, id).await.unwrap();
    assert_eq!((start.balance, start.version), (100, 0));

    // The other transaction commits a write of its own.
    let tx = holder.transaction().await.unwrap();
    let mut theirs = Account::get(&tx, id).await.unwrap();
    theirs.balance += 1;
    theirs.save(&tx).await.unwrap(); // holds the row lock until commit
    let mut mine = start.clone();
    mine.balance += 10;
    let before = mine.clone();
    let cut = tokio::time::timeout(Duration::from_millis(50), mine.save(x)).await;
    assert!(cut.is_err(), "the save waits for the lock");
    wait_for_lock(observer, pid).await;
    assert_eq!(mine, before, "a dropped save leaves the entity as it was");
    tx.commit().await.unwrap();
    let mut fresh = Account::get(x, id).await.unwrap();
    assert_eq!((fresh.balance, fresh.version), (101, 1), "the sent write matched nothing");
    fresh.balance += 10;
    fresh.save(x).await.unwrap();
    assert_eq!(account_row(observer, id).await, row("ada", 111, 2), "nothing lost");

    // The other transaction rolls back: the sent write goes through after all.
    let tx = holder.transaction().await.unwrap();
    let mut theirs = Account::get(&tx, id).await.unwrap();
    theirs.save(&tx).await.unwrap();
    let mut mine = fresh.clone();
    mine.balance += 100;
    let before = mine.clone();
    let cut = tokio::time::timeout(Duration::from_millis(50), mine.save(x)).await;
    assert!(cut.is_err(), "the save waits for the lock");
    wait_for_lock(observer, pid).await;
    tx.rollback().await.unwrap();
    assert_eq!(mine, before, "a dropped save leaves the entity as it was");
    let err = mine.clone().save(x).await.unwrap_err();
    assert_eq!(expect_conflict(err), conflict(id, 2, Some(3)), "the entity is behind the row, never ahead");
    let mut fresh = Account::get(x, id).await.unwrap();
    assert_eq!((fresh.balance, fresh.version), (211, 3), "the write sent before the drop committed");
    fresh.balance += 1;
    fresh.save(x).await.unwrap();
    assert_eq!(account_row(observer, id).await, row("ada", 212, 4), "nothing lost");
}

#[test]
fn a_save_cut_short_by_a_timeout_loses_nothing() {
    run("timeout", |db| async move {
        let (client, mut holder, observer) = (db.client().await, db.client().await, db.client().await);
        let mut account = Account { id: 0, owner: "ada".into(), balance: 100, version: 0 };
        account.insert(&client).await.unwrap();
        let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
        a_save_cut_short(&client, pid, &mut holder, &observer, account.id).await;

        #[cfg(feature = "deadpool-postgres")]
        {
            let pool = db.pool(1);
            let object = pool.get().await.unwrap();
            // The save's statement is prepared on this connection first, so the save
            // that is cut short sends it on its first poll.
            let mut warm = Account { id: 0, owner: "warm".into(), balance: 0, version: 0 };
            warm.insert(&object).await.unwrap();
            warm.save(&object).await.unwrap();
            let mut account = Account { id: 0, owner: "ada".into(), balance: 100, version: 0 };
            account.insert(&object).await.unwrap();
            let pid: i32 = object.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
            a_save_cut_short(&object, pid, &mut holder, &observer, account.id).await;
        }
    });
}

/// 8 tasks each add 1 to a balance 50 times through a pool, with read-modify-write and
/// a plain retry loop on conflicts: no increment is lost.
#[cfg(feature = "deadpool-postgres")]
#[test]
fn concurrent_increments_through_a_pool_lose_nothing() {
    const TASKS: i64 = 8;
    const INCREMENTS: i64 = 50;
    run("increments", |db| async move {
        let pool = db.pool(TASKS as usize);
        let mut counter = Account { id: 0, owner: "counter".into(), balance: 0, version: 0 };
        counter.insert(&pool.get().await.unwrap()).await.unwrap();
        let id = counter.id;

        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let mut conflicts = 0;
                    for _ in 0..INCREMENTS {
                        let client = pool.get().await.unwrap();
                        loop {
                            let mut account = Account::get(&client, id).await.unwrap();
                            account.balance += 1;
                            match account.save(&client).await {
                                Ok(()) => break,
                                Err(e) if e.is_conflict() => conflicts += 1,
                                Err(e) => panic!("an increment failed: {e}"),
                            }
                        }
                    }
                    conflicts
                })
            })
            .collect();
        let mut conflicts = 0;
        for task in tasks {
            conflicts += task.await.expect("the task ran to completion");
        }
        let counter = Account::get(&pool.get().await.unwrap(), id).await.unwrap();
        assert_eq!((counter.balance, counter.version), (TASKS * INCREMENTS, TASKS * INCREMENTS));
        eprintln!("{} increments, {conflicts} conflicts retried", TASKS * INCREMENTS);
    });
}

/// Through `$conn`, a connection that keeps statements (a deadpool `Object`, an
/// `AsyncCachingClient`), and its transactions, each statement of `versioned` is
/// prepared once per connection. Evaluates to the statements prepared.
macro_rules! prepared_once {
    ($conn:ident) => {{
        let kept = every_operation(&$conn).await;
        let prepared = tpg::prepared_statements(&$conn).await;
        assert_eq!(prepared.len(), 6, "insert, update, touch, delete, select, version read: {prepared:#?}");
        for _ in 0..3 {
            let mut account = Account::get(&$conn, kept).await.unwrap();
            account.save(&$conn).await.unwrap();
            let tx = $conn.transaction().await.unwrap();
            account.touch(&tx).await.unwrap();
            account.verify(&tx).await.unwrap();
            tx.commit().await.unwrap();
            let mut extra = Account { id: 0, owner: "extra".into(), balance: 0, version: 0 };
            extra.insert(&$conn).await.unwrap();
            extra.delete(&$conn).await.unwrap();
        }
        assert_eq!(tpg::prepared_statements(&$conn).await, prepared, "repeated calls prepare nothing new");
        prepared
    }};
}

/// On `$conn` (see [`prepared_once!`]), statements the server dropped (`DEALLOCATE
/// ALL`, `DISCARD ALL`: 26000) or whose result's column types changed (`ALTER TABLE
/// .. TYPE`: 0A000) are prepared again outside a transaction, and the call goes
/// through.
macro_rules! stale_statements_are_prepared_again {
    ($conn:ident) => {{
        let mut account = Account { id: 0, owner: "ada".into(), balance: 100, version: 0 };
        account.insert(&$conn).await.unwrap();
        for reset in ["DEALLOCATE ALL", "DISCARD ALL", "ALTER TABLE accounts ALTER COLUMN owner TYPE VARCHAR(100)"] {
            account.balance += 1;
            account.save(&$conn).await.unwrap();
            assert_eq!(Account::get(&$conn, account.id).await.unwrap(), account);
            $conn.batch_execute(reset).await.unwrap();

            account.balance += 1;
            account.save(&$conn).await.unwrap_or_else(|e| panic!("save after {reset}: {e}"));
            assert_eq!(Account::get(&$conn, account.id).await.unwrap(), account, "after {reset}");
            account.verify(&$conn).await.unwrap();
        }
        assert_eq!(account_row(&$conn, account.id).await, row("ada", 106, 6));
        let prepared = tpg::prepared_statements(&$conn).await;
        let mut distinct = prepared.clone();
        distinct.dedup();
        assert_eq!(distinct, prepared, "a statement was prepared twice: {prepared:#?}");
    }};
}

/// Inside a transaction of `$conn` (see [`prepared_once!`]) a stale statement aborts
/// the transaction: the call is a retryable error, the statement is forgotten, and
/// the whole transaction run again goes through.
macro_rules! a_stale_statement_in_a_transaction_is_retryable {
    ($conn:ident) => {{
        let mut account = Account { id: 0, owner: "ada".into(), balance: 100, version: 0 };
        account.insert(&$conn).await.unwrap();
        let id = account.id;
        for (reset, code) in [
            ("DEALLOCATE ALL", SqlState::INVALID_SQL_STATEMENT_NAME),
            ("ALTER TABLE accounts ALTER COLUMN owner TYPE VARCHAR(100)", SqlState::FEATURE_NOT_SUPPORTED),
        ] {
            Account::get(&$conn, id).await.unwrap(); // the select is prepared
            $conn.batch_execute(reset).await.unwrap();
            let mut failures = Vec::new();
            let deposited = loop {
                let tx = $conn.transaction().await.unwrap();
                let mut account = match Account::get(&tx, id).await {
                    Ok(account) => account,
                    Err(e) => {
                        assert!(e.is_retryable() && !e.is_conflict(), "{e:?}");
                        failures.push(sqlstate(&e));
                        continue; // the transaction rolls back on drop
                    }
                };
                account.balance += 10;
                account.save(&tx).await.unwrap();
                tx.commit().await.unwrap();
                break account;
            };
            assert_eq!(failures, [Some(code.clone())], "{reset}: one failed attempt, then prepared again");
            assert_eq!(Account::get(&$conn, id).await.unwrap(), deposited);
        }
        assert_eq!(account_row(&$conn, id).await, row("ada", 120, 2));
    }};
}

/// Through a pooled connection and its transactions, each statement is prepared once
/// per connection, in deadpool's statement cache, which the pool keeps with it.
#[cfg(feature = "deadpool-postgres")]
#[test]
fn pooled_statements_are_prepared_once_per_connection() {
    run("pooled_prepared", |db| async move {
        let pool = db.pool(1);
        let mut object = pool.get().await.unwrap();
        let prepared = prepared_once!(object);
        assert_eq!(object.statement_cache.size(), 6);
        drop(object);
        let object = pool.get().await.unwrap();
        assert_eq!(tpg::prepared_statements(&object).await, prepared, "the pool hands back the same connection");
    });
}

#[cfg(feature = "deadpool-postgres")]
#[test]
fn stale_pooled_statements_are_prepared_again() {
    run("pooled_stale", |db| async move {
        let pool = db.pool(1);
        let object = pool.get().await.unwrap();
        stale_statements_are_prepared_again!(object);
    });
}

#[cfg(feature = "deadpool-postgres")]
#[test]
fn a_stale_statement_in_a_pooled_transaction_is_retryable() {
    run("pooled_stale_tx", |db| async move {
        let pool = db.pool(1);
        let mut object = pool.get().await.unwrap();
        a_stale_statement_in_a_transaction_is_retryable!(object);
    });
}

/// An `AsyncCachingClient` and its transactions prepare each statement once.
#[test]
fn a_caching_client_prepares_each_statement_once() {
    run("caching_prepared", |db| async move {
        let mut caching = AsyncCachingClient::new(db.client().await);
        prepared_once!(caching);
        through_mut(&mut caching).await;
        let mut tx = caching.transaction().await.unwrap();
        through_mut(&mut tx).await;
        tx.commit().await.unwrap();
        assert_eq!(format!("{caching:?}"), "AsyncCachingClient { prepared: 6, .. }");
    });
}

#[test]
fn a_caching_client_prepares_stale_statements_again() {
    run("caching_stale", |db| async move {
        let caching = AsyncCachingClient::new(db.client().await);
        stale_statements_are_prepared_again!(caching);
    });
}

#[test]
fn a_stale_statement_in_a_caching_transaction_is_retryable() {
    run("caching_stale_tx", |db| async move {
        let mut caching = AsyncCachingClient::new(db.client().await);
        a_stale_statement_in_a_transaction_is_retryable!(caching);
    });
}

/// A caching transaction built with an isolation level runs at that level: a
/// REPEATABLE READ one that loses to a concurrent commit fails to serialize
/// (retryable), and a savepoint rolled back undoes only its own writes.
#[test]
fn caching_transactions_take_an_isolation_level_and_savepoints() {
    run("caching_isolation", |db| async move {
        let (mut caching, other) = (AsyncCachingClient::new(db.client().await), db.client().await);
        let mut account = Account { id: 0, owner: "ada".into(), balance: 100, version: 0 };
        account.insert(&caching).await.unwrap();
        let id = account.id;
        {
            let tx = caching.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start().await.unwrap();
            let level: String = tx.query_one("SHOW transaction_isolation", &[]).await.unwrap().get(0);
            assert_eq!(level, "repeatable read");
            lose_to_a_concurrent_update(&tx, &other, id).await;
        }
        let mut account = Account::get(&caching, id).await.unwrap();
        let mut tx = caching.transaction().await.unwrap();
        account.balance = 1;
        account.save(&tx).await.unwrap();
        {
            let sp = tx.savepoint("nested").await.unwrap();
            let mut inner = account.clone();
            inner.balance = 2;
            inner.save(&sp).await.unwrap();
            sp.rollback().await.unwrap();
        }
        tx.commit().await.unwrap();
        assert_eq!(account_row(&other, id).await, row("ada", 1, 2));
    });
}

#[test]
fn a_killed_connection_is_a_typed_error_and_changes_nothing() {
    run("killed", |db| async move {
        let (client, other) = (db.client().await, db.client().await);
        let mut account = Account { id: 0, owner: "ada".into(), balance: 100, version: 0 };
        account.insert(&client).await.unwrap();
        let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
        other.execute("SELECT pg_terminate_backend($1)", &[&pid]).await.unwrap();

        account.balance = 0;
        let err = account.save(&client).await.unwrap_err();
        assert!(matches!(err, versioned::Error::Database(_)), "a database error, not {err:?}");
        assert_eq!(account.version, 0, "the entity keeps its version");
        assert_eq!(account_row(&other, account.id).await, row("ada", 100, 0), "the row is unchanged");
    });
}
