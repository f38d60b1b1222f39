//! The hand-written side of the sqlx benches: `save`, `get` and `insert` as an
//! application writes them with `sqlx::query(..).bind(..)`, for any sqlx database
//! (`benches/sqlx.rs` runs them on PostgreSQL and MariaDB,
//! `tests/sqlx-sqlite/benches/sqlx_sqlite.rs` on SQLite).
//!
//! Generic over the database only so the three benches share one text; each call is
//! the driver's own code once monomorphized.

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};

use crate::User;
use crate::common::BoxResult;

/// The statements, written out in the database's own quoting and placeholders.
pub struct Sql {
    pub update: &'static str,
    pub select: &'static str,
    pub insert: &'static str,
}

/// The rows a write matched: each bench implements it for its database's query
/// result with the driver's own `rows_affected()`.
pub trait RowsAffected {
    fn rows_affected(&self) -> u64;
}

/// A version-checked update: zero rows matched is an error, and the entity keeps its
/// version unless the write went through.
pub async fn save<DB>(conn: &mut DB::Connection, sql: &Sql, u: &mut User) -> BoxResult<()>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: RowsAffected,
    String: for<'q> Encode<'q, DB> + Type<DB>,
    Option<String>: for<'q> Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
{
    let new = u.version.wrapping_add(1);
    let done = sqlx::query(sql.update)
        .bind(&u.name)
        .bind(&u.email)
        .bind(u.score)
        .bind(new)
        .bind(u.id)
        .bind(u.version)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(format!("id={}: version {} is not the row's", u.id, u.version).into());
    }
    u.version = new;
    Ok(())
}

/// The row with key `id`, decoded column by column. `fetch_optional`, not
/// `fetch_one`: the library's round trip, and the cheaper of the two (sqlx's
/// `fetch_one` is `fetch_optional` behind one more boxed future).
pub async fn get<DB>(conn: &mut DB::Connection, sql: &Sql, id: i64) -> BoxResult<User>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    String: for<'r> Decode<'r, DB> + Type<DB>,
    Option<String>: for<'r> Decode<'r, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
{
    let row =
        sqlx::query(sql.select).bind(id).fetch_optional(&mut *conn).await?.ok_or_else(|| format!("id={id}: no row"))?;
    Ok(User {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        email: row.try_get(2)?,
        score: row.try_get(3)?,
        version: row.try_get(4)?,
    })
}

pub async fn insert<DB>(conn: &mut DB::Connection, sql: &Sql, u: &mut User) -> BoxResult<()>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    String: for<'q> Encode<'q, DB> + Type<DB>,
    Option<String>: for<'q> Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
{
    sqlx::query(sql.insert)
        .bind(u.id)
        .bind(&u.name)
        .bind(&u.email)
        .bind(u.score)
        .bind(0_i64)
        .execute(&mut *conn)
        .await?;
    u.version = 0;
    Ok(())
}
