//! `versioned` side by side with hand-written rusqlite, on one in-memory SQLite
//! connection.
//!
//! Each round times a batch of calls through the library and the same batch written by
//! hand with `prepare_cached` (same rows, same values, same checks), alternating which
//! side goes first, and keeps the ratio ours / hand-written. The report gives the
//! median of those per-round ratios with their spread, and the heap allocations per
//! call, counted in a separate pass.
//!
//! `cargo bench --bench sqlite`; `BENCH_ROUNDS` sets the number of rounds (default
//! 3000, about 35 s), `BENCH_BATCH` the calls per side and round (default 2000).

use std::hint::black_box;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use versioned::Versioned;

mod common;

use common::{Batch, BoxResult, ROWS, Report, Side, each_id, each_user, measure, side_by_side, window};

const DEFAULT_ROUNDS: usize = 3000;
const DEFAULT_BATCH: usize = 2000;
/// The bars the project holds: ours / hand-written at most this for `save` and `get`.
const RATIO_BAR: f64 = 1.02;

common::user_entity!("users");

/// The same operations written by hand against rusqlite, as an application would
/// without the library.
mod hand {
    use rusqlite::{Connection, params};

    use super::User;

    pub const UPDATE: &str =
        r#"UPDATE "users" SET "name" = ?, "email" = ?, "score" = ?, "version" = ? WHERE "id" = ? AND "version" = ?"#;
    pub const SELECT: &str = r#"SELECT "id", "name", "email", "score", "version" FROM "users" WHERE "id" = ?"#;
    pub const INSERT: &str =
        r#"INSERT INTO "users" ("id", "name", "email", "score", "version") VALUES (?, ?, ?, ?, ?)"#;

    /// A version-checked update: zero rows matched is an error, and the entity keeps
    /// its version unless the write went through.
    pub fn save(conn: &Connection, u: &mut User) -> rusqlite::Result<()> {
        let new = u.version.wrapping_add(1);
        let changed = conn.prepare_cached(UPDATE)?.execute(params![u.name, u.email, u.score, new, u.id, u.version])?;
        if changed == 0 {
            return Err(rusqlite::Error::StatementChangedRows(0));
        }
        u.version = new;
        Ok(())
    }

    pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<User> {
        conn.prepare_cached(SELECT)?.query_row([id], |row| {
            Ok(User {
                id: row.get(0)?,
                name: row.get(1)?,
                email: row.get(2)?,
                score: row.get(3)?,
                version: row.get(4)?,
            })
        })
    }

    pub fn insert(conn: &Connection, u: &mut User) -> rusqlite::Result<()> {
        conn.prepare_cached(INSERT)?.execute(params![u.id, u.name, u.email, u.score, 0_i64])?;
        u.version = 0;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Save,
    Get,
    Insert,
}

const OPS: [Op; 3] = [Op::Save, Op::Get, Op::Insert];

impl common::Op for Op {
    fn name(self) -> &'static str {
        match self {
            Op::Save => "save",
            Op::Get => "get",
            Op::Insert => "insert",
        }
    }
}

/// The connection and the entities the batches work on.
struct Bench {
    conn: Connection,
    /// Row `i + 1` as last written, version included.
    users: Vec<User>,
    batch: usize,
}

impl Bench {
    fn new(batch: usize) -> BoxResult<Bench> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE TABLE users (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                email TEXT,
                score INTEGER NOT NULL,
                version INTEGER NOT NULL
            )",
        )?;
        let mut users = User::table();
        conn.execute_batch("BEGIN")?;
        for u in &mut users {
            hand::insert(&conn, u)?;
        }
        conn.execute_batch("COMMIT")?;
        Ok(Bench { conn, users, batch })
    }

    fn run(&mut self, op: Op, side: Side, round: usize) -> BoxResult<Batch> {
        let start = window(round, self.batch);
        let users = &mut self.users[start..start + self.batch];
        let ids = start as i64 + 1..(start + self.batch) as i64 + 1;
        let conn = &self.conn;
        match op {
            Op::Save => measure(|| match side {
                Side::Ours => each_user(users, |u| Ok(u.save(conn)?)),
                Side::Hand => each_user(users, |u| Ok(hand::save(conn, u)?)),
            }),
            Op::Get => measure(|| match side {
                Side::Ours => each_id(ids, |id| Ok(User::get(conn, id)?)),
                Side::Hand => each_id(ids, |id| Ok(hand::get(conn, id)?)),
            }),
            Op::Insert => {
                let mut fresh: Vec<User> = (0..self.batch).map(|i| User::sample((ROWS + 1 + i) as i64)).collect();
                let batch = measure(|| -> BoxResult<()> {
                    match side {
                        Side::Ours => fresh.iter_mut().try_for_each(|u| black_box(u.insert(conn)))?,
                        Side::Hand => fresh.iter_mut().try_for_each(|u| black_box(hand::insert(conn, u)))?,
                    }
                    Ok(())
                })?;
                // Back to ROWS rows, outside the timed section, so both sides insert
                // the same keys into the same table.
                conn.execute("DELETE FROM users WHERE id > ?", [ROWS as i64])?;
                Ok(batch)
            }
        }
    }
}

/// Checks, before timing, that both sides run the same statements and leave the same
/// rows and entities behind.
fn check_same_work(bench: &mut Bench) -> BoxResult<()> {
    common::compare_statements(versioned::__private::Dialect::Sqlite, &[hand::UPDATE, hand::SELECT, hand::INSERT]);
    // Row 3 has no email, row 4 has one.
    for u in &mut bench.users[2..4] {
        common::check_row(
            &mut bench.conn,
            u,
            |conn, u| u.save(&*conn),
            |conn, id| User::get(&*conn, id),
            |conn, u| Ok(hand::save(conn, u)?),
            |conn, id| Ok(hand::get(conn, id)?),
        )?;
    }
    Ok(())
}

fn main() -> BoxResult<()> {
    let (rounds, batch) = common::rounds_and_batch(DEFAULT_ROUNDS, DEFAULT_BATCH)?;
    let started = Instant::now();
    let mut bench = Bench::new(batch)?;
    check_same_work(&mut bench)?;
    let reports = side_by_side(&OPS, rounds, batch, |op, side, round| bench.run(op, side, round))?;
    print_reports(&reports, rounds, batch, started.elapsed());
    Ok(())
}

fn print_reports(reports: &[Report<Op>], rounds: usize, batch: usize, elapsed: Duration) {
    common::print_table(
        &format!(
            "versioned vs hand-written rusqlite: in-memory SQLite, {ROWS} rows, {rounds} rounds x {batch} calls per \
             side ({:.1} s)",
            elapsed.as_secs_f64()
        ),
        reports,
    );
    for r in reports.iter().filter(|r| r.op != Op::Insert) {
        common::print_ratio_verdict(r, RATIO_BAR);
    }
    if let Some(r) = reports.iter().find(|r| r.op == Op::Save) {
        let verdict = common::verdict(r.ours_allocs <= r.hand_allocs);
        println!(
            "{verdict}  save   allocates no more than hand-written: {:.2} vs {:.2} per call",
            r.ours_allocs, r.hand_allocs
        );
    }
}
