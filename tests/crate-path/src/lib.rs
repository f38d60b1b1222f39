//! Entities derived where the `versioned` crate is not in the extern prelude: this
//! package depends on it renamed to `orm`, so the derive's default `::versioned`
//! paths would not resolve and every entity names the crate with
//! `#[versioned(crate = "..")]`.

/// The runtime re-exported under a module of this crate, as a crate that wraps
/// `versioned` for its users would.
pub mod store {
    pub use orm::*;
}

/// Reaches the runtime through the renamed dependency.
#[derive(orm::Versioned, Debug, Clone, PartialEq)]
#[versioned(crate = "orm", table = "notes")]
pub struct Note {
    #[id(auto)]
    pub id: i64,
    pub body: String,
    #[version]
    pub version: i64,
}

/// Reaches the runtime through the re-export.
#[derive(store::Versioned, Debug, Clone, PartialEq)]
#[versioned(crate = "crate::store")]
pub struct Tag {
    pub id: String,
    pub label: String,
    #[version]
    pub version: i32,
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use orm::{Error, Versioned};
    use rusqlite::Connection;

    use super::{Note, Tag};

    fn connection() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, version INTEGER NOT NULL);
             CREATE TABLE tags (id TEXT PRIMARY KEY, label TEXT NOT NULL, version INTEGER NOT NULL);",
        )
        .unwrap();
        conn
    }

    #[test]
    fn renamed_dependency_inserts_saves_and_gets() {
        let conn = connection();
        let mut note = Note { id: 0, body: "draft".into(), version: 7 };
        note.insert(&conn).unwrap();
        assert_eq!((note.id, note.version), (1, 0));

        let mut stale = Note::get(&conn, note.id).unwrap();
        note.body = "final".into();
        note.save(&conn).unwrap();
        assert_eq!(note.version, 1);

        stale.body = "lost".into();
        let err = stale.save(&conn).unwrap_err();
        let conflict = err.as_conflict().expect("a conflict");
        assert_eq!((conflict.expected, conflict.actual), (0, Some(1)));
        assert_eq!(stale.version, 0);

        assert_eq!(Note::get(&conn, note.id).unwrap(), note);
    }

    #[test]
    fn re_exported_path_inserts_saves_and_gets() {
        let conn = connection();
        let mut tag = Tag { id: "t-1".into(), label: "new".into(), version: 0 };
        tag.insert(&conn).unwrap();
        let stale = tag.clone();
        tag.label = "renamed".into();
        tag.save(&conn).unwrap();
        assert!(matches!(stale.delete(&conn), Err(Error::OptimisticLock(_))));
        assert_eq!(Tag::get(&conn, "t-1".to_string()).unwrap(), tag);
    }
}
