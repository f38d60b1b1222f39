//! The suite's MySQL and MariaDB (a database per test, see `mysql_place.rs`) through
//! `mysql::Conn` and `mysql::Transaction`, and through `mysql::PooledConn`.

use mysql::consts::ColumnType;
use mysql::prelude::Queryable;
use mysql::{
    AccessMode, Column, Conn, Params, Pool, PoolConstraints, PoolOpts, PooledConn, Row, Transaction, TxOpts, Value,
};
use versioned::Error;
use versioned::backend::{Blocking, Executor, Mysql as Backend};

use crate::suite::{Db, Session, Val};

#[path = "mysql_place.rs"]
mod place;

use place::{Place, quote};

/// MySQL's code for a duplicate key.
const ER_DUP_ENTRY: u16 = 1062;
/// The character set of binary strings (BLOB, VARBINARY).
const BINARY: u16 = 63;

/// The `Db` items both connection types share.
macro_rules! shared {
    () => {
        const ROUNDS: usize = 250;
        const TAKES_BACK_NULL_KEYS: bool = false;

        place::server_items!();

        type Backend = Backend;
        type Tx<'c> = Transaction<'c>;
        type Sp<'s, 'c>
            = Savepoint<'s, 'c>
        where
            'c: 's;

        fn begin(conn: &mut Self::Conn) -> Result<Transaction<'_>, Error> {
            Ok(conn.start_transaction(TxOpts::default())?)
        }

        fn begin_read_only(conn: &mut Self::Conn) -> Result<Transaction<'_>, Error> {
            Ok(conn.start_transaction(TxOpts::default().set_access_mode(Some(AccessMode::ReadOnly)))?)
        }

        fn commit(tx: Transaction<'_>) -> Result<(), Error> {
            Ok(tx.commit()?)
        }

        fn rollback(tx: Transaction<'_>) -> Result<(), Error> {
            Ok(tx.rollback()?)
        }

        fn savepoint<'s, 'c: 's>(tx: &'s mut Transaction<'c>) -> Savepoint<'s, 'c> {
            tx.query_drop("SAVEPOINT suite").expect("start a savepoint");
            Savepoint { tx, open: true }
        }

        fn release<'s, 'c: 's>(sp: Savepoint<'s, 'c>) {
            sp.end(&["RELEASE SAVEPOINT suite"]);
        }

        fn rollback_to<'s, 'c: 's>(sp: Savepoint<'s, 'c>) {
            sp.end(&["ROLLBACK TO SAVEPOINT suite", "RELEASE SAVEPOINT suite"]);
        }

        fn is_unique_violation(err: &Error) -> bool {
            let Error::Database(db) = err else { return false };
            matches!(db.downcast_ref::<mysql::Error>(), Some(mysql::Error::MySqlError(e)) if e.code == ER_DUP_ENTRY)
        }
    };
}

/// MySQL and MariaDB through `mysql::Conn` and `mysql::Transaction`.
pub enum Mysql {}

impl Db for Mysql {
    const NAME: &'static str = "MySQL";
    type Conn = Conn;
    type Place = Place;

    shared!();

    fn create(test: &str, _shared: bool) -> Option<(Place, Conn)> {
        let place = Place::create::<Mysql>("vs_my", test)?;
        let conn = Self::connect(&place);
        Some((place, conn))
    }

    fn connect(place: &Place) -> Conn {
        Conn::new(place.opts()).expect("connect to MySQL")
    }
}

/// A test's database and a pool of connections to it.
pub struct PoolPlace {
    // Declared first: its connections close before the database is dropped.
    pool: Pool,
    _place: Place,
}

/// MySQL and MariaDB through `mysql::PooledConn`.
pub enum MysqlPooled {}

impl Db for MysqlPooled {
    const NAME: &'static str = "MySQL (pooled)";
    type Conn = PooledConn;
    type Place = PoolPlace;

    shared!();

    fn create(test: &str, _shared: bool) -> Option<(PoolPlace, PooledConn)> {
        let place = Place::create::<MysqlPooled>("vs_myp", test)?;
        let constraints = PoolConstraints::new(0, 8).expect("valid pool constraints");
        let opts = place.opts().pool_opts(PoolOpts::default().with_constraints(constraints));
        let pool = Pool::new(opts).expect("open a pool");
        let place = PoolPlace { pool, _place: place };
        let conn = Self::connect(&place);
        Some((place, conn))
    }

