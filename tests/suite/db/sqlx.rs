//! The suite through sqlx's async executors, on PostgreSQL and on MySQL/MariaDB: the
//! same schema or database per test as the blocking drivers' (`pg_place.rs`,
//! `mysql_place.rs`), opened with a sqlx pool, and each executor lent to the cases
//! with [`Wait`]. Two variants per server lend every sqlx executor type between them:
//!
//! | variant                   | `Conn` lends            | `Tx` lends                            | `Sp` lends                          |
//! |---------------------------|-------------------------|---------------------------------------|-------------------------------------|
//! | [`SqlxPg`], [`SqlxMy`]    | `&mut PoolConnection`   | `&mut Transaction` begun on it        | `&mut PgConnection` / `&mut MySqlConnection` under a nested transaction (a SAVEPOINT) |
//! | [`SqlxPgPool`], [`SqlxMyPool`] | `&Pool`            | `&mut Transaction` of `pool.begin()`  | `&mut Transaction` nested in it     |
//!
//! Raw SQL goes through sqlx itself (`sqlx::query` with bound values), never through
//! the library under test, on the same connection, transaction or pool.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::time::Duration;

use sqlx::pool::{PoolConnection, PoolOptions};
use sqlx::{Connection, Database, Pool, Transaction};
use versioned::Error;
use versioned::backend::{Blocking, Executor, Sqlx};

use crate::suite::{Db, Session, Val};

#[path = "mysql_place.rs"]
mod mysql_place;
#[path = "pg_place.rs"]
mod pg_place;
#[path = "wait.rs"]
mod wait;

use wait::{InRuntime, Wait, async_session, block_on};

pub use mysql::{SqlxMy, SqlxMyPool};
pub use pg::{SqlxPg, SqlxPgPool};

/// How many increments each thread of a stress case makes.
const ROUNDS: usize = 250;

/// A test's schema or database `P`, and a sqlx pool on it. Dropped, it closes the
/// pool's connections before `P` drops the tables.
pub struct PoolPlace<P, DB: Database> {
    pool: Pool<DB>,
    _place: P,
}

impl<P, DB: Database> PoolPlace<P, DB> {
    fn new(place: P, connect: <DB::Connection as Connection>::Options) -> PoolPlace<P, DB> {
        // The first connection, one per thread of the stress cases, and another.
        let options = PoolOptions::<DB>::new().max_connections(8).acquire_timeout(Duration::from_secs(30));
        let pool = block_on(options.connect_with(connect)).expect("connect with sqlx");
        PoolPlace { pool, _place: place }
    }

    fn acquire(&self) -> Pooled<DB> {
        Pooled(InRuntime::new(block_on(self.pool.acquire()).expect("a pooled connection")))
    }
}

impl<P, DB: Database> Drop for PoolPlace<P, DB> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        // `close` waits for every connection to come back: not forever.
        block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(10), self.pool.close()).await;
        });
    }
}

/// A connection taken from the test's pool; lends `&mut PoolConnection`.
pub struct Pooled<DB: Database>(InRuntime<PoolConnection<DB>>);

/// A transaction on a connection it borrows; lends `&mut Transaction`.
pub struct Tx<'c, DB: Database>(Transaction<'c, DB>);

/// A nested transaction (a SAVEPOINT); lends the connection under it,
/// `&mut PgConnection` or `&mut MySqlConnection`.
pub struct Bare<'s, DB: Database>(Transaction<'s, DB>);

/// The test's pool itself; lends `&Pool`, so each statement may run on another
/// connection.
pub struct Shared<DB: Database>(Pool<DB>);

/// A transaction of `pool.begin()`, which owns its connection; lends
/// `&mut Transaction`.
pub struct Owned<DB: Database>(InRuntime<Transaction<'static, DB>>);

/// A transaction on `conn`, begun by `statement` or by sqlx's own `BEGIN` (a
/// SAVEPOINT when `conn` is in a transaction already).
fn begin_on<'c, DB: Database>(
    conn: &'c mut DB::Connection,
    statement: Option<&'static str>,
) -> Result<Transaction<'c, DB>, Error> {
    Ok(match statement {
        Some(statement) => block_on(conn.begin_with(statement))?,
        None => block_on(conn.begin())?,
    })
}

