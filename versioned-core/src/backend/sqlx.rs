//! sqlx, generic over its [`Database`]: PostgreSQL, MySQL/MariaDB and SQLite, whichever
//! the application's own sqlx dependency enables.
//!
//! Executors (async: `user.save(&pool).await?`): `&Pool<DB>`, `&mut PoolConnection<DB>`
//! and `&mut Transaction<'_, DB>` for every database, and with the features
//! `sqlx-postgres` / `sqlx-mysql` also `&mut PgConnection` / `&mut MySqlConnection`
//! (what `&mut *tx` gives). The statements go through the connection's own
//! prepared-statement cache, keyed by their text, as `sqlx::query(..)` does.
//!
//! This crate names none of sqlx's database drivers unless asked to, so an
//! application on sqlx's SQLite driver builds it without a second `libsqlite3-sys`
//! (sqlx and rusqlite pin different ones). `&mut SqliteConnection` itself is not an
//! executor for that reason: pass `&mut tx` or `&mut conn` (the transaction or the
//! pooled connection) instead of `&mut *tx`.
//!
//! A write's row count comes from sqlx's `AnyQueryResult`, which each sqlx driver
//! converts to under its `any` feature (a default feature of the `sqlx` crate). A
//! generated key comes back with `INSERT .. RETURNING` on PostgreSQL and SQLite, and
//! from `LAST_INSERT_ID()` on the same connection on MySQL. Taking back a row whose
//! key column generated NULL is possible on MySQL (the key holds the column's
//! default) but not on PostgreSQL or SQLite through sqlx: the error says so.
//!
//! sqlx's MySQL driver always connects with `CLIENT_FOUND_ROWS`, so MySQL reports the
//! rows a write matched rather than the rows it changed. A version-checked write is
//! told apart from a conflict as on every backend, but a MySQL trigger that puts
//! every column of the row back (the one way MySQL has to skip an update) goes
//! unnoticed: the write counts as done, the entity takes the new version, and its
//! next write is a conflict. Through the `mysql` crate's executors, which count
//! changed rows, the same trigger is [`Error::WriteIgnored`].
//!
//! Every operation's future is `Send` when the entity is `Send + Sync` (plain data
//! is), so it can be awaited in `tokio::spawn` and in axum handlers.
//! A future dropped before it finishes (a timeout, a cancelled request) never leaves
//! the entity's version ahead of the row's: the version is set only after the write
//! is confirmed. A write already sent may still commit; read the row again before
//! writing it once more.
//!
//! Retryable ([`Error::is_retryable`]): PostgreSQL 40001, 40P01, 55P03; MySQL SQLSTATE
//! 40001 (a deadlock), and with the `sqlx-mysql` feature the error numbers 1205 (lock
//! wait timeout) and 1020 (row changed since the snapshot); SQLite's busy and locked
//! codes.

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use sqlx_core as sqlx;
use sqlx_core::any::AnyQueryResult;
use sqlx_core::arguments::{Arguments, IntoArguments};
use sqlx_core::column::ColumnIndex;
use sqlx_core::database::Database;
use sqlx_core::error::BoxDynError;
use sqlx_core::pool::{Pool, PoolConnection};
use sqlx_core::row::Row;
use sqlx_core::transaction::Transaction;
use sqlx_core::value::ValueRef;

use super::{Async, Backend, Decode, Encode, Executor, Params};
use crate::error::{BoxError, DatabaseError, Error};
use crate::sql::{Dialect, Statements};

/// The sqlx backend for the database `DB` (cargo feature `sqlx`): `Sqlx<sqlx::Postgres>`,
/// `Sqlx<sqlx::MySql>`, `Sqlx<sqlx::Sqlite>`.
pub struct Sqlx<DB>(PhantomData<fn() -> DB>);

impl<DB> fmt::Debug for Sqlx<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sqlx")
    }
}

