//! The `Versioned` trait: every operation, written once over any executor.

use std::fmt::Debug;

use crate::backend::{Backend, Decode, Executor, Mode, Out, Params, Pause};
use crate::error::{
    ColumnError, DecodeError, Error, NoGeneratedKeyError, Operation, OptimisticLockError, TakeBack, chain,
};
use crate::retry::RetryPolicy;
use crate::sql::{EntityMeta, Statements};

/// An entity whose writes are checked against its version: implemented by
/// `#[derive(Versioned)]`.
///
/// Every write carries `WHERE key = ? AND version = ?` and stores a new version,
/// computed in Rust as `old.wrapping_add(1)` and bound as a value. A write succeeds
/// when it matched exactly one row. One that matched none is an
/// [`Error::OptimisticLock`] saying which version the database holds now, or that the
/// row is gone; or, when the row holds the expected version all the same, an
/// [`Error::WriteIgnored`] (a trigger or policy skipped it). One that matched several
/// is an [`Error::KeyNotUnique`]: the key fields must be the table's primary key or a
/// unique key. A failed call leaves the entity exactly as it was.
///
/// Methods take an [`Executor`] by value:
/// - SQLite: `&rusqlite::Connection`, `&rusqlite::Transaction`, `&rusqlite::Savepoint`
///   (or the same behind `&mut`);
/// - PostgreSQL: `&mut postgres::Client`, `&mut postgres::Transaction`, and
///   `&mut versioned::backend::postgres::CachingClient` and its `CachingTransaction`
///   (statements prepared once per connection);
/// - MySQL and MariaDB: `&mut mysql::Conn`, `&mut mysql::PooledConn`,
///   `&mut mysql::Transaction`;
/// - PostgreSQL, async (feature `tokio-postgres`): `&tokio_postgres::Client` and
///   `&tokio_postgres::Transaction`; with the feature `deadpool-postgres`, a pool's
///   `&deadpool_postgres::Object` (or `&*object`) and its `&deadpool_postgres::Transaction`
///   (statements prepared once per connection, in deadpool's statement cache); each
///   also behind `&mut`;
/// - any database through sqlx, async (feature `sqlx`): `&sqlx::Pool<DB>`,
///   `&mut sqlx::pool::PoolConnection<DB>`, `&mut sqlx::Transaction<'_, DB>`; with the
///   features `sqlx-postgres` / `sqlx-mysql`, also `&mut PgConnection` /
///   `&mut MySqlConnection` (what `&mut *tx` gives);
///
/// and `&mut E` of any executor `E`, to lend one executor to several calls.
///
/// Each operation is written once, as a future, and the executor's
/// [`Mode`](crate::backend::Mode) decides what a call returns: on the blocking
/// executors, the result itself (`user.save(&conn)?`); on the async ones, a future
/// of it, to be awaited (`user.save(&client).await?`). The futures of the async
/// executors above are `Send`, so they run in `tokio::spawn` and web handlers.
///
/// An async operation dropped before it completes (a timeout, a cancelled request)
/// leaves the entity as it was, but a statement it had sent may still take effect:
/// see [`Versioned::save`].
///
/// A write that succeeds inside a transaction which is then rolled back leaves the
/// entity holding the version it wrote: read it again (or run the whole
/// read-modify-write inside [`retry`](crate::retry)) before writing it once more.
pub trait Versioned: Sized {
    /// The key: the `#[id]` field's type, or a tuple of them in field order for a
    /// composite key.
    type Id: Debug;
    /// The `#[version]` field's type: `i16`, `i32` or `i64`.
    type Version: VersionNumber;

    #[doc(hidden)]
    const META: &'static EntityMeta;
    #[doc(hidden)]
    fn statements(dialect: crate::sql::Dialect) -> &'static Statements;
    #[doc(hidden)]
    fn version_of(&self) -> Self::Version;
    #[doc(hidden)]
    fn set_version(&mut self, version: Self::Version);
    /// The entity's own key, rendered with `Debug` as [`Versioned::Id`] would be.
    #[doc(hidden)]
    fn key_debug(&self) -> String;
    /// Gives `self` the skipped fields of `from`: `reload` keeps them.
    #[doc(hidden)]
    fn keep_skipped(&mut self, from: &mut Self);

