//! Conflicts: what the error says, and that a failed write changes neither the row
//! nor the entity.

use versioned::backend::Bind;
use versioned::{Error, OptimisticLockError, Versioned};

use super::{Db, Session, account_row, count, exec, insert_user, open, user_row, write_behind_the_back};
use crate::common::{Account, Conflict, User};

/// Two copies of one stored user: `theirs` has been saved once (version 1, name
/// "theirs"), `mine` still holds version 0 and carries an unsaved change.
fn stale_copy<S: Session>(s: &mut S) -> (User, User)
where
    User: Bind<S::Backend>,
{
    let mut mine = insert_user(s, "ada");
    let mut theirs = mine.clone();
    theirs.name = "theirs".into();
    theirs.save(s.ex()).unwrap();
    mine.name = "mine".into();
    mine.cache = Some("cache".into());
    (mine, theirs)
}

fn expect_conflict(err: Error) -> Conflict {
    assert!(err.is_conflict(), "expected a conflict, got {err:?}");
    assert!(err.is_retryable(), "a conflict is retryable");
    assert!(matches!((&err, err.as_conflict()), (Error::OptimisticLock(a), Some(b)) if a == b));
    assert!(std::error::Error::source(&err).is_none());
    match err {
        Error::OptimisticLock(e) => Conflict::from(&e),
        other => panic!("expected Error::OptimisticLock, got {other:?}"),
    }
}

fn found(id: i64, expected: i64, actual: i64) -> Conflict {
    Conflict { entity: "User", table: "users", id: id.to_string(), expected, actual: Some(actual) }
}

fn gone(id: i64, expected: i64) -> Conflict {
    Conflict { entity: "User", table: "users", id: id.to_string(), expected, actual: None }
}

pub fn stale_save_names_the_row_and_both_versions<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let (mut mine, theirs) = stale_copy(&mut c);
    let before = mine.clone();
    let err = mine.save(c.ex()).unwrap_err();
    let display = err.to_string();
    assert_eq!(expect_conflict(err), found(mine.id, 0, 1));
    assert_eq!(display, format!("optimistic lock conflict on users id={}: expected version 0, found 1", mine.id));
    assert_eq!(mine, before, "the entity is unchanged, its version not bumped");
    assert_eq!(user_row(&mut c, mine.id), Some((Some("theirs".into()), theirs.email.clone(), 1)));
}

pub fn stale_delete_names_the_row_and_both_versions<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let (mine, theirs) = stale_copy(&mut c);
    let before = mine.clone();
    let err = mine.delete(c.ex()).unwrap_err();
    assert_eq!(expect_conflict(err), found(mine.id, 0, 1));
    assert_eq!(mine, before);
    assert_eq!(user_row(&mut c, mine.id), Some((Some("theirs".into()), theirs.email, 1)), "the row is still there");
}

pub fn stale_touch_names_the_row_and_both_versions<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let (mut mine, theirs) = stale_copy(&mut c);
    let before = mine.clone();
    let err = mine.touch(c.ex()).unwrap_err();
    assert_eq!(expect_conflict(err), found(mine.id, 0, 1));
    assert_eq!(mine, before);
    assert_eq!(user_row(&mut c, mine.id), Some((Some("theirs".into()), theirs.email, 1)));
}

pub fn stale_verify_names_the_row_and_both_versions<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let (mine, theirs) = stale_copy(&mut c);
    let before = mine.clone();
    let err = mine.verify(c.ex()).unwrap_err();
    assert_eq!(expect_conflict(err), found(mine.id, 0, 1));
    assert_eq!(mine, before);
    assert_eq!(user_row(&mut c, mine.id), Some((Some("theirs".into()), theirs.email, 1)));
}

