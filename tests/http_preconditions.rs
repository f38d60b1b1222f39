//! HTTP preconditions against a real (SQLite) row: the `ETag` a read hands out, an
//! `If-Match` that names the version the client saw, and the write checked against it.
#![cfg(all(feature = "http", feature = "sqlite"))]

use http::HeaderMap;
use http::header::{ETAG, IF_MATCH};
use rusqlite::Connection;
use versioned::Versioned;
use versioned::http::{IfMatch, etag, set_etag};

#[derive(Versioned, Debug, Clone, PartialEq)]
struct Note {
    #[id(auto)]
    id: i64,
    body: String,
    #[version]
    version: i64,
}

fn db() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, version INTEGER NOT NULL)")
        .unwrap();
    conn
}

/// The request a client sends back with the `ETag` it was given.
fn request_with(tag: &http::HeaderValue) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(IF_MATCH, tag.clone());
    headers
}

#[test]
fn the_version_a_client_saw_decides_its_write() {
    let conn = db();
    let mut note = Note { id: 0, body: "draft".into(), version: 0 };
    note.insert(&conn).unwrap();

    // Two clients read the note and get its ETag.
    let mut response = HeaderMap::new();
    set_etag(&mut response, &Note::get(&conn, note.id).unwrap());
    let seen = response.get(ETAG).unwrap().clone();
    assert_eq!(seen, "\"0\"");

    // The first client's write: its If-Match names the row's version, so it goes on.
    let first = IfMatch::from_headers(&request_with(&seen)).unwrap().expect("sent");
    let mut current = Note::get(&conn, note.id).unwrap();
    assert!(first.matches(current.version));
    current.version = first.version().expect("one strong tag of ours");
    current.body = "first".into();
    current.save(&conn).unwrap();
    assert_eq!(etag(&current), "\"1\"");

    // The second client sent the same, now stale, tag: 412 by the header alone, and a
    // conflict if the server carries the version into the entity and saves anyway.
    let second = IfMatch::from_headers(&request_with(&seen)).unwrap().expect("sent");
    let mut fresh = Note::get(&conn, note.id).unwrap();
    assert!(!second.matches(fresh.version));
    fresh.version = second.version().unwrap();
    fresh.body = "second".into();
    let err = fresh.save(&conn).unwrap_err();
    let conflict = err.as_conflict().expect("a conflict");
    assert_eq!((conflict.expected, conflict.actual), (0, Some(1)));
    assert_eq!(Note::get(&conn, note.id).unwrap().body, "first", "the stale write changed nothing");
}

#[test]
fn no_if_match_is_told_apart_from_an_empty_one() {
    assert_eq!(IfMatch::from_headers(&HeaderMap::new()).unwrap(), None);
    let mut empty = HeaderMap::new();
    empty.insert(IF_MATCH, http::HeaderValue::from_static(""));
    let sent = IfMatch::from_headers(&empty).unwrap().expect("sent, with no tags");
    assert!(!sent.matches(0));
}

#[test]
fn a_stale_if_match_is_a_412_problem_with_both_versions() {
    use http::StatusCode;
    use versioned::http::Problem;

    let conn = db();
    let mut note = Note { id: 0, body: "draft".into(), version: 0 };
    note.insert(&conn).unwrap();
    let seen = etag(&note);
    note.body = "edited elsewhere".into();
    note.save(&conn).unwrap();

    // The check before the write: the row is at 1, the client named 0.
    let stale = IfMatch::from_headers(&request_with(&seen)).unwrap().unwrap();
    let problem = stale.check(&Note::get(&conn, note.id).unwrap()).unwrap_err();
    assert_eq!(
        (problem.status(), problem.expected(), problem.actual()),
        (StatusCode::PRECONDITION_FAILED, Some(0), Some(1))
    );
    let body: serde_json::Value = serde_json::from_slice(&problem.to_json()).unwrap();
    assert_eq!(
        (body["status"].clone(), body["expected"].clone(), body["actual"].clone()),
        (412.into(), 0.into(), 1.into())
    );
    assert!(body["detail"].as_str().unwrap().starts_with("Note 1 is at version 1, not 0"), "{body}");

    // A write that passed the check and then lost the race: 412 too.
    let fresh = IfMatch::from_headers(&request_with(&etag(&note))).unwrap().unwrap();
    let mut current = Note::get(&conn, note.id).unwrap();
    fresh.check(&current).unwrap();
    note.body = "the other writer, in between".into();
    note.save(&conn).unwrap();
    current.body = "mine".into();
    let problem = Problem::from_if_match_write(current.save(&conn).unwrap_err());
    assert_eq!(
        (problem.status(), problem.expected(), problem.actual()),
        (StatusCode::PRECONDITION_FAILED, Some(1), Some(2))
    );
    assert_eq!(current.version, 1, "the failed write left the entity as it was");

    // The same conflict, when the version came in the body, is 409; a deleted row 404.
    current.version = 1;
    assert_eq!(Problem::from(current.save(&conn).unwrap_err()).status(), StatusCode::CONFLICT);
    note.delete(&conn).unwrap();
    let gone = Problem::from_if_match_write(current.save(&conn).unwrap_err());
    assert_eq!((gone.status(), gone.expected(), gone.actual()), (StatusCode::NOT_FOUND, Some(1), None));
}
