//! `versioned` side by side with hand-written `postgres` code, both sides of each
//! operation on one PostgreSQL connection.
//!
//! The hand-written side prepares its statements once, before the loop, and then only
//! binds and executes them (`client.execute(&stmt, ..)`, `client.query_opt(&stmt, ..)`),
//! checking the rows affected and computing the new version in Rust. The library runs
//! in two ways, each on a connection of its own that its hand-written side shares:
//! - `&mut CachingClient`: each statement is prepared once, then only bound and
//!   executed, like the hand-written side (which runs its own statements through the
//!   `CachingClient`'s `execute` and `query_opt`);
//! - `&mut postgres::Client`, which keeps no statements: each call sends one typed
//!   statement in one round trip, which PostgreSQL parses and plans every time. Its
//!   hand-written side does the same, with the driver's own typed calls
//!   (`execute_typed`, `query_typed_opt`).
//!
//! Two reference rows time no library code: the driver's typed calls (on the left)
//! against the prepared statements (on the right): what keeping no statements costs,
//! whoever writes the code.
//!
//! Each round times a batch of calls per side, same rows, same values, same checks,
//! alternating which side goes first, and keeps the ratio ours / hand-written. The
//! report gives the median of those per-round ratios with their spread, and the heap
//! allocations per call, counted in a separate pass.
//!
//! The session sets `synchronous_commit = off`, so a save's time is the statement's and
//! not the disk's flush of its commit.
//!
//! `cargo bench --bench postgres --features postgres`; `VERSIONED_PG_URL` names the
//! server (default `postgres://postgres@127.0.0.1:5432/test`; the bench works in schema
//! `bench`), `BENCH_ROUNDS` sets the number of rounds (default 800, about 100 s),
//! `BENCH_BATCH` the calls per side and round (default 100). When the server does not
//! answer, the bench says why and exits successfully.

use std::time::{Duration, Instant};

use postgres::{Client, Config, NoTls};
use versioned::Versioned;
use versioned::backend::postgres::CachingClient;

mod common;

use common::{Batch, BoxResult, ROWS, Report, Side, each_id, each_user, measure, side_by_side, window};

const DEFAULT_ROUNDS: usize = 800;
const DEFAULT_BATCH: usize = 100;
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// The bar the project holds: ours / hand-written at most this for `save` and `get`.
const RATIO_BAR: f64 = 1.05;

common::user_entity!("bench_users");

/// The same operations written by hand against `postgres`, as an application would
/// without the library: statements prepared once, then bound and executed.
mod hand {
    use postgres::types::{ToSql, Type};
    use postgres::{Client, GenericClient, Row, Statement};
    use versioned::backend::postgres::CachingClient;

    use super::User;
    use crate::common::BoxResult;

    /// What the hand-written side asks of its connection, a `Client` or a
    /// `CachingClient`: the driver's calls, each one inlined forward on the latter.
    pub trait Conn {
        fn prepare(&mut self, sql: &str) -> Result<Statement, postgres::Error>;
        fn execute(&mut self, stmt: &Statement, params: &[&(dyn ToSql + Sync)]) -> Result<u64, postgres::Error>;
        fn query_opt(
            &mut self,
            stmt: &Statement,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<Option<Row>, postgres::Error>;
    }

    /// Implements [`Conn`] with each type's methods of the same names.
    macro_rules! conn {
        ($($ty:ty),*) => {$(
            impl Conn for $ty {
                #[inline]
                fn prepare(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
                    <$ty>::prepare(self, sql)
                }
                #[inline]
                fn execute(&mut self, stmt: &Statement, params: &[&(dyn ToSql + Sync)]) -> Result<u64, postgres::Error> {
                    <$ty>::execute(self, stmt, params)
                }
                #[inline]
                fn query_opt(
                    &mut self,
                    stmt: &Statement,
                    params: &[&(dyn ToSql + Sync)],
                ) -> Result<Option<Row>, postgres::Error> {
                    <$ty>::query_opt(self, stmt, params)
                }
            }
        )*};
    }

    conn!(Client, CachingClient);

    pub const UPDATE: &str = r#"UPDATE "bench_users" SET "name" = $1, "email" = $2, "score" = $3, "version" = $4 WHERE "id" = $5 AND "version" = $6"#;
    pub const SELECT: &str = r#"SELECT "id", "name", "email", "score", "version" FROM "bench_users" WHERE "id" = $1"#;
    pub const INSERT: &str =
        r#"INSERT INTO "bench_users" ("id", "name", "email", "score", "version") VALUES ($1, $2, $3, $4, $5)"#;

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
        pub fn prepare(client: &mut impl Conn) -> Result<Hand, postgres::Error> {
            Ok(Hand {
                update: client.prepare(UPDATE)?,
                select: client.prepare(SELECT)?,
                insert: client.prepare(INSERT)?,
            })
        }

