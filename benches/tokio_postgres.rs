//! `versioned` side by side with hand-written `tokio-postgres` code, both sides of each
//! operation on one PostgreSQL connection.
//!
//! The hand-written side prepares its statements once, before the loop, and then only
//! binds and executes them (`client.execute(&stmt, ..)`, `client.query_opt(&stmt, ..)`),
//! checking the rows affected and computing the new version in Rust. The library runs
//! in three ways, each on a connection of its own that its hand-written side shares:
//! - `&AsyncCachingClient`, the library's wrapper of a `tokio_postgres::Client`, and
//! - `&deadpool_postgres::Object`, a pooled connection, whose statements go through
//!   deadpool's statement cache (`prepare_typed_cached`): each statement is prepared
//!   once per connection, then only bound and executed, like the hand-written side's;
//! - a plain `&tokio_postgres::Client`, which keeps no statements: each call sends one
//!   typed statement in one round trip (`execute_typed`, `query_typed_opt`), which
//!   PostgreSQL parses and plans every time. Its hand-written side does the same, with
//!   the driver's own typed calls.
//!
//! Two reference rows time no library code: the driver's typed calls (on the left)
//! against the prepared statements (on the right), on the plain `Client`: what keeping
//! no statements costs, whoever writes the code.
//!
//! Each round times a batch of calls per side, same rows, same values, same checks,
//! alternating which side goes first, and keeps the ratio ours / hand-written. The
//! report gives the median of those per-round ratios with their spread, and the heap
//! allocations per call, counted in a separate pass. A batch runs as one future on a
//! current-thread tokio runtime, which also polls the connections' tasks.
//!
//! The sessions set `synchronous_commit = off`, so a save's time is the statement's
//! and not the disk's flush of its commit.
//!
//! `cargo bench --bench tokio_postgres --features deadpool-postgres`;
//! `VERSIONED_PG_URL` names the server (default
//! `postgres://postgres@127.0.0.1:5432/test`; the bench works in schema `bench`),
//! `BENCH_ROUNDS` sets the number of rounds (default 400, about 45 s), `BENCH_BATCH`
//! the calls per side and round (default 100). When the server does not answer, the
//! bench says why and exits successfully.

use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio::runtime::Runtime;
use tokio_postgres::{Client, Config, NoTls};
use versioned::Versioned;
use versioned::backend::postgres::AsyncCachingClient;

#[path = "common/asynchronous.rs"]
mod asynchronous;
mod common;

use asynchronous::{each_id, each_user};
use common::{Batch, BoxResult, ROWS, Report, Side, measure, side_by_side, window};

const DEFAULT_ROUNDS: usize = 400;
const DEFAULT_BATCH: usize = 100;
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// The bar the project holds: ours / hand-written at most this for `save` and `get`.
const RATIO_BAR: f64 = 1.05;
/// How long the server may take to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

common::user_entity!("tpg_bench_users");

/// The same operations written by hand against `tokio-postgres`, as an application
/// would without the library: statements prepared once, then bound and executed.
mod hand {
    use tokio_postgres::types::Type;
    use tokio_postgres::{Client, Row, Statement};

    use super::User;
    use crate::common::BoxResult;

    pub const UPDATE: &str = r#"UPDATE "tpg_bench_users" SET "name" = $1, "email" = $2, "score" = $3, "version" = $4 WHERE "id" = $5 AND "version" = $6"#;
    pub const SELECT: &str =
        r#"SELECT "id", "name", "email", "score", "version" FROM "tpg_bench_users" WHERE "id" = $1"#;
    pub const INSERT: &str =
        r#"INSERT INTO "tpg_bench_users" ("id", "name", "email", "score", "version") VALUES ($1, $2, $3, $4, $5)"#;

    /// The entity from a row of `SELECT`.
    fn user_from_row(row: &Row) -> BoxResult<User> {
        Ok(User {
            id: row.try_get(0)?,
            name: row.try_get(1)?,
            email: row.try_get(2)?,
            score: row.try_get(3)?,
            version: row.try_get(4)?,
        })
    }

    /// The statements, prepared on one connection and run on it only.
    pub struct Hand {
        update: Statement,
        select: Statement,
        insert: Statement,
    }

