//! Composite keys: several `#[id]` fields, `Id` a tuple in field order.

use versioned::backend::Bind;
use versioned::{Error, Versioned};

use super::{Db, Session, count, exec, open, row, rows};
use crate::common::Conflict;

#[derive(Versioned, Debug, Clone, PartialEq)]
pub struct Line {
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
pub struct Seat {
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
fn three_lines<S: Session>(s: &mut S) -> [Line; 3]
where
    Line: Bind<S::Backend>,
{
    let mut lines = [line(1, "A-1", 10), line(1, "A-2", 20), line(2, "A-1", 30)];
    for l in &mut lines {
        l.insert(s.ex()).unwrap();
    }
    lines
}

/// `lines` quoted: a reserved word in MySQL.
fn lines<D: Db>() -> String {
    D::quote("lines")
}

fn line_row<D: Db>(s: &mut impl Session, order_id: i64, sku: &str) -> Option<(i32, i64)> {
    let sql = format!("SELECT quantity, version FROM {} WHERE order_id = ? AND sku = ?", lines::<D>());
    row(s, &sql, &[&order_id, &sku])
}

pub fn get_and_find_take_the_key_as_a_tuple<D: Db>(test: &str)
where
    Line: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let [a1, a2, b1] = three_lines(&mut c);
    assert_eq!(Line::get(c.ex(), (1, "A-1".to_string())).unwrap(), a1);
    assert_eq!(Line::get(c.ex(), (1, "A-2".to_string())).unwrap(), a2);
    assert_eq!(Line::find(c.ex(), (2, "A-1".to_string())).unwrap(), Some(b1));
    assert_eq!(Line::find(c.ex(), (2, "A-2".to_string())).unwrap(), None, "both key columns must match");
    assert_eq!(Line::find(c.ex(), (3, "A-1".to_string())).unwrap(), None);
}

pub fn get_of_a_missing_key_renders_the_tuple<D: Db>(test: &str)
where
    Line: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    three_lines(&mut c);
    let err = Line::get(c.ex(), (9, "Z-9".to_string())).unwrap_err();
    assert!(matches!(&err, Error::NotFound { table: "lines", id, .. } if id == r#"(9, "Z-9")"#), "got {err:?}");
    assert_eq!(err.to_string(), r#"no row in lines with id=(9, "Z-9")"#);
}

pub fn save_writes_only_the_row_with_the_whole_key<D: Db>(test: &str)
where
    Line: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let [mut a1, _, _] = three_lines(&mut c);
    a1.quantity = 11;
    a1.save(c.ex()).unwrap();
    assert_eq!(a1.version, 1);
    assert_eq!(line_row::<D>(&mut c, 1, "A-1"), Some((11, 1)));
    assert_eq!(line_row::<D>(&mut c, 1, "A-2"), Some((20, 0)), "same order id, other SKU: untouched");
    assert_eq!(line_row::<D>(&mut c, 2, "A-1"), Some((30, 0)), "same SKU, other order id: untouched");
}

pub fn touch_and_verify_use_the_whole_key<D: Db>(test: &str)
where
    Line: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let [_, mut a2, b1] = three_lines(&mut c);
    a2.touch(c.ex()).unwrap();
    assert_eq!(line_row::<D>(&mut c, 1, "A-2"), Some((20, 1)));
    a2.verify(c.ex()).unwrap();
    b1.verify(c.ex()).unwrap();
    assert_eq!(line_row::<D>(&mut c, 1, "A-1"), Some((10, 0)));
}

pub fn delete_removes_only_the_row_with_the_whole_key<D: Db>(test: &str)
where
    Line: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let [a1, _, _] = three_lines(&mut c);
    a1.delete(c.ex()).unwrap();
    assert_eq!(line_row::<D>(&mut c, 1, "A-1"), None);
    assert_eq!(count::<D>(&mut c, "lines"), 2);
    assert_eq!(Line::find(c.ex(), (1, "A-1".to_string())).unwrap(), None);
}

pub fn reload_reads_the_row_with_the_whole_key<D: Db>(test: &str)
where
    Line: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let [mut a1, _, _] = three_lines(&mut c);
    let sql = format!("UPDATE {} SET quantity = 99, version = 4 WHERE order_id = 1 AND sku = 'A-1'", lines::<D>());
    exec(&mut c, &sql, &[]);
    a1.reload(c.ex()).unwrap();
    assert_eq!(a1, Line { quantity: 99, version: 4, ..line(1, "A-1", 0) });
}

