//! Row counts other than one: a write the database skipped although the row holds the
//! expected version, a write whose key matched several rows, and inserts whose
//! generated key is missing or unusable. Each is its own error, never a conflict that
//! `retry` would run again, and never a silent success.

use versioned::backend::Bind;
use versioned::{Error, Operation, RetryPolicy, Versioned, retry};

use super::decode::SmallKey;
use super::{Db, Session, count, exec, item_row, open, rows, scalar};
use crate::common::Item;

/// `items` over `loose_keys`, whose `id` is not unique.
#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "loose_keys")]
pub struct LooseKey {
    id: i64,
    label: String,
    qty: i64,
    #[version]
    version: i32,
}

/// A generated key over `plain_keys`, whose key column generates nothing.
#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "plain_keys")]
pub struct PlainKey {
    #[id(auto)]
    id: i64,
    name: String,
    #[version]
    version: i64,
}

/// A generated key over `null_keys`, whose key column is a nullable plain integer.
#[derive(Versioned, Debug, Clone, PartialEq)]
#[versioned(table = "null_keys")]
pub struct NullKey {
    #[id(auto)]
    id: i64,
    name: String,
    #[version]
    version: i64,
}

fn run_all<D: Db>(s: &mut impl Session, statements: Vec<String>) {
    for sql in statements {
        exec(s, &sql, &[]);
    }
}

/// An item at version 0 in a table whose updates the database skips.
fn item_whose_updates_are_skipped<D: Db>(s: &mut D::Conn) -> Item
where
    Item: Bind<D::Backend>,
{
    let mut item = Item { id: 1, label: "kept".into(), qty: 3, version: 0 };
    item.insert(s.ex()).unwrap();
    run_all::<D>(s, D::ignore_updates("items", &["label", "qty", "version"]));
    item
}

/// The parts of an [`Error::WriteIgnored`].
fn ignored(err: &Error) -> (Operation, &'static str, String, i64) {
    match err {
        Error::WriteIgnored { operation, table, id, version, .. } => (*operation, *table, id.clone(), *version),
        other => panic!("expected Error::WriteIgnored, got {other:?}"),
    }
}

/// The parts of an [`Error::KeyNotUnique`].
fn not_unique(err: &Error) -> (Operation, &'static str, String, u64) {
    match err {
        Error::KeyNotUnique { operation, table, id, rows, .. } => (*operation, *table, id.clone(), *rows),
        other => panic!("expected Error::KeyNotUnique, got {other:?}"),
    }
}

pub fn a_save_the_database_skips_is_an_ignored_write_not_a_conflict<D: Db>(test: &str)
where
    Item: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut item = item_whose_updates_are_skipped::<D>(&mut c);
    item.label = "changed".into();
    let before = item.clone();
    if D::UNDONE_UPDATES_COUNT_AS_WRITTEN {
        // The write matched its row, which is all the count says: it looks written,
        // and the entity is left ahead of the row the trigger kept, so that its next
        // write is a conflict.
        item.save(c.ex()).unwrap();
        assert_eq!(item.version, 1);
        assert_eq!(item_row(&mut c, 1), Some(("kept".into(), 3, 0)), "the trigger kept the row");
        let err = item.touch(c.ex()).unwrap_err();
        assert_eq!(err.as_conflict().map(|e| (e.expected, e.actual)), Some((1, Some(0))), "{err:?}");
        return;
    }

    let err = item.save(c.ex()).unwrap_err();
    assert_eq!(ignored(&err), (Operation::Save, "items", "1".into(), 0));
    assert!(!err.is_conflict() && !err.is_retryable() && err.as_conflict().is_none(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "save on items id=1 was ignored by the database: the row holds the expected version 0, yet no row \
         was written (a trigger, rule or row-level security policy skipped it)"
    );
    assert_eq!(item, before, "the entity is unchanged, its version not bumped");
    assert_eq!(item_row(&mut c, 1), Some(("kept".into(), 3, 0)));

    let err = item.touch(c.ex()).unwrap_err();
    assert_eq!(ignored(&err), (Operation::Touch, "items", "1".into(), 0));
    assert_eq!(item, before);
    assert_eq!(item_row(&mut c, 1), Some(("kept".into(), 3, 0)));
}

pub fn an_ignored_write_and_a_conflict_are_told_apart<D: Db>(test: &str)
where
    Item: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut stale = Item { id: 1, label: "a".into(), qty: 1, version: 0 };
    stale.insert(c.ex()).unwrap();
    exec(&mut c, "UPDATE items SET version = 4 WHERE id = 1", &[]);
    run_all::<D>(&mut c, D::ignore_updates("items", &["label", "qty", "version"]));

    // The row holds another version: whatever the trigger would do, it is a conflict.
    let err = stale.save(c.ex()).unwrap_err();
    let conflict = err.as_conflict().unwrap_or_else(|| panic!("expected a conflict, got {err:?}"));
    assert_eq!((conflict.expected, conflict.actual), (0, Some(4)));
    // Holding the row's version, the same write is skipped.
    stale.version = 4;
    if D::UNDONE_UPDATES_COUNT_AS_WRITTEN {
        stale.save(c.ex()).unwrap();
        assert_eq!(item_row(&mut c, 1), Some(("a".into(), 1, 4)), "the trigger kept the row");
        return;
    }
    assert_eq!(ignored(&stale.save(c.ex()).unwrap_err()), (Operation::Save, "items", "1".into(), 4));
}