    /// Inserts the entity as a new row with version 0.
    ///
    /// On success the version field is 0 whatever it held, and a `#[id(auto)]` key is
    /// filled in with the key the database generated. A duplicate key is an
    /// [`Error::Database`]. When the key column generated nothing
    /// ([`Error::NoGeneratedKey`]) or generated a key the field cannot hold
    /// ([`Error::Decode`], naming that key), the inserted row is deleted again where it
    /// can be found, and the error says whether it was.
    fn insert<E: Executor>(&mut self, mut exec: E) -> Out<E, impl Future<Output = Result<(), Error>>>
    where
        Self: Bind<E::Backend>,
    {
        E::Mode::run(async move {
            let sql = statements::<Self, E>();
            let zero = Self::Version::ZERO;
            if Self::META.auto_key {
                let key = {
                    let mut params = self.bind_insert(&zero);
                    exec.insert_generated(&sql.insert, Params(params.as_mut())).await?
                };
                // The key is stored, or the inserted row taken back (the cold path).
                if let Err(misfit) = self.store_generated_key(&key) {
                    return Err(Self::take_back(&key, sql, exec, misfit).await);
                }
            } else {
                let mut params = self.bind_insert(&zero);
                exec.execute(&sql.insert, Params(params.as_mut())).await?;
            }
            self.set_version(zero);
            Ok(())
        })
    }

    /// Writes every persisted field and stores the next version, if the row still
    /// holds the entity's version.
    ///
    /// On success the entity's version is the new one. When the row holds another
    /// version, or is gone, the result is [`Error::OptimisticLock`] and nothing
    /// changed.
    ///
    /// # Dropped before it completes
    ///
    /// On an async executor the future can be dropped at an `.await`: a
    /// `tokio::time::timeout` that fires while the row is locked, a request whose
    /// client went away. The entity's version is set only after the write's `.await`
    /// has completed, so a dropped save leaves the entity exactly as it was, and its
    /// version is never ahead of the row's. The `UPDATE` may already have been sent,
    /// though, and may still commit: on its own outside a transaction, with the
    /// transaction inside one. Then the row holds the next version and the entity is
    /// one behind: its next write is an [`Error::OptimisticLock`], never a silent
    /// overwrite. Read the row again (`get`, `reload`) before writing once more, and
    /// nothing is lost; [`retry`](crate::retry) loops that read inside the closure
    /// do so anyway.
    fn save<E: Executor>(&mut self, exec: E) -> Out<E, impl Future<Output = Result<(), Error>>>
    where
        Self: Bind<E::Backend>,
    {
        E::Mode::run(self.save_on(exec))
    }

    /// Stores the next version without writing any other field, if the row still
    /// holds the entity's version: marks the row as changed, e.g. when rows that
    /// belong to it changed.
    fn touch<E: Executor>(&mut self, mut exec: E) -> Out<E, impl Future<Output = Result<(), Error>>>
    where
        Self: Bind<E::Backend>,
    {
        E::Mode::run(async move {
            let sql = statements::<Self, E>();
            let new = self.version_of().next();
            let matched = {
                let mut params = self.bind_touch(&new);
                exec.execute(&sql.touch, Params(params.as_mut())).await?
            };
            if matched != 1 {
                return Err(self.refused(Operation::Touch, matched, exec).await);
            }
            self.set_version(new);
            Ok(())
        })
    }

    /// Deletes the row, if it still holds the entity's version.
    fn delete<E: Executor>(&self, mut exec: E) -> Out<E, impl Future<Output = Result<(), Error>>>
    where
        Self: Bind<E::Backend>,
    {
        E::Mode::run(async move {
            let sql = statements::<Self, E>();
            let matched = {
                let mut params = self.bind_delete();
                exec.execute(&sql.delete, Params(params.as_mut())).await?
            };
            if matched != 1 {
                return Err(self.refused(Operation::Delete, matched, exec).await);
            }
            Ok(())
        })
    }

