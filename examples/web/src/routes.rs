//! The users API: every write carries the version the client saw, and every error is
//! an RFC 9457 problem body.
//!
//! | route | answers |
//! |---|---|
//! | `POST /users` `{"name", "email"}` | 201, `Location`, `ETag` |
//! | `GET /users/{id}` | 200 and `ETag`; 304 when `If-None-Match` names the version |
//! | `PUT /users/{id}` `{"name", "email"}` with `If-Match` | 200 and the new `ETag`; 428 without `If-Match`; 412 when it is stale; 409 when the body's `version` is |
//! | `PATCH /users/{id}` `{"name"?, "email"?}` with `If-Match` | as `PUT`, changing only what the body names |
//! | `DELETE /users/{id}` with `If-Match` | 204; 428; 412 |
//! | `POST /users/{id}/visits` | 200: one more visit, retried on conflicts on the server; 409 when the retries are spent |
//!
//! Any of them: 404 when no user has the id, 400 for a malformed id, body or
//! precondition header. Elsewhere: 404 for a path the API does not have, 405 for a
//! method its path does not take.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::header::{ETAG, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use versioned::http::{IfMatch, IfNoneMatch, Problem, etag, rejected};
use versioned::{RetryPolicy, Versioned};

use crate::db::Db;
use crate::with_pool;

/// A user, as stored and as sent.
#[derive(Versioned, Serialize, Debug, Clone, PartialEq)]
#[versioned(table = "users")]
pub struct User {
    #[id(auto)]
    pub id: i64,
    pub name: String,
    pub email: String,
    pub visits: i64,
    #[version]
    pub version: i64,
}

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct App {
    pub db: Db,
    /// How often `POST /users/{id}/visits` tries before it answers 409.
    pub visits_policy: RetryPolicy,
}

/// The response header that says how many attempts `POST /users/{id}/visits` took:
/// how often the change was applied to a freshly read row.
pub const UPDATE_ATTEMPTS: HeaderName = HeaderName::from_static("update-attempts");

pub fn router(app: App) -> Router {
    Router::new()
        .route("/users", post(create))
        .route("/users/{id}", get(read).put(replace).patch(amend).delete(remove))
        .route("/users/{id}/visits", post(visit))
        .method_not_allowed_fallback(no_such_method)
        .fallback(no_such_route)
        .with_state(app)
}

/// 404 for a path outside the API, as a problem body like every other error.
async fn no_such_route(uri: Uri) -> Problem {
    Problem::new(StatusCode::NOT_FOUND, format!("no resource at {}", uri.path())).with_instance(uri.path())
}

/// 405 for a method the path does not take, as a problem body (axum adds `Allow`).
async fn no_such_method(method: Method, uri: Uri) -> Problem {
    Problem::new(StatusCode::METHOD_NOT_ALLOWED, format!("{} does not take {method}", uri.path()))
        .with_instance(uri.path())
}

/// The `{id}` of the path; a malformed one is a 400 problem.
struct UserId(i64);

impl<S: Send + Sync> FromRequestParts<S> for UserId {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let instance = parts.uri.path().to_owned();
        match Path::<i64>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(UserId(id)),
            Err(rejection) => Err(rejected(rejection).with_instance(instance)),
        }
    }
}

/// A JSON body; malformed JSON, a missing or unknown field or a value of the wrong
/// type is a 400 problem saying which, a body that is not `application/json` a 415.
struct Body<T>(T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let instance = request.uri().path().to_owned();
        match Json::<T>::from_request(request, state).await {
            Ok(Json(body)) => Ok(Body(body)),
            Err(JsonRejection::JsonDataError(e)) => {
                Err(Problem::new(StatusCode::BAD_REQUEST, e.body_text()).with_instance(instance))
            }
            Err(rejection) => Err(rejected(rejection).with_instance(instance)),
        }
    }
}

/// The user with its `ETag`, and `status`.
fn with_etag(status: StatusCode, user: &User) -> Response {
    (status, [(ETAG, etag(user))], Json(user)).into_response()
}

fn invalid(detail: String) -> Problem {
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
}

