//! What the suite's SQLite shares across drivers (rusqlite in `sqlite.rs`, sqlx in
//! `sqlx_sqlite.rs`): SQL text and settings only, no driver type, since the sqlx
//! tests cannot link rusqlite.

// Each driver's file uses only part of it.
#![allow(dead_code)]

use std::time::Duration;

/// How long a connection to a test's database file waits on another's lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The [`Db`](crate::suite::Db) items that depend on SQLite alone, not on its
/// driver: column types, what the database does, quoting, triggers, storage classes.
macro_rules! sqlite_db {
    () => {
        const AUTO_KEY: &'static str = "INTEGER PRIMARY KEY";
        const BIGINT: &'static str = "INTEGER";
        const INT: &'static str = "INTEGER";
        const SMALLINT: &'static str = "INTEGER";
        const TEXT: &'static str = "TEXT";
        const KEY_TEXT: &'static str = "TEXT";
        const DOUBLE: &'static str = "REAL";
        const BLOB: &'static str = "BLOB";
        const BOOL: &'static str = "INTEGER";
        const TEXT_HOLDS_NUL: bool = true;
        const STALE_SNAPSHOT_WRITE_FAILS: bool = true;
        const READ_ONLY_REFUSES_VERIFY: bool = false;
        // Not a rowid alias: a key only `INTEGER PRIMARY KEY` is, and this one may hold NULL.
        const UNGENERATED_KEY: &'static str = "BIGINT PRIMARY KEY";
        const UNGENERATED_KEY_REFUSED: bool = false;

        fn quote(ident: &str) -> String {
            format!("\"{}\"", ident.replace('"', "\"\""))
        }

        fn ignore_updates(table: &str, _columns: &[&str]) -> Vec<String> {
            vec![format!(
                "CREATE TRIGGER {table}_ignore_updates BEFORE UPDATE ON {table} BEGIN SELECT RAISE(IGNORE); END"
            )]
        }

        fn ignore_deletes(table: &str) -> Option<Vec<String>> {
            Some(vec![format!(
                "CREATE TRIGGER {table}_ignore_deletes BEFORE DELETE ON {table} BEGIN SELECT RAISE(IGNORE); END"
            )])
        }

        fn refuse_deletes(table: &str, message: &str) -> Vec<String> {
            vec![format!(
                "CREATE TRIGGER {table}_refuse_deletes BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )]
        }

        fn storage_class(conn: &mut Self::Conn, table: &str, column: &str, id: i64) -> Option<String> {
            let sql = format!("SELECT typeof({}) FROM {} WHERE id = ?", Self::quote(column), Self::quote(table));
            Some($crate::suite::scalar(conn, &sql, &[&id]))
        }
    };
}

pub(crate) use sqlite_db;
