//! The suite's PostgreSQL through the async executors, lent to the blocking cases by
//! [`Wait`]: a `tokio_postgres::Client` ([`TokioPostgres`]), the library's
//! `AsyncCachingClient` ([`TokioPostgresCached`]) and a deadpool-postgres pool's
//! `Object` ([`Deadpool`]), each with its transactions and savepoints.
//!
//! The schema, the column types and what the server does are the blocking clients'
//! (`postgres.rs`, mounted as `crate::pg`). Raw SQL runs through tokio-postgres
//! itself, never through the library under test.
//!
//! What each lends the library: the connection as `&Client`, `&AsyncCachingClient` or
//! `&Object`, a
//! transaction as `&Transaction`, a savepoint as `&mut Transaction`.

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::{Client, NoTls};
use versioned::Error;
use versioned::backend::postgres::{AsyncCachingClient, AsyncCachingTransaction};
use versioned::backend::{Blocking, Executor, Postgres as Backend};

use crate::pg::place::{Place, numbered, quote, skip_rows, use_schema_sql};
use crate::pg::{read_rows, typed};
use crate::server::tokio_pg_config;
use crate::suite::{Db, Session, Val};
use crate::wait::{Wait, async_session, block_on};

/// A new connection working in `schema`, its connection task on the suite's runtime.
fn connect(schema: &str) -> Client {
    block_on(async {
        let (client, connection) = tokio_pg_config().connect(NoTls).await.expect("connect to PostgreSQL");
        tokio::spawn(connection);
        client.batch_execute(&use_schema_sql(schema)).await.expect("use the test's schema");
        client
    })
}

/// The `Db` items both async clients share: transactions and savepoints, which
/// tokio-postgres and deadpool-postgres start and end with methods of the same names.
macro_rules! async_items {
    () => {
        crate::pg::pg_items!(crate::pg);

        // `?` converts the drivers' errors; the caching client's are the library's already.
        #[allow(clippy::needless_question_mark)]
        fn begin(conn: &mut Self::Conn) -> Result<Self::Tx<'_>, Error> {
            Ok(block_on(conn.transaction())?)
        }

        #[allow(clippy::needless_question_mark)]
        fn begin_read_only(conn: &mut Self::Conn) -> Result<Self::Tx<'_>, Error> {
            Ok(block_on(conn.build_transaction().read_only(true).start())?)
        }

        #[allow(clippy::needless_question_mark)]
        fn commit(tx: Self::Tx<'_>) -> Result<(), Error> {
            Ok(block_on(tx.commit())?)
        }

        #[allow(clippy::needless_question_mark)]
        fn rollback(tx: Self::Tx<'_>) -> Result<(), Error> {
            Ok(block_on(tx.rollback())?)
        }

        fn savepoint<'s, 'c: 's>(tx: &'s mut Self::Tx<'c>) -> Self::Sp<'s, 'c> {
            Savepoint(block_on(tx.savepoint("suite")).expect("start a savepoint"))
        }

        fn release<'s, 'c: 's>(sp: Self::Sp<'s, 'c>) {
            block_on(sp.0.commit()).expect("release the savepoint");
        }

        fn rollback_to<'s, 'c: 's>(sp: Self::Sp<'s, 'c>) {
            block_on(sp.0.rollback()).expect("roll back to the savepoint");
        }
    };
}

/// PostgreSQL through `tokio_postgres::Client` and its `Transaction`.
pub enum TokioPostgres {}

impl Db for TokioPostgres {
    const NAME: &'static str = "PostgreSQL (tokio-postgres)";
    type Conn = Client;
    type Tx<'c> = tokio_postgres::Transaction<'c>;
    type Sp<'s, 'c>
        = Savepoint<tokio_postgres::Transaction<'s>>
    where
        'c: 's;
    type Place = Place;

    async_items!();

    fn create(test: &str, _shared: bool) -> Option<(Place, Client)> {
        let (place, setup) = Place::create::<TokioPostgres>("vs_tpg", test)?;
        drop(setup); // blocking: the cases' connections are async ones
        let client = connect(place.schema());
        Some((place, client))
    }

    fn connect(place: &Place) -> Client {
        connect(place.schema())
    }
}

/// PostgreSQL through the library's `AsyncCachingClient` and its transactions, which
/// prepare each statement once per connection.
pub enum TokioPostgresCached {}

