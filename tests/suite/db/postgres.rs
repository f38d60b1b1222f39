//! The suite's PostgreSQL (a schema per test, see `pg_place.rs`) through
//! `postgres::Client` ([`Postgres`]) and through the library's `CachingClient`
//! ([`PgCached`]).
//!
//! The async clients' `Db` impls (`tokio_postgres.rs`) reuse [`pg_items!`] and the raw
//! SQL helpers made public here: tokio-postgres's rows and errors are `postgres`'s.

use postgres::types::{ToSql, Type};
use postgres::{Client, Row, Transaction};
use versioned::Error;
use versioned::backend::postgres::{CachingClient, CachingTransaction};
use versioned::backend::{Blocking, Executor, Postgres as Backend};

use crate::suite::{Db, Session, Val};

#[path = "pg_place.rs"]
pub mod place;

use place::{Place, numbered, quote, skip_rows};

/// The `Db` items every client on tokio-postgres's types shares, blocking or async:
/// the server's items, and its errors. `$pg` is the path of this module where the
/// macro is expanded, with `quote` and `skip_rows` of `pg_place.rs` in scope.
macro_rules! pg_items {
    ($($pg:ident)::+) => {
        const ROUNDS: usize = 250;
        const TAKES_BACK_NULL_KEYS: bool = false;

        $($pg)::+::place::server_items!();

        type Backend = versioned::backend::Postgres;

        // `postgres::Error` is tokio-postgres's, which the async executors return too.
        fn is_unique_violation(err: &versioned::Error) -> bool {
            let versioned::Error::Database(db) = err else { return false };
            db.downcast_ref::<postgres::Error>().and_then(postgres::Error::code)
                == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
        }
    };
}

#[allow(unused_imports)] // used by path, from the async clients' test file
pub(crate) use pg_items;

/// The `Db` items both blocking clients share.
macro_rules! shared {
    () => {
        pg_items!(self);

        type Place = Place;

        fn savepoint<'s, 'c: 's>(tx: &'s mut Self::Tx<'c>) -> Self::Sp<'s, 'c> {
            tx.savepoint("suite").expect("start a savepoint")
        }

        fn release<'s, 'c: 's>(sp: Self::Sp<'s, 'c>) {
            sp.commit().expect("release the savepoint");
        }

        fn rollback_to<'s, 'c: 's>(sp: Self::Sp<'s, 'c>) {
            sp.rollback().expect("roll back to the savepoint");
        }
    };
}

/// PostgreSQL through `postgres::Client` and `postgres::Transaction`.
pub enum Postgres {}

impl Db for Postgres {
    const NAME: &'static str = "PostgreSQL";
    type Conn = Client;
    type Tx<'c> = Transaction<'c>;
    type Sp<'s, 'c>
        = Transaction<'s>
    where
        'c: 's;

    shared!();

    fn create(test: &str, _shared: bool) -> Option<(Place, Client)> {
        Place::create::<Postgres>("vs_pg", test)
    }

    fn connect(place: &Place) -> Client {
        place.connect()
    }

    fn begin(conn: &mut Client) -> Result<Transaction<'_>, Error> {
        Ok(conn.transaction()?)
    }

    fn begin_read_only(conn: &mut Client) -> Result<Transaction<'_>, Error> {
        Ok(conn.build_transaction().read_only(true).start()?)
    }

    fn commit(tx: Transaction<'_>) -> Result<(), Error> {
        Ok(tx.commit()?)
    }

    fn rollback(tx: Transaction<'_>) -> Result<(), Error> {
        Ok(tx.rollback()?)
    }
}

/// PostgreSQL through the library's `CachingClient`, which prepares each statement
/// once per connection.
pub enum PgCached {}

impl Db for PgCached {
    const NAME: &'static str = "PostgreSQL (CachingClient)";
    type Conn = CachingClient;
    type Tx<'c> = CachingTransaction<'c>;
    type Sp<'s, 'c>
        = CachingTransaction<'s>
    where
        'c: 's;

    shared!();

    fn create(test: &str, _shared: bool) -> Option<(Place, CachingClient)> {
        Place::create::<PgCached>("vs_pgc", test).map(|(place, client)| (place, CachingClient::new(client)))
    }

    fn connect(place: &Place) -> CachingClient {
        CachingClient::new(place.connect())
    }

    fn begin(conn: &mut CachingClient) -> Result<CachingTransaction<'_>, Error> {
        conn.transaction()
    }

    fn begin_read_only(conn: &mut CachingClient) -> Result<CachingTransaction<'_>, Error> {
        conn.build_transaction().read_only(true).start()
    }

    fn commit(tx: CachingTransaction<'_>) -> Result<(), Error> {
        tx.commit()
    }

    fn rollback(tx: CachingTransaction<'_>) -> Result<(), Error> {
        tx.rollback()
    }
}

