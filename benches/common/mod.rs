//! What the side-by-side benches share: a counting allocator, the interleaved round
//! loop, the statistics of per-round ratios and the table they print, and (in
//! [`user`]) the entity they work on with the loops and checks around it.
//!
//! Each round runs a batch of calls through the library and the same batch written by
//! hand, alternating which side goes first, and keeps the ratio ours / hand-written.
//! Allocations are counted in a pass of their own, one batch per side.

use std::alloc::{GlobalAlloc, Layout, System};
use std::error::Error;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod user;

pub(crate) use user::user_entity;
pub use user::{ROWS, check_row, compare_statements, window};
// The async benches await batch loops of their own (`asynchronous.rs`).
#[allow(unused_imports)]
pub use user::{each_id, each_user};

pub type BoxResult<T> = Result<T, Box<dyn Error>>;

/// Rounds of every operation run before anything is kept.
const WARMUP_ROUNDS: usize = 5;

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

/// An operation a bench times on both sides.
pub trait Op: Copy + PartialEq {
    /// Its name in the table.
    fn name(self) -> &'static str;
}

/// The two operations a bench that times only `save` and `get` runs.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SaveGet {
    Save,
    Get,
}

/// Both, in the order their rows are printed.
#[allow(dead_code)]
pub const SAVE_GET: [SaveGet; 2] = [SaveGet::Save, SaveGet::Get];

impl Op for SaveGet {
    fn name(self) -> &'static str {
        match self {
            SaveGet::Save => "save",
            SaveGet::Get => "get",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Side {
    Ours,
    Hand,
}

/// One batch of one side: its wall time and the allocations made inside it.
pub struct Batch {
    time: Duration,
    allocations: u64,
}

/// Times `f`, counting the allocations made inside it.
pub fn measure<E>(f: impl FnOnce() -> Result<(), E>) -> Result<Batch, E> {
    let before = allocations();
    let start = Instant::now();
    f()?;
    let time = start.elapsed();
    Ok(Batch { time, allocations: allocations() - before })
}

/// Both sides of one round, the first one alternating from round to round; `run`
/// runs one side's batch of round `round`.
fn pair(round: usize, mut run: impl FnMut(Side) -> BoxResult<Batch>) -> BoxResult<(Batch, Batch)> {
    if round.is_multiple_of(2) {
        let ours = run(Side::Ours)?;
        let hand = run(Side::Hand)?;
        Ok((ours, hand))
    } else {
        let hand = run(Side::Hand)?;
        let ours = run(Side::Ours)?;
        Ok((ours, hand))
    }
}

/// Runs `ops` side by side: warm-up rounds, a pass that counts allocations, then
/// `rounds` timed rounds of every operation. `run(op, side, round)` runs one batch of
/// `batch` calls.
pub fn side_by_side<O: Op>(
    ops: &[O],
    rounds: usize,
    batch: usize,
    mut run: impl FnMut(O, Side, usize) -> BoxResult<Batch>,
) -> BoxResult<Vec<Report<O>>> {
    for round in 0..WARMUP_ROUNDS {
        for &op in ops {
            pair(round, |side| run(op, side, round))?;
        }
    }

    // Allocations: a pass of its own, one batch per side.
    let mut allocs = Vec::new();
    for &op in ops {
        let (ours, hand) = pair(0, |side| run(op, side, 0))?;
        allocs.push((ours.allocations as f64 / batch as f64, hand.allocations as f64 / batch as f64));
    }

    let mut times: Vec<Vec<(Duration, Duration)>> = vec![Vec::with_capacity(rounds); ops.len()];
    for round in 0..rounds {
        for (i, &op) in ops.iter().enumerate() {
            let (ours, hand) = pair(round, |side| run(op, side, round))?;
            times[i].push((ours.time, hand.time));
        }
    }

    let per_call = |d: Duration| d.as_nanos() as f64 / batch as f64;
    Ok(ops
        .iter()
        .zip(times)
        .zip(allocs)
        .map(|((&op, times), (ours_allocs, hand_allocs))| Report {
            op,
            ratio: Spread::of(times.iter().map(|(o, h)| o.as_secs_f64() / h.as_secs_f64()).collect()),
            ours_ns: Spread::of(times.iter().map(|(o, _)| per_call(*o)).collect()).median,
            hand_ns: Spread::of(times.iter().map(|(_, h)| per_call(*h)).collect()).median,
            ours_allocs,
            hand_allocs,
        })
        .collect())
}

/// Median, p10, p90, min and max of a sample.
pub struct Spread {
    pub median: f64,
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
pub struct Report<O> {
    pub op: O,
    pub ratio: Spread,
    ours_ns: f64,
    hand_ns: f64,
    pub ours_allocs: f64,
    pub hand_allocs: f64,
}

/// Prints `title` and one line per operation.
pub fn print_table<O: Op>(title: &str, reports: &[Report<O>]) {
    let width = reports.iter().map(|r| r.op.name().len()).max().unwrap_or(0).max(8);
    println!();
    println!("{title}");
    println!();
    println!(
        "{:<width$} {:>13} {:>15} {:>15} {:>9} {:>9} {:>22}",
        "op", "median ratio", "p10..p90", "min..max", "ours ns", "hand ns", "allocs/call ours|hand"
    );
    for r in reports {
        println!(
            "{:<width$} {:>12.3}x {:>15} {:>15} {:>9.0} {:>9.0} {:>22}",
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
}

/// Prints whether `report`'s median ratio is within `bar`.
pub fn print_ratio_verdict<O: Op>(report: &Report<O>, bar: f64) {
    let verdict = verdict(report.ratio.median <= bar);
    println!("{verdict}  {:<6} within {bar:.2}x of hand-written: median {:.3}x", report.op.name(), report.ratio.median);
}

pub fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "MISS" }
}

fn env_usize(name: &str, default: usize) -> BoxResult<usize> {
    match std::env::var(name) {
        Ok(v) => Ok(v.parse().map_err(|e| format!("{name}={v}: {e}"))?),
        Err(_) => Ok(default),
    }
}

/// The rounds (`BENCH_ROUNDS`, at least one) and the calls per side and round
/// (`BENCH_BATCH`, from one to [`ROWS`]), each with its default.
pub fn rounds_and_batch(rounds: usize, batch: usize) -> BoxResult<(usize, usize)> {
    Ok((env_usize("BENCH_ROUNDS", rounds)?.max(1), env_usize("BENCH_BATCH", batch)?.clamp(1, ROWS)))
}

/// Connects with `connect` to `name`'s server at the URL in `env` (or `default`);
/// `None`, after saying why, when it does not answer.
// The SQLite bench has no server.
#[allow(dead_code)]
pub fn connect_or_skip<C>(
    name: &str,
    env: &str,
    default: &str,
    connect: impl FnOnce(&str) -> BoxResult<C>,
) -> Option<C> {
    let url = std::env::var(env).unwrap_or_else(|_| default.to_string());
    match connect(&url) {
        Ok(conn) => Some(conn),
        Err(e) => {
            // A driver's own message can be generic; its sources say what happened.
            let mut why = e.to_string();
            let mut source = e.source();
            while let Some(cause) = source {
                why = format!("{why}: {cause}");
                source = cause.source();
            }
            println!("skipped: cannot connect to {name} at {url}: {why}");
            None
        }
    }
}
