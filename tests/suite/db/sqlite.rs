//! The suite's SQLite: an in-memory database per test, or a WAL file in the
//! temporary directory for a case that opens several connections.

#[path = "sqlite_common.rs"]
mod sqlite_common;

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, ErrorCode, Savepoint, ToSql, Transaction};
use versioned::Error;
use versioned::backend::{Blocking, Executor, Sqlite as Backend};

use self::sqlite_common::{BUSY_TIMEOUT, sqlite_db};
use crate::common::TempDb;
use crate::suite::{Db, Session, Val, schema};

pub enum Sqlite {}

/// Where a test's tables live.
pub enum Place {
    /// The first connection's own in-memory database.
    Memory,
    File(TempDb),
}

impl Db for Sqlite {
    const NAME: &'static str = "SQLite";
    const ROUNDS: usize = 1000;
    // Found by its rowid.
    const TAKES_BACK_NULL_KEYS: bool = true;
    const TAKES_BACK_UNGENERATED_KEYS: bool = true;

    type Backend = Backend;
    type Conn = Connection;
    type Tx<'c> = Transaction<'c>;
    type Sp<'s, 'c>
        = Savepoint<'s>
    where
        'c: 's;
    type Place = Place;

    sqlite_db!();

    fn create(test: &str, shared: bool) -> Option<(Place, Connection)> {
        let (place, conn) = if shared {
            let db = TempDb::new(test);
            let conn = connect(&db);
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).unwrap();
            assert_eq!(mode, "wal");
            (Place::File(db), conn)
        } else {
            (Place::Memory, Connection::open_in_memory().expect("open an in-memory database"))
        };
        conn.execute_batch(&schema::<Self>().join(";\n")).expect("create the tables");
        Some((place, conn))
    }

    fn connect(place: &Place) -> Connection {
        match place {
            Place::Memory => panic!("an in-memory database has one connection: open the case with open_shared"),
            Place::File(db) => {
                let conn = connect(db);
                // Durability is not under test; skipping fsync keeps the test fast.
                conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
                conn
            }
        }
    }

    fn begin(conn: &mut Connection) -> Result<Transaction<'_>, Error> {
        Ok(conn.transaction()?)
    }

    fn begin_read_only(conn: &mut Connection) -> Result<Transaction<'_>, Error> {
        // SQLite has no read-only transaction (`PRAGMA query_only` is a setting of the
        // whole connection): a transaction that only reads is the closest.
        Self::begin(conn)
    }

    fn commit(tx: Transaction<'_>) -> Result<(), Error> {
        Ok(tx.commit()?)
    }

    fn rollback(tx: Transaction<'_>) -> Result<(), Error> {
        Ok(tx.rollback()?)
    }

    fn savepoint<'s, 'c: 's>(tx: &'s mut Transaction<'c>) -> Savepoint<'s> {
        tx.savepoint().expect("start a savepoint")
    }

    fn release<'s, 'c: 's>(sp: Savepoint<'s>) {
        sp.commit().expect("release the savepoint");
    }

    fn rollback_to<'s, 'c: 's>(mut sp: Savepoint<'s>) {
        sp.rollback().expect("roll back to the savepoint");
        sp.commit().expect("release the savepoint");
    }

    fn is_unique_violation(err: &Error) -> bool {
        let Error::Database(db) = err else { return false };
        let code = db.downcast_ref::<rusqlite::Error>().and_then(rusqlite::Error::sqlite_error_code);
        code == Some(ErrorCode::ConstraintViolation)
    }
}

/// A new connection to the file, waiting on locks.
fn connect(db: &TempDb) -> Connection {
    let conn = Connection::open(db.path()).expect("open the database file");
    conn.busy_timeout(BUSY_TIMEOUT).expect("set busy_timeout");
    conn
}

impl ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Owned(match self {
            Val::Null => Value::Null,
            Val::Int(i) => Value::Integer(*i),
            Val::Real(f) => Value::Real(*f),
            Val::Bool(b) => Value::Integer((*b).into()),
            Val::Text(s) => Value::Text(s.clone()),
            Val::Blob(b) => Value::Blob(b.clone()),
        }))
    }
}

fn val(v: ValueRef<'_>) -> Val {
    match v {
        ValueRef::Null => Val::Null,
        ValueRef::Integer(i) => Val::Int(i),
        ValueRef::Real(f) => Val::Real(f),
        ValueRef::Text(t) => Val::Text(String::from_utf8(t.to_vec()).expect("UTF-8 text")),
        ValueRef::Blob(b) => Val::Blob(b.to_vec()),
    }
}

fn try_exec(conn: &Connection, sql: &str, params: &[Val]) -> Result<u64, String> {
    conn.execute(sql, rusqlite::params_from_iter(params)).map(|n| n as u64).map_err(|e| e.to_string())
}

fn try_query(conn: &Connection, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let columns = stmt.column_count();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |row| {
            (0..columns).map(|i| row.get_ref(i).map(val)).collect::<rusqlite::Result<Vec<Val>>>()
        })
        .map_err(|e| e.to_string())?;
    rows.collect::<rusqlite::Result<_>>().map_err(|e| e.to_string())
}

/// Implements [`Session`] for a type that derefs to `Connection`; the executor is a
/// shared reference, the form the library documents for SQLite.
macro_rules! session {
    ($($ty:ty),*) => {$(
        impl Session for $ty {
            type Backend = Backend;

            fn ex(&mut self) -> impl Executor<Backend = Backend, Mode = Blocking> + '_ {
                &*self
            }

            fn try_exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, String> {
                try_exec(self, sql, params)
            }

            fn try_query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, String> {
                try_query(self, sql, params)
            }
        }
    )*};
}

session!(Connection, Transaction<'_>, Savepoint<'_>);
