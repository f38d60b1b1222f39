//! Load on the `web` service over HTTP, and a check that no update was lost.
//!
//! For each backend the bench starts the release binary (`RUST_LOG=warn`), and for each
//! path seeds its own rows (a few hot ones that most requests hit, many cold ones),
//! warms up, then keeps `LOAD_CONNECTIONS` keep-alive connections busy for
//! `LOAD_SECONDS`, one task and one `reqwest::Client` per connection:
//!
//! - `put`: GET a row, then PUT it with `If-Match` and its `name` counter plus one; on
//!   412, GET again and retry. An op is one update, retries included.
//! - `visits`: `POST /users/{id}/visits`, retried by the client on 409. The server's
//!   own retries come from the `update-attempts` header.
//!
//! Afterwards every row is read back: its counter (`name`, or `visits`) and its version
//! must have moved by exactly the number of updates the server acknowledged on it,
//! warm-up included; anything else fails the bench. Latencies are for the measured
//! window only: per op, and per single HTTP request.
//!
//! ```text
//! cargo bench --manifest-path examples/web/Cargo.toml --bench load
//! ```
//!
//! `LOAD_BACKENDS` (default `sqlite,postgres`), `LOAD_SECONDS` (8), `LOAD_WARMUP` (2),
//! `LOAD_CONNECTIONS` (64), `LOAD_HOT` (4 rows), `LOAD_COLD` (1000 rows), `LOAD_HOT_SHARE`
//! (0.8 of the ops on hot rows). SQLite runs on a file in a fresh temporary directory;
//! PostgreSQL on `VERSIONED_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`) in
//! schema `web_load`, dropped and created first and left for inspection. A PostgreSQL
//! server that does not answer is skipped with a note.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod server;

use server::Server;

use reqwest::header::{ETAG, IF_MATCH};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde::Deserialize;
use serde_json::json;
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// The schema the bench works in (also spelled out in `prepare_postgres`'s SQL).
const PG_SCHEMA: &str = "web_load";

struct Params {
    backends: Vec<String>,
    seconds: f64,
    warmup: f64,
    connections: usize,
    hot: usize,
    cold: usize,
    hot_share: f64,
}

fn env_or<T: FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) if !text.trim().is_empty() => {
            text.trim().parse().unwrap_or_else(|_| panic!("{name}={text} is not a valid value"))
        }
        _ => default,
    }
}

impl Params {
    fn from_env() -> Params {
        let backends: String = env_or("LOAD_BACKENDS", "sqlite,postgres".to_owned());
        Params {
            backends: backends.split(',').map(|b| b.trim().to_lowercase()).filter(|b| !b.is_empty()).collect(),
            seconds: env_or("LOAD_SECONDS", 8.0),
            warmup: env_or("LOAD_WARMUP", 2.0),
            connections: env_or("LOAD_CONNECTIONS", 64),
            hot: env_or("LOAD_HOT", 4),
            cold: env_or("LOAD_COLD", 1000),
            hot_share: env_or("LOAD_HOT_SHARE", 0.8),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Path {
    Put,
    Visits,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Put => "put",
            Path::Visits => "visits",
        }
    }
}

/// A seeded row: its id, the version it was created with, and, warm-up included, the
/// updates acknowledged on it and the writes whose fate is unknown (a 5xx, a broken
/// connection).
struct Row {
    id: i64,
    version: i64,
    done: AtomicU64,
    unsure: AtomicU64,
}

#[derive(Deserialize)]
struct User {
    id: i64,
    name: String,
    email: String,
    visits: i64,
    version: i64,
}

fn client() -> Client {
    Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client")
}

/// Creates `count` users (name `0`), 16 at a time, sorted by id.
async fn seed(base: &str, count: usize) -> Vec<Row> {
    let mut tasks = JoinSet::new();
    for part in 0..16 {
        let (base, client) = (base.to_owned(), client());
        tasks.spawn(async move {
            let mut rows = Vec::new();
            for n in (part..count).step_by(16) {
                let body = json!({"name": "0", "email": format!("load{n}@example.com")});
                let reply = client.post(format!("{base}/users")).json(&body).send().await.expect("POST /users");
                assert_eq!(reply.status(), StatusCode::CREATED, "POST /users");
                let user: User = reply.json().await.expect("a user");
                rows.push(Row {
                    id: user.id,
                    version: user.version,
                    done: AtomicU64::new(0),
                    unsure: AtomicU64::new(0),
                });
            }
            rows
        });
    }
    let mut rows: Vec<Row> = tasks.join_all().await.into_iter().flatten().collect();
    rows.sort_by_key(|row| row.id);
    rows
}

/// What the workers share: the rows, and when the measuring starts and the load ends.
struct Plan {
    base: String,
    path: Path,
    rows: Vec<Row>,
    hot: usize,
    hot_share: f64,
    measure_from: Instant,
    until: Instant,
}

/// What the workers counted in the measured window.
#[derive(Default)]
struct Tally {
    ops: u64,
    requests: u64,
    conflicts: u64,
    server_retries: u64,
    errors: BTreeMap<String, u64>,
    op_micros: Vec<u32>,
    request_micros: Vec<u32>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.ops += other.ops;
        self.requests += other.requests;
        self.conflicts += other.conflicts;
        self.server_retries += other.server_retries;
        for (error, n) in other.errors {
            *self.errors.entry(error).or_default() += n;
        }
        self.op_micros.extend(other.op_micros);
        self.request_micros.extend(other.request_micros);
    }
}