pub fn a_conflict_renders_the_key_as_a_tuple<D: Db>(test: &str)
where
    Line: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let [mut mine, _, _] = three_lines(&mut c);
    let mut theirs = mine.clone();
    theirs.quantity = 12;
    theirs.save(c.ex()).unwrap();

    mine.quantity = 13;
    let before = mine.clone();
    let err = mine.save(c.ex()).unwrap_err();
    assert_eq!(err.to_string(), r#"optimistic lock conflict on lines id=(1, "A-1"): expected version 0, found 1"#);
    assert_eq!(
        err.as_conflict().map(Conflict::from),
        Some(Conflict { entity: "Line", table: "lines", id: r#"(1, "A-1")"#.into(), expected: 0, actual: Some(1) })
    );
    assert_eq!(mine, before);
    assert_eq!(line_row::<D>(&mut c, 1, "A-1"), Some((12, 1)));

    let err = mine.delete(c.ex()).unwrap_err();
    assert_eq!(err.as_conflict().map(|c| c.actual), Some(Some(1)));
    assert_eq!(line_row::<D>(&mut c, 1, "A-1"), Some((12, 1)));
}

pub fn save_after_delete_of_a_composite_row_reports_a_missing_row<D: Db>(test: &str)
where
    Line: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let [mut a1, _, _] = three_lines(&mut c);
    exec(&mut c, &format!("DELETE FROM {} WHERE order_id = 1 AND sku = 'A-1'", lines::<D>()), &[]);
    let err = a1.save(c.ex()).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"optimistic lock conflict on lines id=(1, "A-1"): expected version 0, but the row no longer exists"#
    );
    assert_eq!(line_row::<D>(&mut c, 1, "A-1"), None);
    assert_eq!(count::<D>(&mut c, "lines"), 2);
}

pub fn a_duplicate_composite_key_is_a_database_error<D: Db>(test: &str)
where
    Line: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    three_lines(&mut c);
    let mut dup = Line { version: 8, ..line(1, "A-1", 77) };
    let err = dup.insert(c.ex()).unwrap_err();
    assert!(matches!(err, Error::Database(_)), "got {err:?}");
    assert!(D::is_unique_violation(&err), "got {err:?}");
    assert_eq!(dup.version, 8);
    assert_eq!(line_row::<D>(&mut c, 1, "A-1"), Some((10, 0)));
}

pub fn key_fields_apart_form_the_tuple_in_field_order<D: Db>(test: &str)
where
    Seat: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut seats = [
        Seat { hall: "north".into(), label: "front".into(), number: 1, version: 5 },
        Seat { hall: "north".into(), label: "back".into(), number: 2, version: 0 },
        Seat { hall: "south".into(), label: "front".into(), number: 1, version: 0 },
    ];
    for s in &mut seats {
        s.insert(c.ex()).unwrap();
    }
    assert_eq!(seats[0].version, 0);

    let got = Seat::get(c.ex(), ("north".to_string(), 1)).unwrap();
    assert_eq!(got, seats[0]);
    assert_eq!(Seat::find(c.ex(), ("north".to_string(), 3)).unwrap(), None);

    seats[0].label = "aisle".into();
    seats[0].save(c.ex()).unwrap();
    let labels: Vec<(String, i32, String, i64)> =
        rows(&mut c, "SELECT hall, number, label, version FROM seats ORDER BY hall, number", &[]);
    assert_eq!(
        labels,
        vec![
            ("north".into(), 1, "aisle".into(), 1),
            ("north".into(), 2, "back".into(), 0),
            ("south".into(), 1, "front".into(), 0),
        ]
    );

    let mut stale = seats[2].clone();
    seats[2].touch(c.ex()).unwrap();
    let err = stale.save(c.ex()).unwrap_err();
    assert_eq!(err.to_string(), r#"optimistic lock conflict on seats id=("south", 1): expected version 0, found 1"#);
    assert_eq!(err.as_conflict().map(|c| c.entity), Some("Seat"));
}
