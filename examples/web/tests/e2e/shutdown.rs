//! Stopping the service: SIGINT and SIGTERM end it with status 0, and the rows
//! outlive it.

use crate::api::Api;
use crate::service::{Service, Stopped};

/// SIGINT, then SIGTERM on a second run over the same database: each stops the
/// service gracefully (status 0, with its log saying so) while a client still holds
/// an idle keep-alive connection, and the second run serves what the first stored.
pub async fn signals_stop_it_gracefully(url: String) {
    let first = Service::start(&url);
    let api = Api::new(first.base());
    let user = api.create("Ada", "ada@example.com").await;
    assert_eq!(api.fetch(&user.path()).await, user);
    stopped_gracefully(first.stop("-INT"), "SIGINT");

    let second = Service::start(&url);
    let api = Api::new(second.base());
    assert_eq!(api.fetch(&user.path()).await, user, "the row outlived the service");
    stopped_gracefully(second.stop("-TERM"), "SIGTERM");
}

#[track_caller]
fn stopped_gracefully(stopped: Stopped, signal: &str) {
    let Stopped { status, stderr } = stopped;
    assert_eq!(status.code(), Some(0), "after {signal}: {status}; stderr:\n{stderr}");
    assert!(stderr.contains("shutting down"), "after {signal}, no `shutting down` on stderr:\n{stderr}");
    assert!(stderr.contains("stopped"), "after {signal}, no `stopped` on stderr:\n{stderr}");
}

/// A database it cannot open: it says so on stderr, prints no `listening` line and
/// exits with status 1.
#[test]
fn a_database_it_cannot_open_stops_it_at_start() {
    let dir = std::env::temp_dir().join(format!("web_e2e_missing-{}", std::process::id()));
    let url = format!("sqlite://{}/no/such/dir/users.db", dir.display());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_web"))
        .args(["--addr", "127.0.0.1:0", "--database-url", &url])
        .output()
        .expect("run the web binary");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(output.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&output.stdout));
    assert!(stderr.contains(&format!("cannot open {url}")), "stderr:\n{stderr}");
}