    /// Checks that the row still holds the entity's version, without writing.
    ///
    /// On PostgreSQL and MySQL the version is read with a locking read (`FOR SHARE`,
    /// `LOCK IN SHARE MODE`): it sees the latest committed row even inside a
    /// `REPEATABLE READ` transaction (on PostgreSQL a row changed since the snapshot
    /// is a retryable serialization failure), and inside a transaction the row stays
    /// share-locked until it ends, so the check holds until commit. PostgreSQL refuses
    /// locking reads in a `READ ONLY` transaction. On SQLite the version is read in the
    /// transaction's snapshot; a later write in that transaction fails with a
    /// retryable busy error if another connection wrote since.
    fn verify<E: Executor>(&self, mut exec: E) -> Out<E, impl Future<Output = Result<(), Error>>>
    where
        Self: Bind<E::Backend>,
    {
        let sql = statements::<Self, E>();
        E::Mode::run(async move {
            let mut params = self.bind_own_key();
            let actual =
                exec.query_row(&sql.select_version, Params(params.as_mut()), |row| self.read_version(row)).await?;
            match actual {
                Some(v) if v == self.version_of().to_i64() => Ok(()),
                actual => Err(self.conflict_with(actual)),
            }
        })
    }

    /// Reads every persisted field again from the row with the entity's key.
    ///
    /// Skipped fields keep their values. No row: [`Error::NotFound`], and the entity
    /// is unchanged.
    fn reload<E: Executor>(&mut self, mut exec: E) -> Out<E, impl Future<Output = Result<(), Error>>>
    where
        Self: Bind<E::Backend>,
    {
        E::Mode::run(async move {
            let sql = statements::<Self, E>();
            let mut fresh = {
                let this = &*self;
                let mut params = this.bind_own_key();
                exec.query_row(&sql.select, Params(params.as_mut()), |row| match row {
                    Some(row) => Self::decode_row(row).map_err(|e| decode_error::<Self>(e, this.key_debug())),
                    None => Err(Error::NotFound { table: Self::META.qualified, id: this.key_debug() }),
                })
                .await?
            };
            fresh.keep_skipped(self);
            *self = fresh;
            Ok(())
        })
    }

    /// Reads the row with key `id`; `Ok(None)` when there is none.
    fn find<E: Executor>(mut exec: E, id: Self::Id) -> Out<E, impl Future<Output = Result<Option<Self>, Error>>>
    where
        Self: Bind<E::Backend>,
    {
        let sql = statements::<Self, E>();
        E::Mode::run(async move {
            let mut params = Self::bind_key(&id);
            exec.query_row(&sql.select, Params(params.as_mut()), |row| match row {
                Some(row) => Self::read_row(row, &id).map(Some),
                None => Ok(None),
            })
            .await
        })
    }

    /// Reads the row with key `id`; [`Error::NotFound`] when there is none.
    fn get<E: Executor>(exec: E, id: Self::Id) -> Out<E, impl Future<Output = Result<Self, Error>>>
    where
        Self: Bind<E::Backend>,
    {
        E::Mode::run(Self::get_on(exec, statements::<Self, E>(), id))
    }

