//! What the PostgreSQL and MySQL trap files share: the `accounts` entity most of
//! their tests use, and the values they compare its rows and conflicts with.

use versioned::backend::{Bind, Blocking, Executor};
use versioned::{Error, Versioned};

pub use crate::common::Conflict;

/// The `accounts` table on PostgreSQL, blocking or async.
#[allow(dead_code)] // the MySQL trap file has a table of its own
pub const PG_ACCOUNTS: &str = "
    CREATE TABLE accounts (
        id BIGSERIAL PRIMARY KEY,
        owner TEXT NOT NULL,
        balance BIGINT NOT NULL,
        version BIGINT NOT NULL
    );
";

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
pub fn new_account<E: Executor<Mode = Blocking>>(exec: E, owner: &str, balance: i64) -> Account
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
pub fn expect_conflict(err: Error) -> Conflict {
    assert!(err.is_conflict() && err.is_retryable(), "expected a retryable conflict, got {err:?}");
    match err {
        Error::OptimisticLock(e) => Conflict::from(&e),
        other => panic!("expected Error::OptimisticLock, got {other:?}"),
    }
}

/// The conflict a write of account `id` at version `expected` reports when the row
/// holds `actual`.
pub fn conflict(id: i64, expected: i64, actual: Option<i64>) -> Conflict {
    Conflict { entity: "Account", table: "accounts", id: id.to_string(), expected, actual }
}

/// A transaction of one of the trap files' drivers, as [`deadlock`] drives it.
pub trait Transaction: Send {
    /// Saves `account` through this transaction.
    fn save(&mut self, account: &mut Account) -> Result<(), Error>;
    /// Commits, which must succeed.
    fn commit(self);
    /// Rolls back; the server may already have done so.
    fn rollback(self);
}

/// Two transactions lock two accounts in opposite order: `t1` saves `x` and `t2`
/// saves `y`, each adding 1 to the balance, then from two threads `t1` reaches for
/// `y` and `t2` for `x`. Exactly one of them must fail; it rolls back and the other
/// commits. Returns the victim's error, having checked that the failed save left its
/// entity as it was.
pub fn deadlock<T: Transaction>(mut t1: T, mut t2: T, x: &Account, y: &Account) -> Error {
    let (mut x1, y1) = (x.clone(), y.clone());
    let (mut y2, x2) = (y.clone(), x.clone());
    x1.balance += 1;
    t1.save(&mut x1).unwrap();
    y2.balance += 1;
    t2.save(&mut y2).unwrap();

    let second = |mut tx: T, mut entity: Account| {
        entity.balance += 1;
        let before = entity.clone();
        let result = tx.save(&mut entity);
        match &result {
            Ok(()) => tx.commit(),
            Err(_) => {
                assert_eq!(entity, before, "a failed save leaves the entity as it was");
                tx.rollback();
            }
        }
        result
    };
    let (r1, r2) = std::thread::scope(|s| {
        let h1 = s.spawn(|| second(t1, y1));
        let h2 = s.spawn(|| second(t2, x2));
        (h1.join().unwrap(), h2.join().unwrap())
    });
    match (r1, r2) {
        (Ok(()), Err(e)) | (Err(e), Ok(())) => e,
        other => panic!("expected exactly one deadlock victim, got {other:?}"),
    }
}
