//! Where a test's service keeps its rows: a fresh SQLite file, a PostgreSQL schema
//! or a MariaDB/MySQL database of its own, so the tests run in parallel without
//! meeting each other or other suites on the same servers.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Once, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::{AssertSqlSafe, Connection, MySqlConnection, PgConnection};

/// How long a server may take to answer the harness before its tests are skipped.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A database the service runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

/// A database server: where its URL comes from, and whether it failed to answer.
struct Server {
    name: &'static str,
    env: &'static str,
    default_url: &'static str,
    /// Why it did not answer, once it did not: the later tests skip at once.
    down: OnceLock<String>,
    /// The note that its tests are skipped, shown once.
    noted: Once,
}

static POSTGRES: Server = Server::new("PostgreSQL", "VERSIONED_PG_URL", "postgres://postgres@127.0.0.1:5432/test");

static MYSQL: Server = Server::new("MariaDB/MySQL", "VERSIONED_MYSQL_URL", "mysql://root@127.0.0.1:3306/test");

impl Server {
    const fn new(name: &'static str, env: &'static str, default_url: &'static str) -> Server {
        Server { name, env, default_url, down: OnceLock::new(), noted: Once::new() }
    }

    fn url(&self) -> String {
        std::env::var(self.env).ok().filter(|url| !url.is_empty()).unwrap_or_else(|| self.default_url.to_owned())
    }

    /// A connection to the server, `None` (the test is skipped) when it does not
    /// answer; under `CI=true` that fails the test instead.
    async fn connect<C: Connection>(&self) -> Option<C> {
        let url = self.url();
        let error = match self.down.get() {
            Some(error) => error.clone(),
            None => match tokio::time::timeout(CONNECT_TIMEOUT, C::connect(&url)).await {
                Ok(Ok(connection)) => return Some(connection),
                Ok(Err(e)) => self.down.get_or_init(|| e.to_string()).clone(),
                Err(_) => self.down.get_or_init(|| format!("no answer within {CONNECT_TIMEOUT:?}")).clone(),
            },
        };
        let problem =
            format!("{} does not answer at {url} ({error}); start it or point {} at one", self.name, self.env);
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{problem}. Under CI=true a missing server is a failure");
        }
        eprintln!("{problem}. Skipping this test");
        // Past the test harness's capture, so that a run that passes says it too.
        self.noted.call_once(|| {
            let _ = writeln!(std::io::stderr(), "note: {problem}. Skipping its tests");
        });
        None
    }
}

/// What to remove once the test passed.
enum Cleanup {
    Dir(PathBuf),
    Schema(String),
    Database(String),
}

/// A test's own database, and the URL that hands it to the service.
pub struct Place {
    url: String,
    cleanup: Cleanup,
}

impl Place {
    /// A fresh, empty place for test `test` on `backend`; `None` when its server
    /// does not answer (outside CI).
    pub async fn new(backend: Backend, test: &str) -> Option<Place> {
        let name = format!("web_e2e_{test}");
        assert!(name.len() <= 63, "{name}: too long for a schema or database name");
        let place = match backend {
            Backend::Sqlite => Place::sqlite(&name),
            Backend::Postgres => Place::postgres(name).await?,
            Backend::MySql => Place::mysql(name).await?,
        };
        // Shown when the test fails.
        eprintln!("database: {}", place.url);
        Some(place)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Removes the place. A failed test does not get here: its place stays for a
    /// look, and the next run starts it afresh.
    pub async fn remove(self) {
        match self.cleanup {
            Cleanup::Dir(dir) => {
                std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("remove {}: {e}", dir.display()));
            }
            Cleanup::Schema(schema) => {
                let mut admin: PgConnection = POSTGRES.connect().await.expect("PostgreSQL answered before");
                execute(&mut admin, format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
            }
            Cleanup::Database(database) => {
                let mut admin: MySqlConnection = MYSQL.connect().await.expect("MySQL answered before");
                execute(&mut admin, format!("DROP DATABASE IF EXISTS {database}")).await;
            }
        }
    }

    /// A file in a directory of its own under the temporary directory.
    fn sqlite(name: &str) -> Place {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let file = dir.join("users.db");
        let path = file.to_str().unwrap_or_else(|| panic!("{} is not UTF-8", file.display()));
        assert!(!path.contains(['%', '?', '#']), "{path}: sqlx would read part of it as URL syntax");
        Place { url: format!("sqlite://{path}"), cleanup: Cleanup::Dir(dir) }
    }

    /// Schema `name`, dropped and created afresh; the service's sessions use it
    /// through the `options` startup parameter (`-c search_path=...`).
    async fn postgres(name: String) -> Option<Place> {
        let mut admin: PgConnection = POSTGRES.connect().await?;
        execute(&mut admin, format!("DROP SCHEMA IF EXISTS {name} CASCADE")).await;
        execute(&mut admin, format!("CREATE SCHEMA {name}")).await;
        let url = with_query(&POSTGRES.url(), &format!("options=-c%20search_path%3D{name}"));
        Some(Place { url, cleanup: Cleanup::Schema(name) })
    }

    /// Database `name`, dropped and created afresh.
    async fn mysql(name: String) -> Option<Place> {
        let mut admin: MySqlConnection = MYSQL.connect().await?;
        execute(&mut admin, format!("DROP DATABASE IF EXISTS {name}")).await;
        execute(&mut admin, format!("CREATE DATABASE {name}")).await;
        let url = with_database(&MYSQL.url(), &name);
        Some(Place { url, cleanup: Cleanup::Database(name) })
    }
}

/// Runs `sql` (made of names the tests chose) on `connection`.
async fn execute<C>(connection: &mut C, sql: String)
where
    C: Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    sqlx::raw_sql(AssertSqlSafe(sql.clone())).execute(connection).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// `url` with `param` added to its query.
fn with_query(url: &str, param: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{param}")
}

/// `url` naming database `database` instead of its own.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(base, query)| (base, Some(query)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let end = base[authority..].find('/').map_or(base.len(), |i| authority + i);
    let mut with = format!("{}/{database}", &base[..end]);
    if let Some(query) = query {
        with = format!("{with}?{query}");
    }
    with
}

#[test]
fn urls_name_the_tests_place() {
    assert_eq!(with_query("postgres://u@h/db", "a=1"), "postgres://u@h/db?a=1");
    assert_eq!(with_query("postgres://u@h/db?sslmode=disable", "a=1"), "postgres://u@h/db?sslmode=disable&a=1");
    assert_eq!(with_database("mysql://root@h:3306/test", "x"), "mysql://root@h:3306/x");
    assert_eq!(with_database("mysql://root@h:3306", "x"), "mysql://root@h:3306/x");
    assert_eq!(with_database("mysql://root@h/test?ssl-mode=disabled", "x"), "mysql://root@h/x?ssl-mode=disabled");
}
