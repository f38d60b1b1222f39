//! `#[versioned(schema = "..")]`: every statement names the schema-qualified table,
//! on SQLite (an attached database), PostgreSQL (a schema) and MySQL (a database),
//! while a table of the same name where unqualified names resolve stays untouched.
//!
//! The schema is a literal in the attribute, so the schema (or database) is fixed:
//! `versioned_schema_test`, beside `versioned_schema_test_default` where the
//! connection resolves unqualified names. Both are created afresh and dropped at the
//! end (kept after a failure for a look; the next run drops them first).

#![cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]

use versioned::Versioned;

#[cfg(any(feature = "postgres", feature = "mysql"))]
#[path = "suite/db/server.rs"]
mod server;

/// The schema of [`Note`]'s table; the attribute holds the same name.
const SCHEMA: &str = "versioned_schema_test";
/// Where the connection resolves unqualified names (PostgreSQL and MySQL).
#[cfg(any(feature = "postgres", feature = "mysql"))]
const DEFAULT_SCHEMA: &str = "versioned_schema_test_default";

#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(schema = "versioned_schema_test", table = "notes")]
struct Note {
    #[id(auto)]
    id: i64,
    body: String,
    #[version]
    version: i64,
}

/// The row each backend puts in the unqualified `notes` table: a statement that
/// missed the schema would change it, or add a row beside it.
const DEFAULT_ROW: (i64, &str, i64) = (1, "default", 41);

/// The whole life of a note through the qualified table: insert with a generated
/// key, get, save, a stale save and delete refused, delete. `exec` is an executor
/// expression, evaluated at each call (a reborrow of `&mut client`); `stored(id)`
/// reads `(body, version)` of the qualified table's row, `default_rows()` every row
/// of the unqualified table, both with plain SQL.
macro_rules! exercise {
    (exec: $exec:expr, stored: $stored:expr, default_rows: $default_rows:expr $(,)?) => {{
        assert_eq!(Note::META.qualified, "versioned_schema_test.notes");

        let mut note = Note { id: 0, body: "draft".to_owned(), version: 9 };
        note.insert($exec).expect("insert into the qualified table");
        assert_eq!(note.version, 0);
        assert_eq!(($stored)(note.id), Some(("draft".to_owned(), 0)));

        let mut stale = Note::get($exec, note.id).expect("get from the qualified table");
        assert_eq!(stale, note);

        note.body = "saved".to_owned();
        note.save($exec).expect("save");
        assert_eq!(note.version, 1);
        assert_eq!(($stored)(note.id), Some(("saved".to_owned(), 1)));

        stale.body = "lost".to_owned();
        let err = stale.save($exec).expect_err("a stale save");
        let conflict = err.as_conflict().expect("a conflict");
        assert_eq!((conflict.expected, conflict.actual), (0, Some(1)));
        assert_eq!(conflict.table, "versioned_schema_test.notes", "errors name the schema too");
        assert_eq!(stale.version, 0);
        assert!(stale.delete($exec).expect_err("a stale delete").is_conflict());
        assert_eq!(Note::find($exec, note.id).expect("find"), Some(note.clone()));

        note.delete($exec).expect("delete");
        assert_eq!(($stored)(note.id), None);
        assert_eq!(Note::find($exec, note.id).expect("find"), None);

        let default_rows: Vec<(i64, String, i64)> = ($default_rows)();
        let (id, body, version) = DEFAULT_ROW;
        assert_eq!(default_rows, vec![(id, body.to_owned(), version)], "the unqualified table changed");
    }};
}

/// `CREATE TABLE` for a `notes` table, `key` being the generated key's column type.
fn create_notes(table: &str, key: &str) -> String {
    format!("CREATE TABLE {table} (id {key}, body TEXT NOT NULL, version BIGINT NOT NULL)")
}

/// `INSERT` of [`DEFAULT_ROW`] into `table`.
fn insert_default_row(table: &str) -> String {
    let (id, body, version) = DEFAULT_ROW;
    format!("INSERT INTO {table} (id, body, version) VALUES ({id}, '{body}', {version})")
}

#[cfg(feature = "sqlite")]
mod on_sqlite {
    use rusqlite::{Connection, OptionalExtension};

    use super::*;