    fn connect(place: &PoolPlace) -> PooledConn {
        place.pool.get_conn().expect("a pooled connection")
    }
}

/// A savepoint of a `mysql::Transaction`, which has none of its own: SQL
/// `SAVEPOINT`, rolled back when dropped.
pub struct Savepoint<'s, 'c> {
    tx: &'s mut Transaction<'c>,
    open: bool,
}

impl Savepoint<'_, '_> {
    fn end(mut self, statements: &[&str]) {
        for sql in statements {
            self.tx.query_drop(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        self.open = false;
    }
}

impl Drop for Savepoint<'_, '_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.tx.query_drop("ROLLBACK TO SAVEPOINT suite");
            let _ = self.tx.query_drop("RELEASE SAVEPOINT suite");
        }
    }
}

fn value(v: &Val) -> Value {
    match v {
        Val::Null => Value::NULL,
        Val::Int(i) => Value::Int(*i),
        Val::Real(f) => Value::Double(*f),
        Val::Bool(b) => Value::Int((*b).into()),
        Val::Text(s) => Value::Bytes(s.clone().into_bytes()),
        Val::Blob(b) => Value::Bytes(b.clone()),
    }
}

/// A value read from `column`, by the column's type.
fn val(v: Value, column: &Column) -> Result<Val, String> {
    use ColumnType::*;
    Ok(match v {
        Value::NULL => Val::Null,
        Value::Int(i) => Val::Int(i),
        Value::UInt(u) => Val::Int(i64::try_from(u).map_err(|e| e.to_string())?),
        Value::Float(f) => Val::Real(f.into()),
        Value::Double(f) => Val::Real(f),
        Value::Bytes(b) => match column.column_type() {
            MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_INT24 | MYSQL_TYPE_LONG | MYSQL_TYPE_LONGLONG => {
                Val::Int(String::from_utf8_lossy(&b).parse().map_err(|e| format!("{e}"))?)
            }
            MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE => {
                Val::Real(String::from_utf8_lossy(&b).parse().map_err(|e| format!("{e}"))?)
            }
            MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => Val::Text(String::from_utf8(b).map_err(|e| e.to_string())?),
            _ if column.character_set() == BINARY => Val::Blob(b),
            _ => Val::Text(String::from_utf8(b).map_err(|e| e.to_string())?),
        },
        other => return Err(format!("{other:?} is a value the suite does not read")),
    })
}

fn params(values: &[Val]) -> Params {
    if values.is_empty() { Params::Empty } else { Params::Positional(values.iter().map(value).collect()) }
}

fn try_exec(q: &mut impl Queryable, sql: &str, values: &[Val]) -> Result<u64, String> {
    let result = q.exec_iter(sql, params(values)).map_err(|e| e.to_string())?;
    Ok(result.affected_rows())
}

fn try_query(q: &mut impl Queryable, sql: &str, values: &[Val]) -> Result<Vec<Vec<Val>>, String> {
    let rows: Vec<Row> = q.exec(sql, params(values)).map_err(|e| e.to_string())?;
    rows.into_iter()
        .map(|row| {
            let columns = row.columns();
            row.unwrap().into_iter().zip(columns.iter()).map(|(v, column)| val(v, column)).collect()
        })
        .collect()
}

/// Implements [`Session`] for one of the driver's `Queryable` types.
macro_rules! session {
    ($($ty:ty),*) => {$(
        impl Session for $ty {
            type Backend = Backend;

            fn ex(&mut self) -> impl Executor<Backend = Backend, Mode = Blocking> + '_ {
                self
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

session!(Conn, PooledConn, Transaction<'_>);

impl Session for Savepoint<'_, '_> {
    type Backend = Backend;

    fn ex(&mut self) -> impl Executor<Backend = Backend, Mode = Blocking> + '_ {
        &mut *self.tx
    }

    fn try_exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, String> {
        try_exec(self.tx, sql, params)
    }

    fn try_query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, String> {
        try_query(self.tx, sql, params)
    }
}
