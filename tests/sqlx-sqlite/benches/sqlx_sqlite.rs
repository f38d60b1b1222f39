//! `versioned` side by side with hand-written sqlx code on SQLite, both sides of each
//! operation on one connection to an in-memory database.
//!
//! The library runs on `&mut PoolConnection<Sqlite>`: `u.save(&mut conn).await`,
//! `User::get(&mut conn, id).await`. (`&mut SqliteConnection`, what `&mut *conn`
//! gives, is no executor of the library: it would need sqlx's SQLite driver, whose
//! `libsqlite3-sys` cannot share a lockfile with rusqlite's.) The hand-written side
//! (`benches/common/sqlx_hand.rs` of the main workspace) runs
//! `sqlx::query(SQL).bind(..)..execute(&mut *conn)` and checks `rows_affected()`,
//! computing the new version in Rust, and
//! `sqlx::query(SQL).bind(id).fetch_optional(&mut *conn)`, decoding the row column by
//! column. Both sides send the same statement text (checked before timing), so both go
//! through the same entry of the connection's statement cache. sqlx runs each SQLite
//! connection on a thread of its own: every statement is handed to that thread and
//! its result handed back, on both sides.
//!
//! Each round times a batch of calls per side, same rows, same values, same checks,
//! alternating which side goes first, and keeps the ratio ours / hand-written. The
//! report gives the median of those per-round ratios with their spread, and the heap
//! allocations per call, counted in a separate pass. A batch runs as one future on a
//! current-thread tokio runtime.
//!
//! `cargo bench --manifest-path tests/sqlx-sqlite/Cargo.toml`; `BENCH_ROUNDS` sets
//! the number of rounds (default 4000, about 25 s), `BENCH_BATCH` the calls per side
//! and round (default 100).

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{Sqlite, SqliteConnectOptions, SqlitePoolOptions, SqliteQueryResult};
use tokio::runtime::Runtime;
use versioned::Versioned;

#[path = "../../../benches/common/asynchronous.rs"]
mod asynchronous;
#[path = "../../../benches/common/mod.rs"]
mod common;
#[path = "../../../benches/common/sqlx_hand.rs"]
mod sqlx_hand;

use asynchronous::{each_id, each_user};
use common::{Batch, BoxResult, ROWS, Report, Side, measure, side_by_side, window};
use sqlx_hand::{RowsAffected, Sql};

const DEFAULT_ROUNDS: usize = 4000;
const DEFAULT_BATCH: usize = 100;
/// The bar the project holds: ours / hand-written at most this for `save` and `get`.
const RATIO_BAR: f64 = 1.05;

common::user_entity!("sqlx_bench_users");

const SQL: Sql = Sql {
    update: r#"UPDATE "sqlx_bench_users" SET "name" = ?, "email" = ?, "score" = ?, "version" = ? WHERE "id" = ? AND "version" = ?"#,
    select: r#"SELECT "id", "name", "email", "score", "version" FROM "sqlx_bench_users" WHERE "id" = ?"#,
    insert: r#"INSERT INTO "sqlx_bench_users" ("id", "name", "email", "score", "version") VALUES (?, ?, ?, ?, ?)"#,
};

impl RowsAffected for SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        SqliteQueryResult::rows_affected(self)
    }
}

use common::SaveGet as Op;

const OPS: [Op; 2] = common::SAVE_GET;

/// The connection and the entities the batches work on.
struct Bench {
    conn: PoolConnection<Sqlite>,
    /// Row `i + 1` as last written, version included.
    users: Vec<User>,
    batch: usize,
}

