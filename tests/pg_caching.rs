//! PostgreSQL through `CachingClient`, which prepares each statement once per
//! connection: conflicts, transactions, and the statements it keeps.
//!
//! Each test works in a schema of its own (`pgtrap_<test>`), so the tests run in
//! parallel. The server comes from `VERSIONED_PG_URL`; when it does not answer the
//! tests say so and pass, except under `CI=true`, where they fail.

#![cfg(feature = "postgres")]

use std::collections::BTreeSet;

use postgres::IsolationLevel;
use postgres::error::SqlState;
use versioned::backend::postgres::{CachingClient, CachingTransaction};
use versioned::{RetryPolicy, Versioned, retry};

mod common;
#[path = "traps/pg.rs"]
mod pg;
#[path = "suite/db/server.rs"]
mod server;
#[allow(dead_code)] // the trap files' deadlock scenario is not used here
mod traps;

use pg::{ACCOUNTS, Db, account_row, deposit, sqlstate};
use traps::{Account, conflict, expect_conflict, new_account, row};

/// The statements `versioned` prepared on a caching client's session, one entry per
/// prepared statement (a duplicate would mean a statement prepared twice).
fn prepared_statements(client: &mut CachingClient) -> Vec<String> {
    client
        .query(
            "SELECT statement FROM pg_prepared_statements \
             WHERE statement LIKE '%accounts%' AND statement NOT LIKE '%pg_prepared_statements%' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// `CachingClient` reports conflicts as a plain client does, its
/// transactions commit and roll back, and it prepares each statement once.
#[test]
fn caching_client_reports_conflicts_runs_transactions_and_reuses_statements() {
    let Some(db) = Db::open("caching_client", ACCOUNTS) else { return };
    let (mut plain, mut other) = (db.client(), db.client());
    let mut cached = CachingClient::new(db.client());

    // Conflicts: the same error through both clients.
    let mut account = Account { id: 0, owner: "ada".into(), balance: 100, version: 7 };
    account.insert(&mut cached).unwrap();
    assert_eq!(account.version, 0);
    let id = account.id;
    let (mut stale_plain, mut stale_cached) = (account.clone(), account.clone());
    deposit(&mut other, id, 5);
    stale_plain.balance = 1;
    stale_cached.balance = 1;
    let before = stale_cached.clone();
    let from_plain = expect_conflict(stale_plain.save(&mut plain).unwrap_err());
    let from_cached = expect_conflict(stale_cached.save(&mut cached).unwrap_err());
    assert_eq!(from_cached, conflict(id, 0, Some(1)));
    assert_eq!(from_cached, from_plain);
    assert_eq!(stale_cached, before);
    assert_eq!(expect_conflict(stale_cached.verify(&mut cached).unwrap_err()), conflict(id, 0, Some(1)));
    assert_eq!(expect_conflict(stale_cached.delete(&mut cached).unwrap_err()), conflict(id, 0, Some(1)));
    assert_eq!(account_row(&mut other, id), row("ada", 105, 1));

    // A committed transaction.
    let mut account = Account::get(&mut cached, id).unwrap();
    let mut tx = cached.transaction().unwrap();
    account.balance = 300;
    account.save(&mut tx).unwrap();
    account.touch(&mut tx).unwrap();
    assert_eq!(Account::get(&mut tx, id).unwrap(), account, "the transaction sees its own writes");
    assert_eq!(account_row(&mut other, id), row("ada", 105, 1), "nothing visible before commit");
    tx.commit().unwrap();
    assert_eq!(account.version, 3);
    assert_eq!(account_row(&mut other, id), row("ada", 300, 3));

    // A rolled-back transaction, explicitly and by drop.
    let mut tx = cached.transaction().unwrap();
    let mut doomed = account.clone();
    doomed.balance = 999;
    doomed.save(&mut tx).unwrap();
    tx.rollback().unwrap();
    assert_eq!(account_row(&mut other, id), row("ada", 300, 3), "rolled back");
    {
        let mut tx = cached.transaction().unwrap();
        let mut doomed = account.clone();
        doomed.balance = 998;
        doomed.save(&mut tx).unwrap();
    }
    assert_eq!(account_row(&mut other, id), row("ada", 300, 3), "rolled back on drop");
    doomed.reload(&mut cached).unwrap();
    assert_eq!(doomed, account, "reload after a rollback brings back the committed row");

    // Statements: insert, update (save), touch, delete, select (get/reload) and
    // select_version (conflicts/verify), each prepared once on this session.
    let prepared = prepared_statements(&mut cached);
    let distinct: BTreeSet<&String> = prepared.iter().collect();
    assert_eq!(distinct.len(), prepared.len(), "a statement was prepared twice: {prepared:#?}");
    assert_eq!(prepared.len(), 6, "one statement per kind: {prepared:#?}");
    for _ in 0..5 {
        account.balance += 1;
        account.save(&mut cached).unwrap();
        account.touch(&mut cached).unwrap();
        account.verify(&mut cached).unwrap();
        account = Account::get(&mut cached, id).unwrap();
        let mut tx = cached.transaction().unwrap();
        account.save(&mut tx).unwrap();
        tx.commit().unwrap();
        let mut extra = Account { id: 0, owner: "bob".into(), balance: 0, version: 0 };
        extra.insert(&mut cached).unwrap();
        extra.delete(&mut cached).unwrap();
    }
    assert_eq!(prepared_statements(&mut cached), prepared, "repeated calls prepare nothing new");
    assert_eq!(account_row(&mut other, id), row("ada", 305, 18));
    let count: i64 = other.query_one("SELECT count(*) FROM accounts", &[]).unwrap().get(0);
    assert_eq!(count, 1, "every extra row was deleted");
}

/// The setting `name` of the session (or of its transaction), as the server shows it.
fn show(tx: &mut CachingTransaction<'_>, name: &str) -> String {
    tx.query_one(&format!("SHOW {name}"), &[]).unwrap().get(0)
}

/// A transaction from `build_transaction` runs at the level it was built with, and
/// read-only or deferrable when asked; it uses the client's prepared statements.
#[test]
fn built_transactions_run_at_their_isolation_level() {
    let Some(db) = Db::open("caching_build", ACCOUNTS) else { return };
    let mut other = db.client();
    let mut cached = CachingClient::new(db.client());
    let id = new_account(&mut cached, "ada", 100).id;

    for (level, name) in [
        (IsolationLevel::ReadCommitted, "read committed"),
        (IsolationLevel::RepeatableRead, "repeatable read"),
        (IsolationLevel::Serializable, "serializable"),
    ] {
        let mut tx = cached.build_transaction().isolation_level(level).start().unwrap();
        assert_eq!(show(&mut tx, "transaction_isolation"), name);
        assert_eq!(show(&mut tx, "transaction_read_only"), "off");
        let mut mine = Account::get(&mut tx, id).unwrap(); // takes the snapshot
        deposit(&mut other, id, 1);
        mine.balance += 10;
        let saved = mine.save(&mut tx);
        if matches!(level, IsolationLevel::ReadCommitted) {
            assert_eq!(expect_conflict(saved.unwrap_err()).actual, Some(mine.version + 1), "{name}");
        } else {
            // The snapshot's row was changed since: the level is really in force.
            let err = saved.unwrap_err();
            assert_eq!(sqlstate(&err), Some(SqlState::T_R_SERIALIZATION_FAILURE), "{name}: {err:?}");
        }
        tx.rollback().unwrap();
    }

    let mut tx = cached
        .build_transaction()
        .isolation_level(IsolationLevel::Serializable)
        .read_only(true)
        .deferrable(true)
        .start()
        .unwrap();
    assert_eq!(show(&mut tx, "transaction_read_only"), "on");
    assert_eq!(show(&mut tx, "transaction_deferrable"), "on");
    assert_eq!(Account::get(&mut tx, id).unwrap().balance, 103);
    tx.commit().unwrap();
    let prepared = prepared_statements(&mut cached);
    assert_eq!(prepared.len(), 4, "insert, select, update and the version read, each prepared once: {prepared:#?}");
}

/// A savepoint of a `CachingTransaction` rolled back undoes only its own writes; one
/// released keeps them, and so does a nested transaction committed.
#[test]
fn savepoint_rollback_undoes_only_its_own_writes() {
    let Some(db) = Db::open("caching_savepoint", ACCOUNTS) else { return };
    let mut other = db.client();
    let mut cached = CachingClient::new(db.client());
    let (mut x, mut y) = (new_account(&mut cached, "x", 10), new_account(&mut cached, "y", 20));

    let mut tx = cached.transaction().unwrap();
    x.balance = 11;
    x.save(&mut tx).unwrap();
    {
        let mut sp = tx.savepoint("undone").unwrap();
        let mut doomed = x.clone();
        doomed.balance = 99;
        doomed.save(&mut sp).unwrap();
        y.clone().delete(&mut sp).unwrap();
        assert_eq!(Account::find(&mut sp, y.id).unwrap(), None, "the savepoint sees its own delete");
        sp.rollback().unwrap();
    }
    assert_eq!(Account::get(&mut tx, x.id).unwrap(), x, "the transaction's own write stays");
    assert_eq!(Account::get(&mut tx, y.id).unwrap(), y, "the savepoint's delete is undone");
    {
        let mut sp = tx.savepoint("kept").unwrap();
        y.balance = 21;
        y.save(&mut sp).unwrap();
        sp.commit().unwrap();
    }
    {
        let mut nested = tx.transaction().unwrap();
        x.balance = 12;
        x.save(&mut nested).unwrap();
        let mut inner = nested.savepoint("nested_inner").unwrap();
        let mut doomed = y.clone();
        doomed.balance = 0;
        doomed.save(&mut inner).unwrap();
        drop(inner); // rolls back
        nested.commit().unwrap();
    }
    assert_eq!(account_row(&mut other, x.id), row("x", 10, 0), "nothing visible before commit");
    tx.commit().unwrap();
    assert_eq!(account_row(&mut other, x.id), row("x", 12, 2));
    assert_eq!(account_row(&mut other, y.id), row("y", 21, 1));
    let prepared = prepared_statements(&mut cached);
    assert_eq!(prepared.len(), 4, "insert, update, select and delete, each prepared once: {prepared:#?}");
}

/// A column whose type changes under a prepared `SELECT` makes the server refuse
/// the statement ("cached plan must not change result type", 0A000): the client
/// prepares it again, once, and every later call works.
#[test]
fn a_column_type_change_prepares_the_statement_again() {
    let Some(db) = Db::open("caching_alter", ACCOUNTS) else { return };
    let mut other = db.client();
    let mut cached = CachingClient::new(db.client());
    let mut account = new_account(&mut cached, "ada", 100);
    account.balance = 101;
    account.save(&mut cached).unwrap();
    assert_eq!(Account::get(&mut cached, account.id).unwrap(), account);

    other.batch_execute("ALTER TABLE accounts ALTER COLUMN owner TYPE VARCHAR(100)").unwrap();
    assert_eq!(Account::get(&mut cached, account.id).unwrap(), account, "the select is prepared again");
    for balance in [102, 103] {
        account.balance = balance;
        account.save(&mut cached).unwrap();
        assert_eq!(Account::get(&mut cached, account.id).unwrap(), account);
    }
    assert_eq!(account_row(&mut other, account.id), row("ada", 103, 3));
    let prepared = prepared_statements(&mut cached);
    assert_eq!(prepared.len(), 3, "insert, update and select, each once on the session: {prepared:#?}");
}

/// Statements deallocated behind the client's back (`DEALLOCATE ALL`, `DISCARD ALL`,
/// a pooler handing out another server session) are prepared again when next used.
#[test]
fn deallocated_statements_are_prepared_again() {
    let Some(db) = Db::open("caching_deallocate", ACCOUNTS) else { return };
    let mut cached = CachingClient::new(db.client());
    let mut account = new_account(&mut cached, "ada", 100);
    let reset = ["DEALLOCATE ALL", "DISCARD ALL; SET search_path TO pgtrap_caching_deallocate"];
    for (round, sql) in reset.into_iter().enumerate() {
        account.balance += 1;
        account.save(&mut cached).unwrap();
        account.verify(&mut cached).unwrap();
        for statement in sql.split("; ") {
            cached.batch_execute(statement).unwrap();
        }
        assert_eq!(prepared_statements(&mut cached), Vec::<String>::new(), "{sql} dropped them");

        account.balance += 1;
        account.save(&mut cached).unwrap_or_else(|e| panic!("save after {sql}: {e}"));
        assert_eq!(Account::get(&mut cached, account.id).unwrap(), account, "after {sql}");
        account.verify(&mut cached).unwrap();
        let mut extra = new_account(&mut cached, "bob", 1);
        extra.touch(&mut cached).unwrap();
        extra.delete(&mut cached).unwrap();
        assert_eq!(account.version, 2 * round as i64 + 2);
    }
    let prepared = prepared_statements(&mut cached);
    let distinct: BTreeSet<&String> = prepared.iter().collect();
    assert_eq!(distinct.len(), prepared.len(), "a statement was prepared twice: {prepared:#?}");
}

/// Inside a transaction a stale statement aborts the transaction: the call is a
/// retryable error, and a retry of the whole transaction goes through.
#[test]
fn a_stale_statement_in_a_transaction_is_retryable() {
    let Some(db) = Db::open("caching_stale_tx", ACCOUNTS) else { return };
    let mut other = db.client();
    let mut cached = CachingClient::new(db.client());
    let id = new_account(&mut cached, "ada", 100).id;
    let deposit = |cached: &mut CachingClient, codes: &mut Vec<Option<SqlState>>| {
        retry(RetryPolicy::default().no_delay(), || {
            let mut tx = cached.transaction()?;
            let mut account = Account::get(&mut tx, id).inspect_err(|e| codes.push(sqlstate(e)))?;
            account.balance += 10;
            account.save(&mut tx).inspect_err(|e| codes.push(sqlstate(e)))?;
            tx.commit()?;
            Ok(account)
        })
        .expect("the retried transaction goes through")
    };

    assert_eq!(deposit(&mut cached, &mut Vec::new()).version, 1, "both statements are prepared");
    let mut codes = Vec::new();
    cached.batch_execute("DEALLOCATE ALL").unwrap();
    assert_eq!(deposit(&mut cached, &mut codes).version, 2);
    assert_eq!(codes, [Some(SqlState::INVALID_SQL_STATEMENT_NAME)], "one failed attempt, then all prepared again");

    let mut codes = Vec::new();
    other.batch_execute("ALTER TABLE accounts ALTER COLUMN owner TYPE VARCHAR(100)").unwrap();
    assert_eq!(deposit(&mut cached, &mut codes).version, 3);
    assert_eq!(codes, [Some(SqlState::FEATURE_NOT_SUPPORTED)], "one failed attempt, then the select prepared again");
    assert_eq!(account_row(&mut other, id), row("ada", 130, 3));

    // The error itself: retryable, and the transaction it aborted rolls back.
    cached.batch_execute("DEALLOCATE ALL").unwrap();
    let mut tx = cached.transaction().unwrap();
    let err = Account::get(&mut tx, id).unwrap_err();
    assert!(err.is_retryable() && !err.is_conflict(), "{err:?}");
    assert_eq!(sqlstate(&err), Some(SqlState::INVALID_SQL_STATEMENT_NAME));
    drop(tx);
    assert_eq!(Account::get(&mut cached, id).unwrap().version, 3);
}
