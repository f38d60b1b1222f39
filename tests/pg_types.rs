//! PostgreSQL parameter types: a value the library writes ends up as a statement
//! prepared by hand would leave it, stored unchanged or refused, whatever the
//! session's settings. The server converts a parameter sent with one type into a
//! column of another, shifting a timestamp by the session's `TimeZone` or rounding a
//! float; a statement it prepares itself names the column's type, which the driver
//! then refuses to encode a mismatched Rust value into.
//!
//! Each test works in a schema of its own (`pgtrap_<test>`), so the tests run in
//! parallel. The server comes from `VERSIONED_PG_URL`; when it does not answer the
//! tests say so and pass, except under `CI=true`, where they fail.

#![cfg(feature = "postgres")]

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use postgres::Client;
use postgres::types::ToSql;
use versioned::backend::postgres::CachingClient;
use versioned::backend::{Bind, Postgres};
use versioned::{Error, Versioned};

mod common;
#[path = "traps/pg.rs"]
mod pg;
#[path = "suite/db/server.rs"]
mod server;
#[allow(dead_code)] // only the helpers of `pg` use it here
mod traps;

use pg::Db;

/// Declares an entity of the `probes` table whose `value` field has the type `$ty`.
macro_rules! probe {
    ($name:ident, $ty:ty) => {
        #[derive(Versioned, Debug, Clone)]
        #[versioned(table = "probes")]
        struct $name {
            id: i64,
            value: $ty,
            #[version]
            version: i64,
        }
    };
}

probe!(UtcProbe, DateTime<Utc>);
probe!(NaiveProbe, NaiveDateTime);
probe!(FloatProbe, f64);

/// A session time zone other than UTC, so that a timestamp shifted by it shows.
const SESSION_TIME_ZONE: &str = "SET TIME ZONE 'America/New_York'";

const INSERT: &str = "INSERT INTO probes (id, value, version) VALUES ($1, $2, $3)";
const UPDATE: &str = "UPDATE probes SET value = $1, version = $2 WHERE id = $3 AND version = $4";

/// What became of a value written into a column: its text as stored, read in UTC,
/// or why it was refused (the server's SQLSTATE, or the driver's conversion error).
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Stored(String),
    Refused(String),
}

/// Why the driver or the server refused a statement.
fn refusal(e: &postgres::Error) -> String {
    if let Some(code) = e.code() {
        return format!("SQLSTATE {}", code.code());
    }
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The refusal inside one of the library's errors.
fn library_refusal(err: &Error) -> String {
    match err {
        Error::Database(e) => refusal(e.downcast_ref::<postgres::Error>().expect("a postgres::Error inside")),
        other => panic!("expected Error::Database, got {other:?}"),
    }
}

/// What one write left behind for row `id`.
fn outcome(reader: &mut Client, id: i64, written: Result<(), String>) -> Outcome {
    match written {
        Ok(()) => {
            let row = reader.query_one("SELECT value::text FROM probes WHERE id = $1", &[&id]).expect("read back");
            Outcome::Stored(row.get(0))
        }
        Err(why) => Outcome::Refused(why),
    }
}

/// A connection of the test's schema whose session runs in New York time.
fn new_york(db: &Db) -> Client {
    let mut client = db.client();
    client.batch_execute(SESSION_TIME_ZONE).expect("set the session's time zone");
    client
}

/// Writes `value` into a `probes.value` column of type `column`, by insert and by save,
/// through a statement prepared by hand, a plain `Client` and a `CachingClient`, each
/// session in New York time. Checks that all three agree on each write and returns
/// the insert's outcome; `None` when no server answers.
fn write_everywhere<T, V>(test: &str, column: &str, seed: &str, value: V, entity: impl Fn(i64) -> T) -> Option<Outcome>
where
    T: Versioned + Bind<Postgres>,
    V: ToSql + Sync,
{
    let ddl = format!(
        "CREATE TABLE probes (id BIGINT PRIMARY KEY, value {column} NOT NULL, version BIGINT NOT NULL);
         INSERT INTO probes SELECT id, {seed}, 0 FROM generate_series(11, 13) AS id;"
    );
    let db = Db::open(test, &ddl)?;
    let (mut hand, mut plain) = (new_york(&db), new_york(&db));
    let mut cached = CachingClient::new(new_york(&db));
    let mut reader = db.client();
    reader.batch_execute("SET TIME ZONE 'UTC'").unwrap();

    let insert = hand.prepare(INSERT).unwrap();
    let by_hand = hand.execute(&insert, &[&1_i64, &value, &0_i64]).map(drop).map_err(|e| refusal(&e));
    let by_plain = entity(2).insert(&mut plain).map_err(|e| library_refusal(&e));
    let by_cached = entity(3).insert(&mut cached).map_err(|e| library_refusal(&e));
    let inserted = outcome(&mut reader, 1, by_hand);
    assert_eq!(outcome(&mut reader, 2, by_plain), inserted, "insert through a Client, into {column}");
    assert_eq!(outcome(&mut reader, 3, by_cached), inserted, "insert through a CachingClient, into {column}");

    let update = hand.prepare(UPDATE).unwrap();
    let by_hand = hand.execute(&update, &[&value, &1_i64, &11_i64, &0_i64]).map(drop).map_err(|e| refusal(&e));
    let by_plain = entity(12).save(&mut plain).map_err(|e| library_refusal(&e));
    let by_cached = entity(13).save(&mut cached).map_err(|e| library_refusal(&e));
    let saved = outcome(&mut reader, 11, by_hand);
    assert_eq!(outcome(&mut reader, 12, by_plain), saved, "save through a Client, into {column}");
    assert_eq!(outcome(&mut reader, 13, by_cached), saved, "save through a CachingClient, into {column}");
    assert_eq!(saved, inserted, "insert and save into {column}");
    Some(inserted)
}

/// 2024-03-10 12:34:56.789 as an instant in UTC.
fn instant() -> DateTime<Utc> {
    naive().and_utc()
}

/// 2024-03-10 12:34:56.789 as a wall-clock time.
fn naive() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 3, 10).unwrap().and_hms_milli_opt(12, 34, 56, 789).unwrap()
}

