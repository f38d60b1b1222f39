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

use common::{Batch, BoxResult, Report, Side, env_usize, measure, side_by_side};

/// Rows in the table the timed calls read and write.
const ROWS: usize = 4000;
const DEFAULT_ROUNDS: usize = 3000;
const DEFAULT_BATCH: usize = 2000;
/// The bars the project holds: ours / hand-written at most this for `save` and `get`.
const RATIO_BAR: f64 = 1.10;

#[derive(versioned::Versioned, Debug, PartialEq)]
#[versioned(table = "users")]
struct User {
    #[id]
    id: i64,
    name: String,
    email: Option<String>,
    score: i64,
    #[version]
    version: i64,
}

impl User {
    /// The values row `id` starts with; every third row has no email.
    fn sample(id: i64) -> User {
        let email = (id % 3 != 0).then(|| format!("user{id}@example.com"));
        User { id, name: format!("user {id}"), email, score: id * 10, version: 0 }
    }
}

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
        let mut users: Vec<User> = (1..=ROWS as i64).map(User::sample).collect();
        conn.execute_batch("BEGIN")?;
        for u in &mut users {
            hand::insert(&conn, u)?;
        }
        conn.execute_batch("COMMIT")?;
        Ok(Bench { conn, users, batch })
    }

    /// The first row index of round `round`'s batch: the window moves through the
    /// table from round to round, and both sides of a round use the same rows.
    fn window(&self, round: usize) -> usize {
        (round % (ROWS / self.batch)) * self.batch
    }

    fn run(&mut self, op: Op, side: Side, round: usize) -> BoxResult<Batch> {
        let start = self.window(round);
        match op {
            Op::Save => save_batch(&self.conn, &mut self.users[start..start + self.batch], side),
            Op::Get => get_batch(&self.conn, start as i64 + 1..start as i64 + 1 + self.batch as i64, side),
            Op::Insert => {
                let mut fresh: Vec<User> = (0..self.batch).map(|i| User::sample((ROWS + 1 + i) as i64)).collect();
                let batch = insert_batch(&self.conn, &mut fresh, side)?;
                // Back to ROWS rows, outside the timed section, so both sides insert
                // the same keys into the same table.
                self.conn.execute("DELETE FROM users WHERE id > ?", [ROWS as i64])?;
                Ok(batch)
            }
        }
    }
}

fn save_batch(conn: &Connection, users: &mut [User], side: Side) -> BoxResult<Batch> {
    measure(|| -> BoxResult<()> {
        match side {
            Side::Ours => {
                for u in users.iter_mut() {
                    u.score += 1;
                    black_box(u.save(conn))?;
                }
            }
            Side::Hand => {
                for u in users.iter_mut() {
                    u.score += 1;
                    black_box(hand::save(conn, u))?;
                }
            }
        }
        Ok(())
    })
}

fn get_batch(conn: &Connection, ids: std::ops::Range<i64>, side: Side) -> BoxResult<Batch> {
    measure(|| -> BoxResult<()> {
        match side {
            Side::Ours => {
                for id in ids {
                    black_box(User::get(conn, black_box(id))?);
                }
            }
            Side::Hand => {
                for id in ids {
                    black_box(hand::get(conn, black_box(id))?);
                }
            }
        }
        Ok(())
    })
}

fn insert_batch(conn: &Connection, fresh: &mut [User], side: Side) -> BoxResult<Batch> {
    measure(|| -> BoxResult<()> {
        match side {
            Side::Ours => {
                for u in fresh.iter_mut() {
                    black_box(u.insert(conn))?;
                }
            }
            Side::Hand => {
                for u in fresh.iter_mut() {
                    black_box(hand::insert(conn, u))?;
                }
            }
        }
        Ok(())
    })
}

/// Checks, before timing, that both sides run the same statements and leave the same
/// rows and entities behind.
fn check_same_work(bench: &mut Bench) -> BoxResult<()> {
    let sql = User::statements(versioned::__private::Dialect::Sqlite);
    for (name, ours, hand) in [
        ("update", &sql.update, hand::UPDATE),
        ("select", &sql.select, hand::SELECT),
        ("insert", &sql.insert, hand::INSERT),
    ] {
        if ours.as_str() == hand {
            println!("same {name} text on both sides: {hand}");
        } else {
            println!("DIFFERENT {name} text:\n  ours: {ours}\n  hand: {hand}");
        }
    }

    let conn = &bench.conn;
    let [a, b] = &mut bench.users[..2] else { unreachable!("the table has {ROWS} rows") };
    let before = (a.version, b.version);
    a.save(conn)?;
    hand::save(conn, b)?;
    assert_eq!((a.version, b.version), (before.0 + 1, before.1 + 1), "save bumps the version by one");
    for id in [a.id, b.id] {
        assert_eq!(User::get(conn, id)?, hand::get(conn, id)?, "get reads the same row");
    }

    let stale = a.version - 1;
    let mut ours_stale = User { version: stale, ..User::sample(a.id) };
    let mut hand_stale = User { version: stale, ..User::sample(a.id) };
    assert!(ours_stale.save(conn).is_err_and(|e| e.is_conflict()), "a stale save is a conflict");
    assert!(hand::save(conn, &mut hand_stale).is_err(), "a stale save is refused");
    assert_eq!(ours_stale, hand_stale, "a refused save leaves the entity as it was");
    Ok(())
}

fn main() -> BoxResult<()> {
    let rounds = env_usize("BENCH_ROUNDS", DEFAULT_ROUNDS)?.max(1);
    let batch = env_usize("BENCH_BATCH", DEFAULT_BATCH)?.clamp(1, ROWS);
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
