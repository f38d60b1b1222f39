//! RFC 9457 problem details: the body of an error response.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Response, StatusCode};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{IfMatch, MalformedPrecondition};
use crate::entity::{VersionNumber, Versioned};
use crate::error::{Error, OptimisticLockError};

/// The media type of a [`Problem`] body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error response as an RFC 9457 problem details object: its status, and an
/// `application/problem+json` body that says what went wrong and, for a version
/// conflict, which version the client held (`expected`) and which the row holds now
/// (`actual`).
///
/// | status | when | made by |
/// |---|---|---|
/// | `428 Precondition Required` | a write sent no `If-Match` | [`Problem::precondition_required`], the `IfMatch` extractor (feature `axum`) |
/// | `412 Precondition Failed` | its `If-Match` names a version the row no longer holds | [`IfMatch::check`], [`Problem::from_if_match_write`] |
/// | `409 Conflict` | the version came in the request body, and the row holds another | `From<Error>` |
/// | `404 Not Found` | no row has the key, or it was deleted since it was read | `From<Error>` |
/// | `400 Bad Request` | a malformed `If-Match` or `If-None-Match` | `From<MalformedPrecondition>` |
/// | `503 Service Unavailable` | the database stayed busy (a retryable error outlasted the retries) | `From<Error>` |
/// | `500 Internal Server Error` | any other failure; its detail tells the client nothing of the database | `From<Error>` |
///
/// The body holds `type` (`about:blank` unless set with [`with_type`](Problem::with_type)),
/// `title` (the status's reason phrase), `status`, `detail`, `instance` when set, and
/// the extension members `expected` and `actual` when the problem is about versions;
/// `"actual": null` means that no row has the key any more.
///
/// ```
/// use http::StatusCode;
/// use versioned_core::http::Problem;
///
/// let problem = Problem::precondition_required();
/// assert_eq!(problem.status(), StatusCode::PRECONDITION_REQUIRED);
/// let body: serde_json::Value = serde_json::from_slice(&problem.to_json()).unwrap();
/// assert_eq!(body["status"], 428);
/// assert_eq!(body["title"], "Precondition Required");
/// ```
#[derive(Debug, Clone)]
pub struct Problem(Box<Details>);

/// The members of a [`Problem`], boxed so that `Result<_, Problem>` stays small.
#[derive(Debug, Clone)]
struct Details {
    problem_type: Cow<'static, str>,
    status: StatusCode,
    title: Cow<'static, str>,
    detail: String,
    instance: Option<String>,
    expected: Option<i64>,
    actual: Option<i64>,
    /// The error the problem was made from, kept for the server's logs: a `500`'s
    /// detail does not repeat it to the client.
    source: Option<Arc<Error>>,
}

