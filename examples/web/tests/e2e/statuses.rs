//! Every status the API answers, one client at a time, and that a refused write
//! leaves the row as it was.

use reqwest::header::{CONTENT_TYPE, IF_MATCH, LOCATION};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{Api, Reply, User, tag};
use crate::service::Service;

/// An id no test creates.
const UNKNOWN: &str = "/users/987654321";

/// 201 with `Location` and `ETag`, 200, 304 for `If-None-Match`, 400 for a
/// malformed id or header, 404 for an unknown id.
pub async fn reads(url: String) {
    let service = Service::start(&url);
    let api = Api::new(service.base());

    let created = api.write(Method::POST, "/users", None, &json!({"name": "Ada", "email": "ada@example.com"})).await;
    let created = created.expect(StatusCode::CREATED);
    let ada = created.user();
    assert_eq!(created.header(LOCATION.as_str()), ada.path());
    assert_eq!(created.etag(), "\"0\"");
    assert_eq!((ada.name.as_str(), ada.email.as_str(), ada.visits, ada.version), ("Ada", "ada@example.com", 0, 0));
    let grace = api.create("Grace", "grace@example.com").await;
    assert_ne!(grace.id, ada.id);
    let zoe = api.create("Zoë 🚀 \"Z\"", "zoë@例え.jp").await;
    assert_eq!((zoe.name.as_str(), zoe.email.as_str()), ("Zoë 🚀 \"Z\"", "zoë@例え.jp"));
    assert_eq!(api.fetch(&zoe.path()).await, zoe, "text outside ASCII comes back as sent");

    assert_eq!(api.fetch(&ada.path()).await, ada);
    assert_eq!(api.fetch(&grace.path()).await, grace);
    not_modified(&api, &ada.path()).await;

    let bad_id = api.get("/users/abc", None).await;
    bad_id.problem(StatusCode::BAD_REQUEST, Some("/users/abc"));
    api.get(&ada.path(), Some("0")).await.problem(StatusCode::BAD_REQUEST, Some(&ada.path()));
    api.get(UNKNOWN, None).await.problem(StatusCode::NOT_FOUND, None);
    api.get(UNKNOWN, Some("*")).await.problem(StatusCode::NOT_FOUND, None);
}

/// 304 with the `ETag` and no body when `If-None-Match` names the version, weakly
/// or strongly, alone, in a list or as `*`; 200 when it names another.
async fn not_modified(api: &Api, path: &str) {
    for tags in ["\"0\"", "W/\"0\"", "*", "\"7\", \"0\""] {
        let reply = api.get(path, Some(tags)).await.expect(StatusCode::NOT_MODIFIED);
        assert_eq!(reply.etag(), "\"0\"", "If-None-Match: {tags}");
        assert!(reply.body.is_empty(), "If-None-Match: {tags}: a body: {}", reply.text());
    }
    let changed = api.get(path, Some("\"1\"")).await.expect(StatusCode::OK);
    assert_eq!(changed.user().version, 0);
}

/// 428 without `If-Match`, 400 for a malformed `If-Match`, id or body, 415 for a
/// body that is not JSON, 422 for invalid fields: none of them changes the row.
pub async fn refused_writes_change_nothing(url: String) {
    let service = Service::start(&url);
    let api = Api::new(service.base());
    let user = api.create("Ada", "ada@example.com").await;
    let path = user.path();

    without_if_match(&api, &path).await;
    malformed_if_match(&api, &path).await;
    malformed_bodies(&api, &path).await;
    invalid_fields(&api, &path).await;

    assert_eq!(api.fetch(&path).await, user, "a refused write changed the row");
    let next = format!("/users/{}", user.id + 1);
    api.get(&next, None).await.problem(StatusCode::NOT_FOUND, None);
}

async fn without_if_match(api: &Api, path: &str) {
    let changes = json!({"name": "Eve", "email": "eve@example.com"});
    let replies = [
        api.write(Method::PUT, path, None, &changes).await,
        api.write(Method::PATCH, path, None, &changes).await,
        api.delete(path, None).await,
    ];
    for reply in replies {
        let body = reply.problem(StatusCode::PRECONDITION_REQUIRED, Some(path));
        assert!(body["detail"].as_str().unwrap().contains("If-Match"), "{}: {body}", reply.request);
    }
}

async fn malformed_if_match(api: &Api, path: &str) {
    let changes = json!({"name": "Eve", "email": "eve@example.com"});
    for tags in ["0", "\"0", "W/0", "*, \"0\""] {
        let replies = [
            api.write(Method::PUT, path, Some(tags), &changes).await,
            api.write(Method::PATCH, path, Some(tags), &changes).await,
            api.delete(path, Some(tags)).await,
        ];
        for reply in replies {
            let body = reply.problem(StatusCode::BAD_REQUEST, Some(path));
            assert!(body["detail"].as_str().unwrap().contains("if-match"), "If-Match: {tags}: {body}");
        }
    }
}

