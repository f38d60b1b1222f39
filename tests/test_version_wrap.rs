//! Versions wrap around at their type's maximum, computed in Rust and bound as a
//! value, in the field's own type.

mod common;

use common::connection;
use rusqlite::Connection;
use versioned::Versioned;

#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "wrap16")]
struct Small {
    id: i64,
    value: String,
    #[version]
    version: i16,
}

#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "wrap32")]
struct Medium {
    id: i64,
    value: String,
    #[version]
    version: i32,
}

#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "wrap64")]
struct Large {
    id: i64,
    value: String,
    #[version]
    version: i64,
}

/// `(version, typeof(version))` of row 1 of `table`.
fn stored_version(conn: &Connection, table: &str) -> (i64, String) {
    conn.query_row(&format!("SELECT version, typeof(version) FROM {table} WHERE id = 1"), [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .unwrap()
}

fn set_stored_version(conn: &Connection, table: &str, version: i64) {
    let n = conn.execute(&format!("UPDATE {table} SET version = ?1 WHERE id = 1"), [version]).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn an_i32_version_wraps_from_max_to_min() {
    let conn = connection();
    let mut e = Medium { id: 1, value: "a".into(), version: 0 };
    e.insert(&conn).unwrap();
    set_stored_version(&conn, "wrap32", i32::MAX.into());
    e.reload(&conn).unwrap();
    assert_eq!(e.version, i32::MAX);

    e.value = "b".into();
    e.save(&conn).unwrap();
    assert_eq!(e.version, i32::MIN);
    assert_eq!(stored_version(&conn, "wrap32"), (i32::MIN.into(), "integer".into()));
    assert_eq!(Medium::get(&conn, 1).unwrap(), e);

    e.save(&conn).unwrap();
    assert_eq!(e.version, i32::MIN + 1);
    assert_eq!(stored_version(&conn, "wrap32").0, i64::from(i32::MIN) + 1);
}

#[test]
fn an_i32_version_wraps_on_touch() {
    let conn = connection();
    let mut e = Medium { id: 1, value: "a".into(), version: 0 };
    e.insert(&conn).unwrap();
    set_stored_version(&conn, "wrap32", i32::MAX.into());
    e.version = i32::MAX;
    e.touch(&conn).unwrap();
    assert_eq!(e.version, i32::MIN);
    assert_eq!(stored_version(&conn, "wrap32"), (i32::MIN.into(), "integer".into()));
    e.verify(&conn).unwrap();
}

#[test]
fn a_conflict_at_the_wrap_reports_both_versions_widened() {
    let conn = connection();
    let mut e = Medium { id: 1, value: "a".into(), version: 0 };
    e.insert(&conn).unwrap();
    set_stored_version(&conn, "wrap32", i32::MAX.into());
    e.version = i32::MAX;
    let mut other = e.clone();
    other.save(&conn).unwrap();

    let err = e.save(&conn).unwrap_err();
    let c = err.as_conflict().expect("a conflict");
    assert_eq!((c.expected, c.actual), (i64::from(i32::MAX), Some(i64::from(i32::MIN))));
    assert_eq!(c.entity, "Medium");
    assert_eq!(e.version, i32::MAX);
}

#[test]
fn an_i16_version_wraps_from_max_to_min() {
    let conn = connection();
    let mut e = Small { id: 1, value: "a".into(), version: 0 };
    e.insert(&conn).unwrap();
    assert_eq!(stored_version(&conn, "wrap16"), (0, "integer".into()));
    set_stored_version(&conn, "wrap16", i16::MAX.into());
    e.reload(&conn).unwrap();
    assert_eq!(e.version, i16::MAX);

    e.save(&conn).unwrap();
    assert_eq!(e.version, i16::MIN);
    assert_eq!(stored_version(&conn, "wrap16"), (i16::MIN.into(), "integer".into()));
    e.touch(&conn).unwrap();
    assert_eq!(e.version, i16::MIN + 1);
    assert_eq!(Small::get(&conn, 1).unwrap().version, i16::MIN + 1);
}

#[test]
fn an_i64_version_wraps_from_max_to_min_and_stays_an_integer() {
    let conn = connection();
    let mut e = Large { id: 1, value: "a".into(), version: 0 };
    e.insert(&conn).unwrap();
    set_stored_version(&conn, "wrap64", i64::MAX);
    e.reload(&conn).unwrap();
    assert_eq!(e.version, i64::MAX);

    e.value = "b".into();
    e.save(&conn).unwrap();
    assert_eq!(e.version, i64::MIN);
    // `version + 1` in SQL would have stored the REAL 9.223372036854776e18 here.
    assert_eq!(stored_version(&conn, "wrap64"), (i64::MIN, "integer".into()));
    let value: String = conn.query_row("SELECT value FROM wrap64 WHERE id = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(value, "b");
    e.verify(&conn).unwrap();

    e.save(&conn).unwrap();
    assert_eq!(e.version, i64::MIN + 1);
    assert_eq!(stored_version(&conn, "wrap64"), (i64::MIN + 1, "integer".into()));
}

#[test]
fn an_i64_version_wraps_on_touch() {
    let conn = connection();
    let mut e = Large { id: 1, value: "a".into(), version: 0 };
    e.insert(&conn).unwrap();
    set_stored_version(&conn, "wrap64", i64::MAX);
    e.version = i64::MAX;
    e.touch(&conn).unwrap();
    assert_eq!(e.version, i64::MIN);
    assert_eq!(stored_version(&conn, "wrap64"), (i64::MIN, "integer".into()));
}

#[test]
fn a_stale_entity_at_max_is_a_conflict_not_a_wrap() {
    let conn = connection();
    let mut e = Large { id: 1, value: "a".into(), version: 0 };
    e.insert(&conn).unwrap();
    e.version = i64::MAX;
    let err = e.save(&conn).unwrap_err();
    let c = err.as_conflict().expect("a conflict");
    assert_eq!((c.expected, c.actual), (i64::MAX, Some(0)));
    assert_eq!(e.version, i64::MAX);
    assert_eq!(stored_version(&conn, "wrap64"), (0, "integer".into()));
}