    impl Hand {
        pub async fn prepare(client: &Client) -> Result<Hand, tokio_postgres::Error> {
            Ok(Hand {
                update: client.prepare(UPDATE).await?,
                select: client.prepare(SELECT).await?,
                insert: client.prepare(INSERT).await?,
            })
        }

        /// A version-checked update: zero rows matched is an error, and the entity
        /// keeps its version unless the write went through.
        pub async fn save(&self, client: &Client, u: &mut User) -> BoxResult<()> {
            let new = u.version.wrapping_add(1);
            let changed = client.execute(&self.update, &[&u.name, &u.email, &u.score, &new, &u.id, &u.version]).await?;
            if changed == 0 {
                return Err(format!("tpg_bench_users id={}: version {} is not the row's", u.id, u.version).into());
            }
            u.version = new;
            Ok(())
        }

        pub async fn get(&self, client: &Client, id: i64) -> BoxResult<User> {
            let row = client
                .query_opt(&self.select, &[&id])
                .await?
                .ok_or_else(|| format!("tpg_bench_users id={id}: no row"))?;
            user_from_row(&row)
        }

        /// `save` as one typed statement in one round trip, which PostgreSQL parses and
        /// plans on every call: what the library sends on a plain `Client`.
        pub async fn save_typed(client: &Client, u: &mut User) -> BoxResult<()> {
            let new = u.version.wrapping_add(1);
            let changed = client
                .execute_typed(
                    UPDATE,
                    &[
                        (&u.name, Type::TEXT),
                        (&u.email, Type::TEXT),
                        (&u.score, Type::INT8),
                        (&new, Type::INT8),
                        (&u.id, Type::INT8),
                        (&u.version, Type::INT8),
                    ],
                )
                .await?;
            if changed == 0 {
                return Err(format!("tpg_bench_users id={}: version {} is not the row's", u.id, u.version).into());
            }
            u.version = new;
            Ok(())
        }

        /// `get` as one typed statement in one round trip.
        pub async fn get_typed(client: &Client, id: i64) -> BoxResult<User> {
            let row = client
                .query_typed_opt(SELECT, &[(&id, Type::INT8)])
                .await?
                .ok_or_else(|| format!("tpg_bench_users id={id}: no row"))?;
            user_from_row(&row)
        }

        pub async fn insert(&self, client: &Client, u: &mut User) -> Result<(), tokio_postgres::Error> {
            client.execute(&self.insert, &[&u.id, &u.name, &u.email, &u.score, &0_i64]).await?;
            u.version = 0;
            Ok(())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    /// `save` on `&AsyncCachingClient`.
    CachedSave,
    /// `get` on `&AsyncCachingClient`.
    CachedGet,
    /// `save` on `&Client`, against the driver's typed call.
    Save,
    /// `get` on `&Client`, against the driver's typed call.
    Get,
    /// `save` on `&Object`.
    PooledSave,
    /// `get` on `&Object`.
    PooledGet,
    /// Reference, no library code: the driver's typed one-round-trip `save`.
    TypedSave,
    /// Reference, no library code: the driver's typed one-round-trip `get`.
    TypedGet,
}

const OPS: [Op; 8] =
    [Op::CachedSave, Op::CachedGet, Op::PooledSave, Op::PooledGet, Op::Save, Op::Get, Op::TypedSave, Op::TypedGet];

impl common::Op for Op {
    fn name(self) -> &'static str {
        match self {
            Op::CachedSave => "save (&AsyncCachingClient)",
            Op::CachedGet => "get (&AsyncCachingClient)",
            Op::Save => "save (&Client, vs typed)",
            Op::Get => "get (&Client, vs typed)",
            Op::PooledSave => "save (&deadpool Object)",
            Op::PooledGet => "get (&deadpool Object)",
            Op::TypedSave => "typed vs prepared save (ref)",
            Op::TypedGet => "typed vs prepared get (ref)",
        }
    }
}

impl Op {
    /// Whether the row times library code, and so has bars.
    fn ours(self) -> bool {
        !matches!(self, Op::TypedSave | Op::TypedGet)
    }
}

/// The connections and the entities the batches work on.
struct Bench {
    /// The plain `Client`, and its hand-written statements.
    client: Client,
    hand: hand::Hand,
    /// The caching client, and its hand-written statements.
    caching: AsyncCachingClient,
    caching_hand: hand::Hand,
    /// The pooled connection, and its hand-written statements.
    object: Object,
    object_hand: hand::Hand,
    /// Row `i + 1` as last written, version included.
    users: Vec<User>,
    batch: usize,
}

/// A `Client` on `config`'s server, its connection polled by a task of the runtime.
async fn client(config: &Config) -> BoxResult<Client> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("the connection failed: {e}");
        }
    });
    Ok(client)
}