async fn malformed_bodies(api: &Api, path: &str) {
    for method in [Method::PUT, Method::PATCH] {
        let raw = |body: &'static str| api.request(method.clone(), path).header(IF_MATCH, "\"0\"").body(body);
        let json = |body: &'static str| raw(body).header(CONTENT_TYPE, "application/json");
        for body in ["{\"name\": \"Eve\",", "not json", ""] {
            api.send(json(body)).await.problem(StatusCode::BAD_REQUEST, Some(path));
        }
        for (body, named) in [
            (r#"{"name": "Eve", "email": "e@x", "admin": true}"#, "admin"),
            (r#"{"name": 5, "email": "e@x"}"#, "name"),
            (r#"{"name": "Eve", "email": "e@x", "version": "0"}"#, "version"),
        ] {
            let reply = api.send(json(body)).await;
            let problem = reply.problem(StatusCode::BAD_REQUEST, Some(path));
            assert!(problem["detail"].as_str().unwrap().contains(named), "{body}: {problem}");
        }
        let unsupported = api.send(raw(r#"{"name": "Eve", "email": "e@x"}"#)).await;
        unsupported.problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, Some(path));
        let other_id = json!({"id": 987654321, "name": "Eve", "email": "eve@example.com"});
        api.write(method.clone(), path, Some("\"0\""), &other_id).await.problem(StatusCode::BAD_REQUEST, None);
    }
    for body in [json!({"name": "Eve", "email": "eve@example.com", "version": 3}), json!({"name": "Eve"})] {
        api.write(Method::POST, "/users", None, &body).await.problem(StatusCode::BAD_REQUEST, Some("/users"));
    }
    let not_json = api.request(Method::POST, "/users").header(CONTENT_TYPE, "application/json").body("{");
    api.send(not_json).await.problem(StatusCode::BAD_REQUEST, Some("/users"));
    let changes = json!({"name": "Eve", "email": "eve@example.com"});
    let bad_id = api.write(Method::PUT, "/users/abc", Some("\"0\""), &changes).await;
    bad_id.problem(StatusCode::BAD_REQUEST, Some("/users/abc"));
    api.delete("/users/1.5", Some("\"0\"")).await.problem(StatusCode::BAD_REQUEST, Some("/users/1.5"));
}

async fn invalid_fields(api: &Api, path: &str) {
    let cases: [(Method, &str, Value); 7] = [
        (Method::POST, "/users", json!({"name": "", "email": "eve@example.com"})),
        (Method::POST, "/users", json!({"name": "Eve", "email": "eve.example.com"})),
        (Method::PUT, path, json!({"name": "", "email": "eve@example.com"})),
        (Method::PUT, path, json!({"name": "Eve", "email": "nowhere"})),
        (Method::PUT, path, json!({"name": "Eve"})),
        (Method::PATCH, path, json!({"name": "   "})),
        (Method::PATCH, path, json!({"email": "nowhere"})),
    ];
    for (method, to, body) in cases {
        let if_match = (method != Method::POST).then_some("\"0\"");
        let reply = api.write(method, to, if_match, &body).await;
        reply.problem(StatusCode::UNPROCESSABLE_ENTITY, None);
    }
}

/// 200 with the next `ETag` for `PUT`, `PATCH` (with a tag, a list or `*`) and a
/// visit; 412 for a stale `If-Match`, 409 for a stale `version` in the body, with
/// both versions, and the row unchanged by them.
pub async fn stale_writes(url: String) {
    let service = Service::start(&url);
    let api = Api::new(service.base());
    let user = api.create("Ada", "ada@example.com").await;
    let user = successful_writes(&api, user).await;
    assert_eq!(user.version, 4);
    let path = user.path();

    let changes = json!({"name": "Eve", "email": "eve@example.com"});
    let stale = [
        (api.write(Method::PUT, &path, Some("\"3\""), &changes).await, Some(3)),
        (api.write(Method::PATCH, &path, Some("\"0\""), &changes).await, Some(0)),
        (api.write(Method::PUT, &path, Some("\"5\""), &changes).await, Some(5)),
        (api.delete(&path, Some("\"1\"")).await, Some(1)),
        (api.write(Method::PUT, &path, Some("W/\"4\""), &changes).await, None),
        (api.write(Method::PATCH, &path, Some("\"1\", \"2\""), &changes).await, None),
    ];
    for (reply, expected) in stale {
        reply.version_problem(StatusCode::PRECONDITION_FAILED, expected, 4);
    }

    for (method, version) in [(Method::PUT, 3), (Method::PATCH, 0), (Method::PATCH, 9)] {
        let body = json!({"name": "Eve", "email": "eve@example.com", "version": version});
        let reply = api.write(method, &path, Some("\"4\""), &body).await;
        reply.version_problem(StatusCode::CONFLICT, Some(version), 4);
    }
    assert_eq!(api.fetch(&path).await, user, "a stale write changed the row");
}

/// Four writes that succeed, each answered with the row as saved: returns it.
async fn successful_writes(api: &Api, user: User) -> User {
    let path = user.path();
    let put = json!({"name": "Grace", "email": "grace@example.com"});
    let user = saved(api, api.write(Method::PUT, &path, Some(&tag(user.version)), &put).await, &user).await;
    assert_eq!((user.name.as_str(), user.email.as_str()), ("Grace", "grace@example.com"));

    let patch = json!({"email": "grace@example.org"});
    let user = saved(api, api.write(Method::PATCH, &path, Some("\"7\", \"1\""), &patch).await, &user).await;
    assert_eq!((user.name.as_str(), user.email.as_str()), ("Grace", "grace@example.org"));

    // The whole representation, as GET gave it, with a new name.
    let mut whole = serde_json::to_value(&user).expect("a user as JSON");
    whole["name"] = json!("Grace Hopper");
    let user = saved(api, api.write(Method::PUT, &path, Some("*"), &whole).await, &user).await;
    assert_eq!((user.name.as_str(), user.email.as_str()), ("Grace Hopper", "grace@example.org"));

    let visited = api.visit(&path).await.expect(StatusCode::OK);
    assert_eq!(visited.header("update-attempts"), "1");
    saved(api, visited, &user).await
}

/// The user a successful write answered: the same one at the next version, with the
/// next `ETag`, one more visit for a visit, and what a `GET` gives afterwards.
async fn saved(api: &Api, reply: Reply, before: &User) -> User {
    let reply = reply.expect(StatusCode::OK);
    let user = reply.user();
    assert_eq!(reply.etag(), tag(before.version + 1), "{}", reply.request);
    assert_eq!((user.id, user.version), (before.id, before.version + 1), "{}", reply.request);
    let visits = before.visits + i64::from(reply.request.ends_with("/visits"));
    assert_eq!(user.visits, visits, "{}", reply.request);
    assert_eq!(api.fetch(&user.path()).await, user, "{}: GET afterwards", reply.request);
    user
}

/// 204 for a `DELETE` with the current `ETag`, then 404 for everything on the id;
/// 404 for every method on an id that never was.
pub async fn deletes_and_unknown_ids(url: String) {
    let service = Service::start(&url);
    let api = Api::new(service.base());
    let ada = api.create("Ada", "ada@example.com").await;
    let grace = api.create("Grace", "grace@example.com").await;
    gone(&api, UNKNOWN).await;

    let deleted = api.delete(&ada.path(), Some("\"0\"")).await.expect(StatusCode::NO_CONTENT);
    assert!(deleted.body.is_empty(), "204 with a body: {}", deleted.text());
    gone(&api, &ada.path()).await;
    api.get(&ada.path(), Some("\"0\"")).await.problem(StatusCode::NOT_FOUND, None);
    assert_eq!(api.fetch(&grace.path()).await, grace, "deleting one user changed another");

    let deleted = api.delete(&grace.path(), Some("*")).await.expect(StatusCode::NO_CONTENT);
    assert!(deleted.body.is_empty(), "204 with a body: {}", deleted.text());
    gone(&api, &grace.path()).await;
}

/// 404 problems for `GET`, `PUT`, `PATCH`, `DELETE` and a visit on `path`.
async fn gone(api: &Api, path: &str) {
    let changes = json!({"name": "Eve", "email": "eve@example.com"});
    let replies = [
        api.get(path, None).await,
        api.write(Method::PUT, path, Some("\"0\""), &changes).await,
        api.write(Method::PATCH, path, Some("*"), &changes).await,
        api.delete(path, Some("\"0\"")).await,
        api.visit(path).await,
    ];
    for reply in replies {
        reply.problem(StatusCode::NOT_FOUND, None);
    }
}

/// A path the API does not have is a 404 problem, a method its path does not take a
/// 405 problem that says in `Allow` which it does.
pub async fn other_routes_are_problems_too(url: String) {
    let service = Service::start(&url);
    let api = Api::new(service.base());
    let user = api.create("Ada", "ada@example.com").await;
    for path in ["/", "/nope", "/users/1/", &format!("{}/friends", user.path())] {
        api.get(path, None).await.problem(StatusCode::NOT_FOUND, Some(path));
    }
    let visits = format!("{}/visits", user.path());
    for (method, path, allow) in [
        (Method::GET, "/users", "POST"),
        (Method::DELETE, "/users", "POST"),
        (Method::POST, user.path().as_str(), "GET,HEAD,PUT,PATCH,DELETE"),
        (Method::GET, &visits, "POST"),
    ] {
        let reply = api.send(api.request(method, path)).await;
        reply.problem(StatusCode::METHOD_NOT_ALLOWED, Some(path));
        assert_eq!(reply.header("allow"), allow, "{}", reply.request);
    }
    assert_eq!(api.fetch(&user.path()).await, user);
}
