//! `retry` re-runs work while its error is retryable and attempts remain, then
//! returns the last result.

use versioned::backend::Bind;
use versioned::{Error, RetryPolicy, Versioned, retry};

use super::{Db, Session, exec, insert_user, open, user_row, write_behind_the_back};
use crate::common::User;

pub fn gives_up_after_max_attempts_on_a_persistent_conflict_and_returns_the_last_error<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");
    write_behind_the_back(&mut c, ada.id, "theirs");

    let mut calls = 0;
    let result = retry(RetryPolicy::default().max_attempts(4).no_delay(), || {
        calls += 1;
        // A client that keeps sending an outdated version: each attempt holds a
        // different one, so the error tells which attempt it came from.
        let mut stale = ada.clone();
        stale.version = 100 + calls;
        stale.name = format!("attempt {calls}");
        stale.save(c.ex())?;
        Ok(stale)
    });
    let err = result.unwrap_err();
    assert_eq!(calls, 4);
    let conflict = err.as_conflict().expect("the last error is the conflict");
    assert_eq!((conflict.expected, conflict.actual), (104, Some(1)), "the last attempt's error");
    assert_eq!(user_row(&mut c, ada.id).unwrap(), (Some("theirs".into()), ada.email.clone(), 1));
}

pub fn the_default_policy_gives_up_after_five_attempts<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");
    write_behind_the_back(&mut c, ada.id, "theirs");
    let mut calls = 0;
    let err = retry(RetryPolicy::default(), || {
        calls += 1;
        ada.verify(c.ex())
    })
    .unwrap_err();
    assert_eq!(calls, 5);
    assert!(err.is_conflict());
}

pub fn one_attempt_means_no_retry<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");
    write_behind_the_back(&mut c, ada.id, "theirs");
    let mut calls = 0;
    let err = retry(RetryPolicy::default().max_attempts(1), || {
        calls += 1;
        ada.delete(c.ex())
    })
    .unwrap_err();
    assert_eq!(calls, 1);
    assert!(err.is_conflict());
}

pub fn does_not_retry_not_found<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut calls = 0;
    let err = retry(RetryPolicy::default().max_attempts(10).no_delay(), || {
        calls += 1;
        User::get(c.ex(), 404)
    })
    .unwrap_err();
    assert_eq!(calls, 1);
    assert!(matches!(&err, Error::NotFound { table: "users", id, .. } if id == "404"), "got {err:?}");
}

pub fn does_not_retry_a_constraint_violation<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    insert_user(&mut c, "ada");
    let mut calls = 0;
    let err = retry(RetryPolicy::default().max_attempts(10).no_delay(), || {
        calls += 1;
        let mut twin = User::new("twin", Some("ada@example.com"));
        twin.insert(c.ex())?;
        Ok(twin)
    })
    .unwrap_err();
    assert_eq!(calls, 1);
    assert!(matches!(err, Error::Database(ref e) if !e.is_retryable()), "got {err:?}");
}

pub fn does_not_retry_a_decode_error<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    exec(&mut c, "INSERT INTO users (id, name, version) VALUES (1, NULL, 0)", &[]);
    let mut calls = 0;
    let err = retry(RetryPolicy::default().max_attempts(10).no_delay(), || {
        calls += 1;
        User::find(c.ex(), 1)
    })
    .unwrap_err();
    assert_eq!(calls, 1);
    assert!(matches!(err, Error::Decode(_)), "got {err:?}");
}

pub fn succeeds_on_the_third_attempt<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");
    let mut calls = 0;
    let saved = retry(RetryPolicy::default().max_attempts(5).no_delay(), || {
        calls += 1;
        let mut user = User::get(c.ex(), ada.id)?;
        if calls < 3 {
            // Another writer gets in between this attempt's read and its write.
            write_behind_the_back(&mut c, ada.id, &format!("concurrent {calls}"));
        }
        user.name = format!("{} + mine", user.name);
        user.save(c.ex())?;
        Ok(user)
    })
    .unwrap();
    assert_eq!(calls, 3);
    assert_eq!(saved.name, "concurrent 2 + mine", "the winning attempt read the latest row");
    assert_eq!(saved.version, 3);
    assert_eq!(user_row(&mut c, ada.id).unwrap(), (Some("concurrent 2 + mine".into()), ada.email.clone(), 3));
}

pub fn application_errors_pass_through_an_outer_result<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    #[derive(Debug, PartialEq)]
    enum AppError {
        Rejected,
    }
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");
    let mut calls = 0;
    let result: Result<Result<User, AppError>, Error> = retry(RetryPolicy::default().no_delay(), || {
        calls += 1;
        let mut user = User::get(c.ex(), ada.id)?;
        if user.name == "ada" {
            return Ok(Err(AppError::Rejected));
        }
        user.save(c.ex())?;
        Ok(Ok(user))
    });
    assert_eq!(calls, 1);
    assert_eq!(result.unwrap(), Err(AppError::Rejected));
}