    #[test]
    fn attached_database_holds_the_table() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!("ATTACH DATABASE ':memory:' AS {SCHEMA}")).unwrap();
        for table in [format!("{SCHEMA}.notes"), "main.notes".to_owned()] {
            conn.execute_batch(&create_notes(&table, "INTEGER PRIMARY KEY")).unwrap();
        }
        conn.execute_batch(&insert_default_row("main.notes")).unwrap();

        exercise! {
            exec: &conn,
            stored: |id: i64| -> Option<(String, i64)> {
                conn.query_row(&format!("SELECT body, version FROM {SCHEMA}.notes WHERE id = ?1"), [id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
                .unwrap()
            },
            default_rows: || -> Vec<(i64, String, i64)> {
                let mut stmt = conn.prepare("SELECT id, body, version FROM main.notes ORDER BY id").unwrap();
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
            },
        }
    }
}

#[cfg(feature = "postgres")]
mod on_postgres {
    use postgres::{Client, NoTls};

    use super::server::{POSTGRES, pg_config};
    use super::*;

    /// Drops the test's schemas, the entity's and the default one.
    fn drop_schemas(client: &mut Client) {
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {SCHEMA}, {DEFAULT_SCHEMA} CASCADE"))
            .expect("drop the test's schemas");
    }

    #[test]
    fn schema_holds_the_table() {
        let Some(mut client) = POSTGRES.connect(|| pg_config().connect(NoTls)) else { return };
        drop_schemas(&mut client);
        for schema in [SCHEMA, DEFAULT_SCHEMA] {
            client.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
            client.batch_execute(&create_notes(&format!("{schema}.notes"), "BIGSERIAL PRIMARY KEY")).unwrap();
        }
        client.batch_execute(&insert_default_row(&format!("{DEFAULT_SCHEMA}.notes"))).unwrap();
        // Unqualified names now resolve in the default schema only.
        client.batch_execute(&format!("SET search_path TO {DEFAULT_SCHEMA}")).unwrap();

        exercise! {
            exec: &mut client,
            stored: |id: i64| -> Option<(String, i64)> {
                let sql = format!("SELECT body, version FROM {SCHEMA}.notes WHERE id = $1");
                client.query_opt(&sql, &[&id]).unwrap().map(|r| (r.get(0), r.get(1)))
            },
            default_rows: || -> Vec<(i64, String, i64)> {
                let rows = client.query("SELECT id, body, version FROM notes ORDER BY id", &[]).unwrap();
                rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect()
            },
        }
        drop_schemas(&mut client);
    }
}

#[cfg(feature = "mysql")]
mod on_mysql {
    use mysql::Conn;
    use mysql::prelude::Queryable;

    use super::server::{MYSQL, mysql_opts};
    use super::*;

    /// Drops the test's databases, the entity's and the default one.
    fn drop_databases(conn: &mut Conn) {
        for db in [SCHEMA, DEFAULT_SCHEMA] {
            conn.query_drop(format!("DROP DATABASE IF EXISTS {db}")).expect("drop the test's database");
        }
    }

    #[test]
    fn database_holds_the_table() {
        let Some(mut admin) = MYSQL.connect(|| Conn::new(mysql_opts())) else { return };
        drop_databases(&mut admin);
        for db in [SCHEMA, DEFAULT_SCHEMA] {
            admin.query_drop(format!("CREATE DATABASE {db}")).unwrap();
            admin.query_drop(create_notes(&format!("{db}.notes"), "BIGINT AUTO_INCREMENT PRIMARY KEY")).unwrap();
        }
        admin.query_drop(insert_default_row(&format!("{DEFAULT_SCHEMA}.notes"))).unwrap();
        // Unqualified names resolve in the default database only.
        let mut conn = Conn::new(mysql_opts().db_name(Some(DEFAULT_SCHEMA))).expect("connect to MySQL");

        exercise! {
            exec: &mut conn,
            stored: |id: i64| -> Option<(String, i64)> {
                let sql = format!("SELECT body, version FROM {SCHEMA}.notes WHERE id = ?");
                conn.exec_first::<(String, i64), _, _>(sql, (id,)).unwrap()
            },
            default_rows: || -> Vec<(i64, String, i64)> { conn.query("SELECT id, body, version FROM notes ORDER BY id").unwrap() },
        }
        drop(conn);
        drop_databases(&mut admin);
    }
}