    /// Reads the row with key `id`, lets `change` modify the entity, and saves it.
    /// When the read or the save fails with a [retryable](Error::is_retryable) error
    /// (another writer saved first, a serialization failure, a deadlock), it reads the
    /// row afresh and applies `change` again, up to [`RetryPolicy::attempts`] times in
    /// all, waiting between attempts as [`retry`](crate::retry) does. Returns the
    /// entity as saved, at its new version.
    ///
    /// `change` may refuse: its error comes back unchanged, and nothing is written.
    /// Errors of the library come back converted into the same type `R` (use
    /// [`Error`] itself when `change` never refuses: `Ok::<_, Error>(())`). A row that
    /// is not there is [`Error::NotFound`], at once.
    ///
    /// `change` runs once per attempt, each time on a freshly read entity: compute the
    /// change from the entity (`visits += 1`), not from what an earlier attempt left.
    ///
    /// The executor is lent to every attempt, so a pool, a connection and `&mut` of
    /// either all serve. On a transaction, a conflict is retried within it; but a
    /// retryable *database* error (a serialization failure, a deadlock) has already
    /// ended the transaction, and the attempt after it fails: retry the whole
    /// transaction instead. Inside a `REPEATABLE READ` transaction every attempt reads
    /// the same snapshot, so a conflict repeats until the attempts run out.
    ///
    /// On an async executor it waits between attempts with tokio's timer (cargo
    /// feature `tokio`), and its future is `Send` when `change` and `R` are.
    ///
    /// ```
    /// use versioned_core::backend::{Bind, Blocking, Executor};
    /// use versioned_core::{Error, RetryPolicy, Versioned};
    ///
    /// /// Why a withdrawal did not happen.
    /// #[derive(Debug)]
    /// enum WithdrawError {
    ///     /// The balance is too low: nothing was written.
    ///     Insufficient,
    ///     /// The database's error, or a conflict that outlasted the retries.
    ///     Db(Error),
    /// }
    ///
    /// impl From<Error> for WithdrawError {
    ///     fn from(e: Error) -> Self {
    ///         WithdrawError::Db(e)
    ///     }
    /// }
    ///
    /// /// Takes `amount` from the balance (which `balance` reaches) of entity `id`.
    /// fn withdraw<T, E>(exec: E, id: T::Id, amount: i64, balance: impl Fn(&mut T) -> &mut i64) -> Result<T, WithdrawError>
    /// where
    ///     T: Versioned + Bind<E::Backend>,
    ///     T::Id: Clone,
    ///     E: Executor<Mode = Blocking>,
    /// {
    ///     T::update_with(exec, id, RetryPolicy::default(), |account| {
    ///         let balance = balance(account);
    ///         if *balance < amount {
    ///             return Err(WithdrawError::Insufficient);
    ///         }
    ///         *balance -= amount;
    ///         Ok(())
    ///     })
    /// }
    /// ```
    fn update_with<E: Executor, F, R>(
        mut exec: E,
        id: Self::Id,
        policy: RetryPolicy,
        mut change: F,
    ) -> Out<E, impl Future<Output = Result<Self, R>>>
    where
        Self: Bind<E::Backend>,
        Self::Id: Clone,
        E::Mode: Pause,
        F: FnMut(&mut Self) -> Result<(), R>,
        R: From<Error>,
    {
        E::Mode::run(async move {
            let mut failed = 0;
            loop {
                let error = match Self::get_on(&mut exec, statements::<Self, E>(), id.clone()).await {
                    Ok(mut entity) => {
                        change(&mut entity)?;
                        match entity.save_on(&mut exec).await {
                            Ok(()) => return Ok(entity),
                            Err(e) => e,
                        }
                    }
                    Err(e) => e,
                };
                if !error.is_retryable() || failed + 1 >= policy.attempts() {
                    return Err(error.into());
                }
                failed += 1;
                <E::Mode as Pause>::pause(policy.delay(failed)).await;
            }
        })
    }
}

/// The statements of `T` in the dialect of `E`'s backend.
#[inline]
fn statements<T: Versioned, E: Executor>() -> &'static Statements {
    T::statements(<E::Backend as Backend>::DIALECT)
}

#[cold]
#[inline(never)]
fn decode_error<T: Versioned>(e: ColumnError, id: String) -> Error {
    Error::Decode(DecodeError::new(T::META.qualified, e.column, id, e.source))
}

