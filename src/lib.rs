//! Optimistic locking for Rust entities.
//!
//! `#[derive(Versioned)]` on a struct with a `#[version]` field gives it version-checked
//! `insert`, `save`, `delete`, `touch` and `verify`, plus `reload`, `find` and `get`.
//! Every write carries `WHERE id = ? AND version = ?` and stores the next version; a
//! write that matches no row is an [`Error::OptimisticLock`] that names the row, the
//! version the caller held and the version the database holds now (or that the row is
//! gone). No lock is held between reading and writing: conflicts are found at write
//! time and handed to the application to retry, merge or report.
//!
//! ```
//! use versioned::{RetryPolicy, Versioned};
//!
//! #[derive(Versioned, Debug)]
//! #[versioned(table = "users")]
//! struct User {
//!     #[id(auto)]
//!     id: i64,
//!     name: String,
//!     #[version]
//!     version: i64,
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let conn = rusqlite::Connection::open_in_memory()?;
//! # conn.execute_batch(
//! #     "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL)",
//! # )?;
//! let mut user = User { id: 0, name: "Ada".into(), version: 0 };
//! user.insert(&conn)?; // the id is generated, the version starts at 0
//!
//! // Two copies of the same row, as two concurrent requests would load them.
//! let mut first = User::get(&conn, user.id)?;
//! let mut second = User::get(&conn, user.id)?;
//!
//! first.name = "Ada Lovelace".into();
//! first.save(&conn)?; // UPDATE .. WHERE id = 1 AND version = 0
//! assert_eq!(first.version, 1);
//!
//! second.name = "Ada King".into();
//! let err = second.save(&conn).unwrap_err(); // still at version 0: refused
//! let conflict = err.as_conflict().unwrap();
//! assert_eq!((conflict.expected, conflict.actual), (0, Some(1)));
//! assert_eq!(err.to_string(), "optimistic lock conflict on users id=1: expected version 0, found 1");
//! assert_eq!(second.version, 0); // a failed write changes nothing
//!
//! // Re-read, apply, save; run again if another write slips in between.
//! let saved = versioned::retry(RetryPolicy::default(), || {
//!     let mut fresh = User::get(&conn, user.id)?;
//!     fresh.name = "Ada King".into();
//!     fresh.save(&conn)?;
//!     Ok(fresh)
//! })?;
//! assert_eq!(saved.version, 2);
//! # Ok(())
//! # }
//! ```
//!
//! - **Every write checks the version.** `save`, `touch` and `delete` carry the version
//!   predicate; `verify` compares without writing. No method writes without it.
//! - **A failed write changes nothing**: neither the row nor the entity, whose version
//!   is bumped only when the write went through.
//! - **Conflicts say what happened.** After a write that matched no row, the current
//!   version is read once: [`OptimisticLockError::actual`] is `Some(v)` when someone
//!   else wrote the row, `None` when it was deleted (a save of a deleted row is a
//!   conflict, never an insert). [`Error::is_conflict`], [`Error::as_conflict`].
//! - **Other row counts are errors too, never a silent success.** A write that matched
//!   no row although the row holds the expected version was skipped by the database (a
//!   trigger, a rule, row-level security): [`Error::WriteIgnored`], not a conflict, so
//!   [`retry`] does not run it again. A write that matched several rows means the key
//!   fields are not a primary or unique key of the table: [`Error::KeyNotUnique`],
//!   with the row count.
//! - **Versions wrap.** The next version is `old.wrapping_add(1)`, computed in Rust and
//!   bound as a value, so an `i32` version goes from `i32::MAX` to `i32::MIN` instead of
//!   failing.
//! - **`insert` stores version 0**, whatever the field held, and fills in an
//!   `#[id(auto)]` key with the key the database generated. A key column that
//!   generates nothing is [`Error::NoGeneratedKey`]; a generated key the field cannot
//!   hold is [`Error::Decode`] naming that key. Either way the inserted row is deleted
//!   again where it can be found, and the error says whether it was.
//! - **Reads**: `find` returns `Ok(None)` when no row has the key, `get` and `reload`
//!   return [`Error::NotFound`]. `reload` reads every persisted field again and keeps
//!   the skipped ones.
//! - **Executors are passed by value**, so version-checked writes join your
//!   transactions: `&rusqlite::Connection`, `&rusqlite::Transaction` or
//!   `&rusqlite::Savepoint` (cargo feature `sqlite`, on by default);
//!   `&mut postgres::Client`, `&mut postgres::Transaction`, or a
//!   `versioned::backend::postgres::CachingClient` that prepares each
//!   statement once per connection (feature `postgres`); `&mut mysql::Conn`,
//!   `&mut mysql::PooledConn` or `&mut mysql::Transaction` (feature `mysql`, for MySQL
//!   and MariaDB). Each driver's error converts into [`Error`], so `?` works inside
//!   them. Add the driver to your own dependencies.
//! - **Retrying**: [`retry`] re-runs a read-modify-write while its error
//!   [is retryable](Error::is_retryable) (a conflict, a busy or locked database, a
//!   serialization failure, a deadlock, a lock wait timeout), with exponential backoff
//!   and jitter as set by [`RetryPolicy`]. Put the whole transaction inside it, never one
//!   statement of a transaction: after a deadlock the database has already rolled the
//!   transaction back.
//! - **Errors print each thing once.** A driver failure displays as `database error`
//!   (with PostgreSQL's SQLSTATE) and carries the driver's error as its `source()`, so
//!   a report of the whole chain (`anyhow`'s `{:#}`) says everything once.
//! - **Your schema, your migrations.** The crate creates no tables. The version column
//!   is an integer that is never NULL, of the field's own type on PostgreSQL (`i32`:
//!   `INTEGER`); an `#[id(auto)]` key is an `INTEGER PRIMARY KEY` in SQLite, a
//!   `BIGSERIAL` in PostgreSQL, a `BIGINT AUTO_INCREMENT` in MySQL.
//! - **Values are always bound**, identifiers quoted. Statement text is built once per
//!   entity type and dialect. rusqlite and `mysql` keep prepared statements per
//!   connection, and so does `CachingClient`; a plain `postgres::Client` keeps none, so
//!   PostgreSQL parses each statement it is sent.
//!
//! # Async
//!
//! The same entity and the same trait serve async executors: on one, each method
//! returns a future, awaited where a blocking executor returns the result itself.
//! With sqlx (feature `sqlx`, generic over sqlx's databases; `sqlx-postgres` and
//! `sqlx-mysql` add `&mut PgConnection` and `&mut MySqlConnection` and MySQL's error
//! numbers), the executors are `&Pool<DB>`, `&mut PoolConnection<DB>` and
//! `&mut Transaction<'_, DB>`:
//!
//! ```no_run
//! # #[cfg(feature = "sqlx-postgres")]
//! # mod example {
//! use versioned::{Error, Versioned};
//!
//! #[derive(Versioned, Debug)]
//! struct User {
//!     #[id(auto)]
//!     id: i64,
//!     name: String,
//!     #[version]
//!     version: i64,
//! }
//!
//! async fn rename(pool: &sqlx::PgPool, id: i64, name: &str) -> Result<User, Error> {
//!     let mut user = User::get(pool, id).await?;
//!     user.name = name.to_owned();
//!     user.save(pool).await?; // UPDATE .. WHERE id = $3 AND version = $4
//!     Ok(user)
//! }
//!
//! // Every operation's future is `Send`: it runs in `tokio::spawn` and axum handlers.
//! fn spawn_rename(pool: sqlx::PgPool) -> tokio::task::JoinHandle<Result<User, Error>> {
//!     tokio::spawn(async move { rename(&pool, 1, "Ada").await })
//! }
//! # }
//! # fn main() {}
//! ```
//!
//! A future dropped before it finishes (a timeout, a client that went away) never
//! leaves the entity's version ahead of the row's: the version is set only once the
//! write is confirmed. The write itself may still commit if it was already sent, so
//! read the row again before writing it once more.
//!
//! # Over HTTP
//!
//! With the `http` feature, [`http`] makes an entity's version its strong `ETag`,
//! parses `If-Match` and `If-None-Match` per RFC 9110, and answers with RFC 9457
//! problem bodies that carry the version the client held (`expected`) and the row's
//! (`actual`); with `axum`, [`http::IfMatch`] is an extractor that answers `428
//! Precondition Required` when the header is missing, and [`http::Problem`] is a
//! response:
//!
//! ```no_run
//! # #[cfg(all(feature = "http", feature = "sqlx-postgres"))]
//! # mod example {
//! use versioned::Versioned;
//! use versioned::http::{IfMatch, Problem};
//!
//! #[derive(Versioned, Debug)]
//! struct User {
//!     #[id(auto)]
//!     id: i64,
//!     name: String,
//!     #[version]
//!     version: i64,
//! }
//!
//! /// `PUT /users/{id}/name` with the `If-Match` the client sent.
//! async fn rename(pool: &sqlx::PgPool, id: i64, if_match: IfMatch, name: String) -> Result<User, Problem> {
//!     let mut user = User::get(pool, id).await?; // 404
//!     if_match.check(&user)?; // 412, with `expected` and `actual`
//!     user.name = name;
//!     user.save(pool).await.map_err(Problem::from_if_match_write)?; // 412 if it lost a race
//!     Ok(user)
//! }
//! # }
//! # fn main() {}
//! ```
//!
//! # Attributes
//!
//! On the struct:
//!
//! - `#[versioned(table = "name")]`: the table. Default: the struct's name in
//!   snake_case plus `s` (`User` is `users`, `OrderLine` is `order_lines`); only an
//!   `s` is added, so name the table when its plural is irregular (`Category`).
//!   A dot is refused: the schema has an option of its own.
//! - `#[versioned(schema = "name")]`: the schema the table is in; every statement
//!   names the qualified table, quoted per database: `"app"."users"` on SQLite and
//!   PostgreSQL, `` `app`.`users` `` on MySQL (where a schema is a database). On
//!   SQLite it is the name of an attached database (`ATTACH DATABASE .. AS app`).
//!   Default: none, so the table is found where the connection looks for unqualified
//!   names (PostgreSQL's `search_path`, MySQL's current database, SQLite's `main`
//!   then the attached databases).
//! - `#[versioned(crate = "path")]`: the path the generated code reaches this crate
//!   by, when it is not `::versioned`: a dependency renamed in `Cargo.toml`
//!   (`orm = { package = "..", .. }`, then `crate = "orm"`) or a re-export
//!   (`crate = "my_app::orm"`). Default: `::versioned`.
//!
//! On fields:
//!
//! - `#[id]`: a key field, whose value the caller provides. Several `#[id]` fields
//!   make a composite key, passed as a tuple in field order:
//!   `Line::get(&conn, (1, "A-1".to_string()))`. Default: the field named `id`.
//! - `#[id(auto)]`: a single key field that the database generates; `insert` leaves it
//!   out and fills it in. Default: keys are provided by the caller.
//! - `#[version]`: the version, exactly one field, of type `i16`, `i32` or `i64`.
//!   Required: there is no default.
//! - `#[versioned(column = "name")]`: the field's column. Default: the field's name.
//!   No two fields may map to the same column (compared ignoring case).
//! - `#[versioned(skip)]`: the field is not persisted; reads set it to
//!   `Default::default()` and `reload` keeps its value. Its type must implement
//!   `Default`; neither a key nor the version can be skipped. Default: every field is
//!   persisted.
//!
//! The key fields, `#[id]` or the field named `id`, must be the table's primary key
//! or a unique key: every statement finds one row by them. A write that matches
//! several rows is reported as an error, not taken for a success.
//!
//! The derive takes a struct with named fields and no generic parameters. Every
//! persisted field's type must be one the driver binds and reads (`ToSql` and
//! `FromSql` of `rusqlite` or `postgres`, `Into<mysql::Value>` and `FromValue` of
//! `mysql`), so your own types work once they implement the driver's traits. The derive asks nothing else of the struct: no `Clone`,
//! `Default` or `PartialEq`.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use versioned_core::*;
/// Derives [`Versioned`](trait@Versioned): the version-checked operations for a struct
/// with a `#[version]` field. See the [attributes](crate#attributes).
pub use versioned_derive::Versioned;