impl Db for TokioPostgresCached {
    const NAME: &'static str = "PostgreSQL (AsyncCachingClient)";
    type Conn = AsyncCachingClient;
    type Tx<'c> = AsyncCachingTransaction<'c>;
    type Sp<'s, 'c>
        = Savepoint<AsyncCachingTransaction<'s>>
    where
        'c: 's;
    type Place = Place;

    async_items!();

    fn create(test: &str, _shared: bool) -> Option<(Place, AsyncCachingClient)> {
        let (place, setup) = Place::create::<TokioPostgresCached>("vs_tpgc", test)?;
        drop(setup); // blocking: the cases' connections are async ones
        let client = AsyncCachingClient::new(connect(place.schema()));
        Some((place, client))
    }

    fn connect(place: &Place) -> AsyncCachingClient {
        AsyncCachingClient::new(connect(place.schema()))
    }
}

/// A test's schema and a pool of connections working in it.
pub struct Pooled {
    // Before `place`: the pool's connections close before the schema is dropped.
    pool: Pool,
    place: Place,
}

impl Pooled {
    /// A connection from the pool, working in the test's schema.
    fn get(&self) -> Object {
        block_on(async {
            let object = self.pool.get().await.expect("a pooled connection");
            object.batch_execute(&use_schema_sql(self.place.schema())).await.expect("use the test's schema");
            object
        })
    }
}

/// PostgreSQL through a deadpool-postgres pool's `Object` and its `Transaction`, whose
/// statements go through deadpool's statement cache.
pub enum Deadpool {}

impl Db for Deadpool {
    const NAME: &'static str = "PostgreSQL (deadpool-postgres)";
    type Conn = Object;
    type Tx<'c> = deadpool_postgres::Transaction<'c>;
    type Sp<'s, 'c>
        = Savepoint<deadpool_postgres::Transaction<'s>>
    where
        'c: 's;
    type Place = Pooled;

    async_items!();

    fn create(test: &str, _shared: bool) -> Option<(Pooled, Object)> {
        let (place, setup) = Place::create::<Deadpool>("vs_dpg", test)?;
        drop(setup); // blocking: the cases' connections are async ones
        let manager =
            Manager::from_config(tokio_pg_config(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        // Room for every connection a case opens (the stress cases': one per thread).
        let pool = Pool::builder(manager).max_size(16).build().expect("build the pool");
        let pooled = Pooled { pool, place };
        let object = pooled.get();
        Some((pooled, object))
    }

    fn connect(place: &Pooled) -> Object {
        place.get()
    }
}

/// A savepoint: a transaction inside a transaction, lent to the library as
/// `&mut Transaction` where the transaction itself is lent as `&Transaction`.
pub struct Savepoint<T>(T);

/// Runs a raw statement on `client`; returns the number of rows it affected.
fn try_exec(client: &Client, sql: &str, params: &[Val]) -> Result<u64, String> {
    let params = typed(params);
    let params: Vec<_> = params.iter().map(|(v, t)| (&**v, t.clone())).collect();
    block_on(client.execute_typed(&numbered(sql), &params)).map_err(|e| e.to_string())
}

/// Runs a raw query on `client`; returns its rows.
fn try_query(client: &Client, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, String> {
    let params = typed(params);
    let params: Vec<_> = params.iter().map(|(v, t)| (&**v, t.clone())).collect();
    let rows = block_on(client.query_typed(&numbered(sql), &params)).map_err(|e| e.to_string())?;
    read_rows(&rows)
}

// A transaction's raw SQL runs on its client, as its own methods run theirs.
async_session!(Client, |s| &*s, s);
async_session!(tokio_postgres::Transaction<'_>, |s| &*s, s.client());
async_session!(Savepoint<tokio_postgres::Transaction<'_>>, |s| &mut s.0, s.0.client());
async_session!(AsyncCachingClient, |s| &*s, s);
async_session!(AsyncCachingTransaction<'_>, |s| &*s, s.client());
async_session!(Savepoint<AsyncCachingTransaction<'_>>, |s| &mut s.0, s.0.client());
async_session!(Object, |s| &*s, s);
async_session!(deadpool_postgres::Transaction<'_>, |s| &*s, s.client());
async_session!(Savepoint<deadpool_postgres::Transaction<'_>>, |s| &mut s.0, s.0.client());
