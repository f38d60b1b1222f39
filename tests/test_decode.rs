//! A stored value that cannot become its field is `Error::Decode` naming the table,
//! the column and the key, never a panic.

mod common;

use common::{Item, User, connection, insert_user};
use versioned::{Error, Versioned};

#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "wrap16")]
struct Small {
    id: i64,
    value: String,
    #[version]
    version: i16,
}

#[derive(Versioned, Debug, Clone, PartialEq)]
struct Line {
    #[id]
    order_id: i64,
    #[id]
    sku: String,
    quantity: i32,
    #[version]
    version: i64,
}

/// A generated key read into an `i32`.
#[derive(Versioned, Debug, Clone, PartialEq)]
struct SmallKey {
    #[id(auto)]
    id: i32,
    name: String,
    #[version]
    version: i64,
}

/// `(table, column, id)` of a decode error.
fn decode_error(err: &Error) -> (&'static str, &'static str, String) {
    match err {
        Error::Decode(d) => {
            assert!(std::error::Error::source(d).is_some(), "the conversion error is the source");
            assert!(std::error::Error::source(err).is_some());
            assert!(!err.is_retryable(), "a bad value does not pass by retrying");
            assert!(!err.is_conflict());
            (d.table, d.column, d.id.clone())
        }
        other => panic!("expected Error::Decode, got {other:?}"),
    }
}

#[test]
fn a_null_in_a_non_option_field() {
    let conn = connection();
    conn.execute("INSERT INTO users (id, name, email_address, version) VALUES (7, NULL, 'x@example.com', 0)", [])
        .unwrap();
    let err = User::get(&conn, 7).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "name", "7".into()));
    let text = err.to_string();
    assert!(text.contains("users") && text.contains("name") && text.contains("id=7"), "{text}");

    let err = User::find(&conn, 7).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "name", "7".into()));
}

#[test]
fn a_null_in_an_option_field_is_none() {
    let conn = connection();
    conn.execute("INSERT INTO users (id, name, email_address, version) VALUES (7, 'ada', NULL, 0)", []).unwrap();
    assert_eq!(User::get(&conn, 7).unwrap().email, None);
}

#[test]
fn text_in_an_integer_field() {
    let conn = connection();
    conn.execute("INSERT INTO items (id, label, qty, version) VALUES (3, 'bolt', 'lots', 0)", []).unwrap();
    let kind: String = conn.query_row("SELECT typeof(qty) FROM items WHERE id = 3", [], |r| r.get(0)).unwrap();
    assert_eq!(kind, "text");
    let err = Item::get(&conn, 3).unwrap_err();
    assert_eq!(decode_error(&err), ("items", "qty", "3".into()));
}

#[test]
fn a_real_in_an_integer_field() {
    let conn = connection();
    conn.execute("INSERT INTO items (id, label, qty, version) VALUES (3, 'bolt', 1.5, 0)", []).unwrap();
    let err = Item::find(&conn, 3).unwrap_err();
    assert_eq!(decode_error(&err), ("items", "qty", "3".into()));
}

#[test]
fn a_blob_in_a_renamed_text_field_names_the_column() {
    let conn = connection();
    conn.execute("INSERT INTO users (id, name, email_address, version) VALUES (7, 'ada', X'DEADBEEF', 0)", []).unwrap();
    let err = User::get(&conn, 7).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "email_address", "7".into()));
}

#[test]
fn an_integer_out_of_the_field_range() {
    let conn = connection();
    conn.execute("INSERT INTO wrap16 (id, value, version) VALUES (1, 'a', 100000)", []).unwrap();
    let err = Small::get(&conn, 1).unwrap_err();
    assert_eq!(decode_error(&err), ("wrap16", "version", "1".into()));
}

#[test]
fn reload_of_a_bad_row_leaves_the_entity() {
    let conn = connection();
    let mut ada = insert_user(&conn, "ada");
    ada.cache = Some("cached".into());
    conn.execute("UPDATE users SET name = NULL, version = 3 WHERE id = ?1", [ada.id]).unwrap();
    let before = ada.clone();
    let err = ada.reload(&conn).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "name", ada.id.to_string()));
    assert_eq!(ada, before);
}

#[test]
fn verify_of_a_text_version() {
    let conn = connection();
    let ada = insert_user(&conn, "ada");
    conn.execute("UPDATE users SET version = 'v2' WHERE id = ?1", [ada.id]).unwrap();
    let err = ada.verify(&conn).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "version", ada.id.to_string()));
}

#[test]
fn a_write_that_misses_and_then_reads_a_bad_version() {
    let conn = connection();
    let mut ada = insert_user(&conn, "ada");
    conn.execute("UPDATE users SET version = 'v2' WHERE id = ?1", [ada.id]).unwrap();
    ada.name = "unsaved".into();
    let before = ada.clone();
    let err = ada.save(&conn).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "version", ada.id.to_string()));
    assert_eq!(ada, before);
    let err = ada.touch(&conn).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "version", ada.id.to_string()));
    let err = ada.delete(&conn).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "version", ada.id.to_string()));
    assert_eq!(ada, before);
    let stored: String = conn.query_row("SELECT name FROM users WHERE id = ?1", [ada.id], |r| r.get(0)).unwrap();
    assert_eq!(stored, "ada");
}

#[test]
fn a_decode_error_names_a_composite_key() {
    let conn = connection();
    conn.execute("INSERT INTO lines (order_id, sku, quantity, version) VALUES (1, 'A-1', 'many', 0)", []).unwrap();
    let err = Line::get(&conn, (1, "A-1".into())).unwrap_err();
    assert_eq!(decode_error(&err), ("lines", "quantity", r#"(1, "A-1")"#.into()));
}

#[test]
fn a_generated_key_too_large_for_its_field_stores_nothing() {
    let conn = connection();
    conn.execute("INSERT INTO small_keys (id, name, version) VALUES (?1, 'last', 0)", [i32::MAX]).unwrap();
    // SQLite generates the next rowid, 2^31, which an `i32` cannot hold.
    let mut entity = SmallKey { id: 0, name: "overflow".into(), version: 5 };
    let before = entity.clone();
    let err = entity.insert(&conn).unwrap_err();
    let (table, column, _) = decode_error(&err);
    assert_eq!((table, column), ("small_keys", "id"));
    assert_eq!(entity, before, "the entity is unchanged");
    // A failed write leaves the row as it was: here, not stored at all.
    let stored: i64 =
        conn.query_row("SELECT count(*) FROM small_keys WHERE name = 'overflow'", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, 0, "an insert that returns an error must not leave a row behind");
}
