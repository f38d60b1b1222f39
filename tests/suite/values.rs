//! Values are bound, never formatted into SQL: text shaped like SQL injection
//! round-trips unchanged and the tables survive.

use versioned::Versioned;
use versioned::backend::Bind;

use super::{Db, Session, Val, account_row, count, open, row, user_row};
use crate::common::{Account, User};

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
pub struct Sample {
    id: i64,
    big: i64,
    ratio: f64,
    flag: bool,
    maybe: Option<i64>,
    data: Vec<u8>,
    #[version]
    version: i64,
}

/// Both tables a payload names still exist (a query on a dropped table fails).
fn tables_survive<D: Db>(s: &mut impl Session) {
    for table in ["users", "accounts"] {
        let sql = format!("SELECT count(*) FROM {}", D::quote(table));
        assert!(s.try_query(&sql, &[]).is_ok(), "the table {table} still exists");
    }
}

fn len(items: &[&str]) -> i64 {
    i64::try_from(items.len()).unwrap()
}

pub fn payloads_round_trip_through_insert_and_get<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    for (i, payload) in PAYLOADS.iter().enumerate() {
        let mut user = User::new(payload, Some(&format!("{payload}#{i}")));
        user.insert(c.ex()).unwrap();
        assert_eq!(User::get(c.ex(), user.id).unwrap(), user);
        assert_eq!(user_row(&mut c, user.id), Some((Some((*payload).into()), Some(format!("{payload}#{i}")), 0)));
    }
    tables_survive::<D>(&mut c);
    assert_eq!(count::<D>(&mut c, "users"), len(PAYLOADS));
}

pub fn payloads_round_trip_through_save_and_reload<D: Db>(test: &str)
where
    User: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut user = User::new("plain", None);
    user.insert(c.ex()).unwrap();
    let mut witness = User::new("witness", None);
    witness.insert(c.ex()).unwrap();
    for payload in PAYLOADS {
        user.name = (*payload).into();
        user.email = Some((*payload).into());
        user.save(c.ex()).unwrap();
        let mut copy = User::new("", None);
        copy.id = user.id;
        copy.reload(c.ex()).unwrap();
        assert_eq!(copy, user);
    }
    tables_survive::<D>(&mut c);
    assert_eq!(user_row(&mut c, user.id).unwrap().2, len(PAYLOADS));
    assert_eq!(user_row(&mut c, witness.id), Some((Some("witness".into()), None, 0)), "no other row was written");
}

pub fn payloads_as_text_keys<D: Db>(test: &str)
where
    Account: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    for payload in PAYLOADS {
        let mut account = Account::new(payload, 10);
        account.insert(c.ex()).unwrap();
        assert_eq!(Account::get(c.ex(), (*payload).into()).unwrap(), account);
        account.balance = 20;
        account.save(c.ex()).unwrap();
        assert_eq!(account_row(&mut c, payload), Some((format!("owner of {payload}"), 20, 1)));
    }
    assert_eq!(count::<D>(&mut c, "accounts"), len(PAYLOADS));

    // A stale write keyed by a payload names exactly that key, rendered with Debug.
    let mut stale = Account::new(PAYLOADS[0], 10);
    let err = stale.save(c.ex()).unwrap_err();
    let conflict = err.as_conflict().expect("a conflict");
    assert_eq!(conflict.id, format!("{:?}", PAYLOADS[0]));
    assert_eq!((conflict.expected, conflict.actual), (0, Some(1)));

    for payload in PAYLOADS {
        Account::get(c.ex(), (*payload).into()).unwrap().delete(c.ex()).unwrap();
        assert_eq!(Account::find(c.ex(), (*payload).into()).unwrap(), None);
    }
    assert_eq!(count::<D>(&mut c, "accounts"), 0);
    tables_survive::<D>(&mut c);
}

pub fn a_payload_key_that_matches_no_row_finds_nothing<D: Db>(test: &str)
where
    Account: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    Account::new("real", 1).insert(c.ex()).unwrap();
    let mut probes = vec!["' OR '1'='1", "real' --", "%"];
    // PostgreSQL text cannot hold NUL at all: binding one is refused by the server.
    if D::TEXT_HOLDS_NUL {
        probes.push("real\0");
    }
    for probe in probes {
        assert_eq!(Account::find(c.ex(), probe.into()).unwrap(), None, "probe {probe:?}");
    }
    let err = Account::get(c.ex(), "' OR '1'='1".into()).unwrap_err();
    assert_eq!(err.to_string(), r#"no row in accounts with id="' OR '1'='1""#);
}

pub fn other_driver_types_round_trip<D: Db>(test: &str)
where
    Sample: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
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
        s.clone().insert(c.ex()).unwrap();
        assert_eq!(&Sample::get(c.ex(), s.id).unwrap(), s);
    }
    let mut s = samples[0].clone();
    s.maybe = Some(42);
    s.data = b"'; DROP TABLE samples; --\0".to_vec();
    s.flag = false;
    s.save(c.ex()).unwrap();
    assert_eq!(Sample::get(c.ex(), 1).unwrap(), s);
    let stored: Option<(Val, Vec<u8>)> = row(&mut c, "SELECT maybe, data FROM samples WHERE id = 1", &[]);
    assert_eq!(stored, Some((Val::Int(42), b"'; DROP TABLE samples; --\0".to_vec())));
    let zero: Option<(Val,)> = row(&mut c, "SELECT maybe FROM samples WHERE id = 2", &[]);
    assert_eq!(zero, Some((Val::Int(0),)), "Some(0) is stored as 0, not NULL");
    for id in [1, 2] {
        if let Some(class) = D::storage_class(&mut c, "samples", "maybe", id) {
            assert_eq!(class, "integer");
        }
    }
    assert_eq!(count::<D>(&mut c, "samples"), 3);
}
