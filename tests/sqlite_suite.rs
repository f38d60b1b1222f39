//! The behaviour suite on SQLite: an in-memory database per test, a WAL file for the
//! cases that open several connections.
#![cfg(feature = "sqlite")]

mod common;
#[path = "suite/db/sqlite.rs"]
mod db;
mod suite;

suite::suite!(db::Sqlite);