/// The steps the operations share, kept off the trait's public surface.
trait Ops: Versioned {
    /// Decodes the row with key `id`.
    #[inline]
    fn read_row<B: Backend>(row: &mut B::Row<'_>, id: &Self::Id) -> Result<Self, Error>
    where
        Self: Bind<B>,
    {
        match Self::decode_row(row) {
            Ok(entity) => Ok(entity),
            Err(e) => Err(decode_error::<Self>(e, format!("{id:?}"))),
        }
    }

    /// Decodes the version of the entity's row, `None` when there is no row.
    #[inline]
    fn read_version<B: Backend>(&self, row: Option<&mut B::Row<'_>>) -> Result<Option<i64>, Error>
    where
        Self: Bind<B>,
    {
        match row {
            Some(row) => match Self::decode_version(row) {
                Ok(version) => Ok(Some(version.to_i64())),
                Err(e) => Err(decode_error::<Self>(e, self.key_debug())),
            },
            None => Ok(None),
        }
    }

    /// `save`'s work: the version-checked update, and the new version once it is
    /// confirmed.
    async fn save_on<E: Executor>(&mut self, mut exec: E) -> Result<(), Error>
    where
        Self: Bind<E::Backend>,
    {
        let sql = statements::<Self, E>();
        let new = self.version_of().next();
        let matched = {
            let mut params = self.bind_update(&new);
            exec.execute(&sql.update, Params(params.as_mut())).await?
        };
        if matched != 1 {
            return Err(self.refused(Operation::Save, matched, exec).await);
        }
        self.set_version(new);
        Ok(())
    }

    /// `get`'s work: the row with key `id`, or [`Error::NotFound`]. `sql`: the
    /// entity's statements in `E`'s dialect, looked up before the future is made.
    /// Always inlined, so that `get`'s future is built where it is polled.
    #[inline(always)]
    fn get_on<E: Executor>(
        mut exec: E,
        sql: &'static Statements,
        id: Self::Id,
    ) -> impl Future<Output = Result<Self, Error>>
    where
        Self: Bind<E::Backend>,
    {
        async move {
            let mut params = Self::bind_key(&id);
            exec.query_row(&sql.select, Params(params.as_mut()), |row| match row {
                Some(row) => Self::read_row(row, &id),
                None => Err(Error::NotFound { table: Self::META.qualified, id: format!("{id:?}") }),
            })
            .await
        }
    }

    /// The error for a version-checked write that matched `matched` rows, not one:
    /// several is a key that is not unique; none is told by the version the row
    /// holds now (read once more): another version or no row is a conflict, the
    /// expected version means the database skipped the write.
    async fn refused<E: Executor>(&self, operation: Operation, matched: u64, mut exec: E) -> Error
    where
        Self: Bind<E::Backend>,
    {
        if matched > 1 {
            return Error::KeyNotUnique { operation, table: Self::META.qualified, id: self.key_debug(), rows: matched };
        }
        let sql = statements::<Self, E>();
        let mut params = self.bind_own_key();
        let expected = self.version_of().to_i64();
        match exec.query_row(&sql.select_version, Params(params.as_mut()), |row| self.read_version(row)).await {
            Ok(Some(version)) if version == expected => {
                Error::WriteIgnored { operation, table: Self::META.qualified, id: self.key_debug(), version }
            }
            Ok(actual) => self.conflict_with(actual),
            Err(e) => e,
        }
    }

    /// Gives the entity the key an insert generated. When there is none, or it does
    /// not fit the field, the entity is unchanged and the result says why, for
    /// [`Ops::take_back`]: `None` when there is no key.
    #[inline]
    fn store_generated_key<B: Backend>(&mut self, key: &B::GeneratedKey) -> Result<(), Option<ColumnError>>
    where
        Self: Bind<B>,
    {
        if B::generated_nothing(key) {
            return Err(None);
        }
        self.set_generated_key(key).map_err(Some)
    }

    /// Deletes the row an insert stored under the unusable generated `key`; `misfit`
    /// says why the key did not fit the field, `None` when there is no key.
    async fn take_back<E: Executor>(
        key: &<E::Backend as Backend>::GeneratedKey,
        sql: &'static Statements,
        mut exec: E,
        misfit: Option<ColumnError>,
    ) -> Error {
        let take_back = match exec.discard_generated(sql, key).await {
            Ok(Some(1)) => TakeBack::Done,
            Ok(Some(rows)) => TakeBack::Removed(rows),
            Ok(None) => TakeBack::Unreachable,
            Err(e) => TakeBack::Failed(chain(&e)),
        };
        let (table, column) = (Self::META.qualified, Self::META.columns[Self::META.key[0]]);
        match misfit {
            None => Error::NoGeneratedKey(NoGeneratedKeyError::new(table, column, take_back)),
            Some(e) => {
                let key = E::Backend::render_generated(key);
                Error::Decode(DecodeError::generated_key(table, e.column, key, e.source, take_back))
            }
        }
    }

    fn conflict_with(&self, actual: Option<i64>) -> Error {
        Error::OptimisticLock(OptimisticLockError {
            entity: Self::META.entity,
            table: Self::META.qualified,
            id: self.key_debug(),
            expected: self.version_of().to_i64(),
            actual,
        })
    }
}

impl<T: Versioned> Ops for T {}

/// How an entity binds its fields and reads its rows on the backend `B`: implemented
/// by `#[derive(Versioned)]` for every backend that can bind and read all of the
/// entity's persisted fields.
///
/// Name it in the bounds of code that is generic over executors, with the mode the
/// code expects ([`Blocking`](crate::backend::Blocking): results;
/// [`Async`](crate::backend::Async): futures):
///
/// ```
/// use versioned_core::backend::{Async, Bind, Blocking, Executor};
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
///
/// /// Saves on whatever async executor it is given.
/// async fn rename_async<T, E>(entity: &mut T, exec: E) -> Result<(), Error>
/// where
///     T: Versioned + Bind<E::Backend>,
///     E: Executor<Mode = Async>,
/// {
///     entity.save(exec).await
/// }
/// ```
//
// Each `bind_*` returns the parameters of one statement, in the order documented on
// [`Statements`]; the values borrow the entity's fields where the driver allows. They
// are returned, not lent to a closure, so that an async operation holds them across
// the statement's `.await`. The slice is mutable so that a driver which needs owned
// values can take them without a second copy.
pub trait Bind<B: Backend>: Versioned {
    #[doc(hidden)]
    fn bind_insert<'a>(&'a self, version: &'a Self::Version) -> impl AsMut<[B::Param<'a>]>;
    #[doc(hidden)]
    fn bind_update<'a>(&'a self, new: &'a Self::Version) -> impl AsMut<[B::Param<'a>]>;
    #[doc(hidden)]
    fn bind_touch<'a>(&'a self, new: &'a Self::Version) -> impl AsMut<[B::Param<'a>]>;
    #[doc(hidden)]
    fn bind_delete(&self) -> impl AsMut<[B::Param<'_>]>;
    #[doc(hidden)]
    fn bind_own_key(&self) -> impl AsMut<[B::Param<'_>]>;
    #[doc(hidden)]
    fn bind_key(id: &Self::Id) -> impl AsMut<[B::Param<'_>]>;
    /// Reads every persisted column, in field order; skipped fields get `Default`.
    #[doc(hidden)]
    fn decode_row(row: &mut B::Row<'_>) -> Result<Self, ColumnError>;
    /// Reads the version from column 0.
    #[doc(hidden)]
    fn decode_version(row: &mut B::Row<'_>) -> Result<Self::Version, ColumnError>;
    /// Stores a key the database generated (entities with `#[id(auto)]`).
    #[doc(hidden)]
    fn set_generated_key(&mut self, key: &B::GeneratedKey) -> Result<(), ColumnError>;
}

/// Reads column `index` as a `T`, naming `column` on failure.
#[doc(hidden)]
#[inline]
pub fn decode<B: Backend, T: Decode<B>>(
    row: &mut B::Row<'_>,
    index: usize,
    column: &'static str,
) -> Result<T, ColumnError> {
    match T::decode(row, index) {
        Ok(value) => Ok(value),
        Err(source) => Err(column_error::<B>(column, source)),
    }
}

/// The cold arm of [`decode`].
#[cold]
#[inline(never)]
fn column_error<B: Backend>(column: &'static str, source: B::ReadError) -> ColumnError {
    ColumnError { column, source: source.into() }
}

/// Reads a generated key as a `T`, naming `column` on failure.
#[doc(hidden)]
pub fn decode_generated<B: Backend, T: Decode<B>>(
    key: &B::GeneratedKey,
    column: &'static str,
) -> Result<T, ColumnError> {
    T::decode_generated(key).map_err(|source| ColumnError { column, source })
}

mod sealed {
    pub trait Sealed {}
}

/// The types a `#[version]` field can have: `i16`, `i32` and `i64`, which every
/// backend binds and reads.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a #[version] field; use i16, i32 or i64",
    label = "unsupported version type",
    note = "a version is an integer that every backend binds: i16, i32 or i64"
)]
pub trait VersionNumber: Copy + Eq + Debug + Send + Sync + sealed::Sealed + 'static {
    /// The version of a freshly inserted row.
    const ZERO: Self;
    /// The version after this one: `wrapping_add(1)`, so `MAX` is followed by `MIN`.
    fn next(self) -> Self;
    /// Widened for [`OptimisticLockError`].
    fn to_i64(self) -> i64;
}

macro_rules! version_number {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl VersionNumber for $t {
            const ZERO: Self = 0;
            #[inline]
            fn next(self) -> Self {
                self.wrapping_add(1)
            }
            #[inline]
            fn to_i64(self) -> i64 {
                self.into()
            }
        }
    )*};
}

version_number!(i16, i32, i64);