pub fn a_newer_version_than_the_row_is_a_conflict_too<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut ada = insert_user(&mut c, "ada");
    ada.version = 5;
    let err = ada.save(c.ex()).unwrap_err();
    assert_eq!(expect_conflict(err), found(ada.id, 5, 0));
    assert_eq!(ada.version, 5);
    assert_eq!(user_row(&mut c, ada.id).unwrap().2, 0);
}

pub fn save_after_delete_reports_a_missing_row_and_inserts_nothing<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut mine = insert_user(&mut c, "ada");
    let theirs = mine.clone();
    theirs.delete(c.ex()).unwrap();

    mine.name = "resurrected?".into();
    let before = mine.clone();
    let err = mine.save(c.ex()).unwrap_err();
    let display = err.to_string();
    assert_eq!(expect_conflict(err), gone(mine.id, 0));
    assert_eq!(
        display,
        format!("optimistic lock conflict on users id={}: expected version 0, but the row no longer exists", mine.id)
    );
    assert_eq!(mine, before);
    assert_eq!(user_row(&mut c, mine.id), None, "a save never re-inserts a deleted row");
    assert_eq!(count::<D>(&mut c, "users"), 0);
    assert_eq!(User::find(c.ex(), mine.id).unwrap(), None);
}

pub fn touch_delete_and_verify_after_delete_report_a_missing_row<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut mine = insert_user(&mut c, "ada");
    mine.save(c.ex()).unwrap();
    exec(&mut c, "DELETE FROM users WHERE id = ?", &[&mine.id]);

    let before = mine.clone();
    assert_eq!(expect_conflict(mine.touch(c.ex()).unwrap_err()), gone(mine.id, 1));
    assert_eq!(expect_conflict(mine.delete(c.ex()).unwrap_err()), gone(mine.id, 1));
    assert_eq!(expect_conflict(mine.verify(c.ex()).unwrap_err()), gone(mine.id, 1));
    assert_eq!(mine, before);
    assert_eq!(count::<D>(&mut c, "users"), 0);
}

pub fn a_row_deleted_and_stored_again_is_found_with_its_new_version<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut mine = insert_user(&mut c, "ada");
    mine.save(c.ex()).unwrap();
    mine.save(c.ex()).unwrap();
    let stale = mine.clone();
    mine.delete(c.ex()).unwrap();
    // Someone stores a row with the same key again: it starts over at version 0.
    exec(&mut c, "INSERT INTO users (id, name, version) VALUES (?, 'new', 0)", &[&mine.id]);
    let err = stale.verify(c.ex()).unwrap_err();
    assert_eq!(expect_conflict(err), found(mine.id, 2, 0));
}

pub fn a_conflict_is_resolved_by_reloading_and_saving_again<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let (mut mine, _theirs) = stale_copy(&mut c);
    assert!(mine.save(c.ex()).unwrap_err().is_conflict());
    mine.reload(c.ex()).unwrap();
    assert_eq!(mine.name, "theirs");
    assert_eq!(mine.cache.as_deref(), Some("cache"));
    mine.name = "merged".into();
    mine.save(c.ex()).unwrap();
    assert_eq!(mine.version, 2);
    assert_eq!(user_row(&mut c, mine.id).unwrap(), (Some("merged".into()), mine.email.clone(), 2));
}

pub fn the_version_a_client_saw_can_be_carried_in_the_field<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    // An HTTP handler sets the version from `If-Match` and saves.
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut ada = insert_user(&mut c, "ada");
    ada.save(c.ex()).unwrap();
    ada.save(c.ex()).unwrap();

    let mut from_request = User { id: ada.id, name: "edited".into(), email: None, cache: None, version: 1 };
    let err = from_request.save(c.ex()).unwrap_err();
    assert_eq!(expect_conflict(err), found(ada.id, 1, 2));
    assert_eq!(user_row(&mut c, ada.id).unwrap().0.as_deref(), Some("ada"));

    from_request.version = 2;
    from_request.save(c.ex()).unwrap();
    assert_eq!(user_row(&mut c, ada.id), Some((Some("edited".into()), None, 3)));
}