pub fn a_delete_the_database_skips_is_an_ignored_write<D: Db>(test: &str)
where
    Item: Bind<D::Backend>,
{
    let Some(statements) = D::ignore_deletes("items") else { return };
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut item = Item { id: 1, label: "kept".into(), qty: 3, version: 0 };
    item.insert(c.ex()).unwrap();
    run_all::<D>(&mut c, statements);

    let err = item.delete(c.ex()).unwrap_err();
    assert_eq!(ignored(&err), (Operation::Delete, "items", "1".into(), 0));
    assert!(!err.is_retryable());
    assert_eq!(item_row(&mut c, 1), Some(("kept".into(), 3, 0)));
}

pub fn retry_gives_up_at_once_on_an_ignored_write<D: Db>(test: &str)
where
    Item: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    item_whose_updates_are_skipped::<D>(&mut c);
    let mut attempts = 0;
    let result = retry(RetryPolicy::default().no_delay(), || {
        attempts += 1;
        let mut item = Item::get(c.ex(), 1)?;
        item.qty += 1;
        item.save(c.ex())
    });
    if D::UNDONE_UPDATES_COUNT_AS_WRITTEN {
        assert!(result.is_ok(), "the undone write looks written: {result:?}");
    } else {
        assert!(matches!(result, Err(Error::WriteIgnored { .. })), "{result:?}");
    }
    assert_eq!(attempts, 1, "an ignored write is not retried: it would be ignored again");
}

/// Two rows with key 1 and one with key 2, each at version 0.
fn duplicated_key<D: Db>(s: &mut impl Session) {
    for (id, label) in [(1_i64, "first"), (1, "second"), (2, "other")] {
        exec(s, "INSERT INTO loose_keys (id, label, qty, version) VALUES (?, ?, 0, 0)", &[&id, &label]);
    }
}

/// The `loose_keys` rows as stored, `(id, label, version)`, in a fixed order.
fn loose_rows(s: &mut impl Session) -> Vec<(i64, String, i64)> {
    rows(s, "SELECT id, label, version FROM loose_keys ORDER BY id, label", &[])
}

pub fn a_save_matching_several_rows_says_how_many<D: Db>(test: &str)
where
    LooseKey: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    duplicated_key::<D>(&mut c);
    let mut entity = LooseKey { id: 1, label: "both".into(), qty: 7, version: 0 };
    let before = entity.clone();

    let err = entity.save(c.ex()).unwrap_err();
    assert_eq!(not_unique(&err), (Operation::Save, "loose_keys", "1".into(), 2));
    assert!(!err.is_conflict() && !err.is_retryable(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "save on loose_keys id=1 matched 2 rows and changed them all: the key is not unique in the table; \
         make the key fields its primary key or a unique key"
    );
    assert_eq!(entity, before, "the entity is unchanged, its version not bumped");
    // As the error says, the write reached both rows with the key, and no other.
    assert_eq!(
        loose_rows(&mut c),
        [(1, "both".into(), 1), (1, "both".into(), 1), (2, "other".into(), 0)],
        "the write reached every row with the key"
    );
}

pub fn a_touch_and_a_delete_matching_several_rows_say_how_many<D: Db>(test: &str)
where
    LooseKey: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    duplicated_key::<D>(&mut c);
    let mut entity = LooseKey { id: 1, label: "first".into(), qty: 0, version: 0 };

    let err = entity.touch(c.ex()).unwrap_err();
    assert_eq!(not_unique(&err), (Operation::Touch, "loose_keys", "1".into(), 2));
    assert_eq!(entity.version, 0);

    entity.version = 1;
    let err = entity.delete(c.ex()).unwrap_err();
    assert_eq!(not_unique(&err), (Operation::Delete, "loose_keys", "1".into(), 2));
    assert!(err.to_string().contains("matched 2 rows and deleted them all"), "{err}");
    assert_eq!(loose_rows(&mut c), [(2, "other".into(), 0)]);
}