        /// A version-checked update: zero rows matched is an error, and the entity
        /// keeps its version unless the write went through.
        pub fn save(&self, client: &mut impl Conn, u: &mut User) -> BoxResult<()> {
            let new = u.version.wrapping_add(1);
            let changed = client.execute(&self.update, &[&u.name, &u.email, &u.score, &new, &u.id, &u.version])?;
            if changed == 0 {
                return Err(format!("bench_users id={}: version {} is not the row's", u.id, u.version).into());
            }
            u.version = new;
            Ok(())
        }

        pub fn get(&self, client: &mut impl Conn, id: i64) -> BoxResult<User> {
            let row = client.query_opt(&self.select, &[&id])?.ok_or_else(|| format!("bench_users id={id}: no row"))?;
            user_from_row(&row)
        }

        /// `save` as one typed statement in one round trip, which PostgreSQL parses and
        /// plans on every call: what the library sends on a plain `Client`.
        pub fn save_typed(client: &mut Client, u: &mut User) -> BoxResult<()> {
            let new = u.version.wrapping_add(1);
            let changed = client.execute_typed(
                UPDATE,
                &[
                    (&u.name, Type::TEXT),
                    (&u.email, Type::TEXT),
                    (&u.score, Type::INT8),
                    (&new, Type::INT8),
                    (&u.id, Type::INT8),
                    (&u.version, Type::INT8),
                ],
            )?;
            if changed == 0 {
                return Err(format!("bench_users id={}: version {} is not the row's", u.id, u.version).into());
            }
            u.version = new;
            Ok(())
        }

        /// `get` as one typed statement in one round trip.
        pub fn get_typed(client: &mut Client, id: i64) -> BoxResult<User> {
            let row = client
                .query_typed_opt(SELECT, &[(&id, Type::INT8)])?
                .ok_or_else(|| format!("bench_users id={id}: no row"))?;
            user_from_row(&row)
        }

        pub fn insert(&self, client: &mut impl GenericClient, u: &mut User) -> Result<(), postgres::Error> {
            client.execute(&self.insert, &[&u.id, &u.name, &u.email, &u.score, &0_i64])?;
            u.version = 0;
            Ok(())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    /// `save` on `&mut Client`.
    Save,
    /// `get` on `&mut Client`.
    Get,
    /// `save` on `&mut CachingClient`.
    CachingSave,
    /// `get` on `&mut CachingClient`.
    CachingGet,
    /// Reference, no library code: the driver's typed one-round-trip `save`.
    TypedSave,
    /// Reference, no library code: the driver's typed one-round-trip `get`.
    TypedGet,
}

const OPS: [Op; 6] = [Op::CachingSave, Op::CachingGet, Op::Save, Op::Get, Op::TypedSave, Op::TypedGet];

impl common::Op for Op {
    fn name(self) -> &'static str {
        match self {
            Op::Save => "save (Client, vs typed)",
            Op::Get => "get (Client, vs typed)",
            Op::CachingSave => "save (CachingClient)",
            Op::CachingGet => "get (CachingClient)",
            Op::TypedSave => "typed vs prepared save (ref)",
            Op::TypedGet => "typed vs prepared get (ref)",
        }
    }
}

impl Op {
    /// The bar, or `None` for a reference row.
    fn bar(self) -> Option<f64> {
        match self {
            Op::TypedSave | Op::TypedGet => None,
            _ => Some(RATIO_BAR),
        }
    }
}

/// The connections and the entities the batches work on.
struct Bench {
    /// The plain `Client`'s connection, and its hand-written statements.
    client: Client,
    hand: hand::Hand,
    /// The `CachingClient`'s connection, and its hand-written statements.
    cached: CachingClient,
    cached_hand: hand::Hand,
    /// Row `i + 1` as last written, version included.
    users: Vec<User>,
    batch: usize,
}

/// Connects to `url`, giving up after a few seconds when nothing answers.
fn connect(url: &str) -> BoxResult<Client> {
    let mut config: Config = url.parse()?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    Ok(config.connect(NoTls)?)
}

impl Bench {
    fn new((mut client, cached): (Client, Client), batch: usize) -> BoxResult<Bench> {
        client.batch_execute(
            "SET synchronous_commit = off;
            CREATE SCHEMA IF NOT EXISTS bench;
            SET search_path TO bench;
            DROP TABLE IF EXISTS bench_users;
            CREATE TABLE bench_users (
                id BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                email TEXT,
                score BIGINT NOT NULL,
                version BIGINT NOT NULL
            )",
        )?;
        let hand = hand::Hand::prepare(&mut client)?;
        let mut users = User::table();
        let mut tx = client.transaction()?;
        for u in &mut users {
            hand.insert(&mut tx, u)?;
        }
        tx.commit()?;
        client.batch_execute("VACUUM ANALYZE bench_users")?;
        let mut cached = CachingClient::new(cached);
        cached.batch_execute("SET synchronous_commit = off; SET search_path TO bench")?;
        let cached_hand = hand::Hand::prepare(&mut cached)?;
        Ok(Bench { client, hand, cached, cached_hand, users, batch })
    }