impl Problem {
    /// A problem with `status` and `detail`, titled with the status's reason phrase.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem(Box::new(Details {
            problem_type: Cow::Borrowed("about:blank"),
            status,
            title: Cow::Borrowed(status.canonical_reason().unwrap_or("Error")),
            detail: detail.into(),
            instance: None,
            expected: None,
            actual: None,
            source: None,
        }))
    }

    /// The response's status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The `type` URI naming the kind of problem: `about:blank` (the status says it)
    /// unless set.
    pub fn problem_type(&self) -> &str {
        &self.0.problem_type
    }

    /// A short summary of the kind of problem: the status's reason phrase unless set.
    pub fn title(&self) -> &str {
        &self.0.title
    }

    /// What went wrong with this request, for the person behind the client.
    pub fn detail(&self) -> &str {
        &self.0.detail
    }

    /// The URI naming this occurrence (e.g. the request's path), when set.
    pub fn instance(&self) -> Option<&str> {
        self.0.instance.as_deref()
    }

    /// The version the client held, for a version conflict or failed precondition
    /// (when it named one).
    pub fn expected(&self) -> Option<i64> {
        self.0.expected
    }

    /// The version the row holds now; `None` beside an [`expected`](Problem::expected)
    /// means no row has the key any more.
    pub fn actual(&self) -> Option<i64> {
        self.0.actual
    }

    /// `428 Precondition Required` (RFC 6585): a write that must say which version it
    /// edited sent no `If-Match`.
    pub fn precondition_required() -> Problem {
        Problem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "this request must be conditional: send If-Match with the ETag of the representation you edited \
             (GET it first if you have none)",
        )
    }

    /// The problem of a write whose version came from `If-Match`: a conflict is
    /// `412 Precondition Failed` (the row changed since the client read it), or `404`
    /// when the row was deleted; any other error as [`From<Error>`](#impl-From<Error>-for-Problem).
    /// Its `expected` is the version the write carried: the one the client named, or,
    /// after `If-Match: *` or a list, the one the server read before writing.
    pub fn from_if_match_write(error: Error) -> Problem {
        match error {
            Error::OptimisticLock(conflict) if conflict.actual.is_some() => {
                let detail = stale_detail(conflict.entity, &conflict.id, conflict.actual, Some(conflict.expected));
                Problem::new(StatusCode::PRECONDITION_FAILED, detail)
                    .versions(Some(conflict.expected), conflict.actual)
                    .with_source(Error::OptimisticLock(conflict))
            }
            error => Problem::from(error),
        }
    }

    /// Sets the `type` URI, naming the kind of problem for clients that act on it.
    pub fn with_type(mut self, uri: impl Into<Cow<'static, str>>) -> Problem {
        self.0.problem_type = uri.into();
        self
    }

    /// Sets the `title`.
    pub fn with_title(mut self, title: impl Into<Cow<'static, str>>) -> Problem {
        self.0.title = title.into();
        self
    }

    /// Sets the `instance` URI, naming this occurrence (e.g. the request's path).
    pub fn with_instance(mut self, uri: impl Into<String>) -> Problem {
        self.0.instance = Some(uri.into());
        self
    }

    /// The library error this problem was made from, if any: what the server should
    /// log beside a `5xx`.
    pub fn error(&self) -> Option<&Error> {
        self.0.source.as_deref()
    }

    /// The body: the problem as JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a problem is strings and integers, which always serialize")
    }

    /// The whole response: status, `Content-Type: application/problem+json`, and the
    /// JSON body; a `503` also says `Retry-After: 1`.
    pub fn to_response(&self) -> Response<Vec<u8>> {
        let mut response = Response::new(self.to_json());
        *response.status_mut() = self.0.status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.0.status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }

    fn versions(mut self, expected: Option<i64>, actual: Option<i64>) -> Problem {
        self.0.expected = expected;
        self.0.actual = actual;
        self
    }

    fn with_source(mut self, error: Error) -> Problem {
        self.0.source = Some(Arc::new(error));
        self
    }
}

/// What a stale version's detail says: who, which version is current, which the
/// client held when it is known.
fn stale_detail(entity: &str, id: &str, actual: Option<i64>, expected: Option<i64>) -> String {
    let now = match actual {
        Some(actual) => format!("{entity} {id} is at version {actual}"),
        None => format!("{entity} {id} no longer exists"),
    };
    match expected {
        Some(expected) => {
            format!("{now}, not {expected}: it changed since you read it; read it again and reapply your change")
        }
        None => format!("{now}, which your If-Match does not name: read it again and reapply your change"),
    }
}

impl IfMatch {
    /// Checks the precondition against the row as just read: `412 Precondition
    /// Failed` when it names another version, with the one the client sent as
    /// `expected` (when it sent a single tag of ours) and the row's as `actual`.
    ///
    /// On success, save `current` as read: its version is the one the client named
    /// (or any, for `*`), so the write fails if the row changes in between; answer
    /// that with [`Problem::from_if_match_write`].
    pub fn check<T: Versioned>(&self, current: &T) -> Result<(), Problem> {
        let actual = current.version_of().to_i64();
        if self.matches(actual) {
            return Ok(());
        }
        let expected = self.version();
        let detail = stale_detail(T::META.entity, &current.key_debug(), Some(actual), expected);
        Err(Problem::new(StatusCode::PRECONDITION_FAILED, detail).versions(expected, Some(actual)))
    }
}

