//! Shared helpers of the integration tests: one in-memory SQLite database per test,
//! the entities several test files use, and raw-SQL readers that check rows without
//! going through the library.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use rusqlite::{Connection, OptionalExtension, params};
use versioned::Versioned;

/// Every table the tests use. Each test opens its own in-memory database, so tests
/// run in parallel without seeing each other's rows.
pub const SCHEMA: &str = r#"
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT,                       -- nullable on purpose: decode tests store NULL
        email_address TEXT UNIQUE,
        version INTEGER NOT NULL
    );
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        label TEXT NOT NULL,
        qty INTEGER,
        version INTEGER NOT NULL
    );
    CREATE TABLE accounts (
        code TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        balance INTEGER NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY,
        body TEXT NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE TABLE wrap16 (id INTEGER PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL);
    CREATE TABLE wrap32 (id INTEGER PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL);
    CREATE TABLE wrap64 (id INTEGER PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL);
    CREATE TABLE lines (
        order_id INTEGER NOT NULL,
        sku TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (order_id, sku)
    );
    CREATE TABLE seats (
        hall TEXT NOT NULL,
        label TEXT NOT NULL,
        number INTEGER NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (hall, number)
    );
    CREATE TABLE "order" (
        id INTEGER PRIMARY KEY,
        "select" INTEGER NOT NULL,
        "group" TEXT NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE TABLE order_lines (
        id INTEGER PRIMARY KEY,
        "type" TEXT NOT NULL,
        rev INTEGER NOT NULL
    );
    CREATE TABLE "line items" (
        id INTEGER PRIMARY KEY,
        "unit price" INTEGER NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE TABLE quoted (
        id INTEGER PRIMARY KEY,
        "odd ""quoted"" name" TEXT NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE TABLE samples (
        id INTEGER PRIMARY KEY,
        big INTEGER NOT NULL,
        ratio REAL NOT NULL,
        flag INTEGER NOT NULL,
        maybe INTEGER,
        data BLOB NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE TABLE markers (id INTEGER PRIMARY KEY, version INTEGER NOT NULL);
    CREATE TABLE small_keys (id INTEGER PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL);
    CREATE TABLE counters (id INTEGER PRIMARY KEY, value INTEGER NOT NULL, version INTEGER NOT NULL);
"#;

/// An in-memory SQLite database holding every table of [`SCHEMA`], empty.
pub fn connection() -> Connection {
    let conn = Connection::open_in_memory().expect("open an in-memory database");
    conn.execute_batch(SCHEMA).expect("create the tables");
    conn
}

/// The entity of the design document: a generated key, a renamed column, a skipped
/// field and an `i64` version.
#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "users")]
pub struct User {
    #[id(auto)]
    pub id: i64,
    pub name: String,
    #[versioned(column = "email_address")]
    pub email: Option<String>,
    #[versioned(skip)]
    pub cache: Option<String>,
    #[version]
    pub version: i64,
}

impl User {
    /// A user not stored yet.
    pub fn new(name: &str, email: Option<&str>) -> User {
        User { id: 0, name: name.to_owned(), email: email.map(str::to_owned), cache: None, version: 0 }
    }
}

/// A key the caller provides (a field named `id`, no `#[id]`), an `i32` version and
/// the default table name `items`.
#[derive(Versioned, Debug, Clone, PartialEq)]
pub struct Item {
    pub id: i64,
    pub label: String,
    pub qty: i64,
    #[version]
    pub version: i32,
}

/// A text key.
#[derive(Versioned, Debug, Clone, PartialEq)]
pub struct Account {
    #[id]
    pub code: String,
    pub owner: String,
    pub balance: i64,
    #[version]
    pub version: i64,
}

impl Account {
    pub fn new(code: &str, balance: i64) -> Account {
        Account { code: code.to_owned(), owner: format!("owner of {code}"), balance, version: 0 }
    }
}

/// A `users` row as stored: `(name, email_address, version)`.
pub type UserRow = (Option<String>, Option<String>, i64);

/// The `users` row with key `id`, read with plain SQL.
pub fn user_row(conn: &Connection, id: i64) -> Option<UserRow> {
    conn.query_row("SELECT name, email_address, version FROM users WHERE id = ?1", [id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .optional()
    .expect("read a users row")
}

/// An `accounts` row as stored: `(owner, balance, version)`.
pub fn account_row(conn: &Connection, code: &str) -> Option<(String, i64, i64)> {
    conn.query_row("SELECT owner, balance, version FROM accounts WHERE code = ?1", [code], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .optional()
    .expect("read an accounts row")
}

/// An `items` row as stored: `(label, qty, version)`.
pub fn item_row(conn: &Connection, id: i64) -> Option<(String, i64, i64)> {
    conn.query_row("SELECT label, qty, version FROM items WHERE id = ?1", [id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .optional()
    .expect("read an items row")
}

/// The number of rows in `table` (a trusted, test-chosen name).
pub fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| r.get(0)).expect("count rows")
}

/// Inserts a user through the library and returns it.
pub fn insert_user(conn: &Connection, name: &str) -> User {
    let mut user = User::new(name, Some(&format!("{name}@example.com")));
    user.insert(conn).expect("insert a user");
    user
}

/// Another writer: changes the name and bumps the version of a `users` row with
/// plain SQL, as a concurrent `save` would.
pub fn write_behind_the_back(conn: &Connection, id: i64, name: &str) {
    let n = conn
        .execute("UPDATE users SET name = ?1, version = version + 1 WHERE id = ?2", params![name, id])
        .expect("concurrent write");
    assert_eq!(n, 1, "the concurrent write should hit the row");
}

/// A database file in the temporary directory, removed (with its WAL and journal
/// files) on drop.
pub struct TempDb {
    path: PathBuf,
}

impl TempDb {
    pub fn new(label: &str) -> TempDb {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let name = format!(
            "versioned-test-{label}-{}-{nanos}-{}.db",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let db = TempDb { path: std::env::temp_dir().join(name) };
        db.remove_files();
        db
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new connection to the file, waiting up to 5 s on locks.
    pub fn connect(&self) -> Connection {
        let conn = Connection::open(&self.path).expect("open the database file");
        conn.busy_timeout(std::time::Duration::from_secs(5)).expect("set busy_timeout");
        conn
    }

    fn remove_files(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut file = self.path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove_files();
    }
}