    fn run(&mut self, op: Op, side: Side, round: usize) -> BoxResult<Batch> {
        let start = window(round, self.batch);
        let users = &mut self.users[start..start + self.batch];
        let ids = start as i64 + 1..(start + self.batch) as i64 + 1;
        let (client, hand) = (&mut self.client, &self.hand);
        let (cached, cached_hand) = (&mut self.cached, &self.cached_hand);
        measure(|| -> BoxResult<()> {
            match (op, side) {
                (Op::Save, Side::Ours) => each_user(users, |u| Ok(u.save(&mut *client)?)),
                (Op::Save, Side::Hand) => each_user(users, |u| hand::Hand::save_typed(client, u)),
                (Op::TypedSave, Side::Hand) => each_user(users, |u| hand.save(client, u)),
                (Op::CachingSave, Side::Ours) => each_user(users, |u| Ok(u.save(&mut *cached)?)),
                (Op::CachingSave, Side::Hand) => each_user(users, |u| cached_hand.save(cached, u)),
                (Op::Get, Side::Ours) => each_id(ids, |id| Ok(User::get(&mut *client, id)?)),
                (Op::Get, Side::Hand) => each_id(ids, |id| hand::Hand::get_typed(client, id)),
                (Op::TypedGet, Side::Hand) => each_id(ids, |id| hand.get(client, id)),
                (Op::CachingGet, Side::Ours) => each_id(ids, |id| Ok(User::get(&mut *cached, id)?)),
                (Op::CachingGet, Side::Hand) => each_id(ids, |id| cached_hand.get(cached, id)),
                (Op::TypedSave, Side::Ours) => each_user(users, |u| hand::Hand::save_typed(client, u)),
                (Op::TypedGet, Side::Ours) => each_id(ids, |id| hand::Hand::get_typed(client, id)),
            }
        })
    }
}

/// Checks, before timing, that both sides run the same statements and leave the same
/// rows and entities behind, through either executor.
fn check_same_work(bench: &mut Bench) -> BoxResult<()> {
    common::compare_statements(versioned::__private::Dialect::Postgres, &[hand::UPDATE, hand::SELECT]);
    let Bench { client, hand, cached, cached_hand, users, .. } = bench;
    // Row 3 has no email, row 4 has one.
    for i in [2, 3] {
        common::check_row(
            client,
            &mut users[i],
            |db, u| u.save(db),
            |db, id| User::get(db, id),
            |db, u| hand.save(db, u),
            |db, id| hand.get(db, id),
        )?;
        common::check_row(
            cached,
            &mut users[i],
            |db, u| u.save(db),
            |db, id| User::get(db, id),
            |db, u| cached_hand.save(db, u),
            |db, id| cached_hand.get(db, id),
        )?;
    }
    Ok(())
}

fn main() -> BoxResult<()> {
    let (rounds, batch) = common::rounds_and_batch(DEFAULT_ROUNDS, DEFAULT_BATCH)?;
    let two = |url: &str| Ok((connect(url)?, connect(url)?));
    let Some(clients) = common::connect_or_skip("PostgreSQL", "VERSIONED_PG_URL", DEFAULT_URL, two) else {
        return Ok(());
    };
    let started = Instant::now();
    let mut bench = Bench::new(clients, batch)?;
    check_same_work(&mut bench)?;
    let reports = side_by_side(&OPS, rounds, batch, |op, side, round| bench.run(op, side, round))?;
    bench.client.batch_execute("DROP TABLE bench_users")?;
    print_reports(&reports, rounds, batch, started.elapsed());
    Ok(())
}

fn print_reports(reports: &[Report<Op>], rounds: usize, batch: usize, elapsed: Duration) {
    common::print_table(
        &format!(
            "versioned vs hand-written postgres (statements prepared once): PostgreSQL, both sides of an op on one connection, {ROWS} rows, \
             {rounds} rounds x {batch} calls per side ({:.1} s)",
            elapsed.as_secs_f64()
        ),
        reports,
    );
    for r in reports {
        if let Some(bar) = r.op.bar() {
            common::print_ratio_verdict(r, bar);
        }
    }
    println!(
        "the Client rows time both sides with one typed round trip per call, parsed and planned every time; the \
         reference rows (no library code) put the driver's typed calls against prepared statements: what keeping \
         no statements costs"
    );
}
