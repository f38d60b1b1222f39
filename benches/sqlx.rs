//! `versioned` side by side with hand-written sqlx code, on PostgreSQL and on MariaDB
//! or MySQL, both sides of each operation on one connection.
//!
//! The library runs on `&mut PgConnection` / `&mut MySqlConnection`, what `&mut *conn`
//! gives for a pooled connection `conn`: `u.save(&mut *conn).await`,
//! `User::get(&mut *conn, id).await`. The hand-written side (`common/sqlx_hand.rs`)
//! runs `sqlx::query(SQL).bind(..)..execute(&mut *conn)` and checks
//! `rows_affected()`, computing the new version in Rust, and
//! `sqlx::query(SQL).bind(id).fetch_optional(&mut *conn)`, decoding the row column by
//! column. Both sides send the same statement text (checked before timing), so both go
//! through the same entry of the connection's statement cache: each statement is
//! prepared once, then only bound and executed.
//!
//! Each round times a batch of calls per side, same rows, same values, same checks,
//! alternating which side goes first, and keeps the ratio ours / hand-written. The
//! report gives the median of those per-round ratios with their spread, and the heap
//! allocations per call, counted in a separate pass. A batch runs as one future on a
//! current-thread tokio runtime.
//!
//! The PostgreSQL session sets `synchronous_commit = off`, so a save's time is the
//! statement's and not the disk's flush of its commit. On MariaDB a batch of saves
//! runs inside one transaction, begun before the timer starts and committed after it
//! stops: the server flushes its log at every commit (a global setting).
//!
//! `cargo bench --bench sqlx --features sqlx-postgres,sqlx-mysql`; `VERSIONED_PG_URL`
//! names the PostgreSQL server (default `postgres://postgres@127.0.0.1:5432/test`; the
//! bench works in schema `bench`), `VERSIONED_MYSQL_URL` the MySQL one (default
//! `mysql://root@127.0.0.1:3306/test`; the bench works in database `versioned_bench`).
//! `BENCH_ROUNDS` sets the number of rounds (default 800 on each database, about
//! 45 s in all), `BENCH_BATCH` the calls per side and round (default 100). A server that
//! does not answer is skipped with a note.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::mysql::{MySql, MySqlConnectOptions, MySqlPoolOptions, MySqlQueryResult};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgQueryResult, Postgres};
use sqlx::{ColumnIndex, Database, Decode, Encode, IntoArguments, Type};
use tokio::runtime::Runtime;
use versioned::Versioned;
use versioned::backend::{Async, Bind, Sqlx};

#[path = "common/asynchronous.rs"]
mod asynchronous;
mod common;
#[path = "common/sqlx_hand.rs"]
mod sqlx_hand;

use asynchronous::{each_id, each_user};
use common::{Batch, BoxResult, ROWS, Report, Side, measure, side_by_side, window};
use sqlx_hand::{RowsAffected, Sql};

const DEFAULT_ROUNDS: usize = 800;
const DEFAULT_BATCH: usize = 100;
const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";
/// The bar the project holds: ours / hand-written at most this for `save` and `get`.
const RATIO_BAR: f64 = 1.05;
/// How long a server may take to accept the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

common::user_entity!("sqlx_bench_users");

const PG_SQL: Sql = Sql {
    update: r#"UPDATE "sqlx_bench_users" SET "name" = $1, "email" = $2, "score" = $3, "version" = $4 WHERE "id" = $5 AND "version" = $6"#,
    select: r#"SELECT "id", "name", "email", "score", "version" FROM "sqlx_bench_users" WHERE "id" = $1"#,
    insert: r#"INSERT INTO "sqlx_bench_users" ("id", "name", "email", "score", "version") VALUES ($1, $2, $3, $4, $5)"#,
};

const MYSQL_SQL: Sql = Sql {
    update: "UPDATE `sqlx_bench_users` SET `name` = ?, `email` = ?, `score` = ?, `version` = ? WHERE `id` = ? AND `version` = ?",
    select: "SELECT `id`, `name`, `email`, `score`, `version` FROM `sqlx_bench_users` WHERE `id` = ?",
    insert: "INSERT INTO `sqlx_bench_users` (`id`, `name`, `email`, `score`, `version`) VALUES (?, ?, ?, ?, ?)",
};

impl RowsAffected for PgQueryResult {
    fn rows_affected(&self) -> u64 {
        PgQueryResult::rows_affected(self)
    }
}

