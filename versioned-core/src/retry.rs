//! Re-running work that failed for a reason that may pass.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use crate::error::Error;

/// How [`retry`] spaces and limits its attempts.
///
/// The default: 5 attempts; before attempt `n + 1` it sleeps a random time between
/// zero and `min(max_delay, base_delay * 2^(n - 1))` ("full jitter"), with
/// `base_delay` 1 ms and `max_delay` 100 ms.
///
/// ```
/// use std::time::Duration;
/// use versioned_core::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_attempts(10)
///     .base_delay(Duration::from_millis(2))
///     .max_delay(Duration::from_millis(50));
/// assert_eq!(policy.attempts(), 10);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 5, base_delay: Duration::from_millis(1), max_delay: Duration::from_millis(100) }
    }
}

impl RetryPolicy {
    /// Runs the work at most `n` times in all (at least once: 0 counts as 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The cap on the first wait; each later wait's cap doubles.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The largest cap on any wait.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Re-runs at once, without waiting.
    pub fn no_delay(mut self) -> Self {
        self.base_delay = Duration::ZERO;
        self.max_delay = Duration::ZERO;
        self
    }

    /// How many times the work runs at most.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The cap on the wait after failed attempt `failed` (1-based).
    fn cap(&self, failed: u32) -> Duration {
        let factor = 1_u32.checked_shl(failed.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// A random wait between zero and the cap after failed attempt `failed`.
    pub(crate) fn delay(&self, failed: u32) -> Duration {
        let cap = self.cap(failed);
        if cap.is_zero() {
            return cap;
        }
        // `RandomState` is seeded afresh per instance: enough randomness to spread
        // competing retries apart, without a dependency.
        let random = RandomState::new().hash_one(failed);
        // Caps beyond u64 nanoseconds (584 years) are clamped, and so is the range's
        // end: no arithmetic here can overflow, whatever the policy holds.
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(random % nanos.saturating_add(1))
    }
}

/// Runs `f` until it succeeds, fails with an error that is not
/// [retryable](Error::is_retryable), or has run [`RetryPolicy::attempts`] times; then
/// returns its last result.
///
/// Put the whole read-modify-write inside `f`, so each attempt reads the row afresh:
///
/// ```
/// # use versioned_core::{retry, Error, RetryPolicy};
/// let mut calls = 0;
/// let result: Result<u32, Error> = retry(RetryPolicy::default().no_delay(), || {
///     calls += 1;
///     Ok(calls)
/// });
/// assert_eq!(result.unwrap(), 1);
/// ```
pub fn retry<T, F>(policy: RetryPolicy, mut f: F) -> Result<T, Error>
where
    F: FnMut() -> Result<T, Error>,
{
    let mut failed = 0;
    loop {
        match f() {
            Err(e) if e.is_retryable() && failed + 1 < policy.max_attempts => {
                failed += 1;
                std::thread::sleep(policy.delay(failed));
            }
            result => return result,
        }
    }
}

/// Runs the future `f` makes until it succeeds, fails with an error that is not
/// [retryable](Error::is_retryable), or has run [`RetryPolicy::attempts`] times; then
/// returns its last result. Between attempts it sleeps with tokio's timer, never
/// blocking the thread (cargo feature `tokio`).
///
/// `f` makes a fresh future for each attempt, so each one reads the row afresh; give
/// it what it needs by value (a pool is cheap to clone):
///
/// ```no_run
/// # use versioned_core::{retry_async, Error, RetryPolicy};
/// # async fn example() -> Result<(), Error> {
/// let attempts = std::sync::atomic::AtomicU32::new(0);
/// let n = retry_async(RetryPolicy::default(), || async {
///     // let mut user = User::get(&pool, id).await?; user.name = ..; user.save(&pool).await?;
///     Ok(attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
/// })
/// .await?;
/// # let _ = n;
/// # Ok(())
/// # }
/// ```
///
/// The future it returns is `Send` when the futures `f` makes are, so it runs inside
/// `tokio::spawn`.
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub async fn retry_async<T, F, Fut>(policy: RetryPolicy, mut f: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut failed = 0;
    loop {
        match f().await {
            Err(e) if e.is_retryable() && failed + 1 < policy.max_attempts => {
                failed += 1;
                tokio::time::sleep(policy.delay(failed)).await;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_double_up_to_the_maximum() {
        let p = RetryPolicy::default();
        let caps: Vec<_> = (1..=9).map(|n| p.cap(n).as_millis()).collect();
        assert_eq!(caps, [1, 2, 4, 8, 16, 32, 64, 100, 100]);
        assert_eq!(p.cap(200), Duration::from_millis(100));
    }

    #[test]
    fn delays_stay_within_their_cap() {
        let p = RetryPolicy::default();
        for n in 1..20 {
            assert!(p.delay(n) <= p.cap(n));
        }
        assert_eq!(RetryPolicy::default().no_delay().delay(3), Duration::ZERO);
    }

    #[test]
    fn delays_near_the_largest_duration_do_not_overflow() {
        let near_max = [Duration::MAX, Duration::MAX - Duration::from_nanos(1), Duration::from_nanos(u64::MAX)];
        for max in near_max {
            for base in near_max {
                let p = RetryPolicy::default().base_delay(base).max_delay(max);
                for n in [1, 2, 31, 32, 33, 64, u32::MAX] {
                    assert!(p.delay(n) <= p.cap(n), "{base:?} {max:?} {n}");
                }
            }
        }
        // The wait is clamped to what a `Duration` of u64 nanoseconds holds.
        let p = RetryPolicy::default().base_delay(Duration::MAX).max_delay(Duration::MAX);
        assert!(p.delay(1) <= Duration::from_nanos(u64::MAX));
    }

    #[cfg(feature = "tokio")]
    mod with_tokio {
        use std::cell::Cell;

        use super::*;
        use crate::error::OptimisticLockError;

        fn conflict() -> Error {
            Error::OptimisticLock(OptimisticLockError {
                entity: "User",
                table: "users",
                id: "1".into(),
                expected: 0,
                actual: Some(1),
            })
        }

        #[tokio::test]
        async fn retries_a_conflict_until_the_work_succeeds() {
            let calls = Cell::new(0);
            let policy = RetryPolicy::default().base_delay(Duration::from_millis(1));
            let result = retry_async(policy, || async {
                calls.set(calls.get() + 1);
                if calls.get() < 3 { Err(conflict()) } else { Ok(calls.get()) }
            })
            .await;
            assert_eq!(result.unwrap(), 3);
        }

        #[tokio::test]
        async fn stops_at_an_error_that_is_not_retryable() {
            let calls = Cell::new(0);
            let result: Result<(), Error> = retry_async(RetryPolicy::default(), || async {
                calls.set(calls.get() + 1);
                Err(Error::NotFound { table: "users", id: "1".into() })
            })
            .await;
            assert!(matches!(result, Err(Error::NotFound { .. })));
            assert_eq!(calls.get(), 1);
        }

        #[tokio::test]
        async fn gives_up_after_its_attempts_with_the_last_error() {
            let calls = Cell::new(0);
            let result: Result<(), Error> = retry_async(RetryPolicy::default().max_attempts(4).no_delay(), || async {
                calls.set(calls.get() + 1);
                Err(conflict())
            })
            .await;
            assert!(result.unwrap_err().as_conflict().is_some());
            assert_eq!(calls.get(), 4);
        }
    }

    #[test]
    fn zero_attempts_means_one() {
        assert_eq!(RetryPolicy::default().max_attempts(0).attempts(), 1);
    }
}
