//! `update_with`: read, change, save, and on a conflict read afresh and change again;
//! a refused change writes nothing and comes back as it was refused.

use versioned::backend::Bind;
use versioned::{Error, RetryPolicy, Versioned};

use super::{Db, Session, insert_user, open, open_shared, user_row, write_behind_the_back};
use crate::common::User;

/// Why a change was refused, in a caller's own error type.
#[derive(Debug, PartialEq)]
enum Refusal {
    EmptyName,
    Library(String),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Refusal::Library(e.to_string())
    }
}

pub fn update_with_changes_and_saves_the_row<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");
    let mut calls = 0;
    let saved = User::update_with(c.ex(), ada.id, RetryPolicy::default(), |user| {
        calls += 1;
        user.name = format!("{} lovelace", user.name);
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(calls, 1);
    assert_eq!((saved.name.as_str(), saved.version), ("ada lovelace", 1));
    assert_eq!(user_row(&mut c, ada.id).unwrap(), (Some("ada lovelace".into()), ada.email.clone(), 1));
}

pub fn update_with_reads_afresh_and_changes_again_after_a_conflict<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((place, mut c)) = open_shared::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");
    let mut other = D::connect(&place);
    let mut seen = Vec::new();
    let saved = User::update_with(c.ex(), ada.id, RetryPolicy::default().no_delay(), |user| {
        seen.push((user.name.clone(), user.version));
        if seen.len() == 1 {
            // Another writer saves between this attempt's read and its save.
            write_behind_the_back(&mut other, ada.id, "theirs");
        }
        user.email = Some(format!("{}@example.org", user.name));
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(seen, [("ada".into(), 0), ("theirs".into(), 1)], "the second attempt changes the fresh row");
    assert_eq!((saved.name.as_str(), saved.version), ("theirs", 2));
    assert_eq!(user_row(&mut c, ada.id).unwrap(), (Some("theirs".into()), Some("theirs@example.org".into()), 2));
}

pub fn update_with_returns_a_refusal_unchanged_and_writes_nothing<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");
    let mut calls = 0;
    let refused = User::update_with(c.ex(), ada.id, RetryPolicy::default(), |user| {
        calls += 1;
        user.name.clear();
        if user.name.is_empty() {
            return Err(Refusal::EmptyName);
        }
        Ok(())
    });
    assert_eq!(refused.unwrap_err(), Refusal::EmptyName);
    assert_eq!(calls, 1, "a refusal is not retried");
    assert_eq!(user_row(&mut c, ada.id).unwrap(), (Some("ada".into()), ada.email.clone(), 0));
}

pub fn update_with_of_a_missing_row_is_not_found_without_a_change<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut calls = 0;
    let err = User::update_with(c.ex(), 404, RetryPolicy::default(), |_| {
        calls += 1;
        Ok::<_, Error>(())
    })
    .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(calls, 0);
    let as_refusal = User::update_with(c.ex(), 404, RetryPolicy::default(), |_| Ok::<_, Refusal>(()));
    assert_eq!(as_refusal.unwrap_err(), Refusal::Library("no row in users with id=404".into()));
}

pub fn update_with_gives_up_after_the_policy_attempts_with_the_last_conflict<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((place, mut c)) = open_shared::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");
    let mut other = D::connect(&place);
    let mut calls = 0;
    let err = User::update_with(c.ex(), ada.id, RetryPolicy::default().max_attempts(3).no_delay(), |user| {
        calls += 1;
        write_behind_the_back(&mut other, ada.id, &format!("theirs {calls}"));
        user.name = "mine".into();
        Ok::<_, Error>(())
    })
    .unwrap_err();
    assert_eq!(calls, 3);
    let conflict = err.as_conflict().expect("the last attempt's conflict");
    assert_eq!((conflict.expected, conflict.actual), (2, Some(3)));
    assert_eq!(user_row(&mut c, ada.id).unwrap(), (Some("theirs 3".into()), ada.email.clone(), 3));
}
