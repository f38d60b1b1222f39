//! End to end: each test starts the `web` binary on a fresh database of its own and
//! talks HTTP to it, and every scenario runs on SQLite, PostgreSQL and MariaDB/MySQL
//! (tests `sqlite::*`, `postgres::*`, `mysql::*`).
//!
//! - SQLite: a file in a new directory under the temporary directory.
//! - PostgreSQL: `VERSIONED_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`),
//!   in a schema `web_e2e_<scenario>` that the service's sessions put on their
//!   `search_path`.
//! - MariaDB/MySQL: `VERSIONED_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`),
//!   in a database `web_e2e_<scenario>`.
//!
//! A server that does not answer skips its tests with a note on stderr; under
//! `CI=true` it fails them. A passing test removes its file, schema or database; a
//! failing one leaves it for a look.

mod api;
mod concurrency;
mod place;
mod service;
mod shutdown;
mod statuses;

/// A module `$backend` with a `#[tokio::test]` per scenario, each on a place of its
/// own on `Backend::$kind`.
macro_rules! on_backend {
    ($backend:ident, $kind:ident, $($module:ident::$scenario:ident),+) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    let backend = $crate::place::Backend::$kind;
                    let Some(place) = $crate::place::Place::new(backend, stringify!($scenario)).await else {
                        return;
                    };
                    $crate::$module::$scenario(place.url().to_owned()).await;
                    place.remove().await;
                }
            )+
        }
    };
}

/// Every scenario on every backend.
macro_rules! on_every_backend {
    ($($module:ident::$scenario:ident),+ $(,)?) => {
        on_backend!(sqlite, Sqlite, $($module::$scenario),+);
        on_backend!(postgres, Postgres, $($module::$scenario),+);
        on_backend!(mysql, MySql, $($module::$scenario),+);
    };
}

on_every_backend!(
    statuses::reads,
    statuses::refused_writes_change_nothing,
    statuses::stale_writes,
    statuses::deletes_and_unknown_ids,
    statuses::other_routes_are_problems_too,
    concurrency::racing_writes_have_one_winner,
    concurrency::counter_increments_are_never_lost,
    concurrency::server_side_retries_count_every_visit,
    shutdown::signals_stop_it_gracefully,
);