/// Two `Client`s on `url`'s server (the second to be wrapped in an
/// `AsyncCachingClient`), and a connection of a one-connection deadpool pool on it.
async fn connect(url: &str) -> BoxResult<(Client, Client, Object)> {
    let mut config: Config = url.parse()?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let (plain, caching) = (client(&config).await?, client(&config).await?);
    let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    let object = Pool::builder(manager).max_size(1).build()?.get().await?;
    Ok((plain, caching, object))
}

impl Bench {
    async fn new((mut client, caching, object): (Client, Client, Object), batch: usize) -> BoxResult<Bench> {
        client
            .batch_execute(
                "SET synchronous_commit = off;
                CREATE SCHEMA IF NOT EXISTS bench;
                SET search_path TO bench;
                DROP TABLE IF EXISTS tpg_bench_users;
                CREATE TABLE tpg_bench_users (
                    id BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    email TEXT,
                    score BIGINT NOT NULL,
                    version BIGINT NOT NULL
                )",
            )
            .await?;
        let hand = hand::Hand::prepare(&client).await?;
        let mut users = User::table();
        let tx = client.transaction().await?;
        for u in &mut users {
            hand.insert(tx.client(), u).await?;
        }
        tx.commit().await?;
        client.batch_execute("VACUUM ANALYZE tpg_bench_users").await?;
        let session = "SET synchronous_commit = off; SET search_path TO bench";
        caching.batch_execute(session).await?;
        let caching = AsyncCachingClient::new(caching);
        let caching_hand = hand::Hand::prepare(&caching).await?;
        object.batch_execute(session).await?;
        let object_hand = hand::Hand::prepare(&object).await?;
        Ok(Bench { client, hand, caching, caching_hand, object, object_hand, users, batch })
    }

    fn run(&mut self, rt: &Runtime, op: Op, side: Side, round: usize) -> BoxResult<Batch> {
        let start = window(round, self.batch);
        let users = &mut self.users[start..start + self.batch];
        let ids = start as i64 + 1..(start + self.batch) as i64 + 1;
        let (client, hand) = (&self.client, &self.hand);
        let (caching, caching_hand) = (&self.caching, &self.caching_hand);
        let (object, object_hand) = (&self.object, &self.object_hand);
        measure(|| match (op, side) {
            (Op::CachedSave, Side::Ours) => rt.block_on(each_user(users, async |u| Ok(u.save(caching).await?))),
            (Op::CachedSave, Side::Hand) => {
                rt.block_on(each_user(users, async |u| caching_hand.save(caching, u).await))
            }
            (Op::CachedGet, Side::Ours) => rt.block_on(each_id(ids, async |id| Ok(User::get(caching, id).await?))),
            (Op::CachedGet, Side::Hand) => rt.block_on(each_id(ids, async |id| caching_hand.get(caching, id).await)),
            (Op::Save, Side::Ours) => rt.block_on(each_user(users, async |u| Ok(u.save(client).await?))),
            (Op::Save, Side::Hand) => rt.block_on(each_user(users, async |u| hand::Hand::save_typed(client, u).await)),
            (Op::TypedSave, Side::Hand) => rt.block_on(each_user(users, async |u| hand.save(client, u).await)),
            (Op::PooledSave, Side::Ours) => rt.block_on(each_user(users, async |u| Ok(u.save(object).await?))),
            (Op::PooledSave, Side::Hand) => rt.block_on(each_user(users, async |u| object_hand.save(object, u).await)),
            (Op::Get, Side::Ours) => rt.block_on(each_id(ids, async |id| Ok(User::get(client, id).await?))),
            (Op::Get, Side::Hand) => rt.block_on(each_id(ids, async |id| hand::Hand::get_typed(client, id).await)),
            (Op::TypedGet, Side::Hand) => rt.block_on(each_id(ids, async |id| hand.get(client, id).await)),
            (Op::PooledGet, Side::Ours) => rt.block_on(each_id(ids, async |id| Ok(User::get(object, id).await?))),
            (Op::PooledGet, Side::Hand) => rt.block_on(each_id(ids, async |id| object_hand.get(object, id).await)),
            (Op::TypedSave, Side::Ours) => {
                rt.block_on(each_user(users, async |u| hand::Hand::save_typed(client, u).await))
            }
            (Op::TypedGet, Side::Ours) => rt.block_on(each_id(ids, async |id| hand::Hand::get_typed(client, id).await)),
        })
    }
}

