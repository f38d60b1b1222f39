//! The errors every operation returns.

use std::error::Error as StdError;
use std::fmt;

/// A boxed error from a driver or a value conversion.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Everything an operation of [`Versioned`](crate::Versioned) can fail with.
///
/// A failed write leaves the entity as it was, whatever the variant, and the row too,
/// with one exception said on [`Error::KeyNotUnique`]: a write whose key matched
/// several rows.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A write's version predicate matched no row: someone else wrote the row since
    /// it was read, or it was deleted. Returned by `save`, `delete`, `touch` and
    /// `verify`.
    OptimisticLock(OptimisticLockError),
    /// No row has the key. Returned by `get` and `reload`.
    #[non_exhaustive]
    NotFound {
        /// The entity's table.
        table: &'static str,
        /// The key that was looked up, rendered with `Debug`.
        id: String,
    },
    /// A write matched no row although the row holds the version the entity expects:
    /// the database skipped it (a `BEFORE` trigger returning `NULL`, SQLite's
    /// `RAISE(IGNORE)`, a rule, a row-level security policy, a MySQL trigger that
    /// undoes the change). Not a conflict and not retryable: the same write would be
    /// skipped again. (A MySQL trigger that undoes the change is not seen through
    /// sqlx, whose connections count matched rows: see the sqlx backend.)
    #[non_exhaustive]
    WriteIgnored {
        /// The write that was skipped.
        operation: Operation,
        /// The entity's table.
        table: &'static str,
        /// The row's key, rendered with `Debug`.
        id: String,
        /// The version the row holds, which is the one the entity expected.
        version: i64,
    },
    /// A write matched more than one row: the key fields are not a primary or unique
    /// key of the table. The write reached every one of those rows (roll back the
    /// transaction it ran in to undo it); the entity is unchanged. Not retryable.
    #[non_exhaustive]
    KeyNotUnique {
        /// The write that matched several rows.
        operation: Operation,
        /// The entity's table.
        table: &'static str,
        /// The key, rendered with `Debug`.
        id: String,
        /// How many rows the write matched.
        rows: u64,
    },
    /// `insert` of an entity with an `#[id(auto)]` key stored a row for which the
    /// database generated no key: the column is not `INTEGER PRIMARY KEY` (SQLite),
    /// an identity or serial column (PostgreSQL), or `AUTO_INCREMENT` (MySQL). The
    /// row is taken back where it can be found.
    NoGeneratedKey(NoGeneratedKeyError),
    /// The database driver failed: a connection, SQL or constraint error, a busy
    /// database or a serialization failure. The driver's error is the `source()`.
    Database(DatabaseError),
    /// A column's value could not become its field's type (a NULL in a non-`Option`
    /// field, an out-of-range integer, a text in an integer field...).
    Decode(DecodeError),
}

impl Error {
    /// Whether this is an optimistic lock conflict ([`Error::OptimisticLock`]).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::OptimisticLock(_))
    }

    /// Whether running the same work again may succeed: a conflict, or a transient
    /// database condition (SQLite `SQLITE_BUSY`/`SQLITE_LOCKED`; PostgreSQL
    /// serialization failure 40001, deadlock 40P01 and lock not available 55P03;
    /// MySQL deadlock 1213, lock wait timeout 1205 and "record has changed since last
    /// read" 1020). [`retry`](crate::retry) re-runs exactly these.
    ///
    /// Retry the whole transaction, never one statement of it: after a deadlock or a
    /// serialization failure the database has already rolled the transaction back
    /// (InnoDB) or refuses every further statement in it (PostgreSQL).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::OptimisticLock(_) => true,
            Error::Database(e) => e.is_retryable(),
            Error::NotFound { .. }
            | Error::WriteIgnored { .. }
            | Error::KeyNotUnique { .. }
            | Error::NoGeneratedKey(_)
            | Error::Decode(_) => false,
        }
    }

    /// The conflict, when this is one.
    pub fn as_conflict(&self) -> Option<&OptimisticLockError> {
        match self {
            Error::OptimisticLock(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::OptimisticLock(e) => e.fmt(f),
            Error::NotFound { table, id } => write!(f, "no row in {table} with id={id}"),
            Error::WriteIgnored { operation, table, id, version } => write!(
                f,
                "{operation} on {table} id={id} was ignored by the database: the row holds the expected \
                 version {version}, yet no row was written (a trigger, rule or row-level security policy \
                 skipped it)"
            ),
            Error::KeyNotUnique { operation, table, id, rows } => {
                let done = if *operation == Operation::Delete { "deleted" } else { "changed" };
                write!(
                    f,
                    "{operation} on {table} id={id} matched {rows} rows and {done} them all: the key is not \
                     unique in the table; make the key fields its primary key or a unique key"
                )
            }
            Error::NoGeneratedKey(e) => e.fmt(f),
            Error::Database(e) => e.fmt(f),
            Error::Decode(e) => e.fmt(f),
        }
    }
}