/// The dialect of the sqlx database called `name` (`Database::NAME`); a database
/// without one stops the build where its backend is first used.
const fn dialect_of(name: &str) -> Dialect {
    if same(name, "PostgreSQL") {
        Dialect::Postgres
    } else if same(name, "MySQL") {
        Dialect::Mysql
    } else if same(name, "SQLite") {
        Dialect::Sqlite
    } else {
        panic!("versioned supports sqlx on PostgreSQL, MySQL and SQLite")
    }
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

// The key types are what `render_generated` reads a generated key as; every sqlx
// database decodes both.
impl<DB: Database> Backend for Sqlx<DB>
where
    usize: ColumnIndex<DB::Row>,
    i64: for<'r> sqlx::decode::Decode<'r, DB> + sqlx::types::Type<DB>,
    String: for<'r> sqlx::decode::Decode<'r, DB> + sqlx::types::Type<DB>,
{
    const NAME: &'static str = DB::NAME;
    const DIALECT: Dialect = dialect_of(DB::NAME);
    /// A field, encoded into the statement's arguments when the statement is sent.
    type Param<'a> = &'a (dyn Param<DB> + Sync);
    type Row<'r> = DB::Row;
    /// The row of `INSERT .. RETURNING key`, or of `SELECT LAST_INSERT_ID()` on MySQL.
    type GeneratedKey = DB::Row;
    type ReadError = BoxError;

    /// A NULL key (on MySQL, read as `NULLIF(LAST_INSERT_ID(), 0)`).
    fn generated_nothing(row: &DB::Row) -> bool {
        row.try_get_raw(0).is_ok_and(|value| value.is_null())
    }

    fn render_generated(row: &DB::Row) -> String {
        match row.try_get_raw(0) {
            Ok(value) if value.is_null() => "NULL".to_owned(),
            Ok(value) => {
                if let Ok(key) = row.try_get::<i64, _>(0) {
                    key.to_string()
                } else if let Ok(key) = row.try_get::<String, _>(0) {
                    format!("{key:?}")
                } else {
                    format!("a {} value", value.type_info())
                }
            }
            Err(_) => "no value".to_owned(),
        }
    }
}

/// A field value that sqlx can encode for `DB`; implemented for every type with sqlx's
/// `Encode` and `Type` for `DB`.
#[doc(hidden)]
pub trait Param<DB: Database> {
    /// Encodes the value as the next argument.
    fn add_to(&self, args: &mut DB::Arguments) -> Result<(), BoxDynError>;
}

impl<DB: Database, T> Param<DB> for T
where
    T: for<'q> sqlx::encode::Encode<'q, DB> + sqlx::types::Type<DB>,
{
    #[inline]
    fn add_to(&self, args: &mut DB::Arguments) -> Result<(), BoxDynError> {
        args.add(self)
    }
}

impl<DB: Database, T> Encode<Sqlx<DB>> for T
where
    T: for<'q> sqlx::encode::Encode<'q, DB> + sqlx::types::Type<DB> + Sync,
    usize: ColumnIndex<DB::Row>,
    i64: for<'r> sqlx::decode::Decode<'r, DB> + sqlx::types::Type<DB>,
    String: for<'r> sqlx::decode::Decode<'r, DB> + sqlx::types::Type<DB>,
{
    #[inline]
    fn encode(&self) -> &(dyn Param<DB> + Sync) {
        self
    }
}

impl<DB: Database, T> Decode<Sqlx<DB>> for T
where
    T: for<'r> sqlx::decode::Decode<'r, DB> + sqlx::types::Type<DB>,
    usize: ColumnIndex<DB::Row>,
    i64: for<'r> sqlx::decode::Decode<'r, DB> + sqlx::types::Type<DB>,
    String: for<'r> sqlx::decode::Decode<'r, DB> + sqlx::types::Type<DB>,
{
    #[inline]
    fn decode(row: &mut DB::Row, index: usize) -> Result<Self, BoxError> {
        if const { null_decodes_as_default(DB::NAME) } && is_null(row, index) && !is_option::<T>() {
            return Err(Box::new(sqlx::error::UnexpectedNullError));
        }
        match row.try_get(index) {
            Ok(value) => Ok(value),
            Err(e) => Err(conversion_error(e)),
        }
    }

    fn decode_generated(row: &DB::Row) -> Result<Self, BoxError> {
        row.try_get(0).map_err(conversion_error)
    }
}

/// Whether the database's decoders read a NULL into a type that cannot hold one as
/// that type's zero (`0`, `""`, `false`) rather than refusing it: SQLite's, which
/// read values with `sqlite3_value_int64` and its kin. PostgreSQL's and MySQL's
/// refuse it with sqlx's `UnexpectedNullError`, which SQLite's NULL gets here too, so
/// that a NULL in a column whose field is not an `Option` (a NULL version above all)
/// is a decode error on every database, never a value the row does not hold.
const fn null_decodes_as_default(name: &str) -> bool {
    same(name, "SQLite")
}

/// Whether column `index` of `row` holds NULL.
#[inline]
fn is_null<R: Row>(row: &R, index: usize) -> bool
where
    usize: ColumnIndex<R>,
{
    row.try_get_raw(index).is_ok_and(|value| value.is_null())
}

/// Whether `T` is an `Option`, which reads a NULL as `None`. Asked of a type whose
/// column holds NULL, only on a database whose decoders would read it as a zero.
#[cold]
fn is_option<T>() -> bool {
    std::any::type_name::<T>().starts_with("core::option::Option<")
}

/// The conversion's own error ("mismatched types; Rust type `i32` ..."), rather than
/// sqlx's "error occurred while decoding column 3" around it.
#[cold]
#[inline(never)]
fn conversion_error(e: sqlx::Error) -> BoxError {
    match e {
        sqlx::Error::ColumnDecode { source, .. } => source,
        e => Box::new(e),
    }
}

/// PostgreSQL's serialization failure, deadlock and lock-not-available codes; MySQL's
/// SQLSTATE for a deadlock.
const RETRYABLE_SQLSTATES: &[&str] = &["40001", "40P01", "55P03"];
/// SQLite's busy and locked result codes, primary and extended, as sqlx reports them.
const SQLITE_BUSY: &[&str] = &["5", "6", "261", "262", "517"];

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        // Most of sqlx's errors repeat their source's text in their own ("error returned
        // from database: {source}"); the chain then skips them, to print each text once.
        let repeats = std::error::Error::source(&e).is_some_and(|source| e.to_string().contains(&source.to_string()));
        let error = match e.as_database_error() {
            None => DatabaseError::new(e, false),
            Some(db) => {
                let code = db.code().map(|code| code.into_owned());
                let retryable = is_retryable(db, code.as_deref());
                match code {
                    Some(code) => DatabaseError::with_context(e, retryable, format!("SQLSTATE {code}")),
                    None => DatabaseError::new(e, retryable),
                }
            }
        };
        Error::Database(if repeats { error.repeating_its_source() } else { error })
    }
}