impl RowsAffected for MySqlQueryResult {
    fn rows_affected(&self) -> u64 {
        MySqlQueryResult::rows_affected(self)
    }
}

use common::SaveGet as Op;

const OPS: [Op; 2] = common::SAVE_GET;

/// One database's connection and the entities the batches work on.
struct Bench<DB: Database> {
    conn: PoolConnection<DB>,
    /// The statements the hand-written side runs.
    sql: &'static Sql,
    /// Whether a batch of saves runs inside one transaction.
    saves_in_transaction: bool,
    /// Row `i + 1` as last written, version included.
    users: Vec<User>,
    batch: usize,
}

// What the bench asks of a database: its connection is an executor of sqlx and of
// the library, and every field binds and reads on both.
impl<DB> Bench<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection:
        sqlx::Executor<'c, Database = DB> + versioned::backend::Executor<Backend = Sqlx<DB>, Mode = Async>,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: RowsAffected,
    usize: ColumnIndex<DB::Row>,
    String: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    Option<String>: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    User: Bind<Sqlx<DB>>,
{
    /// Fills the empty table of `conn` with [`ROWS`] rows; `analyze` then refreshes the
    /// planner's statistics.
    fn new(
        rt: &Runtime,
        mut conn: PoolConnection<DB>,
        sql: &'static Sql,
        saves_in_transaction: bool,
        analyze: &'static str,
        batch: usize,
    ) -> BoxResult<Bench<DB>> {
        let mut users = User::table();
        rt.block_on(async {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            for u in &mut users {
                sqlx_hand::insert::<DB>(&mut tx, sql, u).await?;
            }
            tx.commit().await?;
            sqlx::raw_sql(analyze).execute(&mut *conn).await?;
            BoxResult::Ok(())
        })?;
        Ok(Bench { conn, sql, saves_in_transaction, users, batch })
    }

    fn run(&mut self, rt: &Runtime, op: Op, side: Side, round: usize) -> BoxResult<Batch> {
        let start = window(round, self.batch);
        let users = &mut self.users[start..start + self.batch];
        let ids = start as i64 + 1..(start + self.batch) as i64 + 1;
        let (conn, sql) = (&mut *self.conn, self.sql);
        match op {
            Op::Save if self.saves_in_transaction => {
                let mut tx = rt.block_on(sqlx::Connection::begin(conn))?;
                let batch = Self::saves(rt, &mut tx, sql, users, side)?;
                rt.block_on(tx.commit())?;
                Ok(batch)
            }
            Op::Save => Self::saves(rt, conn, sql, users, side),
            Op::Get => measure(|| match side {
                Side::Ours => rt.block_on(each_id(ids, async |id| Ok(User::get(&mut *conn, id).await?))),
                Side::Hand => rt.block_on(each_id(ids, async |id| sqlx_hand::get::<DB>(conn, sql, id).await)),
            }),
        }
    }

    fn saves(rt: &Runtime, conn: &mut DB::Connection, sql: &Sql, users: &mut [User], side: Side) -> BoxResult<Batch> {
        measure(|| match side {
            Side::Ours => rt.block_on(each_user(users, async |u| Ok(u.save(&mut *conn).await?))),
            Side::Hand => rt.block_on(each_user(users, async |u| sqlx_hand::save::<DB>(conn, sql, u).await)),
        })
    }

    /// Checks, before timing, that both sides run the same statements and leave the
    /// same rows and entities behind.
    fn check_same_work(&mut self, rt: &Runtime, dialect: versioned::__private::Dialect) -> BoxResult<()> {
        let sql = self.sql;
        common::compare_statements(dialect, &[sql.update, sql.select, sql.insert]);
        // Row 3 has no email, row 4 has one.
        for u in &mut self.users[2..4] {
            common::check_row(
                &mut *self.conn,
                u,
                |conn, u| rt.block_on(u.save(conn)),
                |conn, id| rt.block_on(User::get(conn, id)),
                |conn, u| rt.block_on(sqlx_hand::save::<DB>(conn, sql, u)),
                |conn, id| rt.block_on(sqlx_hand::get::<DB>(conn, sql, id)),
            )?;
        }
        Ok(())
    }

    /// Checks, times and drops the table; the reports and how long it all took.
    fn measure(
        mut self,
        rt: &Runtime,
        dialect: versioned::__private::Dialect,
        rounds: usize,
    ) -> BoxResult<(Vec<Report<Op>>, Duration)> {
        let started = Instant::now();
        self.check_same_work(rt, dialect)?;
        let batch = self.batch;
        let reports = side_by_side(&OPS, rounds, batch, |op, side, round| self.run(rt, op, side, round))?;
        rt.block_on(sqlx::raw_sql("DROP TABLE sqlx_bench_users").execute(&mut *self.conn))?;
        Ok((reports, started.elapsed()))
    }
}