// `Display` of a variant that wraps an error is that error's, so the source is that
// error's source: each text appears once in the chain.
impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::Database(e) => e.source(),
            Error::Decode(e) => e.source(),
            _ => None,
        }
    }
}

/// A write of [`Versioned`](crate::Versioned), as named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `insert`.
    Insert,
    /// `save`.
    Save,
    /// `touch`.
    Touch,
    /// `delete`.
    Delete,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Insert => "insert",
            Operation::Save => "save",
            Operation::Touch => "touch",
            Operation::Delete => "delete",
        })
    }
}

impl From<OptimisticLockError> for Error {
    fn from(e: OptimisticLockError) -> Self {
        Error::OptimisticLock(e)
    }
}

/// A write whose version predicate matched no row.
///
/// It names the row and both versions, so a caller can decide to retry, merge, or
/// report the conflict (HTTP 409 Conflict or 412 Precondition Failed). Fields may be
/// added in a minor release: match it with `..`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OptimisticLockError {
    /// The struct's name, e.g. `"User"`.
    pub entity: &'static str,
    /// The table, e.g. `"users"`; `"app.users"` for an entity in schema `app`.
    pub table: &'static str,
    /// The row's key, rendered with `Debug` (`7`, `(1, "A-1")`).
    pub id: String,
    /// The version the caller held.
    pub expected: i64,
    /// The version the database holds now; `None` when no row has the key (it was
    /// deleted, or never stored).
    pub actual: Option<i64>,
}

impl fmt::Display for OptimisticLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let OptimisticLockError { table, id, expected, .. } = self;
        write!(f, "optimistic lock conflict on {table} id={id}: expected version {expected}")?;
        match self.actual {
            Some(actual) => write!(f, ", found {actual}"),
            None => f.write_str(", but the row no longer exists"),
        }
    }
}

impl StdError for OptimisticLockError {}

/// A failure reported by the database driver; the driver's error is the `source()`.
///
/// Its `Display` says what kind of failure it is and leaves the driver's text to the
/// source, so a report that prints the chain (`anyhow`'s `{:#}`) says it once. Reach
/// the driver's own error with [`DatabaseError::downcast_ref`], e.g.
/// `e.downcast_ref::<rusqlite::Error>()`.
#[derive(Debug)]
pub struct DatabaseError {
    source: BoxError,
    retryable: bool,
    /// What the driver's error does not say itself (PostgreSQL's SQLSTATE, say).
    context: Option<String>,
    /// Whether the driver's error is a wrapper whose text repeats its own source's
    /// (sqlx's "error returned from database: {source}"): the chain then goes on from
    /// that source, so that each text is printed once. `downcast_ref` still finds the
    /// wrapper.
    wrapper: bool,
}

impl DatabaseError {
    /// Wraps a driver error; `retryable` says whether the same work may succeed if
    /// run again (busy, locked, serialization failure, deadlock).
    pub(crate) fn new(source: impl Into<BoxError>, retryable: bool) -> Self {
        DatabaseError { source: source.into(), retryable, context: None, wrapper: false }
    }

    /// Like `new`, displaying `context` too: facts the driver error's text lacks,
    /// never a copy of that text.
    #[allow(dead_code)]
    pub(crate) fn with_context(source: impl Into<BoxError>, retryable: bool, context: String) -> Self {
        DatabaseError { source: source.into(), retryable, context: Some(context), wrapper: false }
    }

    /// Marks the driver's error as a wrapper whose text repeats its source's: see
    /// `wrapper`.
    #[cfg(feature = "sqlx")]
    pub(crate) fn repeating_its_source(mut self) -> Self {
        self.wrapper = true;
        self
    }

    /// Whether the failure is transient: see [`Error::is_retryable`].
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The driver's error as its own type, when it is a `T`.
    pub fn downcast_ref<T: StdError + 'static>(&self) -> Option<&T> {
        self.source.downcast_ref()
    }
}

impl fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.context {
            Some(context) => write!(f, "database error ({context})"),
            None => f.write_str("database error"),
        }
    }
}

