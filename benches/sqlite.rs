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

use std::alloc::{GlobalAlloc, Layout, System};
use std::error::Error;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use versioned::Versioned;

type BoxResult<T> = Result<T, Box<dyn Error>>;

/// Rows in the table the timed calls read and write.
const ROWS: usize = 4000;
const DEFAULT_ROUNDS: usize = 3000;
const DEFAULT_BATCH: usize = 2000;
const WARMUP_ROUNDS: usize = 5;
/// The bars the project holds: ours / hand-written at most this for `save` and `get`.
const RATIO_BAR: f64 = 1.10;

/// Counts the calls that ask the allocator for memory: `alloc`, `alloc_zeroed` and
/// `realloc`.
struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

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

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Save => "save",
            Op::Get => "get",
            Op::Insert => "insert",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    Ours,
    Hand,
}

/// One batch of one side: its wall time and the allocations made inside it.
struct Batch {
    time: Duration,
    allocations: u64,
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

    /// Both sides of one round, the first one alternating from round to round.
    fn pair(&mut self, op: Op, round: usize) -> BoxResult<(Batch, Batch)> {
        if round.is_multiple_of(2) {
            let ours = self.run(op, Side::Ours, round)?;
            let hand = self.run(op, Side::Hand, round)?;
            Ok((ours, hand))
        } else {
            let hand = self.run(op, Side::Hand, round)?;
            let ours = self.run(op, Side::Ours, round)?;
            Ok((ours, hand))
        }
    }
}

/// Times `f`, counting the allocations made inside it.
fn measure<E>(f: impl FnOnce() -> Result<(), E>) -> Result<Batch, E> {
    let before = allocations();
    let start = Instant::now();
    f()?;
    let time = start.elapsed();
    Ok(Batch { time, allocations: allocations() - before })
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

/// Median, p10, p90, min and max of a sample.
struct Spread {
    median: f64,
    p10: f64,
    p90: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Spread {
        values.sort_by(f64::total_cmp);
        let quantile = |q: f64| {
            let at = q * (values.len() - 1) as f64;
            let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
            values[lo] + (values[hi] - values[lo]) * (at - lo as f64)
        };
        Spread {
            median: quantile(0.5),
            p10: quantile(0.1),
            p90: quantile(0.9),
            min: values[0],
            max: values[values.len() - 1],
        }
    }
}

/// What one operation measured.
struct Report {
    op: Op,
    ratio: Spread,
    ours_ns: f64,
    hand_ns: f64,
    ours_allocs: f64,
    hand_allocs: f64,
}

fn env_usize(name: &str, default: usize) -> BoxResult<usize> {
    match std::env::var(name) {
        Ok(v) => Ok(v.parse().map_err(|e| format!("{name}={v}: {e}"))?),
        Err(_) => Ok(default),
    }
}

fn main() -> BoxResult<()> {
    let rounds = env_usize("BENCH_ROUNDS", DEFAULT_ROUNDS)?.max(1);
    let batch = env_usize("BENCH_BATCH", DEFAULT_BATCH)?.clamp(1, ROWS);
    let started = Instant::now();
    let mut bench = Bench::new(batch)?;
    check_same_work(&mut bench)?;

    for round in 0..WARMUP_ROUNDS {
        for op in OPS {
            bench.pair(op, round)?;
        }
    }

    // Allocations: a pass of its own, one batch per side.
    let mut allocs = Vec::new();
    for op in OPS {
        let (ours, hand) = bench.pair(op, 0)?;
        allocs.push((ours.allocations as f64 / batch as f64, hand.allocations as f64 / batch as f64));
    }

    let mut times: Vec<Vec<(Duration, Duration)>> = vec![Vec::with_capacity(rounds); OPS.len()];
    for round in 0..rounds {
        for (i, op) in OPS.into_iter().enumerate() {
            let (ours, hand) = bench.pair(op, round)?;
            times[i].push((ours.time, hand.time));
        }
    }

    let per_call = |d: Duration| d.as_nanos() as f64 / batch as f64;
    let reports: Vec<Report> = OPS
        .into_iter()
        .zip(times)
        .zip(allocs)
        .map(|((op, times), (ours_allocs, hand_allocs))| Report {
            op,
            ratio: Spread::of(times.iter().map(|(o, h)| o.as_secs_f64() / h.as_secs_f64()).collect()),
            ours_ns: Spread::of(times.iter().map(|(o, _)| per_call(*o)).collect()).median,
            hand_ns: Spread::of(times.iter().map(|(_, h)| per_call(*h)).collect()).median,
            ours_allocs,
            hand_allocs,
        })
        .collect();

    print_reports(&reports, rounds, batch, started.elapsed());
    Ok(())
}

fn print_reports(reports: &[Report], rounds: usize, batch: usize, elapsed: Duration) {
    println!();
    println!(
        "versioned vs hand-written rusqlite: in-memory SQLite, {ROWS} rows, {rounds} rounds x {batch} calls per side \
         ({:.1} s)",
        elapsed.as_secs_f64()
    );
    println!();
    println!(
        "{:<8} {:>13} {:>15} {:>15} {:>9} {:>9} {:>22}",
        "op", "median ratio", "p10..p90", "min..max", "ours ns", "hand ns", "allocs/call ours|hand"
    );
    for r in reports {
        println!(
            "{:<8} {:>12.3}x {:>15} {:>15} {:>9.0} {:>9.0} {:>22}",
            r.op.name(),
            r.ratio.median,
            format!("{:.3}..{:.3}", r.ratio.p10, r.ratio.p90),
            format!("{:.3}..{:.3}", r.ratio.min, r.ratio.max),
            r.ours_ns,
            r.hand_ns,
            format!("{:.2} | {:.2}", r.ours_allocs, r.hand_allocs),
        );
    }
    println!();
    println!("ratio = ours / hand-written time per round; ns = median per call; allocs counted in a separate pass");
    println!();
    for r in reports.iter().filter(|r| r.op != Op::Insert) {
        let verdict = verdict(r.ratio.median <= RATIO_BAR);
        println!("{verdict}  {:<6} within {RATIO_BAR:.2}x of hand-written: median {:.3}x", r.op.name(), r.ratio.median);
    }
    if let Some(r) = reports.iter().find(|r| r.op == Op::Save) {
        let verdict = verdict(r.ours_allocs <= r.hand_allocs);
        println!(
            "{verdict}  save   allocates no more than hand-written: {:.2} vs {:.2} per call",
            r.ours_allocs, r.hand_allocs
        );
    }
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "MISS" }
}