/// Whether running the same transaction again may succeed after the database error `db`.
fn is_retryable(db: &dyn sqlx::error::DatabaseError, code: Option<&str>) -> bool {
    if code.is_some_and(|code| RETRYABLE_SQLSTATES.contains(&code) || SQLITE_BUSY.contains(&code)) {
        return true;
    }
    #[cfg(feature = "sqlx-mysql")]
    if let Some(my) = db.try_downcast_ref::<sqlx_mysql::MySqlDatabaseError>() {
        // Lock wait timeout, row changed since the snapshot: SQLSTATE HY000 both.
        return matches!(my.number(), 1205 | 1020);
    }
    let _ = db;
    false
}

/// The parameters as sqlx arguments, encoded now: the statement's future owns them.
fn arguments<DB: Database>(params: &mut [<Sqlx<DB> as Backend>::Param<'_>]) -> Result<DB::Arguments, Error>
where
    usize: ColumnIndex<DB::Row>,
    i64: for<'r> sqlx::decode::Decode<'r, DB> + sqlx::types::Type<DB>,
    String: for<'r> sqlx::decode::Decode<'r, DB> + sqlx::types::Type<DB>,
{
    let mut args = DB::Arguments::default();
    for param in params.iter() {
        if let Err(e) = param.add_to(&mut args) {
            return Err(Error::Database(DatabaseError::new(sqlx::Error::Encode(e), false)));
        }
    }
    Ok(args)
}

/// MySQL's generated key, NULL when the insert generated none (a table without
/// `AUTO_INCREMENT` leaves `LAST_INSERT_ID()` at 0), and signed: sqlx reads a
/// `BIGINT UNSIGNED` into no signed field.
const LAST_INSERT_ID: &str = "SELECT CAST(NULLIF(LAST_INSERT_ID(), 0) AS SIGNED)";

/// The rows a write matched, from a driver's query result; given by each sqlx driver
/// under its `any` feature (on by default in the `sqlx` crate).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not convert to sqlx's `AnyQueryResult`",
    label = "versioned reads the rows a write matched through `AnyQueryResult`",
    note = "enable sqlx's `any` feature (one of its default features) in your own sqlx dependency"
)]
pub trait RowCount {
    /// The rows the statement matched.
    fn rows_affected(self) -> u64;
}