fn begin_on_pool<DB: Database>(pool: &Pool<DB>, statement: Option<&'static str>) -> Result<Owned<DB>, Error> {
    // A failed begin drops its connection inside `block_on`, on the runtime.
    let tx = match statement {
        Some(statement) => block_on(pool.begin_with(statement))?,
        None => block_on(pool.begin())?,
    };
    Ok(Owned(InRuntime::new(tx)))
}

/// The sqlx error under a database error of the library, if it holds one.
fn sqlx_error(err: &Error) -> Option<&(dyn sqlx::error::DatabaseError + 'static)> {
    let Error::Database(db) = err else { return None };
    db.downcast_ref::<sqlx::Error>()?.as_database_error()
}

/// The raw SQL of the sessions on the sqlx database `$db`: `try_exec` and `try_query`,
/// with the database's own `query` (which binds the values) and `val` (which reads a
/// column) in scope.
macro_rules! raw_sql {
    ($db:ty) => {
        fn try_exec<'e>(x: impl sqlx::Executor<'e, Database = $db>, sql: &str, params: &[Val]) -> Result<u64, String> {
            let done = block_on(query(sql, params).execute(x)).map_err(|e| e.to_string())?;
            Ok(done.rows_affected())
        }

        fn try_query<'e>(
            x: impl sqlx::Executor<'e, Database = $db>,
            sql: &str,
            params: &[Val],
        ) -> Result<Vec<Vec<Val>>, String> {
            let rows = block_on(query(sql, params).fetch_all(x)).map_err(|e| e.to_string())?;
            rows.iter().map(|row| (0..row.len()).map(|i| val(row, i)).collect()).collect()
        }
    };
}