impl StdError for DatabaseError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        let source: &(dyn StdError + 'static) = &*self.source;
        match source.source() {
            Some(inner) if self.wrapper => Some(inner),
            _ => Some(source),
        }
    }
}

/// A column whose value could not become its field's type; why is the `source()`.
#[derive(Debug)]
pub struct DecodeError {
    /// The table the row was read from.
    pub table: &'static str,
    /// The column that failed.
    pub column: &'static str,
    /// The row's key, rendered with `Debug`; for a generated key that does not fit its
    /// field, that key as the database sent it.
    pub id: String,
    source: BoxError,
    /// For a generated key that does not fit: what became of the inserted row. Boxed:
    /// rare, and `Error` stays small for every `Result` that carries it.
    take_back: Option<Box<TakeBack>>,
}

impl DecodeError {
    pub(crate) fn new(table: &'static str, column: &'static str, id: String, source: BoxError) -> Self {
        DecodeError { table, column, id, source, take_back: None }
    }

    /// The error of a generated key that does not fit its field.
    pub(crate) fn generated_key(
        table: &'static str,
        column: &'static str,
        key: String,
        source: BoxError,
        take_back: TakeBack,
    ) -> Self {
        DecodeError { table, column, id: key, source, take_back: Some(Box::new(take_back)) }
    }

    /// For a generated key that did not fit its field: whether the inserted row was
    /// deleted again, so that the failed insert stored nothing. `None` for a column
    /// of a row that was read.
    pub fn row_taken_back(&self) -> Option<bool> {
        self.take_back.as_deref().map(TakeBack::is_done)
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let DecodeError { table, column, id, take_back, .. } = self;
        match take_back {
            None => write!(f, "cannot decode column {column} of {table} id={id}"),
            Some(take_back) => {
                write!(f, "insert into {table} generated key {id}, which its field (column {column}) cannot hold")?;
                take_back.fmt(f)
            }
        }
    }
}

impl StdError for DecodeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// An insert for which the database generated no key: see [`Error::NoGeneratedKey`].
#[derive(Debug)]
pub struct NoGeneratedKeyError {
    /// The entity's table.
    pub table: &'static str,
    /// The `#[id(auto)]` key's column.
    pub column: &'static str,
    take_back: TakeBack,
}

impl NoGeneratedKeyError {
    pub(crate) fn new(table: &'static str, column: &'static str, take_back: TakeBack) -> Self {
        NoGeneratedKeyError { table, column, take_back }
    }

    /// Whether the inserted row was deleted again, so that the failed insert stored
    /// nothing.
    pub fn row_taken_back(&self) -> bool {
        self.take_back.is_done()
    }
}

impl fmt::Display for NoGeneratedKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let NoGeneratedKeyError { table, column, take_back } = self;
        write!(
            f,
            "insert into {table} generated no key in column {column}; declare it INTEGER PRIMARY KEY \
             (SQLite), an identity or serial column (PostgreSQL) or AUTO_INCREMENT (MySQL), or drop #[id(auto)]"
        )?;
        take_back.fmt(f)
    }
}

impl StdError for NoGeneratedKeyError {}

/// What became of the row an insert stored when its generated key was unusable.
#[derive(Debug)]
pub(crate) enum TakeBack {
    /// Deleted: the failed insert stored nothing.
    Done,
    /// The delete removed this many rows instead of one.
    Removed(u64),
    /// The delete failed; the driver's error, with its causes.
    Failed(String),
    /// No statement can find the row: its key is NULL and the backend has no other
    /// handle on it.
    Unreachable,
}

impl TakeBack {
    fn is_done(&self) -> bool {
        matches!(self, TakeBack::Done)
    }
}

impl fmt::Display for TakeBack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TakeBack::Done => f.write_str("; the row was taken back"),
            TakeBack::Removed(0) => f.write_str("; the row could not be taken back: deleting it matched no row"),
            TakeBack::Removed(n) => write!(f, "; taking the row back deleted {n} rows, not one"),
            TakeBack::Failed(e) => write!(f, "; the row could not be taken back: {e}"),
            TakeBack::Unreachable => f.write_str("; the row stays stored: with no key, nothing can find it"),
        }
    }
}

/// A column that failed to decode, before the table and key are known.
#[doc(hidden)]
#[derive(Debug)]
pub struct ColumnError {
    pub column: &'static str,
    pub source: BoxError,
}

/// An error's text followed by its sources' texts, joined by `": "`.
pub(crate) fn chain(e: &dyn StdError) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