/// The values with the PostgreSQL types they are sent as.
pub fn typed(params: &[Val]) -> Vec<(Box<dyn ToSql + Sync>, Type)> {
    params
        .iter()
        .map(|v| -> (Box<dyn ToSql + Sync>, Type) {
            match v {
                Val::Int(i) => (Box::new(*i), Type::INT8),
                Val::Real(f) => (Box::new(*f), Type::FLOAT8),
                Val::Bool(b) => (Box::new(*b), Type::BOOL),
                Val::Text(s) => (Box::new(s.clone()), Type::TEXT),
                Val::Blob(b) => (Box::new(b.clone()), Type::BYTEA),
                Val::Null => panic!("write NULL into the SQL text: a bound NULL needs a type"),
            }
        })
        .collect()
}

/// The driver's typed calls the suite's raw SQL runs, on a client or transaction of
/// either kind.
trait Raw {
    fn execute_typed(&mut self, sql: &str, params: &[(&(dyn ToSql + Sync), Type)]) -> Result<u64, postgres::Error>;
    fn query_typed(&mut self, sql: &str, params: &[(&(dyn ToSql + Sync), Type)]) -> Result<Vec<Row>, postgres::Error>;
}

/// Implements [`Raw`] with the methods of the same names each type has.
macro_rules! raw {
    ($($ty:ty),*) => {$(
        impl Raw for $ty {
            fn execute_typed(
                &mut self,
                sql: &str,
                params: &[(&(dyn ToSql + Sync), Type)],
            ) -> Result<u64, postgres::Error> {
                <$ty>::execute_typed(self, sql, params)
            }

            fn query_typed(
                &mut self,
                sql: &str,
                params: &[(&(dyn ToSql + Sync), Type)],
            ) -> Result<Vec<Row>, postgres::Error> {
                <$ty>::query_typed(self, sql, params)
            }
        }
    )*};
}

raw!(Client, Transaction<'_>, CachingClient, CachingTransaction<'_>);

fn try_exec(conn: &mut impl Raw, sql: &str, params: &[Val]) -> Result<u64, String> {
    let params = typed(params);
    let params: Vec<_> = params.iter().map(|(v, t)| (&**v, t.clone())).collect();
    conn.execute_typed(&numbered(sql), &params).map_err(|e| e.to_string())
}

fn try_query(conn: &mut impl Raw, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, String> {
    let params = typed(params);
    let params: Vec<_> = params.iter().map(|(v, t)| (&**v, t.clone())).collect();
    let rows = conn.query_typed(&numbered(sql), &params).map_err(|e| e.to_string())?;
    read_rows(&rows)
}

/// The rows a raw query read, as values.
pub fn read_rows(rows: &[Row]) -> Result<Vec<Vec<Val>>, String> {
    rows.iter().map(|row| (0..row.len()).map(|i| val(row, i)).collect()).collect()
}

/// Column `i` of `row`, by its PostgreSQL type.
fn val(row: &Row, i: usize) -> Result<Val, String> {
    fn get<'a, T: postgres::types::FromSql<'a>>(
        row: &'a Row,
        i: usize,
        f: impl FnOnce(T) -> Val,
    ) -> Result<Val, String> {
        let value: Option<T> = row.try_get(i).map_err(|e| e.to_string())?;
        Ok(value.map_or(Val::Null, f))
    }
    let ty = row.columns()[i].type_();
    if *ty == Type::INT2 {
        get(row, i, |v: i16| Val::Int(v.into()))
    } else if *ty == Type::INT4 {
        get(row, i, |v: i32| Val::Int(v.into()))
    } else if *ty == Type::INT8 {
        get(row, i, Val::Int)
    } else if *ty == Type::FLOAT8 {
        get(row, i, Val::Real)
    } else if *ty == Type::BOOL {
        get(row, i, Val::Bool)
    } else if *ty == Type::TEXT || *ty == Type::VARCHAR || *ty == Type::NAME {
        get(row, i, Val::Text)
    } else if *ty == Type::BYTEA {
        get(row, i, Val::Blob)
    } else {
        Err(format!("column {i} has the type {ty}, which the suite does not read"))
    }
}

/// Implements [`Session`] for a client or transaction type.
macro_rules! session {
    ($ty:ty) => {
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
    };
}

session!(Client);
session!(Transaction<'_>);
session!(CachingClient);
session!(CachingTransaction<'_>);
