//! What the PostgreSQL trap files share: a schema per test, the `accounts` table most
//! of their tests use, and reading rows and SQLSTATEs back.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::thread;

use postgres::error::SqlState;
use postgres::{Client, NoTls};
use versioned::{Error, Versioned};

use crate::server::{POSTGRES, pg_config};
use crate::traps::Account;

/// The table most tests use: a generated `bigint` key and a `bigint` version.
#[allow(unused_imports)] // not every file that includes this one creates it
pub use crate::traps::PG_ACCOUNTS as ACCOUNTS;

/// A connection to the server, in no particular schema.
pub fn connect() -> Result<Client, postgres::Error> {
    pg_config().connect(NoTls)
}

/// One test's schema; every client it opens has it as its `search_path`.
pub struct Db {
    schema: String,
}

impl Db {
    /// Creates the schema `pgtrap_<test>` afresh and runs `ddl` in it. `None` when no
    /// server answers (see [`crate::server::Server::connect`]).
    pub fn open(test: &str, ddl: &str) -> Option<Db> {
        let mut admin = POSTGRES.connect(connect)?;
        let schema = format!("pgtrap_{test}");
        admin
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}; {ddl}"
            ))
            .expect("create the test schema");
        Some(Db { schema })
    }

    /// A new connection working in the test's schema.
    pub fn client(&self) -> Client {
        let mut client = connect().expect("connect to PostgreSQL");
        client.batch_execute(&format!("SET search_path TO {}", self.schema)).expect("set the search path");
        client
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        // A failed test leaves its schema behind to look at; the next run drops it.
        if thread::panicking() {
            return;
        }
        if let Ok(mut admin) = connect() {
            let _ =
                admin.batch_execute(&format!("SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

/// An `accounts` row as stored, `(owner, balance, version)`, read with plain SQL.
pub fn account_row(client: &mut Client, id: i64) -> Option<(String, i64, i64)> {
    client
        .query_opt("SELECT owner, balance, version FROM accounts WHERE id = $1", &[&id])
        .expect("read an accounts row")
        .map(|r| (r.get(0), r.get(1), r.get(2)))
}

/// The driver's error inside an `Error::Database`.
pub fn driver_error(err: &Error) -> &postgres::Error {
    match err {
        Error::Database(e) => {
            e.downcast_ref::<postgres::Error>().unwrap_or_else(|| panic!("not a postgres::Error inside: {err:?}"))
        }
        other => panic!("expected Error::Database, got {other:?}"),
    }
}

/// The SQLSTATE of a database error, if the server sent one.
pub fn sqlstate(err: &Error) -> Option<SqlState> {
    match err {
        Error::Database(e) => e.downcast_ref::<postgres::Error>().and_then(|e| e.code()).cloned(),
        _ => None,
    }
}

/// Adds `amount` to an account's balance and saves it, as another writer would.
pub fn deposit(client: &mut Client, id: i64, amount: i64) {
    let mut account = Account::get(&mut *client, id).expect("read the account");
    account.balance += amount;
    account.save(client).expect("the other writer's save");
}
