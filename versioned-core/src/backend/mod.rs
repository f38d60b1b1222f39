//! The database drivers, one module per cargo feature, and the traits that connect
//! them to entities.
//!
//! Everything above this module is written once, generic over [`Executor`]; a backend
//! supplies the placeholders' values ([`Encode`]), reads columns back ([`Decode`]),
//! and runs statement text on its driver, through the driver's prepared-statement
//! cache where it has one.

use std::task::{Context, Poll, Waker};
use std::time::Duration;

pub use crate::entity::Bind;
use crate::error::{BoxError, Error};
use crate::sql::Dialect;
/// The statements of one entity type, as [`Executor::discard_generated`] takes them.
#[doc(hidden)]
pub use crate::sql::Statements;

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub mod sqlite;

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::Sqlite;

#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "postgres", feature = "tokio-postgres"))))]
pub mod postgres;

#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "postgres", feature = "tokio-postgres"))))]
pub use postgres::Postgres;

#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub mod mysql;

#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub use mysql::Mysql;

#[cfg(feature = "sqlx")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlx")))]
pub mod sqlx;

#[cfg(feature = "sqlx")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlx")))]
pub use self::sqlx::Sqlx;

/// A database driver: its dialect, how it binds values and how it hands back rows.
///
/// Implemented by the marker types of this module ([`Sqlite`], ...). An entity can be
/// used with a backend when every field's type implements [`Encode`] and [`Decode`]
/// for it, which the driver's own `ToSql`/`FromSql` traits give.
pub trait Backend: Sized + 'static {
    /// The backend's name, for messages.
    const NAME: &'static str;
    #[doc(hidden)]
    const DIALECT: Dialect;
    /// A bound value, borrowing the field it came from where the driver allows.
    #[doc(hidden)]
    type Param<'a>;
    /// A row handed back by a query.
    #[doc(hidden)]
    type Row<'r>;
    /// What the driver reports after an insert that generated the key.
    #[doc(hidden)]
    type GeneratedKey;
    /// The driver's error for a column it could not read, passed up as it is and
    /// boxed only on the way into [`Error::Decode`](crate::Error::Decode).
    #[doc(hidden)]
    type ReadError: Into<BoxError>;

    /// Whether the database generated no key (a NULL, or MySQL's 0).
    #[doc(hidden)]
    fn generated_nothing(key: &Self::GeneratedKey) -> bool;

    /// A generated key as text, for messages.
    #[doc(hidden)]
    fn render_generated(key: &Self::GeneratedKey) -> String;
}

/// A type the backend `B` can bind as a statement parameter.
///
/// Implemented for every type the driver can bind (e.g. every
/// `rusqlite::types::ToSql`); implement the driver's trait for your own types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be bound as a parameter on this backend",
    label = "an entity field of type `{Self}` cannot be bound here",
    note = "implement the driver's own `ToSql` (rusqlite, postgres) or `mysql::prelude::ToValue` (given for every `Into<mysql::Value> + Clone` type) for it, or mark the field #[versioned(skip)]"
)]
pub trait Encode<B: Backend> {
    #[doc(hidden)]
    fn encode(&self) -> B::Param<'_>;
}

/// A type the backend `B` can read from a column.
///
/// Implemented for every type the driver can read (e.g. every
/// `rusqlite::types::FromSql`); implement the driver's trait for your own types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a column on this backend",
    label = "an entity field of type `{Self}` cannot be read here",
    note = "implement the driver's own `FromSql` (rusqlite, postgres) or `FromValue` (mysql) for it, or mark the field #[versioned(skip)]"
)]
pub trait Decode<B: Backend>: Sized {
    #[doc(hidden)]
    fn decode(row: &mut B::Row<'_>, index: usize) -> Result<Self, B::ReadError>;
    #[doc(hidden)]
    fn decode_generated(key: &B::GeneratedKey) -> Result<Self, BoxError>;
}

/// A statement's parameters, lent to an [`Executor`]: the values an entity bound, in
/// the order of the statement's placeholders, mutable so that a driver which needs
/// owned values can take them without a second copy.
//
// A struct rather than a bare `&mut [B::Param<'p>]`: an async operation holds the
// executor's statement future across an `.await`, and rustc proves such a future
// `Send` for a concrete executor only when the statement method's signature has no
// outlives bound on a projection (`B::Param<'p>: 'a`, implied by the bare slice);
// it fails with "lifetime bound not satisfied" (rust-lang/rust#100013) even for an
// executor whose futures are `std::future::ready`. A struct's own bounds reduce to
// its lifetimes, which it proves.
#[doc(hidden)]
pub struct Params<'a, 'p, B: Backend>(pub &'a mut [B::Param<'p>]);

