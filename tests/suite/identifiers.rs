//! Table and column names: reserved words, renames, spaces and quotes are quoted
//! identifiers, and default names follow the documented rules.

use versioned::Versioned;
use versioned::backend::Bind;

use super::{Db, Session, count, exec, open, row, scalar};
use crate::common::User;

/// A table and columns named by SQL keywords.
#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "order")]
pub struct Order {
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
pub struct OrderLine {
    id: i64,
    r#type: String,
    #[version]
    rev: i64,
}

/// Names with spaces.
#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "line items")]
pub struct LineItem {
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
pub struct Quoted {
    id: i64,
    #[versioned(column = "odd \"quoted\" name")]
    odd: String,
    #[version]
    version: i64,
}

fn order_row<D: Db>(s: &mut impl Session, id: i64) -> (bool, String, i64) {
    let sql = format!(
        "SELECT {}, {}, version FROM {} WHERE id = ?",
        D::quote("select"),
        D::quote("group"),
        D::quote("order")
    );
    row(s, &sql, &[&id]).expect("the order row")
}

pub fn a_table_named_order_with_columns_named_select_and_group<D: Db>(test: &str)
where
    Order: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut order = Order { id: 1, selected: false, group: "by customer".into(), version: 3 };
    order.insert(c.ex()).unwrap();
    assert_eq!(order_row::<D>(&mut c, 1), (false, "by customer".into(), 0));

    order.selected = true;
    order.group = "by date".into();
    order.save(c.ex()).unwrap();
    assert_eq!(order_row::<D>(&mut c, 1), (true, "by date".into(), 1));

    order.touch(c.ex()).unwrap();
    order.verify(c.ex()).unwrap();
    assert_eq!(Order::get(c.ex(), 1).unwrap(), order);
    let mut reloaded = Order { id: 1, selected: false, group: String::new(), version: 0 };
    reloaded.reload(c.ex()).unwrap();
    assert_eq!(reloaded, order);

    let stale = Order { version: 0, ..order.clone() };
    let err = stale.delete(c.ex()).unwrap_err();
    assert_eq!(err.to_string(), "optimistic lock conflict on order id=1: expected version 0, found 2");
    order.delete(c.ex()).unwrap();
    assert_eq!(Order::find(c.ex(), 1).unwrap(), None);
    assert_eq!(count::<D>(&mut c, "order"), 0);
}

pub fn a_renamed_column_lands_in_that_column<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut ada = User::new("ada", Some("ada@example.com"));
    ada.insert(c.ex()).unwrap();
    let stored: Option<String> = scalar(&mut c, "SELECT email_address FROM users WHERE id = ?", &[&ada.id]);
    assert_eq!(stored.as_deref(), Some("ada@example.com"));

    ada.email = Some("lovelace@example.com".into());
    ada.save(c.ex()).unwrap();
    let stored: Option<String> = scalar(&mut c, "SELECT email_address FROM users WHERE id = ?", &[&ada.id]);
    assert_eq!(stored.as_deref(), Some("lovelace@example.com"));

    exec(&mut c, "UPDATE users SET email_address = 'raw@example.com' WHERE id = ?", &[&ada.id]);
    assert_eq!(User::get(c.ex(), ada.id).unwrap().email.as_deref(), Some("raw@example.com"));
}

pub fn the_default_table_is_the_snake_case_plural_and_raw_identifiers_lose_their_prefix<D: Db>(test: &str)
where
    OrderLine: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut line = OrderLine { id: 1, r#type: "gift".into(), rev: 0 };
    line.insert(c.ex()).unwrap();
    line.r#type = "return".into();
    line.save(c.ex()).unwrap();
    assert_eq!(line.rev, 1);
    let sql = format!("SELECT {}, rev FROM order_lines WHERE id = 1", D::quote("type"));
    let stored: Option<(String, i64)> = row(&mut c, &sql, &[]);
    assert_eq!(stored, Some(("return".into(), 1)));
    assert_eq!(OrderLine::get(c.ex(), 1).unwrap(), line);

    let err = OrderLine { rev: 0, ..line.clone() }.touch(c.ex()).unwrap_err();
    let conflict = err.as_conflict().expect("a conflict");
    assert_eq!(
        (conflict.entity, conflict.table, conflict.expected, conflict.actual),
        ("OrderLine", "order_lines", 0, Some(1))
    );
}

pub fn names_with_spaces<D: Db>(test: &str)
where
    LineItem: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut item = LineItem { id: 0, unit_price: 250, version: 0 };
    item.insert(c.ex()).unwrap();
    assert_eq!(item.id, 1);
    item.unit_price = 300;
    item.save(c.ex()).unwrap();
    let sql = format!("SELECT {}, version FROM {} WHERE id = 1", D::quote("unit price"), D::quote("line items"));
    let stored: Option<(i64, i64)> = row(&mut c, &sql, &[]);
    assert_eq!(stored, Some((300, 1)));
    assert_eq!(LineItem::get(c.ex(), 1).unwrap(), item);
    item.delete(c.ex()).unwrap();
    assert_eq!(count::<D>(&mut c, "line items"), 0);
}

pub fn a_column_name_holding_double_quotes<D: Db>(test: &str)
where
    Quoted: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut q = Quoted { id: 1, odd: "first".into(), version: 0 };
    q.insert(c.ex()).unwrap();
    q.odd = "second".into();
    q.save(c.ex()).unwrap();
    let sql = format!("SELECT {}, version FROM quoted WHERE id = 1", D::quote("odd \"quoted\" name"));
    let stored: Option<(String, i64)> = row(&mut c, &sql, &[]);
    assert_eq!(stored, Some(("second".into(), 1)));
    assert_eq!(Quoted::get(c.ex(), 1).unwrap(), q);
}