/// A name or an email must hold something besides spaces; an email must hold an `@`.
fn check_fields(name: Option<&str>, email: Option<&str>) -> Result<(), Problem> {
    if name.is_some_and(|n| n.trim().is_empty()) {
        return Err(invalid("`name` must not be empty".into()));
    }
    if email.is_some_and(|e| !e.contains('@')) {
        return Err(invalid("`email` must be an address with an `@`".into()));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    email: String,
}

async fn create(State(app): State<App>, Body(new): Body<NewUser>) -> Result<Response, Problem> {
    check_fields(Some(&new.name), Some(&new.email))?;
    let mut user = User { id: 0, name: new.name, email: new.email, visits: 0, version: 0 };
    with_pool!(&app.db, |pool| user.insert(pool).await)?;
    let location = HeaderValue::from_str(&format!("/users/{}", user.id)).expect("digits");
    let mut response = with_etag(StatusCode::CREATED, &user);
    response.headers_mut().insert(LOCATION, location);
    Ok(response)
}

async fn read(
    State(app): State<App>,
    UserId(id): UserId,
    if_none_match: Option<IfNoneMatch>,
) -> Result<Response, Problem> {
    let user = with_pool!(&app.db, |pool| User::get(pool, id).await)?;
    if if_none_match.is_some_and(|tags| tags.holds(user.version)) {
        return Ok((StatusCode::NOT_MODIFIED, [(ETAG, etag(&user))]).into_response());
    }
    Ok(with_etag(StatusCode::OK, &user))
}

/// The body of `PUT` (both fields) and `PATCH` (either). It may carry the whole
/// representation a `GET` gave: `id` must then be the path's, `visits` is the
/// server's and left alone, and `version`, when present, must be the row's (409).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Changes {
    name: Option<String>,
    email: Option<String>,
    id: Option<i64>,
    #[serde(rename = "visits")]
    _visits: Option<i64>,
    version: Option<i64>,
}

async fn replace(
    State(app): State<App>,
    UserId(id): UserId,
    if_match: IfMatch,
    Body(changes): Body<Changes>,
) -> Result<Response, Problem> {
    for (field, value) in [("name", &changes.name), ("email", &changes.email)] {
        if value.is_none() {
            return Err(invalid(format!("PUT replaces the user: `{field}` is missing (PATCH changes some fields)")));
        }
    }
    write(app, id, if_match, changes).await
}

async fn amend(
    State(app): State<App>,
    UserId(id): UserId,
    if_match: IfMatch,
    Body(changes): Body<Changes>,
) -> Result<Response, Problem> {
    write(app, id, if_match, changes).await
}

/// Reads the user, checks the client's `If-Match` against it (412), applies the
/// changes and saves with the version the client named, so a write that slips in
/// between makes the save fail (412; 409 when the version came in the body).
async fn write(app: App, id: i64, if_match: IfMatch, changes: Changes) -> Result<Response, Problem> {
    check_fields(changes.name.as_deref(), changes.email.as_deref())?;
    if changes.id.is_some_and(|body_id| body_id != id) {
        return Err(Problem::new(StatusCode::BAD_REQUEST, format!("the body's `id` is not the path's ({id})")));
    }
    let mut user = with_pool!(&app.db, |pool| User::get(pool, id).await)?;
    if_match.check(&user)?;
    if let Some(version) = changes.version {
        user.version = version;
    }
    if let Some(name) = changes.name {
        user.name = name;
    }
    if let Some(email) = changes.email {
        user.email = email;
    }
    let saved = with_pool!(&app.db, |pool| user.save(pool).await);
    saved.map_err(|e| if changes.version.is_some() { Problem::from(e) } else { Problem::from_if_match_write(e) })?;
    Ok(with_etag(StatusCode::OK, &user))
}

async fn remove(State(app): State<App>, UserId(id): UserId, if_match: IfMatch) -> Result<StatusCode, Problem> {
    let user = with_pool!(&app.db, |pool| User::get(pool, id).await)?;
    if_match.check(&user)?;
    with_pool!(&app.db, |pool| user.delete(pool).await).map_err(Problem::from_if_match_write)?;
    Ok(StatusCode::NO_CONTENT)
}

/// One more visit, counted on the server: read, add one, save; on a conflict read
/// afresh and add again, as the policy allows. No precondition: the client asks for
/// an increment, not for a value.
async fn visit(State(app): State<App>, UserId(id): UserId) -> Result<Response, Problem> {
    let mut attempts = 0u32;
    let user = with_pool!(&app.db, |pool| {
        User::update_with(pool, id, app.visits_policy, |user| {
            attempts += 1;
            user.visits += 1;
            Ok::<_, Problem>(())
        })
        .await
    })?;
    let mut response = with_etag(StatusCode::OK, &user);
    response.headers_mut().insert(UPDATE_ATTEMPTS, HeaderValue::from(attempts));
    Ok(response)
}
