//! Versions wrap around at their type's maximum, computed in Rust and bound as a
//! value, in the field's own type: an `i32` version over an INTEGER column goes from
//! `i32::MAX` to `i32::MIN` without an overflow error.

use versioned::Versioned;
use versioned::backend::Bind;

use super::{Db, Session, exec, open, scalar};

#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "wrap16")]
pub struct Small {
    id: i64,
    value: String,
    #[version]
    version: i16,
}

#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "wrap32")]
pub struct Medium {
    id: i64,
    value: String,
    #[version]
    version: i32,
}

#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "wrap64")]
pub struct Large {
    id: i64,
    value: String,
    #[version]
    version: i64,
}

/// The version of row 1 of `table`. On SQLite it must be stored as an integer:
/// `version + 1` in SQL would have stored the REAL 9.223372036854776e18 at `i64::MAX`.
fn stored_version<D: Db>(c: &mut D::Conn, table: &str) -> i64 {
    if let Some(class) = D::storage_class(c, table, "version", 1) {
        assert_eq!(class, "integer", "the version of {table} is stored as an integer");
    }
    scalar(c, &format!("SELECT version FROM {table} WHERE id = 1"), &[])
}

fn set_stored_version<D: Db>(c: &mut D::Conn, table: &str, version: i64) {
    let n = exec(c, &format!("UPDATE {table} SET version = ? WHERE id = 1"), &[&version]);
    assert_eq!(n, 1);
}

pub fn an_i32_version_wraps_from_max_to_min<D: Db>(test: &str)
where
    Medium: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut e = Medium { id: 1, value: "a".into(), version: 0 };
    e.insert(c.ex()).unwrap();
    set_stored_version::<D>(&mut c, "wrap32", i32::MAX.into());
    e.reload(c.ex()).unwrap();
    assert_eq!(e.version, i32::MAX);

    e.value = "b".into();
    e.save(c.ex()).unwrap();
    assert_eq!(e.version, i32::MIN);
    assert_eq!(stored_version::<D>(&mut c, "wrap32"), i64::from(i32::MIN));
    assert_eq!(Medium::get(c.ex(), 1).unwrap(), e);

    e.save(c.ex()).unwrap();
    assert_eq!(e.version, i32::MIN + 1);
    assert_eq!(stored_version::<D>(&mut c, "wrap32"), i64::from(i32::MIN) + 1);
}

pub fn an_i32_version_wraps_on_touch<D: Db>(test: &str)
where
    Medium: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut e = Medium { id: 1, value: "a".into(), version: 0 };
    e.insert(c.ex()).unwrap();
    set_stored_version::<D>(&mut c, "wrap32", i32::MAX.into());
    e.version = i32::MAX;
    e.touch(c.ex()).unwrap();
    assert_eq!(e.version, i32::MIN);
    assert_eq!(stored_version::<D>(&mut c, "wrap32"), i64::from(i32::MIN));
    e.verify(c.ex()).unwrap();
}

pub fn a_conflict_at_the_wrap_reports_both_versions_widened<D: Db>(test: &str)
where
    Medium: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut e = Medium { id: 1, value: "a".into(), version: 0 };
    e.insert(c.ex()).unwrap();
    set_stored_version::<D>(&mut c, "wrap32", i32::MAX.into());
    e.version = i32::MAX;
    let mut other = e.clone();
    other.save(c.ex()).unwrap();

    let err = e.save(c.ex()).unwrap_err();
    let conflict = err.as_conflict().expect("a conflict");
    assert_eq!((conflict.expected, conflict.actual), (i64::from(i32::MAX), Some(i64::from(i32::MIN))));
    assert_eq!(conflict.entity, "Medium");
    assert_eq!(e.version, i32::MAX);
}

pub fn an_i16_version_wraps_from_max_to_min<D: Db>(test: &str)
where
    Small: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut e = Small { id: 1, value: "a".into(), version: 0 };
    e.insert(c.ex()).unwrap();
    assert_eq!(stored_version::<D>(&mut c, "wrap16"), 0);
    set_stored_version::<D>(&mut c, "wrap16", i16::MAX.into());
    e.reload(c.ex()).unwrap();
    assert_eq!(e.version, i16::MAX);

    e.save(c.ex()).unwrap();
    assert_eq!(e.version, i16::MIN);
    assert_eq!(stored_version::<D>(&mut c, "wrap16"), i64::from(i16::MIN));
    e.touch(c.ex()).unwrap();
    assert_eq!(e.version, i16::MIN + 1);
    assert_eq!(Small::get(c.ex(), 1).unwrap().version, i16::MIN + 1);
}

pub fn an_i64_version_wraps_from_max_to_min_and_stays_an_integer<D: Db>(test: &str)
where
    Large: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut e = Large { id: 1, value: "a".into(), version: 0 };
    e.insert(c.ex()).unwrap();
    set_stored_version::<D>(&mut c, "wrap64", i64::MAX);
    e.reload(c.ex()).unwrap();
    assert_eq!(e.version, i64::MAX);

    e.value = "b".into();
    e.save(c.ex()).unwrap();
    assert_eq!(e.version, i64::MIN);
    assert_eq!(stored_version::<D>(&mut c, "wrap64"), i64::MIN);
    let value: String = scalar(&mut c, "SELECT value FROM wrap64 WHERE id = 1", &[]);
    assert_eq!(value, "b");
    e.verify(c.ex()).unwrap();

    e.save(c.ex()).unwrap();
    assert_eq!(e.version, i64::MIN + 1);
    assert_eq!(stored_version::<D>(&mut c, "wrap64"), i64::MIN + 1);
}

pub fn an_i64_version_wraps_on_touch<D: Db>(test: &str)
where
    Large: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut e = Large { id: 1, value: "a".into(), version: 0 };
    e.insert(c.ex()).unwrap();
    set_stored_version::<D>(&mut c, "wrap64", i64::MAX);
    e.version = i64::MAX;
    e.touch(c.ex()).unwrap();
    assert_eq!(e.version, i64::MIN);
    assert_eq!(stored_version::<D>(&mut c, "wrap64"), i64::MIN);
}

pub fn a_stale_entity_at_max_is_a_conflict_not_a_wrap<D: Db>(test: &str)
where
    Large: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut e = Large { id: 1, value: "a".into(), version: 0 };
    e.insert(c.ex()).unwrap();
    e.version = i64::MAX;
    let err = e.save(c.ex()).unwrap_err();
    let conflict = err.as_conflict().expect("a conflict");
    assert_eq!((conflict.expected, conflict.actual), (i64::MAX, Some(0)));
    assert_eq!(e.version, i64::MAX);
    assert_eq!(stored_version::<D>(&mut c, "wrap64"), 0);
}
