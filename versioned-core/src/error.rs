//! The errors every operation returns.

use std::error::Error as StdError;
use std::fmt;

/// A boxed error from a driver or a value conversion.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Everything an operation of [`Versioned`](crate::Versioned) can fail with.
///
/// A failed write leaves both the row and the entity as they were, whatever the
/// variant.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A write's version predicate matched no row: someone else wrote the row since
    /// it was read, or it was deleted. Returned by `save`, `delete`, `touch` and
    /// `verify`.
    OptimisticLock(OptimisticLockError),
    /// No row has the key. Returned by `get` and `reload`.
    NotFound {
        /// The entity's table.
        table: &'static str,
        /// The key that was looked up, rendered with `Debug`.
        id: String,
    },
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
    /// database condition (SQLite `SQLITE_BUSY`/`SQLITE_LOCKED`, PostgreSQL
    /// serialization failure 40001 and deadlock 40P01, MySQL deadlock 1213 and lock
    /// wait timeout 1205). [`retry`](crate::retry) re-runs exactly these.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::OptimisticLock(_) => true,
            Error::Database(e) => e.is_retryable(),
            Error::NotFound { .. } | Error::Decode(_) => false,
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
            Error::Database(e) => e.fmt(f),
            Error::Decode(e) => e.fmt(f),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::OptimisticLock(_) | Error::NotFound { .. } => None,
            Error::Database(e) => e.source(),
            Error::Decode(e) => e.source(),
        }
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
/// report the conflict (HTTP 409 Conflict or 412 Precondition Failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptimisticLockError {
    /// The struct's name, e.g. `"User"`.
    pub entity: &'static str,
    /// The table, e.g. `"users"`.
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
/// Reach the driver's own error with [`DatabaseError::downcast_ref`], e.g.
/// `e.downcast_ref::<rusqlite::Error>()`.
#[derive(Debug)]
pub struct DatabaseError {
    source: BoxError,
    retryable: bool,
    /// What to display instead of the driver error's own text, when that is terse.
    message: Option<String>,
}

impl DatabaseError {
    /// Wraps a driver error; `retryable` says whether the same work may succeed if
    /// run again (busy, locked, serialization failure, deadlock).
    pub(crate) fn new(source: impl Into<BoxError>, retryable: bool) -> Self {
        DatabaseError { source: source.into(), retryable, message: None }
    }

    /// Like `new`, displaying `message` rather than the driver error's own text.
    #[allow(dead_code)]
    pub(crate) fn with_message(source: impl Into<BoxError>, retryable: bool, message: String) -> Self {
        DatabaseError { source: source.into(), retryable, message: Some(message) }
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
        match &self.message {
            Some(message) => write!(f, "database error: {message}"),
            None => write!(f, "database error: {}", self.source),
        }
    }
}

impl StdError for DatabaseError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// A column whose value could not become its field's type.
#[derive(Debug)]
pub struct DecodeError {
    /// The table the row was read from.
    pub table: &'static str,
    /// The column that failed.
    pub column: &'static str,
    /// The row's key, rendered with `Debug`.
    pub id: String,
    source: BoxError,
}

impl DecodeError {
    pub(crate) fn new(table: &'static str, column: &'static str, id: String, source: BoxError) -> Self {
        DecodeError { table, column, id, source }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let DecodeError { table, column, id, source } = self;
        write!(f, "cannot decode column {column} of {table} id={id}: {source}")
    }
}

impl StdError for DecodeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// A column that failed to decode, before the table and key are known.
#[doc(hidden)]
#[derive(Debug)]
pub struct ColumnError {
    pub column: &'static str,
    pub source: BoxError,
}
