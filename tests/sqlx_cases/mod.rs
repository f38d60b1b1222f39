//! The sqlx cases, written once and run on PostgreSQL and MySQL (`tests/sqlx_ops.rs`)
//! and on SQLite (`tests/sqlx-sqlite`, a workspace of its own): every operation on a
//! pool, a pooled connection and a transaction, inside `tokio::spawn` (so each
//! operation's future is `Send`), conflicts, concurrent increments through
//! `retry_async` and through `update_with`, and a save cut short by a timeout. The including file names this
//! module `cases` and gives a pool function per database.

use versioned::Versioned;

#[derive(Debug, Clone, PartialEq, Versioned)]
#[versioned(table = "notes")]
pub struct Note {
    #[id(auto)]
    pub id: i64,
    pub body: String,
    pub tag: Option<String>,
    #[version]
    pub version: i64,
}

impl Note {
    pub fn new(body: &str) -> Note {
        Note { id: 0, body: body.to_owned(), tag: None, version: 0 }
    }
}

#[derive(Debug, Clone, PartialEq, Versioned)]
#[versioned(table = "accounts")]
pub struct Account {
    #[id(auto)]
    pub id: i64,
    pub balance: i64,
    #[version]
    pub version: i64,
}

/// The cases, written once for every database: `$pool(test)` makes the test's pool,
/// `None` when the server does not answer.
macro_rules! cases {
    ($db:ident, $pool:ident) => {
        mod $db {
            use std::time::Duration;

            use versioned::{Error, RetryPolicy, Versioned, retry_async};

            use super::*;
            use crate::cases::{Account, Note};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn every_operation_on_a_pool() {
                let Some(pool) = $pool("every_operation_on_a_pool").await else { return };
                let mut note = Note::new("first");
                note.insert(&pool).await.unwrap();
                assert!(note.id > 0, "the generated key is stored: {note:?}");
                assert_eq!(note.version, 0);
                assert_eq!(Note::get(&pool, note.id).await.unwrap(), note);

                note.body = "second".into();
                note.tag = Some("t".into());
                note.save(&pool).await.unwrap();
                assert_eq!(note.version, 1);
                note.touch(&pool).await.unwrap();
                assert_eq!(note.version, 2);
                note.verify(&pool).await.unwrap();

                let mut copy = Note::new("stale");
                copy.id = note.id;
                copy.reload(&pool).await.unwrap();
                assert_eq!(copy, note);

                note.delete(&pool).await.unwrap();
                assert_eq!(Note::find(&pool, note.id).await.unwrap(), None);
                assert!(matches!(Note::get(&pool, note.id).await, Err(Error::NotFound { .. })));
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_stale_save_is_a_conflict_and_changes_nothing() {
                let Some(pool) = $pool("a_stale_save_is_a_conflict").await else { return };
                let mut mine = Note::new("base");
                mine.insert(&pool).await.unwrap();
                let mut theirs = mine.clone();
                theirs.body = "theirs".into();
                theirs.save(&pool).await.unwrap();

                mine.body = "mine".into();
                let err = mine.save(&pool).await.unwrap_err();
                let Error::OptimisticLock(conflict) = &err else { panic!("a conflict, not {err:?}") };
                assert_eq!((conflict.expected, conflict.actual), (0, Some(1)));
                assert!(err.is_retryable(), "a conflict is worth a fresh read and another try");
                assert_eq!(mine.version, 0, "the entity keeps its version");
                assert_eq!(Note::get(&pool, mine.id).await.unwrap(), theirs, "the row keeps their write");

                theirs.delete(&pool).await.unwrap();
                let err = theirs.save(&pool).await.unwrap_err();
                let Error::OptimisticLock(gone) = &err else { panic!("a conflict, not {err:?}") };
                assert_eq!(gone.actual, None, "the row is gone");
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn pooled_connections_and_transactions_are_executors() {
                let Some(pool) = $pool("connections_and_transactions").await else { return };
                let mut conn = pool.acquire().await.unwrap();
                let mut note = Note::new("on a connection");
                note.insert(&mut conn).await.unwrap();
                note.save(&mut conn).await.unwrap();
                assert_eq!(Note::get(&mut conn, note.id).await.unwrap(), note);
                drop(conn);

                let mut tx = pool.begin().await.unwrap();
                note.body = "in a transaction".into();
                note.save(&mut tx).await.unwrap();
                note.touch(&mut tx).await.unwrap();
                tx.rollback().await.unwrap();
                let stored = Note::get(&pool, note.id).await.unwrap();
                assert_eq!((stored.body.as_str(), stored.version), ("on a connection", 1), "rolled back");

                let mut tx = pool.begin().await.unwrap();
                let mut fresh = Note::get(&mut tx, note.id).await.unwrap();
                fresh.body = "committed".into();
                fresh.save(&mut tx).await.unwrap();
                tx.commit().await.unwrap();
                assert_eq!(Note::get(&pool, note.id).await.unwrap(), fresh);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn every_operation_runs_inside_tokio_spawn() {
                let Some(pool) = $pool("operations_inside_tokio_spawn").await else { return };
                let task = tokio::spawn(async move {
                    let mut note = Note::new("spawned");
                    note.insert(&pool).await?;
                    note.save(&pool).await?;
                    note.touch(&pool).await?;
                    note.verify(&pool).await?;
                    note.reload(&pool).await?;
                    Note::get(&pool, note.id).await?;
                    Note::find(&pool, note.id).await?;
                    let mut conn = pool.acquire().await?;
                    note.save(&mut conn).await?;
                    let mut tx = pool.begin().await?;
                    note.save(&mut tx).await?;
                    note.save(&mut tx).await?;
                    tx.commit().await?;
                    note.delete(&pool).await?;
                    Ok::<_, Error>(note.version)
                });
                assert_eq!(task.await.unwrap().unwrap(), 5);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_increments_with_retry_async_lose_nothing() {
                let Some(pool) = $pool("concurrent_increments").await else { return };
                let mut counter = Note::new("0");
                counter.insert(&pool).await.unwrap();
                let id = counter.id;
                let policy = RetryPolicy::default().max_attempts(1000).max_delay(Duration::from_millis(5));
                let tasks: Vec<_> = (0..8)
                    .map(|_| {
                        let (pool, policy) = (pool.clone(), policy.clone());
                        tokio::spawn(async move {
                            for _ in 0..50 {
                                retry_async(policy.clone(), || {
                                    let pool = pool.clone();
                                    async move {
                                        let mut note = Note::get(&pool, id).await?;
                                        note.body = (note.body.parse::<u32>().unwrap() + 1).to_string();
                                        note.save(&pool).await
                                    }
                                })
                                .await
                                .unwrap();
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                let done = Note::get(&pool, id).await.unwrap();
                assert_eq!((done.body.as_str(), done.version), ("400", 400));
            }

            /// The same increments through `update_with`, on the pool and on
            /// connections taken from it (`&mut` of one, lent to every attempt); the
            /// refusal of a change passes through unchanged.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_update_with_increments_lose_nothing() {
                let Some(pool) = $pool("concurrent_update_with").await else { return };
                let mut counter = Note::new("0");
                counter.insert(&pool).await.unwrap();
                let id = counter.id;
                let policy = RetryPolicy::default().max_attempts(1000).max_delay(Duration::from_millis(5));
                let increment = |note: &mut Note| {
                    note.body = (note.body.parse::<u32>().unwrap() + 1).to_string();
                    Ok::<_, Error>(())
                };
                // Three tasks hold a connection of their own; the others share the
                // pool's fourth.
                let tasks: Vec<_> = (0..8)
                    .map(|task| {
                        let (pool, policy) = (pool.clone(), policy.clone());
                        tokio::spawn(async move {
                            let mut conn = if task < 3 { Some(pool.acquire().await.unwrap()) } else { None };
                            for _ in 0..50 {
                                let saved = match &mut conn {
                                    Some(conn) => Note::update_with(&mut *conn, id, policy.clone(), increment).await,
                                    None => Note::update_with(&pool, id, policy.clone(), increment).await,
                                };
                                let saved = saved.unwrap();
                                assert_eq!(saved.body, saved.version.to_string(), "saved as it was written");
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                let done = Note::get(&pool, id).await.unwrap();
                assert_eq!((done.body.as_str(), done.version), ("400", 400));

                #[derive(Debug, PartialEq)]
                enum Refusal {
                    TooBig,
                    Db(String),
                }
                impl From<Error> for Refusal {
                    fn from(e: Error) -> Self {
                        Refusal::Db(e.to_string())
                    }
                }
                let refused = Note::update_with(&pool, id, policy.clone(), |_| Err(Refusal::TooBig)).await;
                assert_eq!(refused.unwrap_err(), Refusal::TooBig);
                let missing = Note::update_with(&pool, id + 1000, policy, |_| Err(Refusal::TooBig)).await;
                assert!(matches!(missing, Err(Refusal::Db(ref e)) if e.starts_with("no row")), "{missing:?}");
                assert_eq!(Note::get(&pool, id).await.unwrap(), done, "nothing was written");
            }

            /// A save cut short by a timeout while another transaction holds the row.
            /// The entity keeps its version, which is set only once the write's await
            /// completes. The statement, already sent, runs once the lock is free, so
            /// the entity ends behind the row, never ahead: saving it again is a
            /// conflict, and a fresh read and save loses nothing.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_save_cut_short_leaves_the_entity_behind_the_row() {
                let Some(pool) = $pool("a_save_cut_short").await else { return };
                // One connection of its own, so what it runs next waits for the
                // statement the dropped save sent, whichever task returns it.
                let mut conn = pool.acquire().await.unwrap();
                let mut note = Note::new("before");
                note.insert(&mut conn).await.unwrap();
                // The save's statement is now prepared on the connection: the next
                // save sends it on its first poll.
                note.save(&mut conn).await.unwrap();
                // Another transaction holds the row, so the save waits on its lock.
                let mut blocker = pool.begin().await.unwrap();
                let mut held = Note::get(&mut blocker, note.id).await.unwrap();
                held.touch(&mut blocker).await.unwrap();

                note.body = "cut short".into();
                let before = note.clone();
                let cut = tokio::time::timeout(Duration::from_millis(200), note.save(&mut conn)).await;
                assert!(cut.is_err(), "the save waits for the lock: {cut:?}");
                assert_eq!(note, before, "a save dropped mid-way leaves the entity as it was");
                blocker.rollback().await.unwrap();

                // The connection's next read runs after the sent write, which went
                // through once the lock was free.
                let row = Note::get(&mut conn, note.id).await.unwrap();
                assert_eq!((row.body.as_str(), row.version), ("cut short", 2), "the sent write committed");
                let err = note.save(&pool).await.unwrap_err();
                let Error::OptimisticLock(conflict) = &err else { panic!("a conflict, not {err:?}") };
                assert_eq!((conflict.expected, conflict.actual), (1, Some(2)), "behind the row, never ahead");
                assert_eq!(note, before, "a failed save leaves the entity as it was");

                // A fresh read and save loses nothing.
                let mut fresh = Note::get(&pool, note.id).await.unwrap();
                fresh.body = "after".into();
                fresh.save(&pool).await.unwrap();
                assert_eq!(fresh.version, 3);
                assert_eq!(Note::get(&pool, note.id).await.unwrap(), fresh);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_transfers_conserve_the_total() {
                let Some(pool) = $pool("concurrent_transfers").await else { return };
                let mut accounts =
                    [Account { id: 0, balance: 1000, version: 0 }, Account { id: 0, balance: 1000, version: 0 }];
                for account in &mut accounts {
                    account.insert(&pool).await.unwrap();
                }
                let ids = [accounts[0].id, accounts[1].id];
                let policy = RetryPolicy::default().max_attempts(1000).max_delay(Duration::from_millis(5));
                // Four tasks move money both ways, each transfer in a transaction of its
                // own, run again whole on a conflict, deadlock or busy database.
                let tasks: Vec<_> = (0..4)
                    .map(|task| {
                        let (pool, policy) = (pool.clone(), policy.clone());
                        tokio::spawn(async move {
                            for n in 0..25_i64 {
                                let (from, to) = if (task + n) % 2 == 0 { (ids[0], ids[1]) } else { (ids[1], ids[0]) };
                                retry_async(policy.clone(), || {
                                    let pool = pool.clone();
                                    async move {
                                        let mut tx = pool.begin().await?;
                                        let mut payer = Account::get(&mut tx, from).await?;
                                        let mut payee = Account::get(&mut tx, to).await?;
                                        payer.balance -= n;
                                        payee.balance += n;
                                        payer.save(&mut tx).await?;
                                        payee.save(&mut tx).await?;
                                        tx.commit().await?;
                                        Ok(())
                                    }
                                })
                                .await
                                .unwrap();
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                let first = Account::get(&pool, ids[0]).await.unwrap();
                let second = Account::get(&pool, ids[1]).await.unwrap();
                assert_eq!(first.balance + second.balance, 2000, "the total is conserved");
                assert_eq!((first.version, second.version), (100, 100), "each committed transfer wrote both once");
            }
        }
    };
}

pub(crate) use cases;