/// Implements [`Session`] for each session type on the sqlx database `$db`, with
/// the `try_exec` and `try_query` in scope.
macro_rules! sessions {
    ($db:ty) => {
        type Backend = Sqlx<$db>;

        async_session!(Pooled<$db>, |s| &mut *s.0, &mut **s.0);
        async_session!(Tx<'_, $db>, |s| &mut s.0, &mut *s.0);
        async_session!(Bare<'_, $db>, |s| &mut *s.0, &mut *s.0);
        async_session!(Shared<$db>, |s| &s.0, &s.0);
        async_session!(Owned<$db>, |s| &mut *s.0, &mut **s.0);
    };
}

/// The two [`Db`] variants on the sqlx database `$db`, with the server's
/// `server_items!`, `Place`, `pool_place`, `READ_ONLY`, `FOUND_ROWS` and
/// `is_unique_violation` in scope.
macro_rules! variants {
    ($db:ty, $conn:ident($conn_name:literal, $conn_prefix:literal), $pool:ident($pool_name:literal, $pool_prefix:literal)) => {
        /// Pooled connections, transactions begun on them and savepoints.
        pub enum $conn {}

        impl Db for $conn {
            const NAME: &'static str = $conn_name;
            const ROUNDS: usize = ROUNDS;
            // Through sqlx a NULL generated key finds no row to delete: on PostgreSQL
            // the library says so without trying, on MySQL `id = DEFAULT(id)` is
            // `id = NULL`, which matches nothing.
            const TAKES_BACK_NULL_KEYS: bool = false;
            const UNDONE_UPDATES_COUNT_AS_WRITTEN: bool = FOUND_ROWS;

            server_items!();

            type Backend = Sqlx<$db>;
            type Conn = Pooled<$db>;
            type Tx<'c> = Tx<'c, $db>;
            type Sp<'s, 'c>
                = Bare<'s, $db>
            where
                'c: 's;
            type Place = PoolPlace<Place, $db>;

            fn create(test: &str, _shared: bool) -> Option<(Self::Place, Self::Conn)> {
                let place = pool_place::<Self>($conn_prefix, test)?;
                let conn = place.acquire();
                Some((place, conn))
            }

            fn connect(place: &Self::Place) -> Self::Conn {
                place.acquire()
            }

            fn begin(conn: &mut Self::Conn) -> Result<Self::Tx<'_>, Error> {
                begin_on(&mut **conn.0, None).map(Tx)
            }

            fn begin_read_only(conn: &mut Self::Conn) -> Result<Self::Tx<'_>, Error> {
                begin_on(&mut **conn.0, Some(READ_ONLY)).map(Tx)
            }

            fn commit(tx: Self::Tx<'_>) -> Result<(), Error> {
                Ok(block_on(tx.0.commit())?)
            }

            fn rollback(tx: Self::Tx<'_>) -> Result<(), Error> {
                Ok(block_on(tx.0.rollback())?)
            }

            fn savepoint<'s, 'c: 's>(tx: &'s mut Self::Tx<'c>) -> Self::Sp<'s, 'c> {
                Bare(begin_on(&mut *tx.0, None).expect("start a savepoint"))
            }

            fn release<'s, 'c: 's>(sp: Self::Sp<'s, 'c>) {
                block_on(sp.0.commit()).expect("release the savepoint");
            }

            fn rollback_to<'s, 'c: 's>(sp: Self::Sp<'s, 'c>) {
                block_on(sp.0.rollback()).expect("roll back to the savepoint");
            }

            fn is_unique_violation(err: &Error) -> bool {
                is_unique_violation(err)
            }
        }

        /// The pool itself, transactions of `pool.begin()` and savepoints in them.
        pub enum $pool {}

        impl Db for $pool {
            const NAME: &'static str = $pool_name;
            const ROUNDS: usize = ROUNDS;
            const TAKES_BACK_NULL_KEYS: bool = false;
            const UNDONE_UPDATES_COUNT_AS_WRITTEN: bool = FOUND_ROWS;

            server_items!();

            type Backend = Sqlx<$db>;
            type Conn = Shared<$db>;
            type Tx<'c> = Owned<$db>;
            type Sp<'s, 'c>
                = Tx<'s, $db>
            where
                'c: 's;
            type Place = PoolPlace<Place, $db>;

            fn create(test: &str, _shared: bool) -> Option<(Self::Place, Self::Conn)> {
                let place = pool_place::<Self>($pool_prefix, test)?;
                let conn = Self::connect(&place);
                Some((place, conn))
            }

            fn connect(place: &Self::Place) -> Self::Conn {
                Shared(place.pool.clone())
            }

            fn begin(conn: &mut Self::Conn) -> Result<Self::Tx<'_>, Error> {
                begin_on_pool(&conn.0, None)
            }

            fn begin_read_only(conn: &mut Self::Conn) -> Result<Self::Tx<'_>, Error> {
                begin_on_pool(&conn.0, Some(READ_ONLY))
            }

            // The transaction and its connection end inside `block_on`, on the runtime.
            fn commit(tx: Self::Tx<'_>) -> Result<(), Error> {
                Ok(block_on(tx.0.into_inner().commit())?)
            }

            fn rollback(tx: Self::Tx<'_>) -> Result<(), Error> {
                Ok(block_on(tx.0.into_inner().rollback())?)
            }

            fn savepoint<'s, 'c: 's>(tx: &'s mut Self::Tx<'c>) -> Self::Sp<'s, 'c> {
                Tx(begin_on(&mut **tx.0, None).expect("start a savepoint"))
            }

            fn release<'s, 'c: 's>(sp: Self::Sp<'s, 'c>) {
                block_on(sp.0.commit()).expect("release the savepoint");
            }

            fn rollback_to<'s, 'c: 's>(sp: Self::Sp<'s, 'c>) {
                block_on(sp.0.rollback()).expect("roll back to the savepoint");
            }

            fn is_unique_violation(err: &Error) -> bool {
                is_unique_violation(err)
            }
        }
    };
}

