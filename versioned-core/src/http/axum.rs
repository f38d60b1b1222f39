//! axum integration (feature `axum`): the precondition headers as extractors, and
//! [`Problem`] as a response.

use std::fmt::Display;

use axum_core::body::Body;
use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use super::{IfMatch, IfNoneMatch, Problem};

/// `IfMatch` as an extractor requires the header: a request without one is answered
/// `428 Precondition Required`, a malformed one `400 Bad Request`, both with a
/// problem body whose `instance` is the request's path. Take `Option<IfMatch>` where
/// the header is optional.
///
/// ```
/// use http::StatusCode;
/// use versioned_core::http::{IfMatch, Problem};
///
/// /// `DELETE /notes/{id}`: axum answers 428 without calling it when the request has
/// /// no `If-Match`.
/// async fn delete_note(if_match: IfMatch) -> Result<StatusCode, Problem> {
///     let current = 3; // the version of the row as read (`Note::get(..).await?`: 404)
///     if !if_match.matches(current) {
///         // With the entity at hand, `if_match.check(&note)?` says this with versions.
///         return Err(Problem::new(StatusCode::PRECONDITION_FAILED, "the note changed"));
///     }
///     // `note.delete(&pool).await.map_err(Problem::from_if_match_write)?;`
///     Ok(StatusCode::NO_CONTENT)
/// }
/// ```
impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        match IfMatch::from_headers(&parts.headers) {
            Ok(Some(if_match)) => Ok(if_match),
            Ok(None) => Err(Problem::precondition_required().with_instance(parts.uri.path())),
            Err(malformed) => Err(Problem::from(malformed).with_instance(parts.uri.path())),
        }
    }
}

/// `Option<IfMatch>`: `None` without the header; a malformed one is answered `400`.
impl<S: Send + Sync> OptionalFromRequestParts<S> for IfMatch {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Problem> {
        IfMatch::from_headers(&parts.headers).map_err(|e| Problem::from(e).with_instance(parts.uri.path()))
    }
}

/// `Option<IfNoneMatch>`, for a conditional `GET`: `None` without the header; a
/// malformed one is answered `400`.
impl<S: Send + Sync> OptionalFromRequestParts<S> for IfNoneMatch {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Problem> {
        IfNoneMatch::from_headers(&parts.headers).map_err(|e| Problem::from(e).with_instance(parts.uri.path()))
    }
}

/// The status, `Content-Type: application/problem+json` and the JSON body (see
/// [`Problem::to_response`]). The problem itself rides along in the response's
/// extensions, so a middleware can log what a `5xx` kept from the client
/// ([`Problem::error`]).
impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let response = self.to_response().map(Body::from);
        let (mut parts, body) = response.into_parts();
        parts.extensions.insert(self);
        Response::from_parts(parts, body)
    }
}

/// A problem made from one of axum's rejections (`JsonRejection`, `PathRejection`,
/// `QueryRejection`...): its status, and its text as the detail, so a malformed body
/// or path parameter is answered with a problem body like every other error.
///
/// ```
/// # use axum_core::response::IntoResponse;
/// # use http::StatusCode;
/// use versioned_core::http::{Problem, rejected};
///
/// # #[derive(Debug)] struct BadId;
/// # impl std::fmt::Display for BadId {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("Invalid URL: cannot parse `x` to a `i64`") }
/// # }
/// # impl IntoResponse for BadId { fn into_response(self) -> axum_core::response::Response { StatusCode::BAD_REQUEST.into_response() } }
/// // In a handler: `id: Result<Path<i64>, PathRejection>`, then `let Path(id) = id.map_err(rejected)?;`
/// let problem: Problem = rejected(BadId);
/// assert_eq!(problem.status(), StatusCode::BAD_REQUEST);
/// assert_eq!(problem.detail(), "Invalid URL: cannot parse `x` to a `i64`");
/// ```
pub fn rejected<R: IntoResponse + Display>(rejection: R) -> Problem {
    let detail = rejection.to_string();
    let status = rejection.into_response().status();
    Problem::new(status, detail)
}

#[cfg(test)]
mod tests {
    use http::header::{CONTENT_TYPE, IF_MATCH};
    use http::{Request, StatusCode};

    use super::*;
    use crate::http::{PROBLEM_JSON, Tags};

    fn parts(if_match: Option<&'static str>) -> Parts {
        let mut request = Request::builder().uri("/notes/7");
        if let Some(value) = if_match {
            request = request.header(IF_MATCH, value);
        }
        request.body(()).unwrap().into_parts().0
    }

    async fn required(if_match: Option<&'static str>) -> Result<IfMatch, Problem> {
        <IfMatch as FromRequestParts<()>>::from_request_parts(&mut parts(if_match), &()).await
    }

    async fn optional(if_match: Option<&'static str>) -> Result<Option<IfMatch>, Problem> {
        <IfMatch as OptionalFromRequestParts<()>>::from_request_parts(&mut parts(if_match), &()).await
    }

    #[tokio::test]
    async fn a_missing_if_match_is_428_and_a_malformed_one_400() {
        let missing = required(None).await.unwrap_err();
        assert_eq!(missing.status(), StatusCode::PRECONDITION_REQUIRED);
        assert_eq!(missing.instance(), Some("/notes/7"));
        let malformed = required(Some("3")).await.unwrap_err();
        assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
        assert!(malformed.detail().contains("must be quoted"), "{}", malformed.detail());
        assert_eq!(required(Some("\"3\"")).await.unwrap().version(), Some(3));
    }

    #[tokio::test]
    async fn an_optional_if_match_is_none_when_absent_and_empty_when_empty() {
        assert_eq!(optional(None).await.unwrap(), None);
        assert_eq!(optional(Some("")).await.unwrap(), Some(IfMatch(Tags::List(vec![]))));
        assert_eq!(optional(Some("W/")).await.unwrap_err().status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_problem_is_a_problem_json_response_that_keeps_itself() {
        let response = Problem::precondition_required().into_response();
        assert_eq!(response.status(), StatusCode::PRECONDITION_REQUIRED);
        assert_eq!(response.headers()[CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(response.extensions().get::<Problem>().unwrap().status(), StatusCode::PRECONDITION_REQUIRED);
    }
}
