//! A users service on axum and sqlx, with optimistic locking from the client's form to
//! the row: `GET` hands out the version as a strong `ETag`, every write must send it
//! back in `If-Match`, and a stale one is answered `412` with the version the row
//! holds now. See `routes.rs` for the API.
//!
//! ```text
//! web [--addr HOST:PORT] [--database-url URL]
//! ```
//!
//! Serves on 127.0.0.1:3000 (port 0: any free one) with the SQLite file
//! `versioned-web.db` unless told otherwise; `--database-url` (or `DATABASE_URL`)
//! selects `postgres://...` or `mysql://...` instead. The first line on stdout is
//! `listening on http://HOST:PORT`; request logs go to stderr (`RUST_LOG` filters
//! them). Ctrl-C (or SIGTERM) stops taking connections, lets the requests in flight
//! finish, and exits.

mod db;
mod routes;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use versioned::RetryPolicy;
use versioned::http::Problem;

use crate::db::Db;
use crate::routes::App;

const USAGE: &str = "usage: web [--addr HOST:PORT] [--database-url URL]

  --addr HOST:PORT      where to listen (default 127.0.0.1:3000; port 0: any free port)
  --database-url URL    sqlite://FILE, postgres://... or mysql://...
                        (default: $DATABASE_URL, else sqlite://versioned-web.db)";

/// The command line, parsed.
#[derive(Debug)]
struct Args {
    addr: SocketAddr,
    database_url: String,
}

impl Args {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut addr = None;
        let mut database_url = None;
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
                None => (arg, None),
            };
            let mut value = || inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--addr" => {
                    let text = value()?;
                    addr = Some(text.parse().map_err(|e| format!("--addr {text}: {e} (expected HOST:PORT)"))?);
                }
                "--database-url" => database_url = Some(value()?),
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        let database_url = database_url
            .or_else(|| std::env::var("DATABASE_URL").ok().filter(|url| !url.is_empty()))
            .unwrap_or_else(|| "sqlite://versioned-web.db".to_owned());
        Ok(Args { addr: addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000))), database_url })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match serve(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> Result<(), String> {
    let db = Db::connect(&args.database_url).await.map_err(|e| format!("cannot open {}: {e}", args.database_url))?;
    let listener = TcpListener::bind(args.addr).await.map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;

    let visits_policy = RetryPolicy::default().max_attempts(10).max_delay(Duration::from_millis(20));
    let app = routes::router(App { db: db.clone(), visits_policy }).layer(middleware::from_fn(log_request));

    println!("listening on http://{addr}");
    tracing::info!(%addr, database = db.name(), "serving");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("serving failed: {e}"))?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// One log line per request: method, route, status and time taken; the cause of a
/// 5xx, which its problem body keeps from the client, at `error` level.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let micros = started.elapsed().as_micros() as u64;
    let route = route.as_deref().unwrap_or("-");
    match response.extensions().get::<Problem>().and_then(Problem::error) {
        Some(error) if response.status().is_server_error() => {
            tracing::error!(%method, path, route, status, micros, error = %ErrorChain(error), "request failed")
        }
        _ => tracing::info!(%method, path, route, status, micros, "request"),
    }
    response
}

/// An error and its sources, `: `-separated.
struct ErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_take_a_value_after_a_space_or_an_equals_sign() {
        let args = parse(&["--addr", "127.0.0.1:0", "--database-url=postgres://root@localhost/test"]).unwrap();
        assert_eq!(args.addr, "127.0.0.1:0".parse().unwrap());
        assert_eq!(args.database_url, "postgres://root@localhost/test");
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        assert_eq!(parse(&["--addr"]).unwrap_err(), "--addr needs a value");
        assert!(parse(&["--addr", "localhost"]).unwrap_err().starts_with("--addr localhost: "));
        assert_eq!(parse(&["--port", "1"]).unwrap_err(), "unknown argument `--port`");
        assert_eq!(parse(&["--help"]).unwrap_err(), "");
    }
}