impl Bench {
    /// A connection of a one-connection pool on an in-memory database, with
    /// [`ROWS`] rows.
    async fn new(batch: usize) -> BoxResult<Bench> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?;
        // The database lives as long as its one connection: never closed while idle.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        let mut conn = pool.acquire().await?;
        sqlx::raw_sql(
            "CREATE TABLE sqlx_bench_users (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                email TEXT,
                score INTEGER NOT NULL,
                version INTEGER NOT NULL
            )",
        )
        .execute(&mut *conn)
        .await?;
        let mut users = User::table();
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for u in &mut users {
            sqlx_hand::insert::<Sqlite>(&mut tx, &SQL, u).await?;
        }
        tx.commit().await?;
        Ok(Bench { conn, users, batch })
    }

    fn run(&mut self, rt: &Runtime, op: Op, side: Side, round: usize) -> BoxResult<Batch> {
        let start = window(round, self.batch);
        let users = &mut self.users[start..start + self.batch];
        let ids = start as i64 + 1..(start + self.batch) as i64 + 1;
        // Ours on `&mut PoolConnection<Sqlite>`, the hand-written side on the
        // `&mut SqliteConnection` inside it.
        let conn = &mut self.conn;
        measure(|| match (op, side) {
            (Op::Save, Side::Ours) => rt.block_on(each_user(users, async |u| Ok(u.save(&mut *conn).await?))),
            (Op::Save, Side::Hand) => {
                rt.block_on(each_user(users, async |u| sqlx_hand::save::<Sqlite>(conn, &SQL, u).await))
            }
            (Op::Get, Side::Ours) => rt.block_on(each_id(ids, async |id| Ok(User::get(&mut *conn, id).await?))),
            (Op::Get, Side::Hand) => {
                rt.block_on(each_id(ids, async |id| sqlx_hand::get::<Sqlite>(conn, &SQL, id).await))
            }
        })
    }
}

/// Checks, before timing, that both sides run the same statements and leave the same
/// rows and entities behind.
fn check_same_work(rt: &Runtime, bench: &mut Bench) -> BoxResult<()> {
    common::compare_statements(versioned::__private::Dialect::Sqlite, &[SQL.update, SQL.select, SQL.insert]);
    // Row 3 has no email, row 4 has one.
    for u in &mut bench.users[2..4] {
        common::check_row(
            &mut bench.conn,
            u,
            |conn, u| rt.block_on(u.save(conn)),
            |conn, id| rt.block_on(User::get(conn, id)),
            |conn, u| rt.block_on(sqlx_hand::save::<Sqlite>(conn, &SQL, u)),
            |conn, id| rt.block_on(sqlx_hand::get::<Sqlite>(conn, &SQL, id)),
        )?;
    }
    Ok(())
}

fn main() -> BoxResult<()> {
    let (rounds, batch) = common::rounds_and_batch(DEFAULT_ROUNDS, DEFAULT_BATCH)?;
    let rt = asynchronous::runtime()?;
    // A pooled connection goes back to its pool on a task when dropped.
    let _context = rt.enter();
    let started = Instant::now();
    let mut bench = rt.block_on(Bench::new(batch))?;
    let server: String = rt.block_on(sqlx::query_scalar("SELECT sqlite_version()").fetch_one(&mut *bench.conn))?;
    check_same_work(&rt, &mut bench)?;
    let reports = side_by_side(&OPS, rounds, batch, |op, side, round| bench.run(&rt, op, side, round))?;
    print_reports(&reports, &server, rounds, batch, started.elapsed());
    Ok(())
}

fn print_reports(reports: &[Report<Op>], server: &str, rounds: usize, batch: usize, elapsed: Duration) {
    common::print_table(
        &format!(
            "versioned on &mut PoolConnection<Sqlite> vs hand-written sqlx::query on the same connection: in-memory \
             SQLite {server}, {ROWS} rows, {rounds} rounds x {batch} calls per side ({:.1} s, current-thread tokio \
             runtime)",
            elapsed.as_secs_f64()
        ),
        reports,
    );
    for r in reports {
        common::print_ratio_verdict(r, RATIO_BAR);
    }
    for r in reports {
        asynchronous::print_alloc_verdict(r);
    }
}