/// Whether an executor's operations return their result ([`Blocking`]) or a future
/// of it ([`Async`]).
///
/// Every operation of [`Versioned`](crate::Versioned) is written once, as a future;
/// the executor's mode decides what the caller gets: `user.save(&conn)?` on a
/// blocking executor, `user.save(&pool).await?` on an async one.
pub trait Mode: 'static {
    /// What an operation returns: the future's output, or the future itself.
    type Out<F: Future>;

    /// Turns an operation's future into what the caller gets.
    #[doc(hidden)]
    fn run<F: Future>(f: F) -> Self::Out<F>;
}

/// The mode of the blocking drivers (rusqlite, postgres, mysql): an operation runs
/// when called and returns its result.
///
/// Code generic over blocking executors names it in a bound,
/// `E: Executor<Mode = Blocking>`, and gets the result itself:
///
/// ```
/// use versioned_core::backend::{Bind, Blocking, Executor};
/// use versioned_core::{Error, Versioned};
///
/// /// Saves on whatever blocking executor it is given.
/// fn rename<T, E>(entity: &mut T, exec: E) -> Result<(), Error>
/// where
///     T: Versioned + Bind<E::Backend>,
///     E: Executor<Mode = Blocking>,
/// {
///     entity.save(exec)
/// }
/// ```
#[derive(Debug, Clone, Copy)]
pub enum Blocking {}

impl Mode for Blocking {
    type Out<F: Future> = F::Output;

    /// Polls once: a blocking executor's statements have run by the time their
    /// futures exist, so an operation's future is ready on its first poll. Always
    /// inlined, so that the future is built where it is polled, never copied.
    #[inline(always)]
    fn run<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(out) => out,
            Poll::Pending => unreachable!("a blocking executor's statement futures are ready when made"),
        }
    }
}

/// The mode of the async drivers (tokio-postgres, deadpool-postgres): an operation
/// returns a future, to be awaited.
///
/// Code generic over async executors names it in a bound, as
/// [`Bind`] shows.
#[derive(Debug, Clone, Copy)]
pub enum Async {}

impl Mode for Async {
    type Out<F: Future> = F;

    #[inline]
    fn run<F: Future>(f: F) -> F {
        f
    }
}

/// How a mode waits between the attempts of
/// [`Versioned::update_with`](crate::Versioned::update_with): the blocking mode sleeps
/// the thread, the async mode awaits tokio's timer (cargo feature `tokio`).
#[diagnostic::on_unimplemented(
    message = "`update_with` on an async executor waits between attempts with tokio's timer",
    label = "needs versioned's `tokio` feature",
    note = "enable the `tokio` feature of versioned (`features = [\"tokio\", ..]`)"
)]
pub trait Pause: Mode {
    /// Waits `delay`.
    #[doc(hidden)]
    fn pause(delay: Duration) -> impl Future<Output = ()> + Send;
}

impl Pause for Blocking {
    /// Sleeps the thread now: a blocking operation's future is ready when made.
    fn pause(delay: Duration) -> impl Future<Output = ()> + Send {
        std::thread::sleep(delay);
        std::future::ready(())
    }
}

#[cfg(feature = "tokio")]
impl Pause for Async {
    fn pause(delay: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(delay)
    }
}