pub fn a_key_column_that_generates_nothing_stores_nothing<D: Db>(test: &str)
where
    PlainKey: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    for attempt in 1..=2 {
        let mut entity = PlainKey { id: 0, name: "ada".into(), version: 3 };
        let before = entity.clone();
        let err = entity.insert(c.ex()).unwrap_err();
        match &err {
            Error::Database(_) if D::UNGENERATED_KEY_REFUSED => {}
            Error::NoGeneratedKey(e) if !D::UNGENERATED_KEY_REFUSED => {
                assert_eq!((e.table, e.column), ("plain_keys", "id"));
                assert_eq!(e.row_taken_back(), D::TAKES_BACK_UNGENERATED_KEYS, "{err}");
                let fate = if D::TAKES_BACK_UNGENERATED_KEYS {
                    "the row was taken back"
                } else {
                    "the row stays stored: with no key, nothing can find it"
                };
                assert_eq!(
                    err.to_string(),
                    format!(
                        "insert into plain_keys generated no key in column id; declare it INTEGER PRIMARY KEY \
                         (SQLite), an identity or serial column (PostgreSQL) or AUTO_INCREMENT (MySQL), or drop \
                         #[id(auto)]; {fate}"
                    )
                );
            }
            other => panic!("expected the insert to fail for want of a generated key, got {other:?}"),
        }
        assert!(!err.is_retryable());
        assert_eq!(entity, before, "the entity is unchanged");
        // A row that cannot be found stays, as the error says.
        let left = if D::UNGENERATED_KEY_REFUSED || D::TAKES_BACK_UNGENERATED_KEYS { 0 } else { attempt };
        assert_eq!(count::<D>(&mut c, "plain_keys"), left, "a failed insert stores nothing it can take back");
    }
}

pub fn a_null_generated_key_is_an_error_and_taken_back_where_it_can_be<D: Db>(test: &str)
where
    NullKey: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    let mut entity = NullKey { id: 0, name: "ada".into(), version: 3 };
    let before = entity.clone();
    let err = entity.insert(c.ex()).unwrap_err();
    let Error::NoGeneratedKey(e) = &err else { panic!("expected Error::NoGeneratedKey, got {err:?}") };
    assert_eq!(e.row_taken_back(), D::TAKES_BACK_NULL_KEYS, "{err}");
    assert_eq!(entity, before);
    let left = if D::TAKES_BACK_NULL_KEYS { 0 } else { 1 };
    assert_eq!(count::<D>(&mut c, "null_keys"), left, "{err}");
}

/// Makes the next key `small_keys` generates 2^31, one past what `SmallKey` holds.
fn next_key_too_large<D: Db>(s: &mut D::Conn) {
    exec(s, "INSERT INTO small_keys (id, name, version) VALUES (?, 'last', 0)", &[&i32::MAX]);
    D::follow_explicit_keys(s, "small_keys");
}

/// The parts of a generated key's [`Error::Decode`]: column, key, and whether the row
/// was taken back.
fn misfit(err: &Error) -> (&'static str, String, Option<bool>) {
    match err {
        Error::Decode(e) => {
            assert_eq!(e.table, "small_keys");
            assert!(std::error::Error::source(err).is_some(), "the conversion's error is the source");
            (e.column, e.id.clone(), e.row_taken_back())
        }
        other => panic!("expected Error::Decode, got {other:?}"),
    }
}

pub fn a_generated_key_too_large_is_named_in_the_error<D: Db>(test: &str)
where
    SmallKey: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    next_key_too_large::<D>(&mut c);
    let err = SmallKey { id: 0, name: "overflow".into(), version: 5 }.insert(c.ex()).unwrap_err();
    assert_eq!(misfit(&err), ("id", "2147483648".into(), Some(true)));
    assert_eq!(
        err.to_string(),
        "insert into small_keys generated key 2147483648, which its field (column id) cannot hold; \
         the row was taken back"
    );
}

pub fn a_take_back_that_deletes_nothing_says_so<D: Db>(test: &str)
where
    SmallKey: Bind<D::Backend>,
{
    let Some(statements) = D::ignore_deletes("small_keys") else { return };
    let Some((_db, mut c)) = open::<D>(test) else { return };
    next_key_too_large::<D>(&mut c);
    run_all::<D>(&mut c, statements);
    let err = SmallKey { id: 0, name: "overflow".into(), version: 5 }.insert(c.ex()).unwrap_err();
    assert_eq!(misfit(&err), ("id", "2147483648".into(), Some(false)));
    assert!(err.to_string().ends_with("; the row could not be taken back: deleting it matched no row"), "{err}");
    let left: i64 = scalar(&mut c, "SELECT count(*) FROM small_keys WHERE name = 'overflow'", &[]);
    assert_eq!(left, 1, "the error says the row stayed, and it did");
}

pub fn a_failed_take_back_keeps_the_decode_error<D: Db>(test: &str)
where
    SmallKey: Bind<D::Backend>,
{
    let Some((_db, mut c)) = open::<D>(test) else { return };
    next_key_too_large::<D>(&mut c);
    run_all::<D>(&mut c, D::refuse_deletes("small_keys", "deletes are refused"));
    let err = SmallKey { id: 0, name: "overflow".into(), version: 5 }.insert(c.ex()).unwrap_err();
    assert_eq!(misfit(&err), ("id", "2147483648".into(), Some(false)));
    let text = err.to_string();
    assert!(text.contains("; the row could not be taken back: database error"), "{text}");
    assert!(text.contains("deletes are refused"), "the delete's own error is in the message: {text}");
}
