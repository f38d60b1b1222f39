//! Operations inside transactions and savepoints: they take part in the
//! transaction's fate, and a conflict inside one leaves it usable.

mod common;

use common::{Account, User, account_row, connection, count, insert_user, user_row};
use rusqlite::Connection;
use versioned::{Error, Versioned};

#[test]
fn a_save_rolled_back_leaves_the_row_but_not_the_in_memory_version() {
    let conn = connection();
    let mut ada = insert_user(&conn, "ada");

    let tx = conn.unchecked_transaction().unwrap();
    ada.name = "inside".into();
    ada.save(&tx).unwrap();
    assert_eq!(user_row(&tx, ada.id).unwrap(), (Some("inside".into()), ada.email.clone(), 1));
    tx.rollback().unwrap();

    assert_eq!(user_row(&conn, ada.id).unwrap(), (Some("ada".into()), ada.email.clone(), 0), "the row is as before");
    // The save succeeded, so the entity took the new version; the rollback cannot
    // reach back into memory. The entity is now ahead of the row and its next write
    // is a conflict until it is reloaded.
    assert_eq!(ada.version, 1);
    let err = ada.save(&conn).unwrap_err();
    let c = err.as_conflict().expect("a conflict");
    assert_eq!((c.expected, c.actual), (1, Some(0)));
    ada.reload(&conn).unwrap();
    assert_eq!((ada.name.as_str(), ada.version), ("ada", 0));
}

#[test]
fn dropping_a_transaction_rolls_back_every_operation() {
    let conn = connection();
    let mut ada = insert_user(&conn, "ada");
    let bob = insert_user(&conn, "bob");
    let mut carol = User::new("carol", None);
    {
        let tx = conn.unchecked_transaction().unwrap();
        ada.touch(&tx).unwrap();
        carol.insert(&tx).unwrap();
        bob.delete(&tx).unwrap();
        assert_eq!(count(&tx, "users"), 2);
    }
    assert_eq!(user_row(&conn, ada.id).unwrap().2, 0);
    assert!(user_row(&conn, bob.id).is_some(), "the delete was rolled back");
    assert_eq!(User::find(&conn, carol.id).unwrap(), None, "the insert was rolled back");
    assert_eq!(count(&conn, "users"), 2);
}

#[test]
fn a_committed_transaction_keeps_every_operation() {
    let mut conn = connection();
    let mut ada = insert_user(&conn, "ada");
    let bob = insert_user(&conn, "bob");
    let mut carol = User::new("carol", None);
    let tx = conn.transaction().unwrap();
    ada.name = "Ada".into();
    ada.save(&tx).unwrap();
    carol.insert(&tx).unwrap();
    bob.delete(&tx).unwrap();
    assert_eq!(User::get(&tx, carol.id).unwrap(), carol);
    tx.commit().unwrap();

    assert_eq!(user_row(&conn, ada.id).unwrap(), (Some("Ada".into()), ada.email.clone(), 1));
    assert_eq!(user_row(&conn, bob.id), None);
    assert_eq!(User::get(&conn, carol.id).unwrap(), carol);
}

#[test]
fn a_conflict_inside_a_transaction_leaves_it_usable() {
    let conn = connection();
    let ada = insert_user(&conn, "ada");

    let tx = conn.unchecked_transaction().unwrap();
    let mut mine = User::get(&tx, ada.id).unwrap();
    tx.execute("UPDATE users SET name = 'theirs', version = version + 1 WHERE id = ?1", [ada.id]).unwrap();
    mine.name = "mine".into();
    let before = mine.clone();
    let err = mine.save(&tx).unwrap_err();
    let c = err.as_conflict().expect("a conflict");
    assert_eq!((c.expected, c.actual), (0, Some(1)));
    assert_eq!(mine, before);
    assert_eq!(user_row(&tx, ada.id).unwrap().0.as_deref(), Some("theirs"));

    mine.reload(&tx).unwrap();
    mine.name = "merged".into();
    mine.save(&tx).unwrap();
    tx.commit().unwrap();
    assert_eq!(user_row(&conn, ada.id).unwrap(), (Some("merged".into()), ada.email, 2));
}

