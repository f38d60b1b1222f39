//! Values are bound, never formatted into SQL: text shaped like SQL injection
//! round-trips unchanged and the tables survive.

mod common;

use common::{Account, User, account_row, connection, count, user_row};
use rusqlite::Connection;
use versioned::Versioned;

const PAYLOADS: &[&str] = &[
    "'; DROP TABLE users; --",
    "\" OR 1=1 --",
    "' OR '1'='1",
    "Robert'); DROP TABLE accounts;--",
    "1; DELETE FROM users WHERE 1=1",
    "it's \"quoted\" `backticked` [bracketed]",
    "''''",
    "\\",
    "back\\slash \\' \\\" \\n \\0",
    "?1 ?2 ? $1 :name @name",
    "%_ LIKE wildcards %",
    "/* comment */ -- another",
    "line\nbreak\ttab\rreturn",
    "ünïcödé — 日本語 — עברית — 🦀👩‍👩‍👧",
    "\u{feff}\u{200b}zero width",
    "",
    " ",
];

#[derive(Versioned, Debug, Clone, PartialEq)]
struct Sample {
    id: i64,
    big: i64,
    ratio: f64,
    flag: bool,
    maybe: Option<i64>,
    data: Vec<u8>,
    #[version]
    version: i64,
}

fn tables_survive(conn: &Connection) {
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'accounts')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 2, "both tables still exist");
}

#[test]
fn payloads_round_trip_through_insert_and_get() {
    let conn = connection();
    let mut ids = Vec::new();
    for (i, payload) in PAYLOADS.iter().enumerate() {
        let mut user = User::new(payload, Some(&format!("{payload}#{i}")));
        user.insert(&conn).unwrap();
        ids.push(user.id);
        assert_eq!(User::get(&conn, user.id).unwrap(), user);
        assert_eq!(user_row(&conn, user.id), Some((Some((*payload).into()), Some(format!("{payload}#{i}")), 0)));
    }
    tables_survive(&conn);
    assert_eq!(count(&conn, "users"), i64::try_from(PAYLOADS.len()).unwrap());
}

#[test]
fn payloads_round_trip_through_save_and_reload() {
    let conn = connection();
    let mut user = User::new("plain", None);
    user.insert(&conn).unwrap();
    let mut witness = User::new("witness", None);
    witness.insert(&conn).unwrap();
    for payload in PAYLOADS {
        user.name = (*payload).into();
        user.email = Some((*payload).into());
        user.save(&conn).unwrap();
        let mut copy = User::new("", None);
        copy.id = user.id;
        copy.reload(&conn).unwrap();
        assert_eq!(copy, user);
    }
    tables_survive(&conn);
    let versions = i64::try_from(PAYLOADS.len()).unwrap();
    assert_eq!(user_row(&conn, user.id).unwrap().2, versions);
    assert_eq!(user_row(&conn, witness.id), Some((Some("witness".into()), None, 0)), "no other row was written");
}

#[test]
fn payloads_as_text_keys() {
    let conn = connection();
    for payload in PAYLOADS {
        let mut account = Account::new(payload, 10);
        account.insert(&conn).unwrap();
        assert_eq!(Account::get(&conn, (*payload).into()).unwrap(), account);
        account.balance = 20;
        account.save(&conn).unwrap();
        assert_eq!(account_row(&conn, payload), Some((format!("owner of {payload}"), 20, 1)));
    }
    assert_eq!(count(&conn, "accounts"), i64::try_from(PAYLOADS.len()).unwrap());

    // A stale write keyed by a payload names exactly that key, rendered with Debug.
    let mut stale = Account::new(PAYLOADS[0], 10);
    let err = stale.save(&conn).unwrap_err();
    let c = err.as_conflict().expect("a conflict");
    assert_eq!(c.id, format!("{:?}", PAYLOADS[0]));
    assert_eq!((c.expected, c.actual), (0, Some(1)));

    for payload in PAYLOADS {
        Account::get(&conn, (*payload).into()).unwrap().delete(&conn).unwrap();
        assert_eq!(Account::find(&conn, (*payload).into()).unwrap(), None);
    }
    assert_eq!(count(&conn, "accounts"), 0);
    tables_survive(&conn);
}

#[test]
fn a_payload_key_that_matches_no_row_finds_nothing() {
    let conn = connection();
    Account::new("real", 1).insert(&conn).unwrap();
    for probe in ["' OR '1'='1", "real' --", "%", "real\0"] {
        assert_eq!(Account::find(&conn, probe.into()).unwrap(), None, "probe {probe:?}");
    }
    let err = Account::get(&conn, "' OR '1'='1".into()).unwrap_err();
    assert_eq!(err.to_string(), r#"no row in accounts with id="' OR '1'='1""#);
}

#[test]
fn other_driver_types_round_trip() {
    let conn = connection();
    let samples = [
        Sample { id: 1, big: i64::MAX, ratio: 0.1, flag: true, maybe: None, data: vec![0, 1, 0, 255], version: 0 },
        Sample { id: 2, big: i64::MIN, ratio: -1e300, flag: false, maybe: Some(0), data: Vec::new(), version: 0 },
        Sample {
            id: 3,
            big: 0,
            ratio: f64::MIN_POSITIVE,
            flag: true,
            maybe: Some(-1),
            data: vec![b'\''; 3],
            version: 0,
        },
    ];
    for s in &samples {
        s.clone().insert(&conn).unwrap();
        assert_eq!(&Sample::get(&conn, s.id).unwrap(), s);
    }
    let mut s = samples[0].clone();
    s.maybe = Some(42);
    s.data = b"'; DROP TABLE samples; --\0".to_vec();
    s.flag = false;
    s.save(&conn).unwrap();
    assert_eq!(Sample::get(&conn, 1).unwrap(), s);
    let (maybe_type, data): (String, Vec<u8>) = conn
        .query_row("SELECT typeof(maybe), data FROM samples WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(maybe_type, "integer");
    assert_eq!(data, b"'; DROP TABLE samples; --\0");
    let null_type: String = conn.query_row("SELECT typeof(maybe) FROM samples WHERE id = 2", [], |r| r.get(0)).unwrap();
    assert_eq!(null_type, "integer", "Some(0) is stored as 0, not NULL");
    assert_eq!(count(&conn, "samples"), 3);
}
