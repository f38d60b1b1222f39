//! Shared pieces of the integration tests: the entities several files use and a
//! temporary SQLite database file. No driver is named here: the sqlx + SQLite tests,
//! which cannot link rusqlite, include this module too.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use versioned::{OptimisticLockError, Versioned};

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

/// A conflict's fields, comparable as a whole: `OptimisticLockError` is
/// `#[non_exhaustive]`, so code outside the library cannot build one to compare with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub entity: &'static str,
    pub table: &'static str,
    pub id: String,
    pub expected: i64,
    pub actual: Option<i64>,
}

impl From<&OptimisticLockError> for Conflict {
    fn from(e: &OptimisticLockError) -> Conflict {
        Conflict { entity: e.entity, table: e.table, id: e.id.clone(), expected: e.expected, actual: e.actual }
    }
}

/// A database file in the temporary directory, removed (with its WAL and journal
/// files) on drop unless the test failed: then it is kept for a look.
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
        if std::thread::panicking() {
            return;
        }
        self.remove_files();
    }
}
