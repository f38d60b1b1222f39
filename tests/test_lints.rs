//! The expansion stays quiet under lints users turn on for their own items.
#![cfg(feature = "sqlite")]
#![deny(warnings)]

use versioned::Versioned;

/// Deriving on a deprecated struct must not warn: the generated code that names the
/// struct has to allow `deprecated` itself, as derives in std do.
#[test]
fn deriving_on_a_deprecated_struct_does_not_warn() {
    #[deprecated = "replaced by something newer"]
    #[derive(Versioned, Debug, PartialEq)]
    #[versioned(table = "legacy")]
    struct Legacy {
        id: i64,
        #[version]
        version: i64,
    }

    #[allow(deprecated)]
    {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE legacy (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)").unwrap();
        let mut legacy = Legacy { id: 1, version: 4 };
        legacy.insert(&conn).unwrap();
        legacy.touch(&conn).unwrap();
        assert_eq!(Legacy::get(&conn, 1).unwrap(), Legacy { id: 1, version: 1 });
    }
}