impl<T: Into<AnyQueryResult>> RowCount for T {
    #[inline]
    fn rows_affected(self) -> u64 {
        let result: AnyQueryResult = self.into();
        AnyQueryResult::rows_affected(&result)
    }
}

/// sqlx's own (boxed) future for a statement, its outcome turned into this crate's on
/// the way out by `M`.
#[doc(hidden)]
pub struct Sent<F, M>(State<F, M>);

enum State<F, M> {
    /// The arguments could not be encoded: the statement was never sent.
    Refused(Option<Error>),
    Running(F, Option<M>),
}

impl<F, M> Sent<F, M> {
    fn new(statement: Result<F, Error>, finish: M) -> Self {
        match statement {
            Ok(f) => Sent(State::Running(f, Some(finish))),
            Err(e) => Sent(State::Refused(Some(e))),
        }
    }
}

// `M` is never pinned: it is moved out and used once the statement is done.
impl<F: Unpin, M> Unpin for Sent<F, M> {}

/// What becomes of a statement's outcome `X`.
#[doc(hidden)]
pub trait Finish<X> {
    type Output;
    fn finish(self, done: X) -> Result<Self::Output, Error>;
}

/// A write's outcome: the rows it matched.
#[doc(hidden)]
pub struct RowsMatched;

impl<R: RowCount> Finish<R> for RowsMatched {
    type Output = u64;
    #[inline]
    fn finish(self, done: R) -> Result<u64, Error> {
        Ok(done.rows_affected())
    }
}

/// A query's outcome: its first row, handed to the reader.
#[doc(hidden)]
pub struct ReadRow<F>(F);

impl<R, T, F: FnOnce(Option<&mut R>) -> Result<T, Error>> Finish<Option<R>> for ReadRow<F> {
    type Output = T;
    #[inline]
    fn finish(self, mut row: Option<R>) -> Result<T, Error> {
        (self.0)(row.as_mut())
    }
}

impl<F, M, X> Future for Sent<F, M>
where
    F: Future<Output = Result<X, sqlx::Error>> + Unpin,
    M: Finish<X>,
{
    type Output = Result<M::Output, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            State::Refused(e) => Poll::Ready(Err(e.take().expect("a statement future polled after it finished"))),
            State::Running(f, finish) => match Pin::new(f).poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Err(e)) => Poll::Ready(Err(e.into())),
                Poll::Ready(Ok(done)) => {
                    Poll::Ready(finish.take().expect("a statement future polled after it finished").finish(done))
                }
            },
        }
    }
}

/// sqlx's boxed future.
type SqlxFuture<'s, X> = Pin<Box<dyn Future<Output = Result<X, sqlx::Error>> + Send + 's>>;
/// A boxed future of this crate's, for the steps that run two statements or run
/// only when something failed.
type Steps<'s, X> = Pin<Box<dyn Future<Output = Result<X, Error>> + Send + 's>>;

/// The statements an operation runs on one connection, for the steps that need two
/// statements on the same connection or run only when something failed.
mod on {
    use super::*;

