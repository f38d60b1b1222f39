//! Hygiene: the derive's output names everything by absolute path, so it compiles
//! beside items that shadow prelude names, `core` and `std`, and under lints users
//! commonly deny; and it asks nothing of the struct beyond its fields.
#![cfg(feature = "sqlite")]
#![deny(warnings)]
#![deny(clippy::all, clippy::pedantic)]
#![deny(
    missing_docs,
    unsafe_code,
    unused_qualifications,
    unused_results,
    unreachable_pub,
    trivial_casts,
    trivial_numeric_casts,
    missing_debug_implementations,
    unused_lifetimes,
    rust_2018_idioms,
    let_underscore_drop,
    non_ascii_idents
)]

// Everything below shadows a name the generated code must not rely on.

#[allow(dead_code)]
type Result = ();
#[allow(dead_code)]
struct Error;
#[allow(dead_code)]
enum Option {}
#[allow(dead_code, non_snake_case)]
fn Ok() {}
#[allow(dead_code, non_snake_case)]
fn Err() {}
#[allow(dead_code, non_snake_case)]
fn Some() {}
#[allow(dead_code, non_upper_case_globals)]
const None: () = ();
#[allow(dead_code)]
struct String;
#[allow(dead_code)]
struct Vec;
#[allow(dead_code)]
struct Box;
#[allow(dead_code)]
struct Versioned;
#[allow(dead_code)]
trait Default {}
#[allow(dead_code)]
trait Clone {}
#[allow(dead_code)]
trait Debug {}
#[allow(dead_code)]
trait Sized {}
#[allow(dead_code)]
trait Send {}
#[allow(dead_code)]
trait Sync {}
#[allow(dead_code)]
trait Into {}
#[allow(dead_code)]
trait From {}
#[allow(dead_code)]
trait ToString {}
#[allow(dead_code)]
trait Iterator {}
#[allow(dead_code)]
trait Fn {}
#[allow(dead_code)]
trait FnOnce {}
#[allow(dead_code)]
trait FnMut {}
#[allow(dead_code)]
trait PartialEq {}
#[allow(dead_code)]
mod core {}
#[allow(dead_code)]
mod std {}
#[allow(dead_code)]
mod alloc {}
#[allow(dead_code)]
mod rusqlite {}

// Single-letter type names, as a derive's own generic parameters might be called.
type B = i64;
type E = ::std::string::String;
type T = i32;
type R = i64;

#[allow(unused_macros)]
macro_rules! format {
    ($($t:tt)*) => {
        compile_error!("the generated code must not use a `format!` in scope")
    };
}
#[allow(unused_macros)]
macro_rules! vec {
    ($($t:tt)*) => {
        compile_error!("the generated code must not use a `vec!` in scope")
    };
}
#[allow(unused_macros)]
macro_rules! write {
    ($($t:tt)*) => {
        compile_error!("the generated code must not use a `write!` in scope")
    };
}
#[allow(unused_macros)]
macro_rules! concat {
    ($($t:tt)*) => {
        compile_error!("the generated code must not use a `concat!` in scope")
    };
}
#[allow(unused_macros)]
macro_rules! stringify {
    ($($t:tt)*) => {
        compile_error!("the generated code must not use a `stringify!` in scope")
    };
}
#[allow(unused_macros)]
macro_rules! unreachable {
    ($($t:tt)*) => {
        compile_error!("the generated code must not use an `unreachable!` in scope")
    };
}

/// A caller-provided key named `id`, fields named like a derive's locals.
#[derive(::versioned::Versioned)]
#[versioned(table = "hygiene_plain")]
struct Plain {
    id: B,
    row: E,
    f: T,
    exec: R,
    params: ::core::option::Option<E>,
    key: B,
    new: B,
    value: B,
    #[version]
    version: B,
}

/// Gets `Default` for its skipped field.
#[derive(Default)]
struct Cache {
    hits: u32,
}

/// A generated key, a renamed column, a skipped field and an `i16` version.
#[derive(::versioned::Versioned)]
#[versioned(table = "hygiene_auto")]
struct Auto {
    #[id(auto)]
    key: i64,
    #[versioned(column = "label_text")]
    label: E,
    #[versioned(skip)]
    cache: Cache,
    #[version]
    rev: i16,
}