/// A connection of a one-connection pool on `url`'s PostgreSQL server, with an empty
/// table in schema `bench`; the server's version.
async fn postgres(url: &str) -> BoxResult<(PoolConnection<Postgres>, String)> {
    let options = PgConnectOptions::from_str(url)?;
    let pool = PgPoolOptions::new().max_connections(1).acquire_timeout(CONNECT_TIMEOUT).connect_with(options).await?;
    let mut conn = pool.acquire().await?;
    sqlx::raw_sql(
        "SET synchronous_commit = off;
        CREATE SCHEMA IF NOT EXISTS bench;
        SET search_path TO bench;
        DROP TABLE IF EXISTS sqlx_bench_users;
        CREATE TABLE sqlx_bench_users (
            id BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            email TEXT,
            score BIGINT NOT NULL,
            version BIGINT NOT NULL
        )",
    )
    .execute(&mut *conn)
    .await?;
    let server: String =
        sqlx::query_scalar("SELECT 'PostgreSQL ' || current_setting('server_version')").fetch_one(&mut *conn).await?;
    Ok((conn, server))
}

/// A connection of a one-connection pool on `url`'s MySQL server, with an empty table
/// in database `versioned_bench`; the server's version.
async fn mysql(url: &str) -> BoxResult<(PoolConnection<MySql>, String)> {
    let options = MySqlConnectOptions::from_str(url)?;
    let pool =
        MySqlPoolOptions::new().max_connections(1).acquire_timeout(CONNECT_TIMEOUT).connect_with(options).await?;
    let mut conn = pool.acquire().await?;
    for statement in [
        "CREATE DATABASE IF NOT EXISTS versioned_bench",
        "USE versioned_bench",
        "DROP TABLE IF EXISTS sqlx_bench_users",
        "CREATE TABLE sqlx_bench_users (
            id BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            email TEXT,
            score BIGINT NOT NULL,
            version BIGINT NOT NULL
        ) ENGINE = InnoDB",
    ] {
        sqlx::raw_sql(statement).execute(&mut *conn).await?;
    }
    let server: String = sqlx::query_scalar("SELECT VERSION()").fetch_one(&mut *conn).await?;
    Ok((conn, server))
}

fn main() -> BoxResult<()> {
    let (rounds, batch) = common::rounds_and_batch(DEFAULT_ROUNDS, DEFAULT_BATCH)?;
    let rt = asynchronous::runtime()?;
    // A pooled connection goes back to its pool on a task when dropped.
    let _context = rt.enter();
    let mut reports = Vec::new();
    let connect = |url: &str| rt.block_on(postgres(url));
    if let Some((conn, server)) = common::connect_or_skip("PostgreSQL", "VERSIONED_PG_URL", PG_URL, connect) {
        let bench = Bench::new(&rt, conn, &PG_SQL, false, "VACUUM ANALYZE sqlx_bench_users", batch)?;
        let (measured, elapsed) = bench.measure(&rt, versioned::__private::Dialect::Postgres, rounds)?;
        reports.push(("&mut PgConnection", server, measured, elapsed));
    }
    let connect = |url: &str| rt.block_on(mysql(url));
    if let Some((conn, server)) = common::connect_or_skip("MySQL", "VERSIONED_MYSQL_URL", MYSQL_URL, connect) {
        let bench = Bench::new(&rt, conn, &MYSQL_SQL, true, "ANALYZE TABLE sqlx_bench_users", batch)?;
        let (measured, elapsed) = bench.measure(&rt, versioned::__private::Dialect::Mysql, rounds)?;
        reports.push(("&mut MySqlConnection", server, measured, elapsed));
    }
    for (executor, server, measured, elapsed) in &reports {
        print_reports(executor, server, measured, rounds, batch, *elapsed);
    }
    Ok(())
}

fn print_reports(executor: &str, server: &str, reports: &[Report<Op>], rounds: usize, batch: usize, elapsed: Duration) {
    common::print_table(
        &format!(
            "versioned on {executor} vs hand-written sqlx::query on the same connection: {server}, {ROWS} rows, \
             {rounds} rounds x {batch} calls per side ({:.1} s, current-thread tokio runtime)",
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
