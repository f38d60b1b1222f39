//! What the PostgreSQL and MySQL trap files share: the `accounts` entity most of
//! their tests use, and the values they compare its rows and conflicts with.

use versioned::backend::{Bind, Executor};
use versioned::{Error, OptimisticLockError, Versioned};

/// The entity of the `accounts` table: a generated `bigint` key and a `bigint`
/// version.
#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "accounts")]
pub struct Account {
    #[id(auto)]
    pub id: i64,
    pub owner: String,
    pub balance: i64,
    #[version]
    pub version: i64,
}

/// Inserts an account through the library.
pub fn new_account<E: Executor>(exec: E, owner: &str, balance: i64) -> Account
where
    Account: Bind<E::Backend>,
{
    let mut account = Account { id: 0, owner: owner.to_owned(), balance, version: 0 };
    account.insert(exec).expect("insert an account");
    account
}

/// An `accounts` row as stored, `(owner, balance, version)`, as the trap files read
/// it with plain SQL.
pub fn row(owner: &str, balance: i64, version: i64) -> Option<(String, i64, i64)> {
    Some((owner.to_owned(), balance, version))
}

/// The optimistic lock error inside `err`, which must be a retryable conflict.
pub fn expect_conflict(err: Error) -> OptimisticLockError {
    assert!(err.is_conflict() && err.is_retryable(), "expected a retryable conflict, got {err:?}");
    match err {
        Error::OptimisticLock(e) => e,
        other => panic!("expected Error::OptimisticLock, got {other:?}"),
    }
}

/// The conflict a write of account `id` at version `expected` reports when the row
/// holds `actual`.
pub fn conflict(id: i64, expected: i64, actual: Option<i64>) -> OptimisticLockError {
    OptimisticLockError { entity: "Account", table: "accounts", id: id.to_string(), expected, actual }
}
