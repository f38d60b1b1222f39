//! The suite's PostgreSQL whatever the driver (`postgres` in `postgres.rs`, sqlx in
//! `sqlx.rs`): a schema per test in the database of `VERSIONED_PG_URL`, its column
//! types, and the raw statements the cases ask the database for.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use postgres::{Client, NoTls};

use crate::server::{POSTGRES, pg_config, place_name};
use crate::suite::{Db, schema};

pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The statements that make a session work in `schema`.
///
/// Durability is not under test: not waiting for the WAL flush on commit keeps the
/// stress cases fast, and changes nothing any other session can see.
pub fn use_schema_sql(schema: &str) -> String {
    format!("SET search_path TO {}; SET synchronous_commit TO off", quote(schema))
}

fn use_schema(client: &mut Client, schema: &str) {
    client.batch_execute(&use_schema_sql(schema)).expect("use the test's schema");
}

/// A test's schema: created empty with every table, dropped at the end unless the
/// test failed (then kept for a look; the next run drops it first).
pub struct Place {
    schema: String,
}

impl Place {
    /// Creates the test's schema with every table in `D`'s types, and a connection
    /// that uses it.
    pub fn create<D: Db>(prefix: &str, test: &str) -> Option<(Place, Client)> {
        let mut client = POSTGRES.connect(|| pg_config().connect(NoTls))?;
        let name = place_name(prefix, test);
        let q = quote(&name);
        let mut ddl = format!("DROP SCHEMA IF EXISTS {q} CASCADE; CREATE SCHEMA {q};");
        ddl += &format!("SET search_path TO {q};");
        for table in schema::<D>() {
            ddl += &table;
            ddl += ";";
        }
        client.batch_execute(&ddl).unwrap_or_else(|e| panic!("create the schema {name}: {e}"));
        use_schema(&mut client, &name);
        Some((Place { schema: name }, client))
    }

    /// Another connection that uses the test's schema.
    pub fn connect(&self) -> Client {
        let mut client = pg_config().connect(NoTls).expect("connect to PostgreSQL");
        use_schema(&mut client, &self.schema);
        client
    }

    /// The schema's name, unquoted.
    pub fn schema(&self) -> &str {
        &self.schema
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        if let Ok(mut client) = pg_config().connect(NoTls) {
            // A lock left by a stray session must not hang the run: give up instead.
            let sql = format!("SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {} CASCADE", quote(&self.schema));
            let _ = client.batch_execute(&sql);
        }
    }
}

/// A `BEFORE` row trigger on `table` that returns NULL, so `event` skips every row.
pub fn skip_rows(table: &str, event: &str) -> Vec<String> {
    let function = format!("{table}_skip_{}", event.to_lowercase());
    vec![
        format!("CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$"),
        format!("CREATE TRIGGER {function} BEFORE {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()"),
    ]
}

/// `sql` with its `?` placeholders numbered `$1`, `$2`.. (outside quoted text).
pub fn numbered(sql: &str) -> String {
    let (mut out, mut n, mut quoted) = (String::with_capacity(sql.len()), 0, false);
    for ch in sql.chars() {
        match ch {
            '\'' => quoted = !quoted,
            '?' if !quoted => {
                n += 1;
                out += &format!("${n}");
                continue;
            }
            _ => {}
        }
        out.push(ch);
    }
    out
}

/// The `Db` items that belong to the server rather than the driver: the column
/// types, what the server does, and the raw statements the cases ask for. Expanded
/// where [`quote`] and [`skip_rows`] are in scope.
macro_rules! server_items {
    () => {
        const AUTO_KEY: &'static str = "BIGSERIAL PRIMARY KEY";
        const BIGINT: &'static str = "BIGINT";
        const INT: &'static str = "INTEGER";
        const SMALLINT: &'static str = "SMALLINT";
        const TEXT: &'static str = "TEXT";
        const KEY_TEXT: &'static str = "TEXT";
        const DOUBLE: &'static str = "DOUBLE PRECISION";
        const BLOB: &'static str = "BYTEA";
        const BOOL: &'static str = "BOOLEAN";
        const TEXT_HOLDS_NUL: bool = false;
        const STALE_SNAPSHOT_WRITE_FAILS: bool = false;
        const READ_ONLY_REFUSES_VERIFY: bool = true;
        // A primary key is NOT NULL: the insert is refused.
        const UNGENERATED_KEY: &'static str = "BIGINT PRIMARY KEY";
        const UNGENERATED_KEY_REFUSED: bool = true;
        // Nothing to take back: the insert is refused.
        const TAKES_BACK_UNGENERATED_KEYS: bool = false;

        fn quote(ident: &str) -> String {
            quote(ident)
        }

        fn ignore_updates(table: &str, _columns: &[&str]) -> Vec<String> {
            skip_rows(table, "UPDATE")
        }

        fn ignore_deletes(table: &str) -> Option<Vec<String>> {
            Some(skip_rows(table, "DELETE"))
        }

        fn refuse_deletes(table: &str, message: &str) -> Vec<String> {
            vec![
                format!(
                    "CREATE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION '{message}'; END $$"
                ),
                format!(
                    "CREATE TRIGGER {table}_refuse_deletes BEFORE DELETE ON {table} FOR EACH ROW \
                     EXECUTE FUNCTION {table}_refuse()"
                ),
            ]
        }

        fn follow_explicit_keys(conn: &mut Self::Conn, table: &str) {
            let sql = format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))");
            $crate::suite::exec(conn, &sql, &[]);
        }
    };
}

pub(crate) use server_items;