/// `409 Conflict` when the row holds another version (the version came in the
/// request body), `404 Not Found` when no row has the key, `503` for a retryable
/// database error that outlasted the retries, `500` for the rest.
impl From<Error> for Problem {
    fn from(error: Error) -> Problem {
        let problem = match &error {
            Error::OptimisticLock(OptimisticLockError { entity, id, expected, actual: Some(actual), .. }) => {
                Problem::new(StatusCode::CONFLICT, stale_detail(entity, id, Some(*actual), Some(*expected)))
                    .versions(Some(*expected), Some(*actual))
            }
            Error::OptimisticLock(OptimisticLockError { entity, id, expected, actual: None, .. }) => {
                Problem::new(StatusCode::NOT_FOUND, format!("{entity} {id} was deleted since you read it"))
                    .versions(Some(*expected), None)
            }
            Error::NotFound { .. } => Problem::new(StatusCode::NOT_FOUND, error.to_string()),
            Error::Database(e) if e.is_retryable() => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "the database is busy: try again")
            }
            _ => Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "the server failed to carry out the request"),
        };
        problem.with_source(error)
    }
}

/// `400 Bad Request`, saying what is wrong with the header.
impl From<MalformedPrecondition> for Problem {
    fn from(error: MalformedPrecondition) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, error.to_string())
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.status, self.0.detail)
    }
}

impl std::error::Error for Problem {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source.as_deref().map(|e| e as _)
    }
}

impl Serialize for Problem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let d = &*self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", &d.problem_type)?;
        map.serialize_entry("title", &d.title)?;
        map.serialize_entry("status", &d.status.as_u16())?;
        map.serialize_entry("detail", &d.detail)?;
        if let Some(instance) = &d.instance {
            map.serialize_entry("instance", instance)?;
        }
        if let Some(expected) = d.expected {
            map.serialize_entry("expected", &expected)?;
        }
        if d.expected.is_some() || d.actual.is_some() {
            map.serialize_entry("actual", &d.actual)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(problem: &Problem) -> serde_json::Value {
        serde_json::from_slice(&problem.to_json()).unwrap()
    }

    fn conflict(actual: Option<i64>) -> Error {
        Error::OptimisticLock(OptimisticLockError {
            entity: "User",
            table: "users",
            id: "7".into(),
            expected: 3,
            actual,
        })
    }

    #[test]
    fn a_conflict_carries_both_versions() {
        let problem = Problem::from(conflict(Some(5)));
        assert_eq!(problem.status(), StatusCode::CONFLICT);
        assert_eq!(
            body(&problem),
            serde_json::json!({
                "type": "about:blank",
                "title": "Conflict",
                "status": 409,
                "detail": "User 7 is at version 5, not 3: it changed since you read it; read it again and reapply your change",
                "expected": 3,
                "actual": 5,
            })
        );
        assert!(problem.error().is_some_and(Error::is_conflict));
    }

    #[test]
    fn an_if_match_write_that_lost_is_412_and_a_deleted_row_404() {
        let stale = Problem::from_if_match_write(conflict(Some(5)));
        assert_eq!(
            (stale.status(), stale.expected(), stale.actual()),
            (StatusCode::PRECONDITION_FAILED, Some(3), Some(5))
        );
        let gone = Problem::from_if_match_write(conflict(None));
        assert_eq!(gone.status(), StatusCode::NOT_FOUND);
        let gone = body(&gone);
        assert_eq!((gone["expected"].clone(), gone["actual"].clone()), (3.into(), serde_json::Value::Null));
    }

    #[test]
    fn a_server_error_keeps_its_cause_from_the_client() {
        let error = Error::Database(crate::error::DatabaseError::new("disk I/O error at /var/lib/db", false));
        let problem = Problem::from(error);
        assert_eq!(problem.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!String::from_utf8(problem.to_json()).unwrap().contains("/var/lib"));
        let kept = std::error::Error::source(problem.error().unwrap()).unwrap();
        assert!(kept.to_string().contains("/var/lib"), "kept for the logs: {kept}");
        let busy = Problem::from(Error::Database(crate::error::DatabaseError::new("database is locked", true)));
        let response = busy.to_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[RETRY_AFTER], "1");
        assert_eq!(response.headers()[CONTENT_TYPE], PROBLEM_JSON);
    }

    #[test]
    fn problems_without_versions_leave_them_out() {
        let problem =
            Problem::from(MalformedPrecondition { header: "if-match", reason: "an entity tag is not closed".into() })
                .with_instance("/users/7");
        assert_eq!(
            body(&problem),
            serde_json::json!({
                "type": "about:blank",
                "title": "Bad Request",
                "status": 400,
                "detail": "malformed if-match header: an entity tag is not closed",
                "instance": "/users/7",
            })
        );
    }
}