/// What an operation of [`Versioned`](crate::Versioned) returns on the executor `E`:
/// the result on a blocking executor, a future of it on an async one.
pub type Out<E, F> = <<E as Executor>::Mode as Mode>::Out<F>;

/// Something statements run on: a connection, a transaction, a savepoint, a pool.
///
/// Methods of [`Versioned`](crate::Versioned) take an executor by value, e.g.
/// `&rusqlite::Connection` or `&rusqlite::Transaction`. `&mut E` is an executor too,
/// so one executor can be lent to several calls (across [`retry`](crate::retry)
/// attempts, say).
///
/// Each statement method returns a future. Those of a blocking executor have run
/// the statement when they are made (they are ready at once); those of an async one
/// run it when awaited.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an executor of versioned",
    label = "statements cannot run on this",
    note = "pass a connection, transaction or pool by reference: `&conn`, `&mut client`, `&tx`, `&pool`, `&mut tx`",
    note = "sqlx on SQLite: `&mut SqliteConnection` (what `&mut *tx` and `&mut *conn` give) is not an executor, since naming it would bring a second SQLite library; pass `&mut tx` or `&mut conn` instead"
)]
pub trait Executor {
    /// The backend this executor's statements run on.
    type Backend: Backend;
    /// Whether operations on this executor return results or futures.
    type Mode: Mode;

    /// Runs a write; returns the number of rows it matched.
    #[doc(hidden)]
    fn execute(
        &mut self,
        sql: &'static str,
        params: Params<'_, '_, Self::Backend>,
    ) -> impl Future<Output = Result<u64, Error>>;

    /// Runs an insert whose key the database generates; returns that key.
    #[doc(hidden)]
    fn insert_generated(
        &mut self,
        sql: &'static str,
        params: Params<'_, '_, Self::Backend>,
    ) -> impl Future<Output = Result<<Self::Backend as Backend>::GeneratedKey, Error>>;

    /// Deletes the row an insert just stored under `key`, a key that is missing or
    /// could not become the entity's key field, so that the failed insert leaves
    /// nothing behind. Returns how many rows the delete removed; `None` when no
    /// statement can find the row.
    #[doc(hidden)]
    fn discard_generated(
        &mut self,
        sql: &'static Statements,
        key: &<Self::Backend as Backend>::GeneratedKey,
    ) -> impl Future<Output = Result<Option<u64>, Error>>;

    /// Runs a query and hands its first row to `read`, `None` when there is none
    /// (mutably, so a driver whose rows own their values can move them out rather
    /// than copy them); `read` decides what no row means.
    #[doc(hidden)]
    fn query_row<T>(
        &mut self,
        sql: &'static str,
        params: Params<'_, '_, Self::Backend>,
        read: impl FnOnce(Option<&mut <Self::Backend as Backend>::Row<'_>>) -> Result<T, Error>,
    ) -> impl Future<Output = Result<T, Error>>;
}

impl<E: Executor + ?Sized> Executor for &mut E {
    type Backend = E::Backend;
    type Mode = E::Mode;

    #[inline]
    fn execute(
        &mut self,
        sql: &'static str,
        params: Params<'_, '_, Self::Backend>,
    ) -> impl Future<Output = Result<u64, Error>> {
        (**self).execute(sql, params)
    }

    #[inline]
    fn insert_generated(
        &mut self,
        sql: &'static str,
        params: Params<'_, '_, Self::Backend>,
    ) -> impl Future<Output = Result<<Self::Backend as Backend>::GeneratedKey, Error>> {
        (**self).insert_generated(sql, params)
    }

    fn discard_generated(
        &mut self,
        sql: &'static Statements,
        key: &<Self::Backend as Backend>::GeneratedKey,
    ) -> impl Future<Output = Result<Option<u64>, Error>> {
        (**self).discard_generated(sql, key)
    }

