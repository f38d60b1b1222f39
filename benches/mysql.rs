//! `versioned` side by side with hand-written `mysql` code, on one MariaDB or MySQL
//! connection.
//!
//! The hand-written side prepares its statements once, before the loop
//! (`conn.prep(..)`), then runs `conn.exec_drop(&stmt, ..)` checking `affected_rows()`
//! and computing the new version in Rust, and `conn.exec_first::<(..), _, _>(&stmt, ..)`.
//! The library runs on the same `mysql::Conn`, through the driver's statement cache.
//!
//! Each round times a batch of calls per side, same rows, same values, same checks,
//! alternating which side goes first, and keeps the ratio ours / hand-written. The
//! report gives the median of those per-round ratios with their spread, and the heap
//! allocations per call, counted in a separate pass.
//!
//! A batch of saves runs inside one transaction, begun before the timer starts and
//! committed after it stops: the server flushes its log at every commit (a global
//! setting), and that flush would otherwise be most of a save's time.
//!
//! `cargo bench --bench mysql --features mysql`; `VERSIONED_MYSQL_URL` names the server
//! (default `mysql://root@127.0.0.1:3306/test`; the bench works in database
//! `versioned_bench`), `BENCH_ROUNDS` sets the number of rounds (default 2000, about
//! 60 s), `BENCH_BATCH` the calls per side and round (default 100). When the server
//! does not answer, the bench says why and exits successfully.

use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder};
use versioned::Versioned;

mod common;

use common::{Batch, BoxResult, ROWS, Report, Side, each_id, each_user, measure, side_by_side, window};

const DEFAULT_ROUNDS: usize = 2000;
const DEFAULT_BATCH: usize = 100;
const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306/test";
/// The bar the project holds: ours / hand-written at most this for `save` and `get`.
const RATIO_BAR: f64 = 1.05;

common::user_entity!("bench_users");

/// The same operations written by hand against `mysql`, as an application would
/// without the library: statements prepared once, then executed.
mod hand {
    use mysql::prelude::Queryable;
    use mysql::{Conn, Statement};

    use super::User;
    use crate::common::BoxResult;

    pub const UPDATE: &str =
        "UPDATE `bench_users` SET `name` = ?, `email` = ?, `score` = ?, `version` = ? WHERE `id` = ? AND `version` = ?";
    pub const SELECT: &str = "SELECT `id`, `name`, `email`, `score`, `version` FROM `bench_users` WHERE `id` = ?";
    pub const INSERT: &str =
        "INSERT INTO `bench_users` (`id`, `name`, `email`, `score`, `version`) VALUES (?, ?, ?, ?, ?)";

    /// The statements, prepared on one connection.
    pub struct Hand {
        update: Statement,
        select: Statement,
        insert: Statement,
    }

    impl Hand {
        pub fn prepare(conn: &mut Conn) -> mysql::Result<Hand> {
            Ok(Hand { update: conn.prep(UPDATE)?, select: conn.prep(SELECT)?, insert: conn.prep(INSERT)? })
        }

        /// A version-checked update: zero rows changed is an error (every save stores
        /// a new version, so a matched row is a changed row), and the entity keeps its
        /// version unless the write went through.
        pub fn save(&self, conn: &mut Conn, u: &mut User) -> BoxResult<()> {
            let new = u.version.wrapping_add(1);
            conn.exec_drop(&self.update, (&u.name, &u.email, u.score, new, u.id, u.version))?;
            if conn.affected_rows() == 0 {
                return Err(format!("bench_users id={}: version {} is not the row's", u.id, u.version).into());
            }
            u.version = new;
            Ok(())
        }

        pub fn get(&self, conn: &mut Conn, id: i64) -> BoxResult<User> {
            let (id, name, email, score, version) = conn
                .exec_first::<(i64, String, Option<String>, i64, i64), _, _>(&self.select, (id,))?
                .ok_or_else(|| format!("bench_users id={id}: no row"))?;
            Ok(User { id, name, email, score, version })
        }

        pub fn insert(&self, conn: &mut Conn, u: &mut User) -> mysql::Result<()> {
            conn.exec_drop(&self.insert, (u.id, &u.name, &u.email, u.score, 0_i64))?;
            u.version = 0;
            Ok(())
        }
    }
}

use common::SaveGet as Op;

const OPS: [Op; 2] = common::SAVE_GET;

