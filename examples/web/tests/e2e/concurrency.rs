//! Several clients at once on one user: racing writes, a counter kept with
//! `If-Match`, and visits counted by the server.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::sync::Barrier;
use tokio::task::JoinHandle;

use crate::api::{Api, Reply, User, tag};
use crate::service::Service;

/// How many rounds two clients race in.
const ROUNDS: i64 = 10;
/// Clients, and how many increments each makes.
const CLIENTS: usize = 8;
const INCREMENTS: usize = 50;

/// Two clients read the same `ETag` and `PUT` different data at once, round after
/// round: one gets 200, the other 412, and the row holds the winner's data.
pub async fn racing_writes_have_one_winner(url: String) {
    let service = Service::start(&url);
    let clients = [Api::new(service.base()), Api::new(service.base())];
    let mut user = clients[0].create("nobody", "nobody@example.com").await;
    for round in 0..ROUNDS {
        user = race(&clients, &user, round).await;
        assert_eq!(user.version, round + 1);
    }
}

/// One round: both clients read `current`, then both write; returns the winner's user.
async fn race(clients: &[Api; 2], current: &User, round: i64) -> User {
    let path = current.path();
    for client in clients {
        assert_eq!(&client.fetch(&path).await, current, "round {round}: both clients read the same row");
    }
    let barrier = Arc::new(Barrier::new(clients.len()));
    let writes: Vec<JoinHandle<Reply>> = (0..clients.len())
        .map(|i| {
            let (client, barrier, path) = (clients[i].clone(), Arc::clone(&barrier), path.clone());
            let body =
                json!({"name": format!("client {i}, round {round}"), "email": format!("c{i}r{round}@example.com")});
            let if_match = tag(current.version);
            tokio::spawn(async move {
                barrier.wait().await;
                client.write(Method::PUT, &path, Some(&if_match), &body).await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for write in writes {
        replies.push(write.await.expect("a client's task"));
    }
    let statuses: Vec<StatusCode> = replies.iter().map(|reply| reply.status).collect();
    let (won, lost): (Vec<Reply>, Vec<Reply>) = replies.into_iter().partition(|reply| reply.status == StatusCode::OK);
    assert!(won.len() == 1 && lost.len() == 1, "round {round}: not one 200 and one 412: {statuses:?}");
    lost[0].version_problem(StatusCode::PRECONDITION_FAILED, Some(current.version), current.version + 1);
    let winner = won[0].user();
    assert_eq!(won[0].etag(), tag(current.version + 1));
    assert_eq!((winner.id, winner.version), (current.id, current.version + 1));
    assert!(winner.name.ends_with(&format!("round {round}")), "round {round}: {winner:?}");
    assert_eq!(clients[0].fetch(&path).await, winner, "round {round}: the row holds the winner's write");
    winner
}

/// Eight clients each add one to a counter (the name) fifty times, with `GET` then
/// `PUT` and `If-Match`, reading again after a 412: no increment is lost.
pub async fn counter_increments_are_never_lost(url: String) {
    let service = Service::start(&url);
    let user = Api::new(service.base()).create("0", "counter@example.com").await;
    let clients: Vec<JoinHandle<(Vec<i64>, u32)>> =
        (0..CLIENTS).map(|_| tokio::spawn(increment(Api::new(service.base()), user.path(), INCREMENTS))).collect();
    let (mut written, mut conflicts) = (Vec::new(), 0);
    for client in clients {
        let (values, refused) = client.await.expect("a client's task");
        written.extend(values);
        conflicts += refused;
    }
    written.sort_unstable();
    let total = (CLIENTS * INCREMENTS) as i64;
    assert_eq!(written, (1..=total).collect::<Vec<_>>(), "each value written once");
    let end = Api::new(service.base()).fetch(&user.path()).await;
    assert_eq!((end.name, end.version), (total.to_string(), total));
    println!(
        "{}: {CLIENTS} clients x {INCREMENTS} increments with If-Match: {conflicts} answered 412 and read again",
        backend(&url)
    );
}

/// `times` increments of the counter at `path`: the values written, and how many
/// writes were answered 412.
async fn increment(api: Api, path: String, times: usize) -> (Vec<i64>, u32) {
    let (mut written, mut conflicts) = (Vec::with_capacity(times), 0);
    while written.len() < times {
        let user = api.fetch(&path).await;
        let n: i64 = user.name.parse().unwrap_or_else(|e| panic!("the counter {:?}: {e}", user.name));
        assert_eq!(n, user.version, "the counter and the version move together");
        let body = json!({"name": (n + 1).to_string(), "email": user.email});
        let reply = api.write(Method::PUT, &path, Some(&tag(user.version)), &body).await;
        match reply.status {
            StatusCode::OK => {
                let saved = reply.user();
                assert_eq!((saved.name, saved.version), ((n + 1).to_string(), n + 1));
                assert_eq!(reply.etag(), tag(n + 1));
                written.push(n + 1);
            }
            StatusCode::PRECONDITION_FAILED => {
                let problem = reply.problem(StatusCode::PRECONDITION_FAILED, None);
                assert_eq!(problem["expected"], n, "{problem}");
                assert!(problem["actual"].as_i64().is_some_and(|actual| actual > n), "{problem}");
                conflicts += 1;
            }
            status => panic!("{} answered {status}: {}", reply.request, reply.text()),
        }
    }
    (written, conflicts)
}

/// Eight clients each visit one user fifty times; the server retries conflicts
/// itself, and a 409 (its retries spent) is sent again: every visit counts.
pub async fn server_side_retries_count_every_visit(url: String) {
    let service = Service::start(&url);
    let user = Api::new(service.base()).create("Ada", "ada@example.com").await;
    let clients: Vec<JoinHandle<Visits>> =
        (0..CLIENTS).map(|_| tokio::spawn(visit(Api::new(service.base()), user.path(), INCREMENTS))).collect();
    let mut all = Visits::default();
    for client in clients {
        let visits = client.await.expect("a client's task");
        all.counted.extend(visits.counted);
        all.attempts += visits.attempts;
        all.spent += visits.spent;
    }
    all.counted.sort_unstable();
    let total = (CLIENTS * INCREMENTS) as i64;
    assert_eq!(all.counted, (1..=total).collect::<Vec<_>>(), "each visit counted once");
    let end = Api::new(service.base()).fetch(&user.path()).await;
    assert_eq!((end.visits, end.version), (total, total));
    assert!(all.attempts >= total as u64, "fewer attempts than visits: {}", all.attempts);
    println!(
        "{}: {CLIENTS} clients x {INCREMENTS} visits: {} update attempts on the server, {} answered 409 and sent again",
        backend(&url),
        all.attempts,
        all.spent
    );
}

/// What one client's visits came to.
#[derive(Default)]
struct Visits {
    /// The visit counts the answers held.
    counted: Vec<i64>,
    /// The sum of their `update-attempts`.
    attempts: u64,
    /// How many were answered 409.
    spent: u32,
}

async fn visit(api: Api, path: String, times: usize) -> Visits {
    let mut visits = Visits::default();
    while visits.counted.len() < times {
        let reply = api.visit(&path).await;
        match reply.status {
            StatusCode::OK => {
                let user = reply.user();
                assert_eq!(user.visits, user.version, "only visits change this user");
                let attempts: u64 = reply.header("update-attempts").parse().expect("update-attempts is a number");
                assert!((1..=10).contains(&attempts), "update-attempts: {attempts}");
                visits.attempts += attempts;
                visits.counted.push(user.visits);
            }
            StatusCode::CONFLICT => {
                reply.problem(StatusCode::CONFLICT, None);
                visits.spent += 1;
            }
            status => panic!("{} answered {status}: {}", reply.request, reply.text()),
        }
    }
    visits
}

/// The scheme of the database URL, for the counts a test prints.
fn backend(url: &str) -> &str {
    url.split(':').next().unwrap_or(url)
}
