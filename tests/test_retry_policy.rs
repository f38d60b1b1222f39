//! `RetryPolicy` and `retry` on their own, without a database: the behaviour suite
//! covers retrying real conflicts on every backend.

use versioned::{Error, RetryPolicy, retry};

#[test]
fn the_default_policy_makes_five_attempts() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.attempts(), 5);
    assert_eq!(policy.clone().max_attempts(9).attempts(), 9);
    assert_eq!(policy.max_attempts(0).attempts(), 1, "at least one attempt");
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
