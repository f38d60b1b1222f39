//! `retry` re-runs work while its error is retryable and attempts remain, then
//! returns the last result.

mod common;

use std::time::Duration;

use common::{TempDb, User, connection, insert_user, user_row, write_behind_the_back};
use versioned::{Error, RetryPolicy, Versioned, retry};

#[test]
fn the_default_policy_makes_five_attempts() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.attempts(), 5);
    assert_eq!(policy.clone().max_attempts(9).attempts(), 9);
    assert_eq!(policy.max_attempts(0).attempts(), 1, "at least one attempt");
}

#[test]
fn gives_up_after_max_attempts_on_a_persistent_conflict_and_returns_the_last_error() {
    let conn = connection();
    let ada = insert_user(&conn, "ada");
    write_behind_the_back(&conn, ada.id, "theirs");

    let mut calls = 0;
    let result = retry(RetryPolicy::default().max_attempts(4).no_delay(), || {
        calls += 1;
        // A client that keeps sending an outdated version: each attempt holds a
        // different one, so the error tells which attempt it came from.
        let mut stale = ada.clone();
        stale.version = 100 + calls;
        stale.name = format!("attempt {calls}");
        stale.save(&conn)?;
        Ok(stale)
    });
    let err = result.unwrap_err();
    assert_eq!(calls, 4);
    let c = err.as_conflict().expect("the last error is the conflict");
    assert_eq!((c.expected, c.actual), (104, Some(1)), "the last attempt's error");
    assert_eq!(user_row(&conn, ada.id).unwrap(), (Some("theirs".into()), ada.email.clone(), 1));
}

#[test]
fn the_default_policy_gives_up_after_five_attempts() {
    let conn = connection();
    let ada = insert_user(&conn, "ada");
    write_behind_the_back(&conn, ada.id, "theirs");
    let mut calls = 0;
    let err = retry(RetryPolicy::default(), || {
        calls += 1;
        ada.verify(&conn)
    })
    .unwrap_err();
    assert_eq!(calls, 5);
    assert!(err.is_conflict());
}

#[test]
fn one_attempt_means_no_retry() {
    let conn = connection();
    let ada = insert_user(&conn, "ada");
    write_behind_the_back(&conn, ada.id, "theirs");
    let mut calls = 0;
    let err = retry(RetryPolicy::default().max_attempts(1), || {
        calls += 1;
        ada.delete(&conn)
    })
    .unwrap_err();
    assert_eq!(calls, 1);
    assert!(err.is_conflict());
}

#[test]
fn does_not_retry_not_found() {
    let conn = connection();
    let mut calls = 0;
    let err = retry(RetryPolicy::default().max_attempts(10).no_delay(), || {
        calls += 1;
        User::get(&conn, 404)
    })
    .unwrap_err();
    assert_eq!(calls, 1);
    assert!(matches!(&err, Error::NotFound { table: "users", id } if id == "404"), "got {err:?}");
}

#[test]
fn does_not_retry_a_constraint_violation() {
    let conn = connection();
    insert_user(&conn, "ada");
    let mut calls = 0;
    let err = retry(RetryPolicy::default().max_attempts(10).no_delay(), || {
        calls += 1;
        let mut twin = User::new("twin", Some("ada@example.com"));
        twin.insert(&conn)?;
        Ok(twin)
    })
    .unwrap_err();
    assert_eq!(calls, 1);
    assert!(matches!(err, Error::Database(ref e) if !e.is_retryable()), "got {err:?}");
}

#[test]
fn does_not_retry_a_decode_error() {
    let conn = connection();
    conn.execute("INSERT INTO users (id, name, version) VALUES (1, NULL, 0)", []).unwrap();
    let mut calls = 0;
    let err = retry(RetryPolicy::default().max_attempts(10).no_delay(), || {
        calls += 1;
        User::find(&conn, 1)
    })
    .unwrap_err();
    assert_eq!(calls, 1);
    assert!(matches!(err, Error::Decode(_)), "got {err:?}");
}

#[test]
fn succeeds_on_the_third_attempt() {
    let conn = connection();
    let ada = insert_user(&conn, "ada");
    let mut calls = 0;
    let saved = retry(RetryPolicy::default().max_attempts(5).no_delay(), || {
        calls += 1;
        let mut user = User::get(&conn, ada.id)?;
        if calls < 3 {
            // Another writer gets in between this attempt's read and its write.
            write_behind_the_back(&conn, ada.id, &format!("concurrent {calls}"));
        }
        user.name = format!("{} + mine", user.name);
        user.save(&conn)?;
        Ok(user)
    })
    .unwrap();
    assert_eq!(calls, 3);
    assert_eq!(saved.name, "concurrent 2 + mine", "the winning attempt read the latest row");
    assert_eq!(saved.version, 3);
    assert_eq!(user_row(&conn, ada.id).unwrap(), (Some("concurrent 2 + mine".into()), ada.email.clone(), 3));
}

#[test]
fn the_first_success_ends_the_retries() {
    let mut calls = 0;
    let value = retry(RetryPolicy::default(), || {
        calls += 1;
        Ok::<_, Error>(calls * 10)
    })
    .unwrap();
    assert_eq!((calls, value), (1, 10));
}

#[test]
fn application_errors_pass_through_an_outer_result() {
    #[derive(Debug, PartialEq)]
    enum AppError {
        Rejected,
    }
    let conn = connection();
    let ada = insert_user(&conn, "ada");
    let mut calls = 0;
    let result: Result<Result<User, AppError>, Error> = retry(RetryPolicy::default().no_delay(), || {
        calls += 1;
        let mut user = User::get(&conn, ada.id)?;
        if user.name == "ada" {
            return Ok(Err(AppError::Rejected));
        }
        user.save(&conn)?;
        Ok(Ok(user))
    });
    assert_eq!(calls, 1);
    assert_eq!(result.unwrap(), Err(AppError::Rejected));
}

#[test]
fn retries_a_busy_database() {
    let db = TempDb::new("retry-busy");
    let conn = db.connect();
    conn.execute_batch(common::SCHEMA).unwrap();
    let mut ada = insert_user(&conn, "ada");

    let other = db.connect();
    let blocker = other.unchecked_transaction().unwrap();
    blocker.execute("UPDATE users SET name = name WHERE id = ?1", [ada.id]).unwrap();
    conn.busy_timeout(Duration::ZERO).unwrap();

    // The first attempt finds the database locked by `blocker`; before the second
    // one the blocking transaction ends.
    let mut blocker = Some(blocker);
    let mut calls = 0;
    retry(RetryPolicy::default().max_attempts(3).no_delay(), || {
        calls += 1;
        if calls == 2 {
            blocker.take().expect("still blocking").commit()?;
        }
        ada.name = "after the lock".into();
        ada.save(&conn).inspect_err(|e| {
            assert!(matches!(e, Error::Database(d) if d.is_retryable()), "busy is retryable: {e:?}");
            assert!(e.is_retryable());
        })
    })
    .unwrap();
    assert_eq!(calls, 2);
    assert_eq!(ada.version, 1);
    assert_eq!(user_row(&conn, ada.id).unwrap().0.as_deref(), Some("after the lock"));
    assert!(db.path().exists());
}