/// PostgreSQL through sqlx.
mod pg {
    use std::str::FromStr;

    use sqlx::postgres::{PgArguments, PgConnectOptions, PgRow};
    use sqlx::query::Query;
    use sqlx::{AssertSqlSafe, Column, Postgres, Row, TypeInfo};

    use super::pg_place::{Place, numbered, quote, server_items, skip_rows};
    use super::*;
    use crate::server::POSTGRES;

    /// How a read-only transaction begins.
    const READ_ONLY: &str = "BEGIN READ ONLY";
    /// PostgreSQL reports the rows a write matched, whatever a trigger did to them.
    const FOUND_ROWS: bool = false;
    /// PostgreSQL's SQLSTATE for a unique or primary key violation.
    const UNIQUE_VIOLATION: &str = "23505";

    /// The test's schema, `D`'s tables in it, and a pool whose connections use it.
    fn pool_place<D: Db>(prefix: &str, test: &str) -> Option<PoolPlace<Place, Postgres>> {
        let (place, _client) = Place::create::<D>(prefix, test)?;
        let url = POSTGRES.url();
        let options = PgConnectOptions::from_str(&url)
            .unwrap_or_else(|e| panic!("{url} is not a PostgreSQL URL: {e}"))
            // As on the blocking clients: durability is not under test.
            .options([("search_path", place.schema()), ("synchronous_commit", "off")]);
        Some(PoolPlace::new(place, options))
    }

    fn is_unique_violation(err: &Error) -> bool {
        sqlx_error(err).and_then(|db| db.code()).as_deref() == Some(UNIQUE_VIOLATION)
    }

    /// `sql` with `?` placeholders numbered, and the values bound with the types they
    /// are sent as.
    fn query(sql: &str, params: &[Val]) -> Query<'static, Postgres, PgArguments> {
        params.iter().fold(sqlx::query(AssertSqlSafe(numbered(sql))), |query, v| match v {
            Val::Int(i) => query.bind(*i),
            Val::Real(f) => query.bind(*f),
            Val::Bool(b) => query.bind(*b),
            Val::Text(s) => query.bind(s.clone()),
            Val::Blob(b) => query.bind(b.clone()),
            Val::Null => panic!("write NULL into the SQL text: a bound NULL needs a type"),
        })
    }

    raw_sql!(Postgres);

    /// Column `i` of `row`, by its PostgreSQL type.
    fn val(row: &PgRow, i: usize) -> Result<Val, String> {
        fn get<'r, T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>>(
            row: &'r PgRow,
            i: usize,
            f: impl FnOnce(T) -> Val,
        ) -> Result<Val, String> {
            let value: Option<T> = row.try_get(i).map_err(|e| e.to_string())?;
            Ok(value.map_or(Val::Null, f))
        }
        match row.column(i).type_info().name() {
            "INT2" => get(row, i, |v: i16| Val::Int(v.into())),
            "INT4" => get(row, i, |v: i32| Val::Int(v.into())),
            "INT8" => get(row, i, Val::Int),
            "FLOAT4" => get(row, i, |v: f32| Val::Real(v.into())),
            "FLOAT8" => get(row, i, Val::Real),
            "BOOL" => get(row, i, Val::Bool),
            "TEXT" | "VARCHAR" | "NAME" => get(row, i, Val::Text),
            "BYTEA" => get(row, i, Val::Blob),
            other => Err(format!("column {i} has the type {other}, which the suite does not read")),
        }
    }

    sessions!(Postgres);

    variants!(
        Postgres,
        SqlxPg("PostgreSQL (sqlx, pooled connection)", "vs_sxpg"),
        SqlxPgPool("PostgreSQL (sqlx, pool)", "vs_sxpgp")
    );
}

/// MySQL and MariaDB through sqlx.
mod mysql {
    use std::str::FromStr;

    use sqlx::mysql::{MySqlArguments, MySqlConnectOptions, MySqlDatabaseError, MySqlRow};
    use sqlx::query::Query;
    use sqlx::{AssertSqlSafe, Column, MySql, Row, Type, TypeInfo};

