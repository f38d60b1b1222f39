//! Raw SQL for the cases: values bound and read without going through the library
//! under test, so that rows are checked as the database holds them.

use versioned::backend::{Backend, Blocking, Executor};

/// A connection, transaction or savepoint: an executor for the library, and raw SQL
/// for the tests. Raw SQL takes `?` placeholders on every backend.
pub trait Session {
    type Backend: Backend;
    /// This session as an executor of the library.
    fn ex(&mut self) -> impl Executor<Backend = Self::Backend, Mode = Blocking> + '_;
    /// Runs a statement; returns the number of rows it affected.
    fn try_exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, String>;
    /// Runs a query; returns its rows.
    fn try_query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, String>;
}

/// A value read or bound by raw SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
    Blob(Vec<u8>),
}

/// A Rust value bound by raw SQL.
pub trait ToVal {
    fn to_val(&self) -> Val;
}

impl<T: ToVal + ?Sized> ToVal for &T {
    fn to_val(&self) -> Val {
        (**self).to_val()
    }
}

impl ToVal for i64 {
    fn to_val(&self) -> Val {
        Val::Int(*self)
    }
}

impl ToVal for i32 {
    fn to_val(&self) -> Val {
        Val::Int((*self).into())
    }
}

impl ToVal for bool {
    fn to_val(&self) -> Val {
        Val::Bool(*self)
    }
}

impl ToVal for str {
    fn to_val(&self) -> Val {
        Val::Text(self.to_owned())
    }
}

impl ToVal for String {
    fn to_val(&self) -> Val {
        Val::Text(self.clone())
    }
}

/// A Rust value read by raw SQL.
pub trait FromVal: Sized {
    fn from_val(v: Val) -> Self;
}

impl FromVal for Val {
    fn from_val(v: Val) -> Self {
        v
    }
}

impl FromVal for i64 {
    fn from_val(v: Val) -> Self {
        match v {
            Val::Int(i) => i,
            other => panic!("expected an integer, read {other:?}"),
        }
    }
}

impl FromVal for i32 {
    fn from_val(v: Val) -> Self {
        i64::from_val(v).try_into().expect("an i32")
    }
}

impl FromVal for bool {
    fn from_val(v: Val) -> Self {
        match v {
            Val::Bool(b) => b,
            Val::Int(0) => false,
            Val::Int(1) => true,
            other => panic!("expected a boolean, read {other:?}"),
        }
    }
}

impl FromVal for String {
    fn from_val(v: Val) -> Self {
        match v {
            Val::Text(s) => s,
            Val::Blob(b) => String::from_utf8(b).expect("UTF-8 text"),
            other => panic!("expected text, read {other:?}"),
        }
    }
}

impl FromVal for Vec<u8> {
    fn from_val(v: Val) -> Self {
        match v {
            Val::Blob(b) => b,
            Val::Text(s) => s.into_bytes(),
            other => panic!("expected bytes, read {other:?}"),
        }
    }
}

impl<T: FromVal> FromVal for Option<T> {
    fn from_val(v: Val) -> Self {
        match v {
            Val::Null => None,
            v => Some(T::from_val(v)),
        }
    }
}

/// A row read by raw SQL, as a tuple.
pub trait FromRow: Sized {
    fn from_row(row: Vec<Val>) -> Self;
}

macro_rules! from_row {
    ($($t:ident),+) => {
        impl<$($t: FromVal),+> FromRow for ($($t,)+) {
            fn from_row(row: Vec<Val>) -> Self {
                let mut row = row.into_iter();
                let tuple = ($($t::from_val(row.next().expect("a column")),)+);
                assert!(row.next().is_none(), "more columns than expected");
                tuple
            }
        }
    };
}

from_row!(A);
from_row!(A, B);
from_row!(A, B, C);
from_row!(A, B, C, D);

fn vals(params: &[&dyn ToVal]) -> Vec<Val> {
    params.iter().map(|p| p.to_val()).collect()
}

/// Runs a raw statement; returns the number of rows it affected.
pub fn exec(s: &mut impl Session, sql: &str, params: &[&dyn ToVal]) -> u64 {
    s.try_exec(sql, &vals(params)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every row of a raw query.
pub fn rows<T: FromRow>(s: &mut impl Session, sql: &str, params: &[&dyn ToVal]) -> Vec<T> {
    let rows = s.try_query(sql, &vals(params)).unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter().map(T::from_row).collect()
}

/// The row of a raw query that reads at most one.
pub fn row<T: FromRow>(s: &mut impl Session, sql: &str, params: &[&dyn ToVal]) -> Option<T> {
    let mut rows = rows(s, sql, params);
    assert!(rows.len() <= 1, "{sql}: {} rows", rows.len());
    rows.pop()
}

/// The one value of a raw query that reads exactly one row.
pub fn scalar<T: FromVal>(s: &mut impl Session, sql: &str, params: &[&dyn ToVal]) -> T {
    row::<(T,)>(s, sql, params).unwrap_or_else(|| panic!("{sql}: no row")).0
}