    #[inline]
    fn query_row<T>(
        &mut self,
        sql: &'static str,
        params: Params<'_, '_, Self::Backend>,
        read: impl FnOnce(Option<&mut <Self::Backend as Backend>::Row<'_>>) -> Result<T, Error>,
    ) -> impl Future<Output = Result<T, Error>> {
        (**self).query_row(sql, params, read)
    }
}

/// A blocking statement as a future: it runs on the first poll, which
/// [`Blocking::run`] makes at once, and its result is handed back from that poll
/// rather than stored in the future.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) struct Now<F>(Option<F>);

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
impl<F> Now<F> {
    #[inline(always)]
    pub(crate) fn new(f: F) -> Self {
        Now(Some(f))
    }
}

// The closure is never pinned: it is moved out and called on the first poll.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
impl<F> Unpin for Now<F> {}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
impl<T, F: FnOnce() -> T> Future for Now<F> {
    type Output = T;

    #[inline(always)]
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<T> {
        match self.get_mut().0.take() {
            Some(f) => Poll::Ready(f()),
            None => unreachable!("a statement future is polled once"),
        }
    }
}

/// A blocking driver's statements, run when called. Each blocking executor type
/// implements it, and [`blocking_executor!`] makes it an [`Executor`] whose futures
/// run the statement on their first poll.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) trait RunNow {
    type Backend: Backend;

    fn execute(&mut self, sql: &str, params: &mut [<Self::Backend as Backend>::Param<'_>]) -> Result<u64, Error>;

    fn insert_generated(
        &mut self,
        sql: &str,
        params: &mut [<Self::Backend as Backend>::Param<'_>],
    ) -> Result<<Self::Backend as Backend>::GeneratedKey, Error>;

    fn discard_generated(
        &mut self,
        sql: &Statements,
        key: &<Self::Backend as Backend>::GeneratedKey,
    ) -> Result<Option<u64>, Error>;

    fn query_row<T>(
        &mut self,
        sql: &str,
        params: &mut [<Self::Backend as Backend>::Param<'_>],
        read: impl FnOnce(Option<&mut <Self::Backend as Backend>::Row<'_>>) -> Result<T, Error>,
    ) -> Result<T, Error>;
}

/// Implements [`Executor`] in [`Blocking`] mode for types that implement [`RunNow`].
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
macro_rules! blocking_executor {
    ($backend:ty: $($ty:ty),* $(,)?) => {$(
        impl $crate::backend::Executor for $ty {
            type Backend = $backend;
            type Mode = $crate::backend::Blocking;

            #[inline]
            fn execute(
                &mut self,
                sql: &'static str,
                params: $crate::backend::Params<'_, '_, Self::Backend>,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<u64, $crate::Error>> {
                $crate::backend::Now::new(move || $crate::backend::RunNow::execute(self, sql, params.0))
            }

            #[inline]
            fn insert_generated(
                &mut self,
                sql: &'static str,
                params: $crate::backend::Params<'_, '_, Self::Backend>,
            ) -> impl ::std::future::Future<
                Output = ::std::result::Result<<Self::Backend as $crate::backend::Backend>::GeneratedKey, $crate::Error>,
            > {
                $crate::backend::Now::new(move || $crate::backend::RunNow::insert_generated(self, sql, params.0))
            }

            fn discard_generated(
                &mut self,
                sql: &'static $crate::sql::Statements,
                key: &<Self::Backend as $crate::backend::Backend>::GeneratedKey,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<Option<u64>, $crate::Error>> {
                $crate::backend::Now::new(move || $crate::backend::RunNow::discard_generated(self, sql, key))
            }

            #[inline]
            fn query_row<T>(
                &mut self,
                sql: &'static str,
                params: $crate::backend::Params<'_, '_, Self::Backend>,
                read: impl FnOnce(
                    Option<&mut <Self::Backend as $crate::backend::Backend>::Row<'_>>,
                ) -> ::std::result::Result<T, $crate::Error>,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<T, $crate::Error>> {
                $crate::backend::Now::new(move || $crate::backend::RunNow::query_row(self, sql, params.0, read))
            }
        }
    )*};
}
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) use blocking_executor;