    async fn execute<DB: Database>(
        conn: &mut DB::Connection,
        sql: &'static str,
        args: DB::Arguments,
    ) -> Result<u64, Error>
    where
        for<'c> &'c mut DB::Connection: sqlx::executor::Executor<'c, Database = DB>,
        DB::Arguments: IntoArguments<DB>,
        DB::QueryResult: RowCount,
    {
        let done = sqlx::executor::Executor::execute(conn, sqlx::query::query_with(sql, args)).await?;
        Ok(done.rows_affected())
    }

    async fn fetch_optional<DB: Database>(
        conn: &mut DB::Connection,
        sql: &'static str,
        args: DB::Arguments,
    ) -> Result<Option<DB::Row>, Error>
    where
        for<'c> &'c mut DB::Connection: sqlx::executor::Executor<'c, Database = DB>,
        DB::Arguments: IntoArguments<DB>,
    {
        Ok(sqlx::executor::Executor::fetch_optional(conn, sqlx::query::query_with(sql, args)).await?)
    }

    /// The insert, and the row holding the key it generated.
    pub(super) async fn insert_generated<DB: Database>(
        conn: &mut DB::Connection,
        sql: &'static str,
        args: DB::Arguments,
    ) -> Result<DB::Row, Error>
    where
        for<'c> &'c mut DB::Connection: sqlx::executor::Executor<'c, Database = DB>,
        DB::Arguments: IntoArguments<DB>,
        DB::QueryResult: RowCount,
        usize: ColumnIndex<DB::Row>,
        i64: for<'r> sqlx::decode::Decode<'r, DB> + sqlx::types::Type<DB>,
        String: for<'r> sqlx::decode::Decode<'r, DB> + sqlx::types::Type<DB>,
    {
        let row = if <Sqlx<DB> as Backend>::DIALECT == Dialect::Mysql {
            execute::<DB>(&mut *conn, sql, args).await?;
            fetch_optional::<DB>(conn, LAST_INSERT_ID, DB::Arguments::default()).await?
        } else {
            fetch_optional::<DB>(conn, sql, args).await?
        };
        row.ok_or_else(|| Error::Database(DatabaseError::new("the insert handed back no generated key", false)))
    }

