//! Table and column names: reserved words, renames, spaces and quotes are quoted
//! identifiers, and default names follow the documented rules.

mod common;

use common::{User, connection, count};
use rusqlite::Connection;
use versioned::Versioned;

/// A table and columns named by SQL keywords.
#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "order")]
struct Order {
    id: i64,
    #[versioned(column = "select")]
    selected: bool,
    #[versioned(column = "group")]
    group: String,
    #[version]
    version: i64,
}

/// The default table name of a two-word struct, a raw identifier field and a
/// version field not named `version`.
#[derive(Versioned, Debug, Clone, PartialEq)]
struct OrderLine {
    id: i64,
    r#type: String,
    #[version]
    rev: i64,
}

/// Names with spaces.
#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "line items")]
struct LineItem {
    #[id(auto)]
    id: i64,
    #[versioned(column = "unit price")]
    unit_price: i64,
    #[version]
    version: i32,
}

/// A column name holding double quotes.
#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "quoted")]
struct Quoted {
    id: i64,
    #[versioned(column = "odd \"quoted\" name")]
    odd: String,
    #[version]
    version: i64,
}

fn order_row(conn: &Connection, id: i64) -> (bool, String, i64) {
    conn.query_row(r#"SELECT "select", "group", version FROM "order" WHERE id = ?1"#, [id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .unwrap()
}

#[test]
fn a_table_named_order_with_columns_named_select_and_group() {
    let conn = connection();
    let mut order = Order { id: 1, selected: false, group: "by customer".into(), version: 3 };
    order.insert(&conn).unwrap();
    assert_eq!(order_row(&conn, 1), (false, "by customer".into(), 0));

    order.selected = true;
    order.group = "by date".into();
    order.save(&conn).unwrap();
    assert_eq!(order_row(&conn, 1), (true, "by date".into(), 1));

    order.touch(&conn).unwrap();
    order.verify(&conn).unwrap();
    assert_eq!(Order::get(&conn, 1).unwrap(), order);
    let mut reloaded = Order { id: 1, selected: false, group: String::new(), version: 0 };
    reloaded.reload(&conn).unwrap();
    assert_eq!(reloaded, order);

    let stale = Order { version: 0, ..order.clone() };
    let err = stale.delete(&conn).unwrap_err();
    assert_eq!(err.to_string(), "optimistic lock conflict on order id=1: expected version 0, found 2");
    order.delete(&conn).unwrap();
    assert_eq!(Order::find(&conn, 1).unwrap(), None);
    assert_eq!(count(&conn, "order"), 0);
}

#[test]
fn a_renamed_column_lands_in_that_column() {
    let conn = connection();
    let mut ada = User::new("ada", Some("ada@example.com"));
    ada.insert(&conn).unwrap();
    let stored: Option<String> =
        conn.query_row("SELECT email_address FROM users WHERE id = ?1", [ada.id], |r| r.get(0)).unwrap();
    assert_eq!(stored.as_deref(), Some("ada@example.com"));

    ada.email = Some("lovelace@example.com".into());
    ada.save(&conn).unwrap();
    let stored: Option<String> =
        conn.query_row("SELECT email_address FROM users WHERE id = ?1", [ada.id], |r| r.get(0)).unwrap();
    assert_eq!(stored.as_deref(), Some("lovelace@example.com"));

    conn.execute("UPDATE users SET email_address = 'raw@example.com' WHERE id = ?1", [ada.id]).unwrap();
    assert_eq!(User::get(&conn, ada.id).unwrap().email.as_deref(), Some("raw@example.com"));
}

#[test]
fn the_default_table_is_the_snake_case_plural_and_raw_identifiers_lose_their_prefix() {
    let conn = connection();
    let mut line = OrderLine { id: 1, r#type: "gift".into(), rev: 0 };
    line.insert(&conn).unwrap();
    line.r#type = "return".into();
    line.save(&conn).unwrap();
    assert_eq!(line.rev, 1);
    let row: (String, i64) = conn
        .query_row(r#"SELECT "type", rev FROM order_lines WHERE id = 1"#, [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(row, ("return".into(), 1));
    assert_eq!(OrderLine::get(&conn, 1).unwrap(), line);

    let err = OrderLine { rev: 0, ..line.clone() }.touch(&conn).unwrap_err();
    let c = err.as_conflict().expect("a conflict");
    assert_eq!((c.entity, c.table, c.expected, c.actual), ("OrderLine", "order_lines", 0, Some(1)));
}

#[test]
fn names_with_spaces() {
    let conn = connection();
    let mut item = LineItem { id: 0, unit_price: 250, version: 0 };
    item.insert(&conn).unwrap();
    assert_eq!(item.id, 1);
    item.unit_price = 300;
    item.save(&conn).unwrap();
    let row: (i64, i64) = conn
        .query_row(r#"SELECT "unit price", version FROM "line items" WHERE id = 1"#, [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(row, (300, 1));
    assert_eq!(LineItem::get(&conn, 1).unwrap(), item);
    item.delete(&conn).unwrap();
    assert_eq!(count(&conn, "line items"), 0);
}

#[test]
fn a_column_name_holding_double_quotes() {
    let conn = connection();
    let mut q = Quoted { id: 1, odd: "first".into(), version: 0 };
    q.insert(&conn).unwrap();
    q.odd = "second".into();
    q.save(&conn).unwrap();
    let row: (String, i64) = conn
        .query_row(r#"SELECT "odd ""quoted"" name", version FROM quoted WHERE id = 1"#, [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(row, ("second".into(), 1));
    assert_eq!(Quoted::get(&conn, 1).unwrap(), q);
}