/// Slightly more than 0.3: the nearest `f64` to 0.1 + 0.2.
const FLOAT: f64 = 0.1 + 0.2;

/// Refused: the column's type is not a type of the field, as with a prepared statement.
fn expect_refused(outcome: Option<Outcome>, rust: &str, column: &str) {
    let Some(outcome) = outcome else { return };
    let Outcome::Refused(why) = outcome else { panic!("expected {rust} into {column} to be refused: {outcome:?}") };
    let expected = format!("the Postgres type `{column}`");
    assert!(why.contains(&expected) && why.contains(rust), "{why}");
}

/// Stored unchanged, read back as `expected`.
fn expect_stored(outcome: Option<Outcome>, expected: &str) {
    if let Some(outcome) = outcome {
        assert_eq!(outcome, Outcome::Stored(expected.into()));
    }
}

#[test]
fn utc_instant_into_timestamp_is_refused_not_shifted() {
    let outcome = write_everywhere("types_utc_timestamp", "TIMESTAMP", "'2000-01-01'", instant(), |id| UtcProbe {
        id,
        value: instant(),
        version: 0,
    });
    expect_refused(outcome, "DateTime<chrono::offset::utc::Utc>", "timestamp");
}

#[test]
fn naive_time_into_timestamptz_is_refused_not_shifted() {
    let outcome = write_everywhere("types_naive_timestamptz", "TIMESTAMPTZ", "'2000-01-01'", naive(), |id| {
        NaiveProbe { id, value: naive(), version: 0 }
    });
    expect_refused(outcome, "NaiveDateTime", "timestamptz");
}

#[test]
fn double_into_real_is_refused_not_rounded() {
    let outcome =
        write_everywhere("types_double_real", "REAL", "0", FLOAT, |id| FloatProbe { id, value: FLOAT, version: 0 });
    expect_refused(outcome, "f64", "float4");
}

#[test]
fn double_into_numeric_is_refused_not_rounded() {
    let outcome = write_everywhere("types_double_numeric", "NUMERIC", "0", FLOAT, |id| FloatProbe {
        id,
        value: FLOAT,
        version: 0,
    });
    expect_refused(outcome, "f64", "numeric");
}

#[test]
fn matching_types_are_stored_unchanged() {
    let at = write_everywhere("types_utc_timestamptz", "TIMESTAMPTZ", "'2000-01-01'", instant(), |id| UtcProbe {
        id,
        value: instant(),
        version: 0,
    });
    expect_stored(at, "2024-03-10 12:34:56.789+00");
    let wall = write_everywhere("types_naive_timestamp", "TIMESTAMP", "'2000-01-01'", naive(), |id| NaiveProbe {
        id,
        value: naive(),
        version: 0,
    });
    expect_stored(wall, "2024-03-10 12:34:56.789");
    let float = write_everywhere("types_double_double", "DOUBLE PRECISION", "0", FLOAT, |id| FloatProbe {
        id,
        value: FLOAT,
        version: 0,
    });
    expect_stored(float, "0.30000000000000004");
}

/// A parameter of a type sent as is keeps it in a statement the server names other
/// types of: an `i32` still goes into a `bigint` column beside an `f64`.
#[test]
fn known_types_stay_beside_types_left_to_the_server() {
    #[derive(Versioned, Debug, Clone, PartialEq)]
    #[versioned(table = "mixed")]
    struct Mixed {
        id: i64,
        count: i32,
        ratio: f64,
        #[version]
        version: i64,
    }

    let ddl = "CREATE TABLE mixed (id BIGINT PRIMARY KEY, count BIGINT NOT NULL, ratio DOUBLE PRECISION NOT NULL, \
               version BIGINT NOT NULL)";
    let Some(db) = Db::open("types_mixed", ddl) else { return };
    let mut plain = db.client();
    let mut cached = CachingClient::new(db.client());
    let mut one = Mixed { id: 1, count: 7, ratio: FLOAT, version: 0 };
    let mut two = Mixed { id: 2, count: 8, ratio: FLOAT, version: 0 };
    one.insert(&mut plain).unwrap();
    two.insert(&mut cached).unwrap();
    (one.count, two.count) = (70, 80);
    one.save(&mut plain).unwrap();
    two.save(&mut cached).unwrap();
    let rows: Vec<(i64, i64, f64, i64)> = plain
        .query("SELECT id, count, ratio, version FROM mixed ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(rows, [(1, 70, FLOAT, 1), (2, 80, FLOAT, 1)]);
}