/// splitmix64: enough randomness to pick rows.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// In [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One response, read to the end.
struct Reply {
    status: StatusCode,
    etag: Option<String>,
    attempts: Option<u32>,
    body: Vec<u8>,
}

enum Outcome {
    Done,
    Failed,
    Unsure,
}

/// One connection's loop.
struct Worker {
    plan: Arc<Plan>,
    client: Client,
    rng: Rng,
    measuring: bool,
    tally: Tally,
}

impl Worker {
    fn new(plan: Arc<Plan>, seed: u64) -> Worker {
        Worker { plan, client: client(), rng: Rng(seed), measuring: false, tally: Tally::default() }
    }

    async fn run(mut self) -> Tally {
        while Instant::now() < self.plan.until {
            let started = Instant::now();
            self.measuring = started >= self.plan.measure_from;
            let row = self.pick();
            let outcome = match self.plan.path {
                Path::Put => self.put(row).await,
                Path::Visits => self.visit(row).await,
            };
            let row = &self.plan.rows[row];
            match outcome {
                Outcome::Done => row.done.fetch_add(1, Ordering::Relaxed),
                Outcome::Unsure => row.unsure.fetch_add(1, Ordering::Relaxed),
                Outcome::Failed => 0,
            };
            if self.measuring && matches!(outcome, Outcome::Done) {
                self.tally.ops += 1;
                self.tally.op_micros.push(micros(started));
            }
            if !matches!(outcome, Outcome::Done) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        self.tally
    }

    fn pick(&mut self) -> usize {
        let (hot, cold) = (self.plan.hot, self.plan.rows.len() - self.plan.hot);
        if cold == 0 || (hot > 0 && self.rng.unit() < self.plan.hot_share) {
            self.rng.below(hot)
        } else {
            hot + self.rng.below(cold)
        }
    }

    fn url(&self, row: usize) -> String {
        format!("{}/users/{}", self.plan.base, self.plan.rows[row].id)
    }

    /// GET, then PUT with `If-Match` and the counter in `name` plus one; again on 412.
    async fn put(&mut self, row: usize) -> Outcome {
        loop {
            let user = match self.call(self.client.get(self.url(row))).await {
                Ok(reply) if reply.status == StatusCode::OK => reply,
                other => return self.error("GET", other, Outcome::Failed),
            };
            let etag = user.etag.clone().expect("GET answered without an ETag");
            let user: User = serde_json::from_slice(&user.body).expect("GET answered a user");
            let counter: u64 = user.name.parse().expect("a counter in `name`");
            let body = json!({"name": (counter + 1).to_string(), "email": user.email});
            let put = self.client.put(self.url(row)).header(IF_MATCH, etag).json(&body);
            match self.call(put).await {
                Ok(reply) if reply.status == StatusCode::OK => return Outcome::Done,
                Ok(reply) if reply.status == StatusCode::PRECONDITION_FAILED => self.conflict(),
                other => return self.error("PUT", other, Outcome::Unsure),
            }
        }
    }

    /// `POST /users/{id}/visits`; again on 409.
    async fn visit(&mut self, row: usize) -> Outcome {
        loop {
            let url = format!("{}/visits", self.url(row));
            match self.call(self.client.post(url)).await {
                Ok(reply) if reply.status == StatusCode::OK => {
                    let attempts = reply.attempts.expect("visits answered without update-attempts");
                    if self.measuring {
                        self.tally.server_retries += u64::from(attempts.saturating_sub(1));
                    }
                    return Outcome::Done;
                }
                Ok(reply) if reply.status == StatusCode::CONFLICT => self.conflict(),
                other => return self.error("POST visits", other, Outcome::Unsure),
            }
        }
    }

    fn conflict(&mut self) {
        if self.measuring {
            self.tally.conflicts += 1;
        }
    }

    fn error(&mut self, what: &str, reply: Result<Reply, String>, outcome: Outcome) -> Outcome {
        let key = match reply {
            Ok(reply) => format!("{what} {}: {}", reply.status, String::from_utf8_lossy(&reply.body)),
            Err(error) => format!("{what}: {error}"),
        };
        *self.tally.errors.entry(key).or_default() += 1;
        outcome
    }

    async fn call(&mut self, request: RequestBuilder) -> Result<Reply, String> {
        let started = Instant::now();
        let reply = send(request).await.map_err(|e| e.without_url().to_string());
        if self.measuring {
            self.tally.requests += 1;
            self.tally.request_micros.push(micros(started));
        }
        reply
    }
}

async fn send(request: RequestBuilder) -> Result<Reply, reqwest::Error> {
    let response = request.send().await?;
    let status = response.status();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let etag = header(ETAG.as_str());
    let attempts = header("update-attempts").and_then(|n| n.parse().ok());
    let body = response.bytes().await?.to_vec();
    Ok(Reply { status, etag, attempts, body })
}

fn micros(since: Instant) -> u32 {
    since.elapsed().as_micros().try_into().unwrap_or(u32::MAX)
}

/// One path on one backend: the numbers, and what the read-back found wrong.
struct Report {
    backend: &'static str,
    path: Path,
    seconds: f64,
    tally: Tally,
    check: Result<String, Vec<String>>,
}

async fn run_path(base: &str, params: &Params, path: Path, backend: &'static str) -> Report {
    eprintln!("{backend} {}: seeding, then {} s + {} s of load", path.name(), params.warmup, params.seconds);
    let rows = seed(base, params.hot + params.cold).await;
    let measure_from = Instant::now() + Duration::from_secs_f64(params.warmup);
    let until = measure_from + Duration::from_secs_f64(params.seconds);
    let plan =
        Plan { base: base.to_owned(), path, rows, hot: params.hot, hot_share: params.hot_share, measure_from, until };
    let plan = Arc::new(plan);
    let mut workers = JoinSet::new();
    for n in 0..params.connections {
        workers.spawn(Worker::new(Arc::clone(&plan), 0x5eed + n as u64).run());
    }
    let mut tally = Tally::default();
    for worker in workers.join_all().await {
        tally.merge(worker);
    }
    let seconds = params.seconds;
    let check = check(&plan).await;
    Report { backend, path, seconds, tally, check }
}

/// Reads every row back: its counter and its version must have moved by the updates
/// acknowledged on it (and at most the unsure ones more), both by the same amount, and
/// the other path's counter not at all.
async fn check(plan: &Plan) -> Result<String, Vec<String>> {
    let client = client();
    let mut wrong = Vec::new();
    let (mut acknowledged, mut counted, mut unsure) = (0, 0, 0);
    for row in &plan.rows {
        let reply = client.get(format!("{}/users/{}", plan.base, row.id)).send().await.expect("GET for the check");
        assert_eq!(reply.status(), StatusCode::OK, "GET for the check");
        let user: User = reply.json().await.expect("a user");
        let name: i64 = user.name.parse().expect("a counter in `name`");
        let (counter, other) = if plan.path == Path::Put { (name, user.visits) } else { (user.visits, name) };
        let (done, maybe) = (row.done.load(Ordering::Relaxed) as i64, row.unsure.load(Ordering::Relaxed) as i64);
        if !(done..=done + maybe).contains(&counter) || user.version - row.version != counter || other != 0 {
            wrong.push(format!(
                "user {}: {done} updates acknowledged (+{maybe} unsure), counter {counter}, version {} -> {}, \
                 other counter {other}",
                user.id, row.version, user.version
            ));
        }
        (acknowledged, counted, unsure) = (acknowledged + done, counted + counter, unsure + maybe);
    }
    let rows = plan.rows.len();
    match wrong.is_empty() {
        true => Ok(format!("{rows} rows, {acknowledged} updates acknowledged, {counted} counted, {unsure} unsure")),
        false => Err(wrong),
    }
}

/// The SQLite file in a directory of its own.
fn sqlite_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("versioned-web-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// Drops and creates the schema; the URL the server gets puts it on the search path.
async fn prepare_postgres() -> Result<String, String> {
    let url = std::env::var("VERSIONED_PG_URL").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| PG_URL.to_owned());
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect(&url)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    for sql in ["DROP SCHEMA IF EXISTS web_load CASCADE", "CREATE SCHEMA web_load"] {
        sqlx::query(sql).execute(&pool).await.map_err(|e| format!("{url}: {sql}: {e}"))?;
    }
    pool.close().await;
    let separator = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{separator}options=-c%20search_path%3D{PG_SCHEMA}"))
}

fn run_backend(runtime: &Runtime, params: &Params, backend: &str, reports: &mut Vec<Report>) {
    let mut temporary = None;
    let (name, url) = match backend {
        "sqlite" => {
            let dir = sqlite_dir();
            let url = format!("sqlite://{}", dir.join("load.db").display());
            temporary = Some(dir);
            ("SQLite", url)
        }
        "postgres" | "postgresql" => match runtime.block_on(prepare_postgres()) {
            Ok(url) => ("PostgreSQL", url),
            Err(why) => {
                println!("PostgreSQL skipped: {why}");
                return;
            }
        },
        other => panic!("LOAD_BACKENDS: unknown backend `{other}` (sqlite, postgres)"),
    };
    let server = Server::start(&url);
    for path in [Path::Put, Path::Visits] {
        reports.push(runtime.block_on(run_path(&server.base, params, path, name)));
    }
    let log = Arc::clone(&server.log);
    let exit = server.stop();
    let log = log.lock().unwrap();
    println!("{name} server: {exit}; {} stderr lines at RUST_LOG=warn", log.lines);
    for line in &log.first {
        println!("  | {line}");
    }
    if let Some(dir) = temporary {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

const HEADER: &str = "backend path ops ops/s req/s op-p50 op-p99 req-p50 req-p99 412/409 srv-retry errors";
/// The table's column widths; the first two columns are left-aligned.
const WIDTHS: [usize; 12] = [10, 6, 7, 6, 6, 9, 9, 9, 9, 7, 9, 6];

fn table_line<T: std::fmt::Display>(cells: impl IntoIterator<Item = T>) -> String {
    let cell = |(n, (text, width)): (usize, (T, usize))| match n {
        0 | 1 => format!("{text:<width$}"),
        _ => format!("{text:>width$}"),
    };
    cells.into_iter().zip(WIDTHS).enumerate().map(cell).collect::<Vec<_>>().join(" ")
}

fn print_table(reports: &mut [Report]) {
    println!("\n{}", table_line(HEADER.split(' ')));
    for report in reports.iter_mut() {
        let t = &mut report.tally;
        t.op_micros.sort_unstable();
        t.request_micros.sort_unstable();
        let ms = |sorted: &[u32], p| format!("{:.2}ms", percentile(sorted, p));
        let rate = |n: u64| format!("{:.0}", n as f64 / report.seconds);
        let retries = if report.path == Path::Put { "-".to_owned() } else { t.server_retries.to_string() };
        let (op, request) = (&t.op_micros, &t.request_micros);
        println!(
            "{}",
            table_line([
                report.backend.to_owned(),
                report.path.name().to_owned(),
                t.ops.to_string(),
                rate(t.ops),
                rate(t.requests),
                ms(op, 0.5),
                ms(op, 0.99),
                ms(request, 0.5),
                ms(request, 0.99),
                t.conflicts.to_string(),
                retries,
                t.errors.values().sum::<u64>().to_string(),
            ])
        );
    }
}

/// Prints the checks and the errors; says whether every check passed.
fn print_checks(reports: &[Report]) -> bool {
    println!();
    let mut passed = true;
    for report in reports {
        let what = format!("{} {}", report.backend, report.path.name());
        match &report.check {
            Ok(summary) => println!("lost-update check, {what}: ok, {summary}"),
            Err(wrong) => {
                passed = false;
                println!("lost-update check, {what}: FAILED on {} rows", wrong.len());
                wrong.iter().take(10).for_each(|line| println!("  {line}"));
            }
        }
        for (error, n) in &report.tally.errors {
            println!("  {what}: {n} x {error}");
        }
    }
    passed
}

fn print_context(params: &Params) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<_> = load.split_whitespace().take(3).collect();
    println!("machine: {cores} cores, load average {} (client and server share them)", load.join(" "));
    println!(
        "load: {} connections, {} s warm-up + {} s per path, {} hot + {} cold rows per path, {:.0}% of ops on hot rows",
        params.connections,
        params.warmup,
        params.seconds,
        params.hot,
        params.cold,
        params.hot_share * 100.0
    );
    println!("latencies: op = one update, retries included; req = one HTTP request");
}

fn main() {
    let started = Instant::now();
    let params = Params::from_env();
    assert!(params.connections > 0 && params.hot + params.cold > 0, "LOAD_CONNECTIONS and the rows must be > 0");
    print_context(&params);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let mut reports = Vec::new();
    for backend in &params.backends {
        run_backend(&runtime, &params, backend, &mut reports);
    }
    print_table(&mut reports);
    let passed = print_checks(&reports);
    println!("\ntook {:.1?}", started.elapsed());
    assert!(passed, "updates were lost: see the lost-update checks above");
}
