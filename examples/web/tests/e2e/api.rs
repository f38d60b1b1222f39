//! A client of the users API, and checks on what it answers.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, ETAG, HeaderMap, IF_MATCH, IF_NONE_MATCH};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How long one request may take before the test fails.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A user as the API sends it: exactly these members.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub visits: i64,
    pub version: i64,
}

impl User {
    pub fn path(&self) -> String {
        format!("/users/{}", self.id)
    }
}

/// One client of the service, with its own connection pool (keep-alive).
#[derive(Clone)]
pub struct Api {
    http: Client,
    base: String,
}

/// A response, read whole, with the request it answers (for messages).
pub struct Reply {
    pub request: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The strong entity tag of `version`.
pub fn tag(version: i64) -> String {
    format!("\"{version}\"")
}

impl Api {
    pub fn new(base: &str) -> Api {
        let http = Client::builder().no_proxy().timeout(REQUEST_TIMEOUT).build().expect("an HTTP client");
        Api { http, base: base.to_owned() }
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// Sends the request and reads the whole response.
    pub async fn send(&self, request: RequestBuilder) -> Reply {
        let request = request.build().expect("a well-formed request");
        let what = format!("{} {}", request.method(), request.url().path());
        let response = self.http.execute(request).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap_or_else(|e| panic!("{what}: read the body: {e}")).to_vec();
        Reply { request: what, status, headers, body }
    }

    /// `GET path`, with `If-None-Match` when given.
    pub async fn get(&self, path: &str, if_none_match: Option<&str>) -> Reply {
        let mut request = self.request(Method::GET, path);
        if let Some(tags) = if_none_match {
            request = request.header(IF_NONE_MATCH, tags);
        }
        self.send(request).await
    }

    /// `method path` with the JSON `body`, and `If-Match` when given.
    pub async fn write(&self, method: Method, path: &str, if_match: Option<&str>, body: &Value) -> Reply {
        let mut request = self.request(method, path).json(body);
        if let Some(tags) = if_match {
            request = request.header(IF_MATCH, tags);
        }
        self.send(request).await
    }

    /// `DELETE path`, with `If-Match` when given.
    pub async fn delete(&self, path: &str, if_match: Option<&str>) -> Reply {
        let mut request = self.request(Method::DELETE, path);
        if let Some(tags) = if_match {
            request = request.header(IF_MATCH, tags);
        }
        self.send(request).await
    }

    /// `POST path/visits`.
    pub async fn visit(&self, path: &str) -> Reply {
        self.send(self.request(Method::POST, &format!("{path}/visits"))).await
    }

    /// A new user, which must be answered 201.
    pub async fn create(&self, name: &str, email: &str) -> User {
        let body = json!({ "name": name, "email": email });
        self.write(Method::POST, "/users", None, &body).await.expect(StatusCode::CREATED).user()
    }

    /// The user at `path` as `GET` answers it (200), checking its `ETag`.
    pub async fn fetch(&self, path: &str) -> User {
        let reply = self.get(path, None).await.expect(StatusCode::OK);
        let user = reply.user();
        assert_eq!(reply.etag(), tag(user.version), "{}: the ETag is the version", reply.request);
        user
    }
}

impl Reply {
    /// The reply, which must have `status`.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Reply {
        assert_eq!(self.status, status, "{} answered {}: {}", self.request, self.status, self.text());
        self
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Header `name`, which must be there once.
    #[track_caller]
    pub fn header(&self, name: &str) -> &str {
        let mut values = self.headers.get_all(name).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            panic!("{} ({}): not one {name} header: {:?}", self.request, self.status, self.headers);
        };
        value.to_str().unwrap_or_else(|e| panic!("{}: {name} is not text: {e}", self.request))
    }

    #[track_caller]
    pub fn etag(&self) -> &str {
        self.header(ETAG.as_str())
    }

    /// The body as a user, sent as JSON.
    #[track_caller]
    pub fn user(&self) -> User {
        assert_eq!(self.header(CONTENT_TYPE.as_str()), "application/json", "{}", self.request);
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{}: not a user ({e}): {}", self.request, self.text()))
    }

    /// The body as a problem of `status`, checking the status, the content type and
    /// the members every problem has; `instance`, when given, must be its member.
    #[track_caller]
    pub fn problem(&self, status: StatusCode, instance: Option<&str>) -> Value {
        assert_eq!(self.status, status, "{} answered {}: {}", self.request, self.status, self.text());
        assert_eq!(self.header(CONTENT_TYPE.as_str()), "application/problem+json", "{}", self.request);
        let body: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{}: a problem that is not JSON ({e}): {}", self.request, self.text()));
        let reason = status.canonical_reason().expect("a status with a reason phrase");
        assert_eq!(body["type"], "about:blank", "{}: {body}", self.request);
        assert_eq!(body["title"], reason, "{}: {body}", self.request);
        assert_eq!(body["status"], status.as_u16(), "{}: {body}", self.request);
        let detail = body["detail"].as_str().unwrap_or_else(|| panic!("{}: no detail: {body}", self.request));
        assert!(!detail.trim().is_empty(), "{}: an empty detail: {body}", self.request);
        if let Some(instance) = instance {
            assert_eq!(body["instance"], instance, "{}: {body}", self.request);
        }
        body
    }

    /// A problem of `status` that names the versions `expected` (the client's;
    /// `None`: absent) and `actual` (the row's).
    #[track_caller]
    pub fn version_problem(&self, status: StatusCode, expected: Option<i64>, actual: i64) -> Value {
        let body = self.problem(status, None);
        match expected {
            Some(expected) => assert_eq!(body["expected"], expected, "{}: {body}", self.request),
            None => assert!(body.get("expected").is_none(), "{}: {body}", self.request),
        }
        assert_eq!(body["actual"], actual, "{}: {body}", self.request);
        body
    }
}
