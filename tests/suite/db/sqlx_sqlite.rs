//! The suite's SQLite through sqlx's async driver, each statement waited for on the
//! shared runtime ([`Wait`]): a database file per test, in WAL mode for a case that
//! opens several connections. Compiled by the sqlx + SQLite workspace
//! (`tests/sqlx-sqlite`) only: its libsqlite3-sys cannot sit beside rusqlite's.
//!
//! Two ways in, so that every sqlx executor is lent to the cases:
//! - [`SqlxConnection`]: a connection taken from the pool (`&mut PoolConnection`),
//!   transactions on it (`&mut Transaction`), savepoints nested in those.
//! - [`SqlxPool`]: the pool itself (`&Pool`, a connection per statement),
//!   transactions from `pool.begin()` owning their connection, savepoints.
//!
//! Raw SQL goes through sqlx directly, never through the library under test.

#[path = "sqlite_common.rs"]
mod sqlite_common;
#[path = "wait.rs"]
mod wait;

use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous, SqliteValueRef,
};
use sqlx::{Acquire, AssertSqlSafe, Decode, Row, Sqlite, SqlitePool, Transaction, TypeInfo, ValueRef};
use versioned::Error;
use versioned::backend::{Blocking, Executor, Sqlx};

use self::sqlite_common::{BUSY_TIMEOUT, sqlite_db};
use self::wait::{InRuntime, Wait, async_session, block_on};
use crate::common::TempDb;
use crate::suite::{Db, Session, Val, schema};

type Backend = Sqlx<Sqlite>;

/// A connection taken from the pool, handed back (by a task it spawns) when dropped.
type PoolConnection = InRuntime<sqlx::pool::PoolConnection<Sqlite>>;

/// How many connections a case that opens several may hold at once: one per thread
/// of the stress cases and two more.
const SHARED_CONNECTIONS: u32 = 8;

/// Where a test's tables live: a database file and a pool on it.
pub struct Place {
    pool: SqlitePool,
    shared: bool,
    /// Dropped after the pool is closed: removes the file unless the test failed.
    _file: TempDb,
}

impl Place {
    /// A new database file holding every table of the schema, and a pool on it. A
    /// case that opens one connection gets a pool of one (the closest to rusqlite's
    /// in-memory database); a shared one gets several, in WAL mode.
    fn create(label: &str, test: &str, shared: bool) -> Place {
        let file = TempDb::new(&format!("{label}-{test}"));
        let journal = if shared { SqliteJournalMode::Wal } else { SqliteJournalMode::Delete };
        let options = SqliteConnectOptions::new()
            .filename(file.path())
            .create_if_missing(true)
            .busy_timeout(BUSY_TIMEOUT)
            .journal_mode(journal)
            // Durability is not under test; skipping fsync keeps the test fast.
            .synchronous(SqliteSynchronous::Normal);
        let size = if shared { SHARED_CONNECTIONS } else { 1 };
        let pool = block_on(SqlitePoolOptions::new().max_connections(size).connect_with(options))
            .expect("open the database file");
        let place = Place { pool, shared, _file: file };
        if shared {
            let (mode,): (String,) =
                block_on(sqlx::query_as("PRAGMA journal_mode").fetch_one(&place.pool)).expect("read the journal mode");
            assert_eq!(mode, "wal");
        }
        let ddl = schema::<SqlxConnection>().join(";\n");
        block_on(sqlx::raw_sql(AssertSqlSafe(ddl)).execute(&place.pool)).expect("create the tables");
        place
    }

    /// A connection of the pool, held by the caller.
    fn acquire(&self) -> PoolConnection {
        InRuntime::new(block_on(self.pool.acquire()).expect("a connection of the pool"))
    }

    /// The pool, for another connection to the database; refused where the case
    /// said it opens one connection only, as rusqlite's in-memory database does.
    fn another(&self) -> &SqlitePool {
        assert!(self.shared, "a case that opens several connections opens its database with open_shared");
        &self.pool
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        // Lets the connections close before the file goes. Every case gives its
        // connections back first; one that did not is not waited for long.
        let _ = block_on(async { tokio::time::timeout(Duration::from_secs(5), self.pool.close()).await });
    }
}

/// The `Db` items both ways in share.
macro_rules! sqlx_sqlite {
    () => {
        // Every statement is a round trip to the connection's worker thread.
        const ROUNDS: usize = 250;
        // `INSERT .. RETURNING` hands back the NULL key, and sqlx has no rowid to find
        // the row by.
        const TAKES_BACK_NULL_KEYS: bool = false;
        // `UNGENERATED_KEY` generates NULL too.
        const TAKES_BACK_UNGENERATED_KEYS: bool = false;

        type Backend = Backend;
        type Sp<'s, 'c>
            = Transaction<'s, Sqlite>
        where
            'c: 's;
        type Place = Place;

        sqlite_db!();

        fn begin_read_only(conn: &mut Self::Conn) -> Result<Self::Tx<'_>, Error> {
            // SQLite has no read-only transaction (`PRAGMA query_only` is a setting of
            // the whole connection): a transaction that only reads is the closest.
            Self::begin(conn)
        }

        fn savepoint<'s, 'c: 's>(tx: &'s mut Self::Tx<'c>) -> Transaction<'s, Sqlite> {
            // sqlx makes a transaction begun inside another a SAVEPOINT.
            block_on((&mut **tx).begin()).expect("start a savepoint")
        }

        fn release<'s, 'c: 's>(sp: Transaction<'s, Sqlite>) {
            block_on(sp.commit()).expect("release the savepoint");
        }

        fn rollback_to<'s, 'c: 's>(sp: Transaction<'s, Sqlite>) {
            block_on(sp.rollback()).expect("roll back to the savepoint");
        }

        fn is_unique_violation(err: &Error) -> bool {
            let Error::Database(db) = err else { return false };
            let Some(sqlx::Error::Database(e)) = db.downcast_ref::<sqlx::Error>() else { return false };
            // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY.
            matches!(e.code().as_deref(), Some("2067" | "1555"))
        }
    };
}

