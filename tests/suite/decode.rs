//! A stored value that cannot become its field is `Error::Decode` naming the table,
//! the column and the key, never a panic. (Values only SQLite's dynamic typing can
//! store, such as text in an INTEGER column, are in `sqlite_specific.rs`.)

use versioned::backend::Bind;
use versioned::{Error, Versioned};

use super::keys::Line;
use super::{Db, Session, count, exec, insert_user, open, scalar};
use crate::common::User;

/// `Item` over `loose_items`, whose `qty` column is text.
#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "loose_items")]
pub struct LooseItem {
    id: i64,
    label: String,
    qty: i64,
    #[version]
    version: i32,
}

/// An `i16` version over a BIGINT column.
#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "wide16")]
pub struct Small {
    id: i64,
    value: String,
    #[version]
    version: i16,
}

/// A generated key read into an `i32`.
#[derive(Versioned, Debug, Clone, PartialEq)]
pub struct SmallKey {
    #[id(auto)]
    pub id: i32,
    pub name: String,
    #[version]
    pub version: i64,
}

/// `(table, column, id)` of a decode error.
pub fn decode_error(err: &Error) -> (&'static str, &'static str, String) {
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

pub fn a_null_in_a_non_option_field<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    exec(&mut c, "INSERT INTO users (id, name, email_address, version) VALUES (7, NULL, 'x@example.com', 0)", &[]);
    let err = User::get(c.ex(), 7).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "name", "7".into()));
    let text = err.to_string();
    assert!(text.contains("users") && text.contains("name") && text.contains("id=7"), "{text}");

    let err = User::find(c.ex(), 7).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "name", "7".into()));
}

pub fn a_null_in_an_option_field_is_none<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    exec(&mut c, "INSERT INTO users (id, name, email_address, version) VALUES (7, 'ada', NULL, 0)", &[]);
    assert_eq!(User::get(c.ex(), 7).unwrap().email, None);
}

pub fn text_in_an_integer_field<D: Db>(test: &str)
where
    LooseItem: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    exec(&mut c, "INSERT INTO loose_items (id, label, qty, version) VALUES (3, 'bolt', 'lots', 0)", &[]);
    let err = LooseItem::get(c.ex(), 3).unwrap_err();
    assert_eq!(decode_error(&err), ("loose_items", "qty", "3".into()));
}

pub fn an_integer_out_of_the_field_range<D: Db>(test: &str)
where
    Small: Bind<D::Backend>,
{
    // On PostgreSQL the read fails on the column's type (BIGINT is not an `i16`)
    // before the value is looked at; elsewhere on the value.
    let Some((_db, mut c)) = open::<D>(test) else { return };
    exec(&mut c, "INSERT INTO wide16 (id, value, version) VALUES (1, 'a', 100000)", &[]);
    let err = Small::get(c.ex(), 1).unwrap_err();
    assert_eq!(decode_error(&err), ("wide16", "version", "1".into()));
}

pub fn reload_of_a_bad_row_leaves_the_entity<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut ada = insert_user(&mut c, "ada");
    ada.cache = Some("cached".into());
    exec(&mut c, "UPDATE users SET name = NULL, version = 3 WHERE id = ?", &[&ada.id]);
    let before = ada.clone();
    let err = ada.reload(c.ex()).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "name", ada.id.to_string()));
    assert_eq!(ada, before);
}

pub fn verify_of_a_null_version<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let ada = insert_user(&mut c, "ada");
    exec(&mut c, "UPDATE users SET version = NULL WHERE id = ?", &[&ada.id]);
    let err = ada.verify(c.ex()).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "version", ada.id.to_string()));
}

pub fn a_write_that_misses_and_then_reads_a_null_version<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut ada = insert_user(&mut c, "ada");
    exec(&mut c, "UPDATE users SET version = NULL WHERE id = ?", &[&ada.id]);
    ada.name = "unsaved".into();
    let before = ada.clone();
    let err = ada.save(c.ex()).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "version", ada.id.to_string()));
    assert_eq!(ada, before);
    let err = ada.touch(c.ex()).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "version", ada.id.to_string()));
    let err = ada.delete(c.ex()).unwrap_err();
    assert_eq!(decode_error(&err), ("users", "version", ada.id.to_string()));
    assert_eq!(ada, before);
    let stored: String = scalar(&mut c, "SELECT name FROM users WHERE id = ?", &[&ada.id]);
    assert_eq!(stored, "ada");
}

pub fn a_decode_error_names_a_composite_key<D: Db>(test: &str)
where
    Line: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let sql =
        format!("INSERT INTO {} (order_id, sku, quantity, version) VALUES (1, 'A-1', NULL, 0)", D::quote("lines"));
    exec(&mut c, &sql, &[]);
    let err = Line::get(c.ex(), (1, "A-1".into())).unwrap_err();
    assert_eq!(decode_error(&err), ("lines", "quantity", r#"(1, "A-1")"#.into()));
}

pub fn a_generated_key_too_large_for_its_field_stores_nothing<D: Db>(test: &str)
where
    SmallKey: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    exec(&mut c, "INSERT INTO small_keys (id, name, version) VALUES (?, 'last', 0)", &[&i32::MAX]);
    D::follow_explicit_keys(&mut c, "small_keys");
    // The database generates the next key, 2^31, which an `i32` cannot hold. (On
    // PostgreSQL the BIGINT key is refused by its type whatever its value.)
    let mut entity = SmallKey { id: 0, name: "overflow".into(), version: 5 };
    let before = entity.clone();
    let err = entity.insert(c.ex()).unwrap_err();
    let (table, column, _) = decode_error(&err);
    assert_eq!((table, column), ("small_keys", "id"));
    assert_eq!(entity, before, "the entity is unchanged");
    // A failed write leaves the row as it was: here, not stored at all.
    let stored: i64 = scalar(&mut c, "SELECT count(*) FROM small_keys WHERE name = 'overflow'", &[]);
    assert_eq!(stored, 0, "an insert that returns an error must not leave a row behind");
    assert_eq!(count::<D>(&mut c, "small_keys"), 1);
}
