//! Operations inside transactions and savepoints: they take part in the
//! transaction's fate, and a conflict inside one leaves it usable.

use versioned::backend::Bind;
use versioned::{Error, Versioned};

use super::{
    Db, Session, account_row, conflict, count, exec, insert_user, open, open_shared, rows, user_row,
    write_behind_the_back,
};
use crate::common::{Account, User};

pub fn a_save_rolled_back_leaves_the_row_but_not_the_in_memory_version<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut ada = insert_user(&mut c, "ada");

    let mut tx = D::begin(&mut c).unwrap();
    ada.name = "inside".into();
    ada.save(tx.ex()).unwrap();
    assert_eq!(user_row(&mut tx, ada.id).unwrap(), (Some("inside".into()), ada.email.clone(), 1));
    D::rollback(tx).unwrap();

    assert_eq!(user_row(&mut c, ada.id).unwrap(), (Some("ada".into()), ada.email.clone(), 0), "the row is as before");
    // The save succeeded, so the entity took the new version; the rollback cannot
    // reach back into memory. The entity is now ahead of the row and its next write
    // is a conflict until it is reloaded.
    assert_eq!(ada.version, 1);
    let err = ada.save(c.ex()).unwrap_err();
    let conflict = err.as_conflict().expect("a conflict");
    assert_eq!((conflict.expected, conflict.actual), (1, Some(0)));
    ada.reload(c.ex()).unwrap();
    assert_eq!((ada.name.as_str(), ada.version), ("ada", 0));
}

pub fn dropping_a_transaction_rolls_back_every_operation<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut ada = insert_user(&mut c, "ada");
    let bob = insert_user(&mut c, "bob");
    let mut carol = User::new("carol", None);
    {
        let mut tx = D::begin(&mut c).unwrap();
        ada.touch(tx.ex()).unwrap();
        carol.insert(tx.ex()).unwrap();
        bob.delete(tx.ex()).unwrap();
        assert_eq!(count::<D>(&mut tx, "users"), 2);
    }
    assert_eq!(user_row(&mut c, ada.id).unwrap().2, 0);
    assert!(user_row(&mut c, bob.id).is_some(), "the delete was rolled back");
    assert_eq!(User::find(c.ex(), carol.id).unwrap(), None, "the insert was rolled back");
    assert_eq!(count::<D>(&mut c, "users"), 2);
}

pub fn a_committed_transaction_keeps_every_operation<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut ada = insert_user(&mut c, "ada");
    let bob = insert_user(&mut c, "bob");
    let mut carol = User::new("carol", None);
    let mut tx = D::begin(&mut c).unwrap();
    ada.name = "Ada".into();
    ada.save(tx.ex()).unwrap();
    carol.insert(tx.ex()).unwrap();
    bob.delete(tx.ex()).unwrap();
    assert_eq!(User::get(tx.ex(), carol.id).unwrap(), carol);
    D::commit(tx).unwrap();

    assert_eq!(user_row(&mut c, ada.id).unwrap(), (Some("Ada".into()), ada.email.clone(), 1));
    assert_eq!(user_row(&mut c, bob.id), None);
    assert_eq!(User::get(c.ex(), carol.id).unwrap(), carol);
}

pub fn a_conflict_inside_a_transaction_leaves_it_usable<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");

    let mut tx = D::begin(&mut c).unwrap();
    let mut mine = User::get(tx.ex(), ada.id).unwrap();
    exec(&mut tx, "UPDATE users SET name = 'theirs', version = version + 1 WHERE id = ?", &[&ada.id]);
    mine.name = "mine".into();
    let before = mine.clone();
    let err = mine.save(tx.ex()).unwrap_err();
    let conflict = err.as_conflict().expect("a conflict");
    assert_eq!((conflict.expected, conflict.actual), (0, Some(1)));
    assert_eq!(mine, before);
    assert_eq!(user_row(&mut tx, ada.id).unwrap().0.as_deref(), Some("theirs"));

    mine.reload(tx.ex()).unwrap();
    mine.name = "merged".into();
    mine.save(tx.ex()).unwrap();
    D::commit(tx).unwrap();
    assert_eq!(user_row(&mut c, ada.id).unwrap(), (Some("merged".into()), ada.email, 2));
}

pub fn a_conflict_reports_the_version_committed_after_the_transaction_began<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((db, mut c)) = open_shared::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");
    let mut other = D::connect(&db);

    let mut tx = D::begin(&mut c).unwrap();
    // The transaction reads version 0, and may keep reading it from its snapshot
    // (MySQL's REPEATABLE READ does) after another connection commits version 1.
    let mut mine = User::get(tx.ex(), ada.id).unwrap();
    write_behind_the_back(&mut other, ada.id, "theirs");
    mine.name = "mine".into();
    let before = mine.clone();
    let err = mine.save(tx.ex()).unwrap_err();
    if D::STALE_SNAPSHOT_WRITE_FAILS {
        // SQLite cannot write from a read snapshot another commit has outdated: the
        // write fails as busy (retryable) before any version is compared.
        assert!(matches!(&err, Error::Database(d) if d.is_retryable()), "got {err:?}");
    } else {
        assert_eq!(conflict(&err), (Some(1), 0), "the committed version, not the snapshot's");
    }
    assert_eq!(mine, before);
    D::rollback(tx).unwrap();
    assert_eq!(user_row(&mut c, ada.id), Some((Some("theirs".into()), ada.email.clone(), 1)));
}

