//! The suite's PostgreSQL: a schema per test in the database of `VERSIONED_PG_URL`,
//! through `postgres::Client` ([`Postgres`]) and through the library's
//! `CachingClient` ([`PgCached`]).
//!
//! The async clients' `Db` impls (`tokio_postgres.rs`) reuse the schema, the items
//! of [`pg_items!`] and the raw SQL helpers made public here.

use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Row, Transaction};
use versioned::Error;
use versioned::backend::postgres::{CachingClient, CachingTransaction};
use versioned::backend::{Blocking, Executor, Postgres as Backend};

use crate::server::{POSTGRES, pg_config, place_name};
use crate::suite::{Db, Session, Val, schema};

/// The identifier quoted for PostgreSQL.
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The statements that make a session work in `schema`.
///
/// Durability is not under test: not waiting for the WAL flush on commit keeps the
/// stress cases fast, and changes nothing any other session can see.
pub fn use_schema_sql(schema: &str) -> String {
    format!("SET search_path TO {}; SET synchronous_commit TO off", quote(schema))
}

fn use_schema(client: &mut Client, schema: &str) {
    client.batch_execute(&use_schema_sql(schema)).expect("use the test's schema");
}

/// A test's schema: created empty with every table, dropped at the end unless the
/// test failed (then kept for a look; the next run drops it first).
pub struct Place {
    schema: String,
}

impl Place {
    /// Creates the schema for `test`, named with `prefix`, and a first connection
    /// working in it.
    pub fn create(prefix: &str, test: &str) -> Option<(Place, Client)> {
        let mut client = POSTGRES.connect(|| pg_config().connect(NoTls))?;
        let name = place_name(prefix, test);
        let q = quote(&name);
        let mut ddl = format!("DROP SCHEMA IF EXISTS {q} CASCADE; CREATE SCHEMA {q};");
        ddl += &format!("SET search_path TO {q};");
        for table in schema::<Postgres>() {
            ddl += &table;
            ddl += ";";
        }
        client.batch_execute(&ddl).unwrap_or_else(|e| panic!("create the schema {name}: {e}"));
        use_schema(&mut client, &name);
        Some((Place { schema: name }, client))
    }

    /// The schema's name.
    #[allow(dead_code)] // for the async clients, whose own connections open it
    pub fn schema(&self) -> &str {
        &self.schema
    }

    fn connect(&self) -> Client {
        let mut client = pg_config().connect(NoTls).expect("connect to PostgreSQL");
        use_schema(&mut client, &self.schema);
        client
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        if let Ok(mut client) = pg_config().connect(NoTls) {
            // A lock left by a stray session must not hang the run: give up instead.
            let sql = format!("SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {} CASCADE", quote(&self.schema));
            let _ = client.batch_execute(&sql);
        }
    }
}

/// A `BEFORE` row trigger on `table` that returns NULL, so `event` skips every row.
pub fn skip_rows(table: &str, event: &str) -> Vec<String> {
    let function = format!("{table}_skip_{}", event.to_lowercase());
    vec![
        format!("CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$"),
        format!("CREATE TRIGGER {function} BEFORE {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()"),
    ]
}

/// The `Db` items every PostgreSQL client shares, blocking or async: column types,
/// what the server does, triggers and errors. `$pg` is the path of this module where
/// the macro is expanded.
macro_rules! pg_items {
    ($($pg:ident)::+) => {
        const ROUNDS: usize = 250;

        const AUTO_KEY: &'static str = "BIGSERIAL PRIMARY KEY";
        const BIGINT: &'static str = "BIGINT";
        const INT: &'static str = "INTEGER";
        const SMALLINT: &'static str = "SMALLINT";
        const TEXT: &'static str = "TEXT";
        const KEY_TEXT: &'static str = "TEXT";
        const DOUBLE: &'static str = "DOUBLE PRECISION";
        const BLOB: &'static str = "BYTEA";
        const BOOL: &'static str = "BOOLEAN";
        const TEXT_HOLDS_NUL: bool = false;
        const STALE_SNAPSHOT_WRITE_FAILS: bool = false;
        const READ_ONLY_REFUSES_VERIFY: bool = true;
        // A primary key is NOT NULL: the insert is refused.
        const UNGENERATED_KEY: &'static str = "BIGINT PRIMARY KEY";
        const UNGENERATED_KEY_REFUSED: bool = true;
        const TAKES_BACK_NULL_KEYS: bool = false;
        // Nothing to take back: the insert is refused.
        const TAKES_BACK_UNGENERATED_KEYS: bool = false;

        type Backend = versioned::backend::Postgres;

        fn quote(ident: &str) -> String {
            $($pg)::+::quote(ident)
        }

        fn ignore_updates(table: &str, _columns: &[&str]) -> Vec<String> {
            $($pg)::+::skip_rows(table, "UPDATE")
        }

        fn ignore_deletes(table: &str) -> Option<Vec<String>> {
            Some($($pg)::+::skip_rows(table, "DELETE"))
        }

        fn refuse_deletes(table: &str, message: &str) -> Vec<String> {
            vec![
                format!(
                    "CREATE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION '{message}'; END $$"
                ),
                format!(
                    "CREATE TRIGGER {table}_refuse_deletes BEFORE DELETE ON {table} FOR EACH ROW \
                     EXECUTE FUNCTION {table}_refuse()"
                ),
            ]
        }

        // `postgres::Error` is tokio-postgres's, which the async executors return too.
        fn is_unique_violation(err: &versioned::Error) -> bool {
            let versioned::Error::Database(db) = err else { return false };
            db.downcast_ref::<postgres::Error>().and_then(postgres::Error::code)
                == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
        }

        fn follow_explicit_keys(conn: &mut Self::Conn, table: &str) {
            let sql = format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))");
            crate::suite::exec(conn, &sql, &[]);
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
        Place::create("vs_pg", test)
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
        Place::create("vs_pgc", test).map(|(place, client)| (place, CachingClient::new(client)))
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

/// `sql` with its `?` placeholders numbered `$1`, `$2`.. (outside quoted text).
pub fn numbered(sql: &str) -> String {
    let (mut out, mut n, mut quoted) = (String::with_capacity(sql.len()), 0, false);
    for ch in sql.chars() {
        match ch {
            '\'' => quoted = !quoted,
            '?' if !quoted => {
                n += 1;
                out += &format!("${n}");
                continue;
            }
            _ => {}
        }
        out.push(ch);
    }
    out
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
