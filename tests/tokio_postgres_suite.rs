//! The behaviour suite on PostgreSQL (`VERSIONED_PG_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`) through the async executors: a
//! `tokio_postgres::Client`, the library's `AsyncCachingClient` and a deadpool-postgres
//! pool's `Object`, each statement awaited on a shared runtime. A schema per test, as
//! in the blocking suite, whose schema and column types these share.
#![cfg(all(feature = "postgres", feature = "deadpool-postgres", feature = "tokio"))]

mod common;
#[path = "suite/db/tokio_postgres.rs"]
mod db;
// The blocking clients' `Db` impls come along, unused here.
#[allow(dead_code)]
#[path = "suite/db/postgres.rs"]
mod pg;
#[path = "suite/db/server.rs"]
mod server;
mod suite;
#[path = "suite/db/wait.rs"]
mod wait;

suite::suite!(db::TokioPostgres);

/// The same cases through the client that prepares each statement once.
mod caching {
    crate::suite::suite!(crate::db::TokioPostgresCached);
}

/// The same cases through a deadpool-postgres pool.
mod deadpool {
    crate::suite::suite!(crate::db::Deadpool);
}