pub fn reads_and_verify_work_in_a_read_only_transaction<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    // `find`, `get` and `reload` only read: a read-only transaction (or a read
    // replica) accepts them. So does `verify`, except where it is a locking read.
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");
    let mut theirs = ada.clone();
    theirs.save(c.ex()).unwrap();

    let mut tx = D::begin_read_only(&mut c).unwrap();
    let mut fresh = User::get(tx.ex(), ada.id).unwrap();
    assert_eq!(fresh, theirs);
    assert_eq!(User::find(tx.ex(), ada.id + 1).unwrap(), None);
    fresh.reload(tx.ex()).unwrap();
    if D::READ_ONLY_REFUSES_VERIFY {
        // Documented on `verify`: PostgreSQL refuses its `FOR SHARE` read here.
        let err = fresh.verify(tx.ex()).unwrap_err();
        assert!(matches!(&err, Error::Database(d) if !d.is_retryable()), "got {err:?}");
        return;
    }
    fresh.verify(tx.ex()).unwrap();
    assert_eq!(conflict(&ada.verify(tx.ex()).unwrap_err()), (Some(1), 0));
    D::commit(tx).unwrap();
}

pub fn a_savepoint_rolled_back_undoes_only_its_own_writes<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut ada = insert_user(&mut c, "ada");
    let mut tx = D::begin(&mut c).unwrap();
    ada.name = "before the savepoint".into();
    ada.save(tx.ex()).unwrap();
    {
        let mut sp = D::savepoint(&mut tx);
        ada.name = "inside the savepoint".into();
        ada.save(sp.ex()).unwrap();
        assert_eq!(user_row(&mut sp, ada.id).unwrap().2, 2);
        // Dropping a savepoint rolls it back.
    }
    assert_eq!(user_row(&mut tx, ada.id).unwrap(), (Some("before the savepoint".into()), ada.email.clone(), 1));
    assert_eq!(ada.version, 2, "the in-memory entity kept the rolled-back version");
    ada.reload(tx.ex()).unwrap();
    assert_eq!(ada.version, 1);

    {
        let mut sp = D::savepoint(&mut tx);
        ada.name = "committed savepoint".into();
        ada.save(sp.ex()).unwrap();
        ada.verify(sp.ex()).unwrap();
        D::release(sp);
    }
    D::commit(tx).unwrap();
    assert_eq!(user_row(&mut c, ada.id).unwrap(), (Some("committed savepoint".into()), ada.email.clone(), 2));
}

pub fn a_conflict_inside_a_savepoint<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");
    let mut tx = D::begin(&mut c).unwrap();
    let mut sp = D::savepoint(&mut tx);
    let stale = ada.clone();
    let mut fresh = User::get(sp.ex(), ada.id).unwrap();
    fresh.touch(sp.ex()).unwrap();
    let err = stale.delete(sp.ex()).unwrap_err();
    assert_eq!(err.as_conflict().map(|c| (c.expected, c.actual)), Some((0, Some(1))));
    D::rollback_to(sp);
    stale.verify(tx.ex()).unwrap();
    D::commit(tx).unwrap();
    assert_eq!(user_row(&mut c, ada.id).unwrap().2, 0);
}

/// Moves `amount` between two accounts as one unit: both saves or neither.
fn transfer<D: Db>(c: &mut D::Conn, from: &mut Account, to: &mut Account, amount: i64) -> Result<(), Error>
where
    Account: Bind<D::Backend>,
{
    let mut tx = D::begin(c)?;
    let (mut f, mut t) = (from.clone(), to.clone());
    f.balance -= amount;
    t.balance += amount;
    f.save(tx.ex())?;
    t.save(tx.ex())?;
    D::commit(tx)?;
    (*from, *to) = (f, t);
    Ok(())
}

pub fn a_failed_transfer_writes_neither_side<D: Db>(test: &str)
where
    Account: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut a = Account::new("a", 100);
    let mut b = Account::new("b", 0);
    a.insert(c.ex()).unwrap();
    b.insert(c.ex()).unwrap();
    transfer::<D>(&mut c, &mut a, &mut b, 30).unwrap();
    assert_eq!((a.balance, b.balance, a.version, b.version), (70, 30, 1, 1));

    // Someone else writes `b`: the next transfer's second save conflicts, and the
    // first save, already made inside the transaction, is rolled back with it.
    exec(&mut c, "UPDATE accounts SET balance = balance + 5, version = version + 1 WHERE code = 'b'", &[]);
    let (a_before, b_before) = (a.clone(), b.clone());
    let err = transfer::<D>(&mut c, &mut a, &mut b, 20).unwrap_err();
    assert!(err.is_conflict(), "got {err:?}");
    assert_eq!((a.clone(), b.clone()), (a_before, b_before));
    assert_eq!(account_row(&mut c, "a").unwrap(), ("owner of a".into(), 70, 1));
    assert_eq!(account_row(&mut c, "b").unwrap(), ("owner of b".into(), 35, 2));

    b.reload(c.ex()).unwrap();
    transfer::<D>(&mut c, &mut a, &mut b, 20).unwrap();
    let balances: Vec<(i64,)> = rows(&mut c, "SELECT balance FROM accounts", &[]);
    assert_eq!(balances.iter().map(|b| b.0).sum::<i64>(), 105);
    assert_eq!(account_row(&mut c, "a").unwrap().1, 50);
}
