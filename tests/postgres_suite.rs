//! The behaviour suite on PostgreSQL (`VERSIONED_PG_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`): a schema per test, through
//! `postgres::Client` and through the library's `CachingClient`.
#![cfg(feature = "postgres")]

mod common;
#[path = "suite/db/postgres.rs"]
mod db;
#[path = "suite/db/server.rs"]
mod server;
mod suite;

suite::suite!(db::Postgres);

/// The same cases through the client that prepares each statement once.
mod caching {
    crate::suite::suite!(crate::db::PgCached);
}