/// sqlx on SQLite through a connection taken from the pool: the cases get
/// `&mut PoolConnection`, `&mut Transaction` on it, and savepoints in that.
pub enum SqlxConnection {}

impl Db for SqlxConnection {
    const NAME: &'static str = "SQLite (sqlx, PoolConnection)";
    type Conn = PoolConnection;
    type Tx<'c> = Transaction<'c, Sqlite>;

    sqlx_sqlite!();

    fn create(test: &str, shared: bool) -> Option<(Place, PoolConnection)> {
        let place = Place::create("sqlx-conn", test, shared);
        let conn = place.acquire();
        Some((place, conn))
    }

    fn connect(place: &Place) -> PoolConnection {
        InRuntime::new(block_on(place.another().acquire()).expect("another connection of the pool"))
    }

    fn begin(conn: &mut PoolConnection) -> Result<Transaction<'_, Sqlite>, Error> {
        Ok(block_on((&mut **conn).begin())?)
    }

    fn commit(tx: Transaction<'_, Sqlite>) -> Result<(), Error> {
        Ok(block_on(tx.commit())?)
    }

    fn rollback(tx: Transaction<'_, Sqlite>) -> Result<(), Error> {
        Ok(block_on(tx.rollback())?)
    }
}

/// sqlx on SQLite through the pool: the cases get `&Pool` (a connection per
/// statement), `&mut Transaction` from `pool.begin()`, and savepoints in that.
pub enum SqlxPool {}

/// A transaction from `pool.begin()`: it owns a connection of the pool.
type PoolTransaction = InRuntime<Transaction<'static, Sqlite>>;

impl Db for SqlxPool {
    const NAME: &'static str = "SQLite (sqlx, Pool)";
    type Conn = SqlitePool;
    type Tx<'c> = PoolTransaction;

    sqlx_sqlite!();

    fn create(test: &str, shared: bool) -> Option<(Place, SqlitePool)> {
        let place = Place::create("sqlx-pool", test, shared);
        let pool = place.pool.clone();
        Some((place, pool))
    }

    fn connect(place: &Place) -> SqlitePool {
        place.another().clone()
    }

    fn begin(pool: &mut SqlitePool) -> Result<PoolTransaction, Error> {
        Ok(InRuntime::new(block_on(pool.begin())?))
    }

    fn commit(tx: PoolTransaction) -> Result<(), Error> {
        Ok(block_on(tx.into_inner().commit())?)
    }

    fn rollback(tx: PoolTransaction) -> Result<(), Error> {
        Ok(block_on(tx.into_inner().rollback())?)
    }
}

/// A raw statement with its parameters bound as sqlx values.
fn query(sql: &str, params: &[Val]) -> sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments> {
    params.iter().fold(sqlx::query(AssertSqlSafe(sql.to_owned())), |q, v| match v {
        Val::Null => q.bind(None::<i64>),
        Val::Int(i) => q.bind(*i),
        Val::Real(f) => q.bind(*f),
        Val::Bool(b) => q.bind(*b),
        Val::Text(s) => q.bind(s.clone()),
        Val::Blob(b) => q.bind(b.clone()),
    })
}

fn try_exec<'e>(ex: impl sqlx::Executor<'e, Database = Sqlite>, sql: &str, params: &[Val]) -> Result<u64, String> {
    let done = block_on(query(sql, params).execute(ex)).map_err(|e| e.to_string())?;
    Ok(done.rows_affected())
}

fn try_query<'e>(
    ex: impl sqlx::Executor<'e, Database = Sqlite>,
    sql: &str,
    params: &[Val],
) -> Result<Vec<Vec<Val>>, String> {
    let rows: Vec<SqliteRow> = block_on(query(sql, params).fetch_all(ex)).map_err(|e| e.to_string())?;
    rows.iter()
        .map(|row| (0..row.len()).map(|i| val(row.try_get_raw(i).map_err(|e| e.to_string())?)).collect())
        .collect()
}

/// A value read by its storage class, the value's own rather than its column's.
fn val(v: SqliteValueRef<'_>) -> Result<Val, String> {
    if v.is_null() {
        return Ok(Val::Null);
    }
    let class = v.type_info().name().to_owned();
    match class.as_str() {
        "INTEGER" => decode(v).map(Val::Int),
        "REAL" => decode(v).map(Val::Real),
        "TEXT" => decode(v).map(Val::Text),
        "BLOB" => decode(v).map(Val::Blob),
        other => Err(format!("a value of storage class {other}, which the suite does not read")),
    }
}

fn decode<'r, T: Decode<'r, Sqlite>>(v: SqliteValueRef<'r>) -> Result<T, String> {
    T::decode(v).map_err(|e| e.to_string())
}

async_session!(PoolConnection, |s| &mut **s, &mut ***s);
async_session!(SqlitePool, |s| &*s, &*s);
async_session!(Transaction<'_, Sqlite>, |s| s, &mut **s);
async_session!(PoolTransaction, |s| &mut **s, &mut ***s);
