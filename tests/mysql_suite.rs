//! The behaviour suite on MySQL and MariaDB (`VERSIONED_MYSQL_URL`, by default
//! `mysql://root@127.0.0.1:3306/test`): a database per test, through `mysql::Conn`
//! and, for the operations, conflicts and transactions, through `mysql::PooledConn`.
#![cfg(feature = "mysql")]

mod common;
#[path = "suite/db/mysql.rs"]
mod db;
#[path = "suite/db/server.rs"]
mod server;
mod suite;

suite::suite!(db::Mysql);

/// The same cases through connections taken from a pool.
mod pooled {
    crate::suite::suite!(crate::db::MysqlPooled; ops, conflicts, transactions);
}
