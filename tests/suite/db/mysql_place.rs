//! The suite's MySQL and MariaDB whatever the driver (`mysql` in `mysql.rs`, sqlx in
//! `sqlx.rs`): a database per test on the server of `VERSIONED_MYSQL_URL`, its column
//! types, and the raw statements the cases ask the server for.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder};

use crate::server::{MYSQL, mysql_opts, place_name};
use crate::suite::{Db, schema};

pub fn quote(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

/// A collation that compares text byte for byte, trailing spaces included, so that
/// every distinct string is a distinct key (the default one folds case and ignores
/// trailing spaces: `""` and `" "` would be one key).
fn exact_collation(conn: &mut Conn) -> &'static str {
    let version: String = conn.query_first("SELECT VERSION()").unwrap().expect("a version");
    if version.contains("MariaDB") { "utf8mb4_nopad_bin" } else { "utf8mb4_0900_bin" }
}

/// A test's database: created empty with every table, dropped at the end unless the
/// test failed (then kept for a look; the next run drops it first).
pub struct Place {
    db: String,
}

impl Drop for Place {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        if let Ok(mut conn) = Conn::new(mysql_opts()) {
            // A lock left by a stray session must not hang the run: give up instead.
            let _ = conn.query_drop("SET SESSION lock_wait_timeout = 5");
            let _ = conn.query_drop(format!("DROP DATABASE IF EXISTS {}", quote(&self.db)));
        }
    }
}

impl Place {
    /// Creates the test's database, empty with every table in `D`'s types.
    pub fn create<D: Db>(prefix: &str, test: &str) -> Option<Place> {
        let mut admin = MYSQL.connect(|| Conn::new(mysql_opts()))?;
        let db = place_name(prefix, test);
        let collation = exact_collation(&mut admin);
        admin.query_drop(format!("DROP DATABASE IF EXISTS {}", quote(&db))).expect("drop the test's database");
        admin
            .query_drop(format!("CREATE DATABASE {} CHARACTER SET utf8mb4 COLLATE {collation}", quote(&db)))
            .expect("create the test's database");
        admin.select_db(&db).expect("use the test's database");
        for table in schema::<D>() {
            admin.query_drop(&table).unwrap_or_else(|e| panic!("{table}: {e}"));
        }
        Some(Place { db })
    }

    /// The `mysql` driver's options for the test's database.
    pub fn opts(&self) -> OptsBuilder {
        mysql_opts().db_name(Some(&self.db))
    }

    /// The database's name, unquoted.
    pub fn database(&self) -> &str {
        &self.db
    }
}

/// The `Db` items that belong to the server rather than the driver: the column
/// types, what the server does, and the raw statements the cases ask for. Expanded
/// where [`quote`] is in scope.
macro_rules! server_items {
    () => {
        const AUTO_KEY: &'static str = "BIGINT AUTO_INCREMENT PRIMARY KEY";
        const BIGINT: &'static str = "BIGINT";
        const INT: &'static str = "INT";
        const SMALLINT: &'static str = "SMALLINT";
        const TEXT: &'static str = "TEXT";
        const KEY_TEXT: &'static str = "VARCHAR(255)";
        const DOUBLE: &'static str = "DOUBLE";
        const BLOB: &'static str = "BLOB";
        const BOOL: &'static str = "BOOLEAN";
        const TEXT_HOLDS_NUL: bool = true;
        const STALE_SNAPSHOT_WRITE_FAILS: bool = false;
        const READ_ONLY_REFUSES_VERIFY: bool = false;
        // Without AUTO_INCREMENT the key takes its default and LAST_INSERT_ID() is 0.
        const UNGENERATED_KEY: &'static str = "BIGINT PRIMARY KEY DEFAULT 0";
        const UNGENERATED_KEY_REFUSED: bool = false;
        // The row holds the column's default, 0, and is deleted by it.
        const TAKES_BACK_UNGENERATED_KEYS: bool = true;

        fn quote(ident: &str) -> String {
            quote(ident)
        }

        // A MySQL trigger cannot skip a row; it can put every column back, which
        // leaves the row matched but unchanged.
        fn ignore_updates(table: &str, columns: &[&str]) -> Vec<String> {
            let restore: Vec<String> = columns.iter().map(|c| format!("NEW.{c} = OLD.{c}")).collect();
            vec![format!(
                "CREATE TRIGGER {table}_ignore_updates BEFORE UPDATE ON {table} FOR EACH ROW SET {}",
                restore.join(", ")
            )]
        }

        fn ignore_deletes(_table: &str) -> Option<Vec<String>> {
            None
        }

        fn refuse_deletes(table: &str, message: &str) -> Vec<String> {
            vec![format!(
                "CREATE TRIGGER {table}_refuse_deletes BEFORE DELETE ON {table} FOR EACH ROW \
                 SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'"
            )]
        }
    };
}

pub(crate) use server_items;