    /// Deletes the row stored under a generated key: with the statement and
    /// arguments from [`take_back`], or `None` when no statement can find the row.
    pub(super) async fn discard_generated<DB: Database>(
        conn: &mut DB::Connection,
        delete: Option<(&'static str, DB::Arguments)>,
    ) -> Result<Option<u64>, Error>
    where
        for<'c> &'c mut DB::Connection: sqlx::executor::Executor<'c, Database = DB>,
        DB::Arguments: IntoArguments<DB>,
        DB::QueryResult: RowCount,
    {
        match delete {
            Some((sql, args)) => Ok(Some(execute::<DB>(conn, sql, args).await?)),
            None => Ok(None),
        }
    }
}

/// The statement that deletes the row stored under the generated key of `row`, with
/// its arguments; `None` when no statement can find the row.
fn take_back<DB: Database>(sql: &'static Statements, row: &DB::Row) -> Option<(&'static str, DB::Arguments)>
where
    usize: ColumnIndex<DB::Row>,
    i64: for<'q> sqlx::encode::Encode<'q, DB> + sqlx::types::Type<DB> + for<'r> sqlx::decode::Decode<'r, DB>,
    String: for<'q> sqlx::encode::Encode<'q, DB> + sqlx::types::Type<DB> + for<'r> sqlx::decode::Decode<'r, DB>,
{
    if <Sqlx<DB> as Backend>::generated_nothing(row) {
        // MySQL stored the column's default; elsewhere a NULL key finds no row.
        return match <Sqlx<DB> as Backend>::DIALECT {
            Dialect::Mysql => Some((sql.delete_no_key.as_str(), DB::Arguments::default())),
            _ => None,
        };
    }
    let mut args = DB::Arguments::default();
    let bound = match row.try_get::<i64, _>(0) {
        Ok(key) => args.add(key),
        // A key of another type: bound back as text, or not at all.
        Err(_) => args.add(row.try_get::<String, _>(0).ok()?),
    };
    bound.ok().map(|()| (sql.delete_generated.as_str(), args))
}

/// Implements [`Executor`] for an sqlx type: `$exec` is the sqlx executor made from
/// `$this` for one statement, `$conn` (an expression that may `.await`) a connection
/// for the steps that run two statements on one.
macro_rules! connection_executor {
    ($(#[$attr:meta])* [$($generics:tt)*] $ty:ty, $db:ty, |$this:ident| $exec:expr, $conn:expr) => {
        $(#[$attr])*
        // The futures are named: sqlx's own, boxed and `Send`, or boxed steps.
        #[allow(refining_impl_trait)]
        impl<$($generics)*> Executor for $ty
        where
            for<'c> &'c mut <$db as Database>::Connection: sqlx::executor::Executor<'c, Database = $db>,
            <$db as Database>::Arguments: IntoArguments<$db>,
            <$db as Database>::QueryResult: RowCount,
            usize: ColumnIndex<<$db as Database>::Row>,
            i64: for<'q> sqlx::encode::Encode<'q, $db> + sqlx::types::Type<$db> + for<'r> sqlx::decode::Decode<'r, $db>,
            String: for<'q> sqlx::encode::Encode<'q, $db> + sqlx::types::Type<$db> + for<'r> sqlx::decode::Decode<'r, $db>,
        {
            type Backend = Sqlx<$db>;
            type Mode = Async;

            #[inline]
            fn execute<'s>(
                &'s mut self,
                sql: &'static str,
                params: Params<'_, '_, Sqlx<$db>>,
            ) -> Sent<SqlxFuture<'s, <$db as Database>::QueryResult>, RowsMatched> {
                let $this = self;
                let sent = arguments::<$db>(params.0)
                    .map(|args| sqlx::executor::Executor::execute($exec, sqlx::query::query_with(sql, args)));
                Sent::new(sent, RowsMatched)
            }

            fn insert_generated<'s>(
                &'s mut self,
                sql: &'static str,
                params: Params<'_, '_, Sqlx<$db>>,
            ) -> Steps<'s, <$db as Database>::Row> {
                let args = arguments::<$db>(params.0);
                let $this = self;
                Box::pin(async move { on::insert_generated::<$db>($conn, sql, args?).await })
            }

            fn discard_generated<'s>(
                &'s mut self,
                sql: &'static Statements,
                key: &<$db as Database>::Row,
            ) -> Steps<'s, Option<u64>> {
                let delete = take_back::<$db>(sql, key);
                let $this = self;
                Box::pin(async move { on::discard_generated::<$db>($conn, delete).await })
            }

            #[inline]
            fn query_row<T>(
                &mut self,
                sql: &'static str,
                params: Params<'_, '_, Sqlx<$db>>,
                read: impl FnOnce(Option<&mut <$db as Database>::Row>) -> Result<T, Error>,
            ) -> impl Future<Output = Result<T, Error>> {
                let $this = self;
                let sent = arguments::<$db>(params.0)
                    .map(|args| sqlx::executor::Executor::fetch_optional($exec, sqlx::query::query_with(sql, args)));
                Sent::new(sent, ReadRow(read))
            }
        }
    };
}

// A pool lends a connection per statement, as `sqlx::query(..).execute(&pool)` does;
// an insert that reads its key with a second statement holds one for both.
connection_executor!([DB: Database] &Pool<DB>, DB, |this| *this, &mut *this.acquire().await?);
connection_executor!([DB: Database] &mut PoolConnection<DB>, DB, |this| &mut ***this, &mut ***this);
connection_executor!(['t, DB: Database] &mut Transaction<'t, DB>, DB, |this| &mut ***this, &mut ***this);

#[cfg(feature = "sqlx-postgres")]
connection_executor!(
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlx-postgres")))]
    [] &mut sqlx_postgres::PgConnection, sqlx_postgres::Postgres, |this| &mut **this, &mut **this
);

#[cfg(feature = "sqlx-mysql")]
connection_executor!(
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlx-mysql")))]
    [] &mut sqlx_mysql::MySqlConnection, sqlx_mysql::MySql, |this| &mut **this, &mut **this
);
