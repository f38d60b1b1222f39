//! Async executors under the behaviour suite. The suite's cases are blocking code
//! written once; [`Wait`] lends them an async executor (a sqlx pool, connection or
//! transaction, a tokio-postgres client, a deadpool object) as a blocking one, by
//! running each statement future the library makes to completion on [`RUNTIME`].
//!
//! Only the statements are driven here: every operation still goes through the
//! library's own future, the one `.await` gets on an async executor, so the cases
//! check the code async callers run.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::future::{Future, Ready, ready};
use std::ops::{Deref, DerefMut};
use std::sync::LazyLock;

use versioned::Error;
use versioned::backend::{Async, Backend, Blocking, Executor, Params, Statements};

/// The runtime every async connection of a suite run lives on: multi-threaded, so
/// that any test thread can block on it while its workers drive the connections'
/// background tasks.
pub static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("start the suite's tokio runtime")
});

/// Runs `future` to completion on [`RUNTIME`], from a thread outside it.
pub fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.block_on(future)
}

/// An async executor lent to the suite as a blocking one.
pub struct Wait<X>(pub X);

impl<X: Executor<Mode = Async>> Executor for Wait<X> {
    type Backend = X::Backend;
    type Mode = Blocking;

    fn execute(
        &mut self,
        sql: &'static str,
        params: Params<'_, '_, Self::Backend>,
    ) -> impl Future<Output = Result<u64, Error>> {
        now(self.0.execute(sql, params))
    }

    fn insert_generated(
        &mut self,
        sql: &'static str,
        params: Params<'_, '_, Self::Backend>,
    ) -> impl Future<Output = Result<<Self::Backend as Backend>::GeneratedKey, Error>> {
        now(self.0.insert_generated(sql, params))
    }

    fn discard_generated(
        &mut self,
        sql: &'static Statements,
        key: &<Self::Backend as Backend>::GeneratedKey,
    ) -> impl Future<Output = Result<Option<u64>, Error>> {
        now(self.0.discard_generated(sql, key))
    }

    fn query_row<T>(
        &mut self,
        sql: &'static str,
        params: Params<'_, '_, Self::Backend>,
        read: impl FnOnce(Option<&mut <Self::Backend as Backend>::Row<'_>>) -> Result<T, Error>,
    ) -> impl Future<Output = Result<T, Error>> {
        now(self.0.query_row(sql, params, read))
    }
}

/// The statement run to its end: a future that is ready when made, as a blocking
/// executor's must be.
fn now<F: Future>(statement: F) -> Ready<F::Output> {
    ready(block_on(statement))
}

/// A value whose drop needs the runtime's context: a sqlx `PoolConnection` hands
/// itself back to its pool in a task it spawns, which must find a runtime even when
/// a test thread drops it.
pub struct InRuntime<T>(Option<T>);

impl<T> InRuntime<T> {
    pub fn new(value: T) -> InRuntime<T> {
        InRuntime(Some(value))
    }

    /// The value itself, to be dropped or consumed on the runtime (inside
    /// [`block_on`]).
    pub fn into_inner(mut self) -> T {
        self.0.take().expect("present until dropped")
    }
}

impl<T> Deref for InRuntime<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0.as_ref().expect("present until dropped")
    }
}

impl<T> DerefMut for InRuntime<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.as_mut().expect("present until dropped")
    }
}

impl<T> Drop for InRuntime<T> {
    fn drop(&mut self) {
        let _context = RUNTIME.enter();
        drop(self.0.take());
    }
}
