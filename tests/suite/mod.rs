//! The behaviour suite: every case written once, generic over the database it runs on.
//!
//! A backend's test file implements [`Db`] (how to make a test's own empty database,
//! connect to it, run transactions and raw SQL) and expands [`suite!`] with it, which
//! makes one `#[test]` per case. Cases check rows with raw SQL through [`Session`], not
//! through the library under test.
//!
//! Each test gets a database of its own (an in-memory SQLite database, a SQLite file
//! for sqlx, a PostgreSQL schema, a MySQL database), so tests run in parallel without
//! seeing each other's rows.

mod raw;

pub mod concurrency;
pub mod conflicts;
pub mod decode;
pub mod identifiers;
pub mod keys;
pub mod ops;
pub mod retry;
pub mod rows;
pub mod transactions;
pub mod update;
pub mod values;
pub mod wrap;

pub use raw::{Session, Val, exec, row, rows, scalar};
use versioned::backend::{Backend, Bind};
use versioned::{Error, Versioned};

use crate::common::User;

/// A database the suite runs on.
pub trait Db: Sized + 'static {
    /// The database's name, for messages.
    const NAME: &'static str;
    /// How many increments each thread of a stress case makes.
    const ROUNDS: usize;

    /// Column types of the schema. `AUTO_KEY` is a whole key column definition.
    const AUTO_KEY: &'static str;
    const BIGINT: &'static str;
    const INT: &'static str;
    const SMALLINT: &'static str;
    const TEXT: &'static str;
    /// A text type that can be a key or unique.
    const KEY_TEXT: &'static str;
    const DOUBLE: &'static str;
    const BLOB: &'static str;
    const BOOL: &'static str;
    /// Whether a text value may hold a NUL character.
    const TEXT_HOLDS_NUL: bool;
    /// Whether a write fails as busy when another connection committed after the
    /// transaction's first read (SQLite), rather than running on the latest rows.
    const STALE_SNAPSHOT_WRITE_FAILS: bool;
    /// Whether `verify` is refused in a read-only transaction: PostgreSQL reads the
    /// version with `FOR SHARE`, a locking read it allows only in read-write ones.
    const READ_ONLY_REFUSES_VERIFY: bool;

    type Backend: Backend;
    type Conn: Session<Backend = Self::Backend> + Send;
    type Tx<'c>: Session<Backend = Self::Backend>;
    /// A savepoint inside a transaction.
    type Sp<'s, 'c>: Session<Backend = Self::Backend>
    where
        'c: 's;
    /// Where one test's tables live; every connection of the test opens it. Dropped
    /// at the end of the test, it removes them unless the test failed.
    type Place: Sync;

    /// The identifier quoted for raw SQL.
    fn quote(ident: &str) -> String;
    /// Makes the test's own database holding every table of [`schema`], empty, and a
    /// first connection to it; `None` when the server does not answer (outside CI).
    /// `shared`: the case opens more connections with [`Db::connect`].
    fn create(test: &str, shared: bool) -> Option<(Self::Place, Self::Conn)>;
    /// Another connection to the test's database.
    fn connect(place: &Self::Place) -> Self::Conn;

    fn begin(conn: &mut Self::Conn) -> Result<Self::Tx<'_>, Error>;
    /// A transaction that may only read.
    fn begin_read_only(conn: &mut Self::Conn) -> Result<Self::Tx<'_>, Error>;
    fn commit(tx: Self::Tx<'_>) -> Result<(), Error>;
    fn rollback(tx: Self::Tx<'_>) -> Result<(), Error>;
    fn savepoint<'s, 'c: 's>(tx: &'s mut Self::Tx<'c>) -> Self::Sp<'s, 'c>;
    /// Keeps the savepoint's writes in the transaction.
    fn release<'s, 'c: 's>(sp: Self::Sp<'s, 'c>);
    /// Undoes the savepoint's writes and ends it.
    fn rollback_to<'s, 'c: 's>(sp: Self::Sp<'s, 'c>);

    /// A key column definition that generates nothing and has no usable default
    /// (`BIGINT PRIMARY KEY` without a sequence), as a user used to another database
    /// may write it for an `#[id(auto)]` key.
    const UNGENERATED_KEY: &'static str;
    /// Whether the database refuses an insert that leaves [`Db::UNGENERATED_KEY`]
    /// without a value (a NOT NULL violation), rather than storing a row.
    const UNGENERATED_KEY_REFUSED: bool;
    /// Whether the row an insert stored with a NULL generated key can be found to
    /// take it back (SQLite, by its rowid).
    const TAKES_BACK_NULL_KEYS: bool;
    /// Whether the row an insert stored in a table whose key is [`Db::UNGENERATED_KEY`]
    /// (when not refused) can be found to take it back: by its rowid on SQLite through
    /// rusqlite, by the key column's default on MySQL; not through sqlx on SQLite,
    /// where the key reads back NULL and sqlx has no rowid to go by.
    const TAKES_BACK_UNGENERATED_KEYS: bool;
    /// Whether an UPDATE that a trigger undid (every column put back) still counts as
    /// a written row: sqlx's MySQL driver always connects with `CLIENT_FOUND_ROWS`, so
    /// the count is the rows the write matched, and nothing tells the library that
    /// the row was left as it was.
    const UNDONE_UPDATES_COUNT_AS_WRITTEN: bool = false;

    /// Statements that make every UPDATE of `table` match its row yet write nothing,
    /// as a trigger can. `columns`: every column but the key, for databases whose
    /// triggers must put each one back.
    fn ignore_updates(table: &str, columns: &[&str]) -> Vec<String>;
    /// Statements that make every DELETE of `table` delete nothing; `None` where no
    /// trigger can skip a delete (MySQL).
    fn ignore_deletes(table: &str) -> Option<Vec<String>>;
    /// Statements that make every DELETE of `table` fail, saying `message`.
    fn refuse_deletes(table: &str, message: &str) -> Vec<String>;

    /// Whether the error is the driver's unique or primary key violation.
    fn is_unique_violation(err: &Error) -> bool;
    /// SQLite's storage class of a column of row `id` (`typeof`); `None` elsewhere.
    fn storage_class(_conn: &mut Self::Conn, _table: &str, _column: &str, _id: i64) -> Option<String> {
        None
    }
    /// Makes the next generated key of `table` follow the largest stored one, after
    /// rows were stored with explicit keys (PostgreSQL sequences do not follow them).
    fn follow_explicit_keys(_conn: &mut Self::Conn, _table: &str) {}
}

/// The number of rows in `table` (a test-chosen name, quoted here).
pub fn count<D: Db>(s: &mut impl Session, table: &str) -> i64 {
    scalar(s, &format!("SELECT count(*) FROM {}", D::quote(table)), &[])
}

/// A `users` row as stored: `(name, email_address, version)`.
pub type UserRow = (Option<String>, Option<String>, i64);

/// The `users` row with key `id`, read with plain SQL.
pub fn user_row(s: &mut impl Session, id: i64) -> Option<UserRow> {
    row(s, "SELECT name, email_address, version FROM users WHERE id = ?", &[&id])
}

/// An `accounts` row as stored: `(owner, balance, version)`.
pub fn account_row(s: &mut impl Session, code: &str) -> Option<(String, i64, i64)> {
    row(s, "SELECT owner, balance, version FROM accounts WHERE code = ?", &[&code])
}

/// An `items` row as stored: `(label, qty, version)`.
pub fn item_row(s: &mut impl Session, id: i64) -> Option<(String, i64, i64)> {
    row(s, "SELECT label, qty, version FROM items WHERE id = ?", &[&id])
}

/// Inserts a user through the library and returns it.
pub fn insert_user<S: Session>(s: &mut S, name: &str) -> User
where
    User: Bind<S::Backend>,
{
    let mut user = User::new(name, Some(&format!("{name}@example.com")));
    user.insert(s.ex()).expect("insert a user");
    user
}

/// Another writer: changes the name and bumps the version of a `users` row with
/// plain SQL, as a concurrent `save` would.
pub fn write_behind_the_back(s: &mut impl Session, id: i64, name: &str) {
    let n = exec(s, "UPDATE users SET name = ?, version = version + 1 WHERE id = ?", &[&name, &id]);
    assert_eq!(n, 1, "the concurrent write should hit the row");
}

/// The conflict an error holds, as `(actual, expected)`.
pub fn conflict(err: &Error) -> (Option<i64>, i64) {
    let c = err.as_conflict().unwrap_or_else(|| panic!("expected a conflict, got {err:?}"));
    (c.actual, c.expected)
}

/// The test's own database and a first connection to it; `None`: skip the case.
pub fn open<D: Db>(test: &str) -> Option<(D::Place, D::Conn)> {
    D::create(test, false)
}

/// Like [`open`], for a case that opens more connections with [`Db::connect`].
pub fn open_shared<D: Db>(test: &str) -> Option<(D::Place, D::Conn)> {
    D::create(test, true)
}

/// The CREATE TABLE statements of every table the cases use, in `D`'s types.
pub fn schema<D: Db>() -> Vec<String> {
    let q = D::quote;
    let (key, big, int, small) = (D::AUTO_KEY, D::BIGINT, D::INT, D::SMALLINT);
    let (text, ktext, double, blob, boolean) = (D::TEXT, D::KEY_TEXT, D::DOUBLE, D::BLOB, D::BOOL);
    let wrap = |table: &str, version: &str| {
        format!("CREATE TABLE {table} (id {big} PRIMARY KEY, value {text} NOT NULL, version {version} NOT NULL)")
    };
    vec![
        // `name` and `version` are nullable on purpose: decode cases store NULL.
        format!("CREATE TABLE users (id {key}, name {text}, email_address {ktext} UNIQUE, version {big})"),
        format!("CREATE TABLE items (id {big} PRIMARY KEY, label {text} NOT NULL, qty {big}, version {int} NOT NULL)"),
        // `items` with a text column where `Item` has an integer.
        format!(
            "CREATE TABLE loose_items (id {big} PRIMARY KEY, label {text} NOT NULL, qty {text}, version {int} NOT NULL)"
        ),
        format!(
            "CREATE TABLE accounts (code {ktext} PRIMARY KEY, owner {text} NOT NULL, balance {big} NOT NULL, \
             version {big} NOT NULL)"
        ),
        format!("CREATE TABLE notes (id {big} PRIMARY KEY, body {text} NOT NULL, version {big} NOT NULL)"),
        wrap("wrap16", small),
        wrap("wrap32", int),
        wrap("wrap64", big),
        // An `i16` version over a wider column, to store a value out of its range.
        wrap("wide16", big),
        format!(
            // `lines` is a reserved word in MySQL.
            "CREATE TABLE {} (order_id {big} NOT NULL, sku {ktext} NOT NULL, quantity {int}, \
             version {big} NOT NULL, PRIMARY KEY (order_id, sku))",
            q("lines")
        ),
        format!(
            "CREATE TABLE seats (hall {ktext} NOT NULL, label {text} NOT NULL, number {int} NOT NULL, \
             version {small} NOT NULL, PRIMARY KEY (hall, number))"
        ),
        format!(
            "CREATE TABLE {} (id {big} PRIMARY KEY, {} {boolean} NOT NULL, {} {text} NOT NULL, version {big} NOT NULL)",
            q("order"),
            q("select"),
            q("group")
        ),
        format!("CREATE TABLE order_lines (id {big} PRIMARY KEY, {} {text} NOT NULL, rev {big} NOT NULL)", q("type")),
        format!(
            "CREATE TABLE {} (id {key}, {} {big} NOT NULL, version {int} NOT NULL)",
            q("line items"),
            q("unit price")
        ),
        format!(
            "CREATE TABLE quoted (id {big} PRIMARY KEY, {} {text} NOT NULL, version {big} NOT NULL)",
            q("odd \"quoted\" name")
        ),
        format!(
            "CREATE TABLE samples (id {big} PRIMARY KEY, big {big} NOT NULL, ratio {double} NOT NULL, \
             flag {boolean} NOT NULL, maybe {big}, data {blob} NOT NULL, version {big} NOT NULL)"
        ),
        format!("CREATE TABLE markers (id {big} PRIMARY KEY, version {big} NOT NULL)"),
        format!("CREATE TABLE small_keys (id {key}, name {text} NOT NULL, version {big} NOT NULL)"),
        format!("CREATE TABLE counters (id {big} PRIMARY KEY, value {big} NOT NULL, version {big} NOT NULL)"),
        // `items` whose key is not unique.
        format!(
            "CREATE TABLE loose_keys (id {big} NOT NULL, label {text} NOT NULL, qty {big}, version {int} NOT NULL)"
        ),
        // Keys that generate nothing.
        format!("CREATE TABLE plain_keys (id {}, name {text} NOT NULL, version {big} NOT NULL)", D::UNGENERATED_KEY),
        format!("CREATE TABLE null_keys (id {big}, name {text} NOT NULL, version {big} NOT NULL)"),
    ]
}

/// Expands to one `#[test]` per case of the suite on the given [`Db`]; with a list of
/// groups after `;`, to the cases of those groups only.
macro_rules! suite {
    ($db:ty) => {
        $crate::suite::suite!(
            $db;
            ops, conflicts, keys, decode, identifiers, values, wrap, transactions, retry, update, rows, concurrency
        );
    };
    ($db:ty; $($group:ident),+ $(,)?) => {
        type SuiteDb = $db;
        $( $crate::suite::suite!(@$group); )+
    };
    (@ops) => {
        $crate::suite::suite!(@cases ops:
            insert_sets_the_version_to_zero_and_fills_in_the_generated_key,
            insert_with_a_caller_provided_key_stores_that_key,
            insert_of_a_duplicate_key_is_a_database_error_and_changes_nothing,
            insert_violating_a_unique_column_keeps_the_generated_key_unset,
            save_writes_every_field_and_bumps_the_version,
            save_writes_only_its_own_row,
            save_of_a_stale_entity_is_a_conflict,
            save_of_a_row_never_stored_is_a_conflict_and_inserts_nothing,
            delete_removes_the_row,
            delete_of_a_stale_entity_is_a_conflict_and_keeps_the_row,
            delete_twice_is_a_conflict_on_a_missing_row,
            touch_bumps_the_version_without_writing_other_fields,
            touch_of_a_stale_entity_is_a_conflict,
            verify_accepts_a_current_entity_and_writes_nothing,
            verify_of_a_stale_entity_reports_the_current_version,
            verify_of_a_deleted_row_reports_no_row,
            reload_reads_every_persisted_field_and_keeps_skipped_ones,
            reload_of_a_deleted_row_is_not_found_and_leaves_the_entity,
            find_returns_the_row_with_default_skipped_fields,
            find_of_a_missing_key_is_none,
            get_returns_the_row,
            get_of_a_missing_key_is_not_found,
            skipped_fields_need_only_default,
            a_full_lifecycle,
            an_entity_of_only_key_and_version,
            one_executor_lent_to_several_calls,
        );
    };
    (@conflicts) => {
        $crate::suite::suite!(@cases conflicts:
            stale_save_names_the_row_and_both_versions,
            stale_delete_names_the_row_and_both_versions,
            stale_touch_names_the_row_and_both_versions,
            stale_verify_names_the_row_and_both_versions,
            a_newer_version_than_the_row_is_a_conflict_too,
            save_after_delete_reports_a_missing_row_and_inserts_nothing,
            touch_delete_and_verify_after_delete_report_a_missing_row,
            a_row_deleted_and_stored_again_is_found_with_its_new_version,
            a_conflict_is_resolved_by_reloading_and_saving_again,
            the_version_a_client_saw_can_be_carried_in_the_field,
            every_conflict_of_a_batch_names_its_own_row,
            a_text_key_is_rendered_with_quotes,
            errors_are_thread_safe_std_errors,
            each_text_of_an_error_chain_is_printed_once,
        );
    };
    (@keys) => {
        $crate::suite::suite!(@cases keys:
            get_and_find_take_the_key_as_a_tuple,
            get_of_a_missing_key_renders_the_tuple,
            save_writes_only_the_row_with_the_whole_key,
            touch_and_verify_use_the_whole_key,
            delete_removes_only_the_row_with_the_whole_key,
            reload_reads_the_row_with_the_whole_key,
            a_conflict_renders_the_key_as_a_tuple,
            save_after_delete_of_a_composite_row_reports_a_missing_row,
            a_duplicate_composite_key_is_a_database_error,
            key_fields_apart_form_the_tuple_in_field_order,
        );
    };
    (@decode) => {
        $crate::suite::suite!(@cases decode:
            a_null_in_a_non_option_field,
            a_null_in_an_option_field_is_none,
            text_in_an_integer_field,
            an_integer_out_of_the_field_range,
            reload_of_a_bad_row_leaves_the_entity,
            verify_of_a_null_version,
            a_write_that_misses_and_then_reads_a_null_version,
            a_decode_error_names_a_composite_key,
            a_generated_key_too_large_for_its_field_stores_nothing,
        );
    };
    (@identifiers) => {
        $crate::suite::suite!(@cases identifiers:
            a_table_named_order_with_columns_named_select_and_group,
            a_renamed_column_lands_in_that_column,
            the_default_table_is_the_snake_case_plural_and_raw_identifiers_lose_their_prefix,
            names_with_spaces,
            a_column_name_holding_double_quotes,
        );
    };
    (@values) => {
        $crate::suite::suite!(@cases values:
            payloads_round_trip_through_insert_and_get,
            payloads_round_trip_through_save_and_reload,
            payloads_as_text_keys,
            a_payload_key_that_matches_no_row_finds_nothing,
            other_driver_types_round_trip,
        );
    };
    (@wrap) => {
        $crate::suite::suite!(@cases wrap:
            an_i32_version_wraps_from_max_to_min,
            an_i32_version_wraps_on_touch,
            a_conflict_at_the_wrap_reports_both_versions_widened,
            an_i16_version_wraps_from_max_to_min,
            an_i64_version_wraps_from_max_to_min_and_stays_an_integer,
            an_i64_version_wraps_on_touch,
            a_stale_entity_at_max_is_a_conflict_not_a_wrap,
        );
    };
    (@transactions) => {
        $crate::suite::suite!(@cases transactions:
            a_save_rolled_back_leaves_the_row_but_not_the_in_memory_version,
            dropping_a_transaction_rolls_back_every_operation,
            a_committed_transaction_keeps_every_operation,
            a_conflict_inside_a_transaction_leaves_it_usable,
            a_conflict_reports_the_version_committed_after_the_transaction_began,
            reads_and_verify_work_in_a_read_only_transaction,
            a_savepoint_rolled_back_undoes_only_its_own_writes,
            a_conflict_inside_a_savepoint,
            a_failed_transfer_writes_neither_side,
        );
    };
    (@retry) => {
        $crate::suite::suite!(@cases retry:
            gives_up_after_max_attempts_on_a_persistent_conflict_and_returns_the_last_error,
            the_default_policy_gives_up_after_five_attempts,
            one_attempt_means_no_retry,
            does_not_retry_not_found,
            does_not_retry_a_constraint_violation,
            does_not_retry_a_decode_error,
            succeeds_on_the_third_attempt,
            application_errors_pass_through_an_outer_result,
        );
    };
    (@update) => {
        $crate::suite::suite!(@cases update:
            update_with_changes_and_saves_the_row,
            update_with_reads_afresh_and_changes_again_after_a_conflict,
            update_with_returns_a_refusal_unchanged_and_writes_nothing,
            update_with_of_a_missing_row_is_not_found_without_a_change,
            update_with_gives_up_after_the_policy_attempts_with_the_last_conflict,
        );
    };
    (@rows) => {
        $crate::suite::suite!(@cases rows:
            a_save_the_database_skips_is_an_ignored_write_not_a_conflict,
            an_ignored_write_and_a_conflict_are_told_apart,
            a_delete_the_database_skips_is_an_ignored_write,
            retry_gives_up_at_once_on_an_ignored_write,
            a_save_matching_several_rows_says_how_many,
            a_touch_and_a_delete_matching_several_rows_say_how_many,
            a_key_column_that_generates_nothing_stores_nothing,
            a_null_generated_key_is_an_error_and_taken_back_where_it_can_be,
            a_generated_key_too_large_is_named_in_the_error,
            a_take_back_that_deletes_nothing_says_so,
            a_failed_take_back_keeps_the_decode_error,
        );
    };
    (@concurrency) => {
        $crate::suite::suite!(@cases concurrency:
            concurrent_increments_in_transactions_are_all_counted_once,
            concurrent_increments_without_transactions_are_all_counted_once,
            concurrent_transfers_conserve_the_sum,
        );
    };
    (@cases $group:ident: $($case:ident),+ $(,)?) => {
        mod $group {
            $(
                #[test]
                fn $case() {
                    $crate::suite::$group::$case::<super::SuiteDb>(concat!(
                        stringify!($group),
                        "_",
                        stringify!($case)
                    ));
                }
            )+
        }
    };
}

pub(crate) use suite;
