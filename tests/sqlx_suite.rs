//! The behaviour suite through sqlx's async executors, on PostgreSQL
//! (`VERSIONED_PG_URL`) and MySQL/MariaDB (`VERSIONED_MYSQL_URL`): every case as the
//! blocking drivers run it, each statement of the library's futures run to its end
//! on a shared runtime. Between them the variants lend the cases every sqlx executor:
//! `&mut PoolConnection`, `&mut Transaction` and `&mut PgConnection` /
//! `&mut MySqlConnection` (`*_conn`), `&Pool` and `&mut Transaction` of
//! `pool.begin()` (`*_pool`).
#![cfg(all(feature = "sqlx-postgres", feature = "sqlx-mysql", feature = "tokio"))]

mod common;
#[path = "suite/db/sqlx.rs"]
mod db;
#[path = "suite/db/server.rs"]
mod server;
mod suite;

/// PostgreSQL through pooled connections, transactions on them and savepoints.
mod pg_conn {
    crate::suite::suite!(crate::db::SqlxPg);
}

/// PostgreSQL through the pool and transactions of `pool.begin()`.
mod pg_pool {
    crate::suite::suite!(crate::db::SqlxPgPool);
}

/// MySQL through pooled connections, transactions on them and savepoints.
mod mysql_conn {
    crate::suite::suite!(crate::db::SqlxMy);
}

/// MySQL through the pool and transactions of `pool.begin()`.
mod mysql_pool {
    crate::suite::suite!(crate::db::SqlxMyPool);
}