/// The connection and the entities the batches work on.
struct Bench {
    conn: Conn,
    hand: hand::Hand,
    /// Row `i + 1` as last written, version included.
    users: Vec<User>,
    batch: usize,
}

/// Connects to `url`, giving up after a few seconds when nothing answers.
fn connect(url: &str) -> BoxResult<Conn> {
    let opts = OptsBuilder::from_opts(Opts::from_url(url)?).tcp_connect_timeout(Some(Duration::from_secs(5)));
    Ok(Conn::new(opts)?)
}

impl Bench {
    fn new(mut conn: Conn, batch: usize) -> BoxResult<Bench> {
        for statement in [
            "CREATE DATABASE IF NOT EXISTS versioned_bench",
            "USE versioned_bench",
            "DROP TABLE IF EXISTS bench_users",
            "CREATE TABLE bench_users (
                id BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                email TEXT,
                score BIGINT NOT NULL,
                version BIGINT NOT NULL
            ) ENGINE = InnoDB",
        ] {
            conn.query_drop(statement)?;
        }
        let hand = hand::Hand::prepare(&mut conn)?;
        let mut users = User::table();
        conn.query_drop("BEGIN")?;
        for u in &mut users {
            hand.insert(&mut conn, u)?;
        }
        conn.query_drop("COMMIT")?;
        conn.query_drop("ANALYZE TABLE bench_users")?;
        Ok(Bench { conn, hand, users, batch })
    }

    fn run(&mut self, op: Op, side: Side, round: usize) -> BoxResult<Batch> {
        let start = window(round, self.batch);
        let users = &mut self.users[start..start + self.batch];
        let ids = start as i64 + 1..(start + self.batch) as i64 + 1;
        let (conn, hand) = (&mut self.conn, &self.hand);
        match op {
            Op::Save => {
                conn.query_drop("BEGIN")?;
                let batch = measure(|| match side {
                    Side::Ours => each_user(users, |u| Ok(u.save(&mut *conn)?)),
                    Side::Hand => each_user(users, |u| hand.save(conn, u)),
                })?;
                conn.query_drop("COMMIT")?;
                Ok(batch)
            }
            Op::Get => measure(|| match side {
                Side::Ours => each_id(ids, |id| Ok(User::get(&mut *conn, id)?)),
                Side::Hand => each_id(ids, |id| hand.get(conn, id)),
            }),
        }
    }
}

/// Checks, before timing, that both sides run the same statements and leave the same
/// rows and entities behind.
fn check_same_work(bench: &mut Bench) -> BoxResult<()> {
    common::compare_statements(versioned::__private::Dialect::Mysql, &[hand::UPDATE, hand::SELECT]);
    let Bench { conn, hand, users, .. } = bench;
    // Row 3 has no email, row 4 has one.
    for u in &mut users[2..4] {
        common::check_row(
            conn,
            u,
            |conn, u| u.save(conn),
            |conn, id| User::get(conn, id),
            |conn, u| hand.save(conn, u),
            |conn, id| hand.get(conn, id),
        )?;
    }
    Ok(())
}

fn main() -> BoxResult<()> {
    let (rounds, batch) = common::rounds_and_batch(DEFAULT_ROUNDS, DEFAULT_BATCH)?;
    let Some(conn) = common::connect_or_skip("MySQL", "VERSIONED_MYSQL_URL", DEFAULT_URL, connect) else {
        return Ok(());
    };
    let started = Instant::now();
    let mut bench = Bench::new(conn, batch)?;
    let server: String = bench.conn.query_first("SELECT VERSION()")?.unwrap_or_default();
    check_same_work(&mut bench)?;
    let reports = side_by_side(&OPS, rounds, batch, |op, side, round| bench.run(op, side, round))?;
    bench.conn.query_drop("DROP TABLE bench_users")?;
    print_reports(&reports, &server, rounds, batch, started.elapsed());
    Ok(())
}

fn print_reports(reports: &[Report<Op>], server: &str, rounds: usize, batch: usize, elapsed: Duration) {
    common::print_table(
        &format!(
            "versioned vs hand-written mysql (statements prepared once): server {server}, one connection, {ROWS} rows, \
             {rounds} rounds x {batch} calls per side ({:.1} s)",
            elapsed.as_secs_f64()
        ),
        reports,
    );
    for r in reports {
        common::print_ratio_verdict(r, RATIO_BAR);
    }
}