pub fn every_conflict_of_a_batch_names_its_own_row<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut users: Vec<User> = ["a", "b", "c", "d"].iter().map(|n| insert_user(&mut c, n)).collect();
    write_behind_the_back(&mut c, users[1].id, "b2");
    write_behind_the_back(&mut c, users[3].id, "d2");
    write_behind_the_back(&mut c, users[3].id, "d3");

    let errors: Vec<Conflict> = users
        .iter_mut()
        .filter_map(|u| u.save(c.ex()).err())
        .map(|e| e.as_conflict().map(Conflict::from).expect("a conflict"))
        .collect();
    assert_eq!(errors, vec![found(users[1].id, 0, 1), found(users[3].id, 0, 2)]);
    assert_eq!(users.iter().map(|u| u.version).collect::<Vec<_>>(), vec![1, 0, 1, 0]);
}

pub fn a_text_key_is_rendered_with_quotes<D: Db>(test: &str)
where
    Account: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut mine = Account::new("acc-1", 100);
    mine.insert(c.ex()).unwrap();
    let mut theirs = mine.clone();
    theirs.balance = 50;
    theirs.save(c.ex()).unwrap();

    mine.balance = 150;
    let before = mine.clone();
    let err = mine.save(c.ex()).unwrap_err();
    assert_eq!(err.to_string(), r#"optimistic lock conflict on accounts id="acc-1": expected version 0, found 1"#);
    assert_eq!(
        expect_conflict(err),
        Conflict { entity: "Account", table: "accounts", id: r#""acc-1""#.into(), expected: 0, actual: Some(1) }
    );
    assert_eq!(mine, before);
    assert_eq!(account_row(&mut c, "acc-1"), Some(("owner of acc-1".into(), 50, 1)));

    let err = Account::get(c.ex(), "nope".into()).unwrap_err();
    assert_eq!(err.to_string(), r#"no row in accounts with id="nope""#);
}

pub fn errors_are_thread_safe_std_errors<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<Error>();
    assert_error::<OptimisticLockError>();

    let Some((_db, mut c)) = open::<D>(test) else { return };
    let (mut mine, _) = stale_copy(&mut c);
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(mine.save(c.ex()).unwrap_err());
    assert!(boxed.to_string().starts_with("optimistic lock conflict on users"));
}

/// No text of an error's chain is repeated by the error above it, so a report that
/// prints the whole chain (`anyhow`'s `{:#}`) says each thing once; except, where
/// `D` says so, the driver's own error at the end of the chain, which repeats its
/// source whatever the library does.
fn assert_each_text_once<D: Db>(err: &Error) {
    let mut current: &dyn std::error::Error = err;
    let mut depth = 0;
    while let Some(source) = current.source() {
        let (outer, inner) = (current.to_string(), source.to_string());
        assert!(!inner.is_empty(), "{outer:?} has a source without text");
        let drivers_own = D::DRIVER_ERROR_REPEATS_ITS_SOURCE && depth > 0 && source.source().is_none();
        assert!(drivers_own || !outer.contains(&inner), "{outer:?} repeats its source {inner:?}");
        current = source;
        depth += 1;
    }
    assert!(depth > 0, "the error has a source: {err:?}");
}

pub fn each_text_of_an_error_chain_is_printed_once<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");
    let mut twin = User::new("twin", ada.email.as_deref());
    let err = twin.insert(c.ex()).unwrap_err();
    assert!(D::is_unique_violation(&err), "{err:?}");
    assert!(err.to_string().starts_with("database error"), "{err}");
    assert_each_text_once::<D>(&err);

    exec(&mut c, "UPDATE users SET name = NULL WHERE id = ?", &[&ada.id]);
    let err = User::get(c.ex(), ada.id).unwrap_err();
    assert_eq!(err.to_string(), format!("cannot decode column name of users id={}", ada.id));
    assert_each_text_once::<D>(&err);
}
