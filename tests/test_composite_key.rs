//! Composite keys: several `#[id]` fields, `Id` a tuple in field order.

mod common;

use common::{connection, count};
use rusqlite::{Connection, OptionalExtension, params};
use versioned::{Error, OptimisticLockError, Versioned};

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

/// Key fields apart from each other, of different types, with an `i16` version.
#[derive(Versioned, Debug, Clone, PartialEq)]
struct Seat {
    #[id]
    hall: String,
    label: String,
    #[id]
    number: i32,
    #[version]
    version: i16,
}

fn line(order_id: i64, sku: &str, quantity: i32) -> Line {
    Line { order_id, sku: sku.into(), quantity, version: 0 }
}

/// Three lines sharing order ids and SKUs pairwise.
fn three_lines(conn: &Connection) -> [Line; 3] {
    let mut lines = [line(1, "A-1", 10), line(1, "A-2", 20), line(2, "A-1", 30)];
    for l in &mut lines {
        l.insert(conn).unwrap();
    }
    lines
}

fn line_row(conn: &Connection, order_id: i64, sku: &str) -> Option<(i32, i64)> {
    conn.query_row(
        "SELECT quantity, version FROM lines WHERE order_id = ?1 AND sku = ?2",
        params![order_id, sku],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
    .unwrap()
}

#[test]
fn get_and_find_take_the_key_as_a_tuple() {
    let conn = connection();
    let [a1, a2, b1] = three_lines(&conn);
    assert_eq!(Line::get(&conn, (1, "A-1".to_string())).unwrap(), a1);
    assert_eq!(Line::get(&conn, (1, "A-2".to_string())).unwrap(), a2);
    assert_eq!(Line::find(&conn, (2, "A-1".to_string())).unwrap(), Some(b1));
    assert_eq!(Line::find(&conn, (2, "A-2".to_string())).unwrap(), None, "both key columns must match");
    assert_eq!(Line::find(&conn, (3, "A-1".to_string())).unwrap(), None);
}

#[test]
fn get_of_a_missing_key_renders_the_tuple() {
    let conn = connection();
    three_lines(&conn);
    let err = Line::get(&conn, (9, "Z-9".to_string())).unwrap_err();
    assert!(matches!(&err, Error::NotFound { table: "lines", id } if id == r#"(9, "Z-9")"#), "got {err:?}");
    assert_eq!(err.to_string(), r#"no row in lines with id=(9, "Z-9")"#);
}

#[test]
fn save_writes_only_the_row_with_the_whole_key() {
    let conn = connection();
    let [mut a1, _, _] = three_lines(&conn);
    a1.quantity = 11;
    a1.save(&conn).unwrap();
    assert_eq!(a1.version, 1);
    assert_eq!(line_row(&conn, 1, "A-1"), Some((11, 1)));
    assert_eq!(line_row(&conn, 1, "A-2"), Some((20, 0)), "same order id, other SKU: untouched");
    assert_eq!(line_row(&conn, 2, "A-1"), Some((30, 0)), "same SKU, other order id: untouched");
}

#[test]
fn touch_and_verify_use_the_whole_key() {
    let conn = connection();
    let [_, mut a2, b1] = three_lines(&conn);
    a2.touch(&conn).unwrap();
    assert_eq!(line_row(&conn, 1, "A-2"), Some((20, 1)));
    a2.verify(&conn).unwrap();
    b1.verify(&conn).unwrap();
    assert_eq!(line_row(&conn, 1, "A-1"), Some((10, 0)));
}

#[test]
fn delete_removes_only_the_row_with_the_whole_key() {
    let conn = connection();
    let [a1, _, _] = three_lines(&conn);
    a1.delete(&conn).unwrap();
    assert_eq!(line_row(&conn, 1, "A-1"), None);
    assert_eq!(count(&conn, "lines"), 2);
    assert_eq!(Line::find(&conn, (1, "A-1".to_string())).unwrap(), None);
}

#[test]
fn reload_reads_the_row_with_the_whole_key() {
    let conn = connection();
    let [mut a1, _, _] = three_lines(&conn);
    conn.execute("UPDATE lines SET quantity = 99, version = 4 WHERE order_id = 1 AND sku = 'A-1'", []).unwrap();
    a1.reload(&conn).unwrap();
    assert_eq!(a1, Line { quantity: 99, version: 4, ..line(1, "A-1", 0) });
}

#[test]
fn a_conflict_renders_the_key_as_a_tuple() {
    let conn = connection();
    let [mut mine, _, _] = three_lines(&conn);
    let mut theirs = mine.clone();
    theirs.quantity = 12;
    theirs.save(&conn).unwrap();

    mine.quantity = 13;
    let before = mine.clone();
    let err = mine.save(&conn).unwrap_err();
    assert_eq!(err.to_string(), r#"optimistic lock conflict on lines id=(1, "A-1"): expected version 0, found 1"#);
    assert_eq!(
        err.as_conflict(),
        Some(&OptimisticLockError {
            entity: "Line",
            table: "lines",
            id: r#"(1, "A-1")"#.into(),
            expected: 0,
            actual: Some(1)
        })
    );
    assert_eq!(mine, before);
    assert_eq!(line_row(&conn, 1, "A-1"), Some((12, 1)));

    let err = mine.delete(&conn).unwrap_err();
    assert_eq!(err.as_conflict().map(|c| c.actual), Some(Some(1)));
    assert_eq!(line_row(&conn, 1, "A-1"), Some((12, 1)));
}

#[test]
fn save_after_delete_of_a_composite_row_reports_a_missing_row() {
    let conn = connection();
    let [mut a1, _, _] = three_lines(&conn);
    conn.execute("DELETE FROM lines WHERE order_id = 1 AND sku = 'A-1'", []).unwrap();
    let err = a1.save(&conn).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"optimistic lock conflict on lines id=(1, "A-1"): expected version 0, but the row no longer exists"#
    );
    assert_eq!(line_row(&conn, 1, "A-1"), None);
    assert_eq!(count(&conn, "lines"), 2);
}

#[test]
fn a_duplicate_composite_key_is_a_database_error() {
    let conn = connection();
    three_lines(&conn);
    let mut dup = Line { version: 8, ..line(1, "A-1", 77) };
    let err = dup.insert(&conn).unwrap_err();
    assert!(matches!(err, Error::Database(_)), "got {err:?}");
    assert_eq!(dup.version, 8);
    assert_eq!(line_row(&conn, 1, "A-1"), Some((10, 0)));
}

#[test]
fn key_fields_apart_form_the_tuple_in_field_order() {
    let conn = connection();
    let mut seats = [
        Seat { hall: "north".into(), label: "front".into(), number: 1, version: 5 },
        Seat { hall: "north".into(), label: "back".into(), number: 2, version: 0 },
        Seat { hall: "south".into(), label: "front".into(), number: 1, version: 0 },
    ];
    for s in &mut seats {
        s.insert(&conn).unwrap();
    }
    assert_eq!(seats[0].version, 0);

    let got = Seat::get(&conn, ("north".to_string(), 1)).unwrap();
    assert_eq!(got, seats[0]);
    assert_eq!(Seat::find(&conn, ("north".to_string(), 3)).unwrap(), None);

    seats[0].label = "aisle".into();
    seats[0].save(&conn).unwrap();
    let labels: Vec<(String, i32, String, i64)> = conn
        .prepare("SELECT hall, number, label, version FROM seats ORDER BY hall, number")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        labels,
        vec![
            ("north".into(), 1, "aisle".into(), 1),
            ("north".into(), 2, "back".into(), 0),
            ("south".into(), 1, "front".into(), 0),
        ]
    );

    let mut stale = seats[2].clone();
    seats[2].touch(&conn).unwrap();
    let err = stale.save(&conn).unwrap_err();
    assert_eq!(err.to_string(), r#"optimistic lock conflict on seats id=("south", 1): expected version 0, found 1"#);
    assert_eq!(err.as_conflict().map(|c| c.entity), Some("Seat"));
}