/// Checks, before timing, that both sides run the same statements and leave the same
/// rows and entities behind, through either executor.
fn check_same_work(rt: &Runtime, bench: &mut Bench) -> BoxResult<()> {
    common::compare_statements(versioned::__private::Dialect::Postgres, &[hand::UPDATE, hand::SELECT, hand::INSERT]);
    let Bench { client, hand, caching, caching_hand, object, object_hand, users, .. } = bench;
    // Row 3 has no email, row 4 has one.
    for i in [2, 3] {
        common::check_row(
            client,
            &mut users[i],
            |client, u| rt.block_on(u.save(&*client)),
            |client, id| rt.block_on(User::get(&*client, id)),
            |client, u| rt.block_on(hand.save(client, u)),
            |client, id| rt.block_on(hand.get(client, id)),
        )?;
        common::check_row(
            caching,
            &mut users[i],
            |caching, u| rt.block_on(u.save(&*caching)),
            |caching, id| rt.block_on(User::get(&*caching, id)),
            |caching, u| rt.block_on(caching_hand.save(caching, u)),
            |caching, id| rt.block_on(caching_hand.get(caching, id)),
        )?;
        common::check_row(
            object,
            &mut users[i],
            |object, u| rt.block_on(u.save(&*object)),
            |object, id| rt.block_on(User::get(&*object, id)),
            |object, u| rt.block_on(object_hand.save(object, u)),
            |object, id| rt.block_on(object_hand.get(object, id)),
        )?;
    }
    Ok(())
}

fn main() -> BoxResult<()> {
    let (rounds, batch) = common::rounds_and_batch(DEFAULT_ROUNDS, DEFAULT_BATCH)?;
    let rt = asynchronous::runtime()?;
    let open = |url: &str| rt.block_on(connect(url));
    let Some(connections) = common::connect_or_skip("PostgreSQL", "VERSIONED_PG_URL", DEFAULT_URL, open) else {
        return Ok(());
    };
    let started = Instant::now();
    let mut bench = rt.block_on(Bench::new(connections, batch))?;
    let server: String = rt.block_on(bench.client.query_one("SHOW server_version", &[]))?.try_get(0)?;
    check_same_work(&rt, &mut bench)?;
    let reports = side_by_side(&OPS, rounds, batch, |op, side, round| bench.run(&rt, op, side, round))?;
    rt.block_on(bench.client.batch_execute("DROP TABLE tpg_bench_users"))?;
    print_reports(&reports, &server, rounds, batch, started.elapsed());
    Ok(())
}

fn print_reports(reports: &[Report<Op>], server: &str, rounds: usize, batch: usize, elapsed: Duration) {
    common::print_table(
        &format!(
            "versioned vs hand-written tokio-postgres (statements prepared once): PostgreSQL {server}, both sides of an \
             op on one connection, {ROWS} rows, {rounds} rounds x {batch} calls per side ({:.1} s, current-thread \
             tokio runtime)",
            elapsed.as_secs_f64()
        ),
        reports,
    );
    for r in reports.iter().filter(|r| r.op.ours()) {
        common::print_ratio_verdict(r, RATIO_BAR);
    }
    for r in reports.iter().filter(|r| r.op.ours()) {
        asynchronous::print_alloc_verdict(r);
    }
    println!(
        "the &Client rows time both sides with one typed round trip per call, parsed and planned every time; the \
         reference rows (no library code) put the driver's typed calls against prepared statements: what keeping \
         no statements costs"
    );
}
