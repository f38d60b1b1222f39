//! What the PostgreSQL and MySQL tests share, the suites and the trap files alike:
//! where each server's URL comes from, connecting with a bounded wait, what to do when
//! the server does not answer, and naming a test's schema or database.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::fmt::Display;
use std::io::Write;
use std::sync::{Once, OnceLock};
use std::time::Duration;

/// A database server the tests run on.
pub struct Server {
    /// Its name in messages.
    name: &'static str,
    /// The environment variable that holds its URL.
    env: &'static str,
    default_url: &'static str,
    /// How to start one, for the message when none answers.
    start: &'static str,
    /// Why it did not answer, once it did not: the later cases skip at once.
    down: OnceLock<String>,
    /// The note on stderr that the cases are skipped, shown once.
    noted: Once,
}

pub static POSTGRES: Server = Server::new(
    "PostgreSQL",
    "VERSIONED_PG_URL",
    "postgres://postgres@127.0.0.1:5432/test",
    "e.g. `pg_ctlcluster 15 main start`, or `bash .ci/run`",
);

pub static MYSQL: Server = Server::new(
    "MySQL",
    "VERSIONED_MYSQL_URL",
    "mysql://root@127.0.0.1:3306/test",
    "e.g. `start-stop-daemon --start --background --exec /usr/sbin/mariadbd`, or `bash .ci/run`",
);

impl Server {
    const fn new(name: &'static str, env: &'static str, default_url: &'static str, start: &'static str) -> Server {
        Server { name, env, default_url, start, down: OnceLock::new(), noted: Once::new() }
    }

    /// The URL in the server's environment variable, or the default one.
    pub fn url(&self) -> String {
        std::env::var(self.env).unwrap_or_else(|_| self.default_url.to_owned())
    }

    /// A connection from `connect`; `None` when the server does not answer (then
    /// remembered, so the other cases skip at once). Under `CI=true` a server that
    /// does not answer fails the case instead.
    pub fn connect<C, E: std::error::Error>(&self, connect: impl FnOnce() -> Result<C, E>) -> Option<C> {
        let error = match self.down.get() {
            Some(error) => error.clone(),
            None => match connect() {
                Ok(conn) => return Some(conn),
                Err(e) => self.down.get_or_init(|| chain(&e)).clone(),
            },
        };
        self.skip_or_fail(&error);
        None
    }

    /// Under `CI=true` the case fails; otherwise it is skipped with a note on stderr
    /// (shown once, even though test output is captured).
    fn skip_or_fail(&self, error: &str) {
        let Server { name, env, start, .. } = self;
        let problem =
            format!("{name} does not answer at {} ({error}); start it ({start}) or point {env} at one", self.url());
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{problem}. Under CI=true a missing server is a failure");
        }
        eprintln!("{problem}. Skipping this {name} case");
        self.noted.call_once(|| {
            let _ = writeln!(std::io::stderr(), "note: {problem}. Skipping the {name} cases");
        });
    }

    fn bad_url(&self, url: &str, error: impl Display) -> ! {
        panic!("{}={url} is not a {} URL: {error}", self.env, self.name)
    }
}

/// The PostgreSQL server's settings, giving up after 5 s when nothing answers unless
/// the URL sets its own `connect_timeout`.
pub fn pg_config() -> postgres::Config {
    let url = POSTGRES.url();
    let mut config: postgres::Config = url.parse().unwrap_or_else(|e| POSTGRES.bad_url(&url, e));
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    config
}

/// The same settings for `tokio-postgres`, whose async connections the
/// tokio-postgres and deadpool-postgres suites open.
pub fn tokio_pg_config() -> tokio_postgres::Config {
    let url = POSTGRES.url();
    let mut config: tokio_postgres::Config = url.parse().unwrap_or_else(|e| POSTGRES.bad_url(&url, e));
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    config
}

/// The MySQL server's options, giving up after 5 s when nothing answers.
pub fn mysql_opts() -> mysql::OptsBuilder {
    let url = MYSQL.url();
    let opts = mysql::Opts::from_url(&url).unwrap_or_else(|e| MYSQL.bad_url(&url, e));
    mysql::OptsBuilder::from_opts(opts).tcp_connect_timeout(Some(Duration::from_secs(5)))
}

/// A schema or database name for `test` on a server, unique per test and backend
/// (`prefix`) and within the servers' 63-character limit.
pub fn place_name(prefix: &str, test: &str) -> String {
    // FNV-1a: keeps two long names that share their first characters apart.
    let hash = test.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let short: String = test.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
    format!("{prefix}_{short}_{:08x}", hash as u32)
}

/// An error and its causes, for a message.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