#[test]
fn a_savepoint_rolled_back_undoes_only_its_own_writes() {
    let mut conn = connection();
    let mut ada = insert_user(&conn, "ada");
    let mut tx = conn.transaction().unwrap();
    ada.name = "before the savepoint".into();
    ada.save(&tx).unwrap();
    {
        let sp = tx.savepoint().unwrap();
        ada.name = "inside the savepoint".into();
        ada.save(&sp).unwrap();
        assert_eq!(user_row(&sp, ada.id).unwrap().2, 2);
        // Dropping a savepoint rolls it back.
    }
    assert_eq!(user_row(&tx, ada.id).unwrap(), (Some("before the savepoint".into()), ada.email.clone(), 1));
    assert_eq!(ada.version, 2, "the in-memory entity kept the rolled-back version");
    ada.reload(&tx).unwrap();
    assert_eq!(ada.version, 1);

    {
        let sp = tx.savepoint().unwrap();
        ada.name = "committed savepoint".into();
        ada.save(&sp).unwrap();
        ada.verify(&sp).unwrap();
        sp.commit().unwrap();
    }
    tx.commit().unwrap();
    assert_eq!(user_row(&conn, ada.id).unwrap(), (Some("committed savepoint".into()), ada.email.clone(), 2));
}

#[test]
fn a_conflict_inside_a_savepoint() {
    let mut conn = connection();
    let ada = insert_user(&conn, "ada");
    let mut tx = conn.transaction().unwrap();
    let mut sp = tx.savepoint().unwrap();
    let stale = ada.clone();
    let mut fresh = User::get(&sp, ada.id).unwrap();
    fresh.touch(&sp).unwrap();
    let err = stale.delete(&sp).unwrap_err();
    assert_eq!(err.as_conflict().map(|c| (c.expected, c.actual)), Some((0, Some(1))));
    sp.rollback().unwrap();
    sp.commit().unwrap();
    stale.verify(&tx).unwrap();
    tx.commit().unwrap();
    assert_eq!(user_row(&conn, ada.id).unwrap().2, 0);
}

/// Moves `amount` between two accounts as one unit: both saves or neither.
fn transfer(conn: &Connection, from: &mut Account, to: &mut Account, amount: i64) -> Result<(), Error> {
    let tx = conn.unchecked_transaction()?;
    let (mut f, mut t) = (from.clone(), to.clone());
    f.balance -= amount;
    t.balance += amount;
    f.save(&tx)?;
    t.save(&tx)?;
    tx.commit()?;
    (*from, *to) = (f, t);
    Ok(())
}

#[test]
fn a_failed_transfer_writes_neither_side() {
    let conn = connection();
    let mut a = Account::new("a", 100);
    let mut b = Account::new("b", 0);
    a.insert(&conn).unwrap();
    b.insert(&conn).unwrap();
    transfer(&conn, &mut a, &mut b, 30).unwrap();
    assert_eq!((a.balance, b.balance, a.version, b.version), (70, 30, 1, 1));

    // Someone else writes `b`: the next transfer's second save conflicts, and the
    // first save, already made inside the transaction, is rolled back with it.
    conn.execute("UPDATE accounts SET balance = balance + 5, version = version + 1 WHERE code = 'b'", []).unwrap();
    let (a_before, b_before) = (a.clone(), b.clone());
    let err = transfer(&conn, &mut a, &mut b, 20).unwrap_err();
    assert!(err.is_conflict(), "got {err:?}");
    assert_eq!((a.clone(), b.clone()), (a_before, b_before));
    assert_eq!(account_row(&conn, "a").unwrap(), ("owner of a".into(), 70, 1));
    assert_eq!(account_row(&conn, "b").unwrap(), ("owner of b".into(), 35, 2));

    b.reload(&conn).unwrap();
    transfer(&conn, &mut a, &mut b, 20).unwrap();
    let total: i64 = conn.query_row("SELECT sum(balance) FROM accounts", [], |r| r.get(0)).unwrap();
    assert_eq!(total, 105);
    assert_eq!(account_row(&conn, "a").unwrap().1, 50);
}