/// A composite key.
#[derive(::versioned::Versioned)]
#[versioned(table = "hygiene_pair")]
struct Pair {
    #[id]
    left: T,
    #[id]
    right: E,
    #[version]
    version: T,
}

fn connection() -> ::rusqlite::Connection {
    let conn = ::rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        r#"CREATE TABLE hygiene_plain (id INTEGER PRIMARY KEY, "row" TEXT NOT NULL, f INTEGER NOT NULL,
             exec INTEGER NOT NULL, params TEXT, "key" INTEGER NOT NULL, new INTEGER NOT NULL,
             value INTEGER NOT NULL, version INTEGER NOT NULL);
         CREATE TABLE hygiene_auto ("key" INTEGER PRIMARY KEY, label_text TEXT NOT NULL, rev INTEGER NOT NULL);
         CREATE TABLE hygiene_pair ("left" INTEGER NOT NULL, "right" TEXT NOT NULL, version INTEGER NOT NULL,
             PRIMARY KEY ("left", "right"));"#,
    )
    .unwrap();
    conn
}

#[test]
fn derives_beside_shadowed_names() {
    use ::versioned::Versioned as _;

    let conn = connection();
    let mut plain = Plain {
        id: 1,
        row: "r".into(),
        f: 2,
        exec: 3,
        params: ::core::option::Option::None,
        key: 4,
        new: 5,
        value: 6,
        version: 9,
    };
    plain.insert(&conn).unwrap();
    assert_eq!(plain.version, 0);
    plain.params = ::core::option::Option::Some("p".into());
    plain.value = 60;
    plain.save(&conn).unwrap();
    plain.touch(&conn).unwrap();
    plain.verify(&conn).unwrap();
    plain.reload(&conn).unwrap();
    let got = Plain::get(&conn, 1).unwrap();
    assert_eq!(
        (got.row.as_str(), got.f, got.exec, got.params.as_deref(), got.key, got.new, got.value, got.version),
        ("r", 2, 3, ::core::option::Option::Some("p"), 4, 5, 60, 2)
    );
    assert!(Plain::find(&conn, 2).unwrap().is_none());
    let stale = Plain { version: 0, ..got };
    let err = stale.delete(&conn).unwrap_err();
    assert_eq!(err.to_string(), "optimistic lock conflict on hygiene_plain id=1: expected version 0, found 2");
    plain.delete(&conn).unwrap();
}

#[test]
fn derives_with_a_generated_key_and_a_skipped_field() {
    use ::versioned::Versioned as _;

    let conn = connection();
    let mut auto = Auto { key: 0, label: "a".into(), cache: Cache { hits: 3 }, rev: 7 };
    auto.insert(&conn).unwrap();
    assert_eq!((auto.key, auto.rev), (1, 0));
    auto.label = "b".into();
    auto.save(&conn).unwrap();
    auto.reload(&conn).unwrap();
    assert_eq!((auto.label.as_str(), auto.cache.hits, auto.rev), ("b", 3, 1));
    let found = Auto::find(&conn, 1).unwrap().unwrap();
    assert_eq!((found.label.as_str(), found.cache.hits, found.rev), ("b", 0, 1));
    let label: E = conn.query_row(r#"SELECT label_text FROM hygiene_auto WHERE "key" = 1"#, [], |r| r.get(0)).unwrap();
    assert_eq!(label, "b");
}

#[test]
fn derives_with_a_composite_key() {
    use ::versioned::Versioned as _;

    let conn = connection();
    let mut pair = Pair { left: 1, right: "x".into(), version: 0 };
    pair.insert(&conn).unwrap();
    pair.touch(&conn).unwrap();
    let got = Pair::get(&conn, (1, "x".into())).unwrap();
    assert_eq!(got.version, 1);
    let ::core::result::Result::Err(err) = Pair::get(&conn, (2, "x".into())) else {
        panic!("expected NotFound");
    };
    assert_eq!(err.to_string(), r#"no row in hygiene_pair with id=(2, "x")"#);
}
