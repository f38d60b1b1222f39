//! The behaviour suite (`tests/suite`, shared with rusqlite, PostgreSQL and MySQL) on
//! sqlx's SQLite driver: each case runs twice, once through a connection taken from
//! the pool and once through the pool itself, every statement of the library's async
//! executors waited for on a tokio runtime. A database file per test.

#[path = "../../common/mod.rs"]
mod common;
#[path = "../../suite/db/sqlx_sqlite.rs"]
mod db;
#[path = "../../suite/mod.rs"]
mod suite;

/// `&mut PoolConnection`, `&mut Transaction` on it, savepoints.
mod connection {
    crate::suite::suite!(crate::db::SqlxConnection);
}

/// `&Pool`, `&mut Transaction` from `pool.begin()`, savepoints.
mod pool {
    crate::suite::suite!(crate::db::SqlxPool);
}