    use super::mysql_place::{Place, quote, server_items};
    use super::*;
    use crate::server::MYSQL;

    /// How a read-only transaction begins.
    const READ_ONLY: &str = "START TRANSACTION READ ONLY";
    /// sqlx connects with `CLIENT_FOUND_ROWS`: a write's count is the rows it matched,
    /// even those a trigger put back as they were.
    const FOUND_ROWS: bool = true;
    /// MySQL's error number for a duplicate key.
    const ER_DUP_ENTRY: u16 = 1062;

    /// The test's database with `D`'s tables, and a pool of connections to it.
    fn pool_place<D: Db>(prefix: &str, test: &str) -> Option<PoolPlace<Place, MySql>> {
        let place = Place::create::<D>(prefix, test)?;
        let url = MYSQL.url();
        let options = MySqlConnectOptions::from_str(&url)
            .unwrap_or_else(|e| panic!("{url} is not a MySQL URL: {e}"))
            .database(place.database());
        Some(PoolPlace::new(place, options))
    }

    fn is_unique_violation(err: &Error) -> bool {
        let number = sqlx_error(err).and_then(|db| db.try_downcast_ref::<MySqlDatabaseError>()).map(|e| e.number());
        number == Some(ER_DUP_ENTRY)
    }

    fn query(sql: &str, params: &[Val]) -> Query<'static, MySql, MySqlArguments> {
        params.iter().fold(sqlx::query(AssertSqlSafe(sql.to_owned())), |query, v| match v {
            Val::Null => query.bind(None::<i64>),
            Val::Int(i) => query.bind(*i),
            Val::Real(f) => query.bind(*f),
            Val::Bool(b) => query.bind(*b),
            Val::Text(s) => query.bind(s.clone()),
            Val::Blob(b) => query.bind(b.clone()),
        })
    }

    raw_sql!(MySql);

    /// Column `i` of `row`, by the Rust types sqlx finds compatible with its type.
    fn val(row: &MySqlRow, i: usize) -> Result<Val, String> {
        fn get<'r, T: sqlx::Decode<'r, MySql> + Type<MySql>>(
            row: &'r MySqlRow,
            i: usize,
            f: impl FnOnce(T) -> Result<Val, String>,
        ) -> Result<Val, String> {
            let value: Option<T> = row.try_get(i).map_err(|e| e.to_string())?;
            value.map_or(Ok(Val::Null), f)
        }
        let ty = row.column(i).type_info();
        if ty.is_null() {
            Ok(Val::Null)
        } else if <i64 as Type<MySql>>::compatible(ty) {
            get(row, i, |v: i64| Ok(Val::Int(v)))
        } else if <u64 as Type<MySql>>::compatible(ty) {
            get(row, i, |v: u64| i64::try_from(v).map(Val::Int).map_err(|e| e.to_string()))
        } else if <f64 as Type<MySql>>::compatible(ty) {
            get(row, i, |v: f64| Ok(Val::Real(v)))
        } else if <String as Type<MySql>>::compatible(ty) {
            // Text in any collation but `binary`, `_bin` ones included.
            get(row, i, |v: String| Ok(Val::Text(v)))
        } else if <Vec<u8> as Type<MySql>>::compatible(ty) {
            get(row, i, |v: Vec<u8>| Ok(Val::Blob(v)))
        } else if ty.name() == "DECIMAL" {
            // As the `mysql` driver reads it: the digits as text.
            let value: Option<String> = row.try_get_unchecked(i).map_err(|e| e.to_string())?;
            Ok(value.map_or(Val::Null, Val::Text))
        } else {
            Err(format!("column {i} has the type {}, which the suite does not read", ty.name()))
        }
    }

    sessions!(MySql);

    variants!(
        MySql,
        SqlxMy("MySQL (sqlx, pooled connection)", "vs_sxmy"),
        SqlxMyPool("MySQL (sqlx, pool)", "vs_sxmyp")
    );
}
