//! Several connections, one per thread, writing shared rows with `retry`: no update
//! is lost, none is applied twice, and money is neither created nor lost.

use std::sync::Barrier;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use versioned::backend::Bind;
use versioned::{Error, RetryPolicy, Versioned, retry};

use super::{Db, Session, open_shared, rows};
use crate::common::Account;

const THREADS: usize = 4;

#[derive(Versioned, Debug, Clone, PartialEq)]
pub struct Counter {
    id: i64,
    value: i64,
    #[version]
    version: i64,
}

/// Enough attempts that a busy thread always gets through in the end.
fn policy() -> RetryPolicy {
    RetryPolicy::default().max_attempts(1000).base_delay(Duration::from_micros(100)).max_delay(Duration::from_millis(5))
}

/// Runs `work` on `THREADS` threads, each with its own connection and its index,
/// all starting together.
fn on_threads<D: Db>(place: &D::Place, work: impl Fn(usize, &mut D::Conn) + Sync) {
    let barrier = Barrier::new(THREADS);
    let (barrier, work) = (&barrier, &work);
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            s.spawn(move || {
                let mut conn = D::connect(place);
                barrier.wait();
                work(thread, &mut conn);
            });
        }
    });
}

fn total(n: usize) -> i64 {
    i64::try_from(n).unwrap()
}

pub fn concurrent_increments_in_transactions_are_all_counted_once<D: Db>(test: &str)
where
    Counter: Bind<D::Backend>,
{
    let Some((db, mut c)) = open_shared::<D>(test) else { return };
    Counter { id: 1, value: 0, version: 0 }.insert(c.ex()).unwrap();
    on_threads::<D>(&db, |_, conn| {
        for _ in 0..D::ROUNDS {
            retry(policy(), || {
                let mut tx = D::begin(conn)?;
                let mut counter = Counter::get(tx.ex(), 1)?;
                counter.value += 1;
                counter.save(tx.ex())?;
                D::commit(tx)
            })
            .unwrap();
        }
    });
    let counter = Counter::get(c.ex(), 1).unwrap();
    assert_eq!(counter.value, total(THREADS * D::ROUNDS), "no increment lost or doubled on {}", D::NAME);
    assert_eq!(counter.version, total(THREADS * D::ROUNDS), "one version per increment on {}", D::NAME);
}

pub fn concurrent_increments_without_transactions_are_all_counted_once<D: Db>(test: &str)
where
    Counter: Bind<D::Backend>,
{
    // Each read and each write is its own statement here, so a lost race shows up as
    // an optimistic lock conflict rather than a busy snapshot or a lock wait.
    let Some((db, mut c)) = open_shared::<D>(test) else { return };
    Counter { id: 1, value: 0, version: 0 }.insert(c.ex()).unwrap();
    on_threads::<D>(&db, |_, conn| {
        for _ in 0..D::ROUNDS {
            retry(policy(), || {
                let mut counter = Counter::get(conn.ex(), 1)?;
                counter.value += 1;
                counter.save(conn.ex())
            })
            .unwrap();
        }
    });
    let counter = Counter::get(c.ex(), 1).unwrap();
    assert_eq!(counter.value, total(THREADS * D::ROUNDS), "no increment lost or doubled on {}", D::NAME);
    assert_eq!(counter.version, total(THREADS * D::ROUNDS), "one version per increment on {}", D::NAME);
}

/// xorshift64: a tiny seeded generator, so every run makes the same transfers.
struct XorShift(u64);

impl XorShift {
    fn new(seed: usize) -> XorShift {
        // Never zero, which would stay zero.
        XorShift(0x9e37_79b9_7f4a_7c15 ^ (seed as u64 + 1))
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x % n as u64) as usize
    }
}

const ACCOUNTS: usize = 10;
const TRANSFERS: usize = 200;
const START: i64 = 1_000;

fn code(account: usize) -> String {
    format!("acc-{account}")
}

/// Moves `amount` from one account to another in one transaction.
fn transfer<D: Db>(conn: &mut D::Conn, from: usize, to: usize, amount: i64) -> Result<(), Error>
where
    Account: Bind<D::Backend>,
{
    let mut tx = D::begin(conn)?;
    // Rows are written in the order of their codes, so two transfers never wait on
    // each other's row locks in a cycle (a deadlock PostgreSQL detects only after
    // `deadlock_timeout`, a second).
    let (low, high) = (from.min(to), from.max(to));
    let mut first = Account::get(tx.ex(), code(low))?;
    let mut second = Account::get(tx.ex(), code(high))?;
    let moved = if low == from { amount } else { -amount };
    first.balance -= moved;
    second.balance += moved;
    first.save(tx.ex())?;
    second.save(tx.ex())?;
    D::commit(tx)
}

pub fn concurrent_transfers_conserve_the_sum<D: Db>(test: &str)
where
    Account: Bind<D::Backend>,
{
    let Some((db, mut c)) = open_shared::<D>(test) else { return };
    for account in 0..ACCOUNTS {
        Account::new(&code(account), START).insert(c.ex()).unwrap();
    }
    // Writes per account, counted once a transfer is committed.
    let writes: [AtomicI64; ACCOUNTS] = std::array::from_fn(|_| AtomicI64::new(0));
    on_threads::<D>(&db, |thread, conn| {
        let mut rng = XorShift::new(thread);
        for _ in 0..TRANSFERS {
            let from = rng.below(ACCOUNTS);
            let to = (from + 1 + rng.below(ACCOUNTS - 1)) % ACCOUNTS;
            let amount = total(1 + rng.below(100));
            retry(policy(), || transfer::<D>(conn, from, to, amount)).unwrap();
            writes[from].fetch_add(1, Ordering::Relaxed);
            writes[to].fetch_add(1, Ordering::Relaxed);
        }
    });

    let accounts: Vec<(String, i64, i64)> = rows(&mut c, "SELECT code, balance, version FROM accounts", &[]);
    assert_eq!(accounts.len(), ACCOUNTS);
    let sum: i64 = accounts.iter().map(|a| a.1).sum();
    assert_eq!(sum, total(ACCOUNTS) * START, "money is neither created nor lost on {}", D::NAME);
    for (account, _, version) in &accounts {
        let index: usize = account.trim_start_matches("acc-").parse().unwrap();
        let expected = writes[index].load(Ordering::Relaxed);
        assert_eq!(*version, expected, "{account} was written {expected} times, once per committed transfer");
    }
    let versions: i64 = accounts.iter().map(|a| a.2).sum();
    assert_eq!(versions, total(2 * THREADS * TRANSFERS), "each transfer saved exactly two rows once");
}
