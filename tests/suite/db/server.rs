//! What the PostgreSQL and MySQL suites share: naming a test's schema or database,
//! and what to do when the server does not answer.

use std::io::Write;

/// A schema or database name for `test` on a server, unique per test and backend
/// (`prefix`) and within the servers' 63-character limit.
pub fn place_name(prefix: &str, test: &str) -> String {
    // FNV-1a: keeps two long names that share their first characters apart.
    let hash = test.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let short: String = test.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
    format!("{prefix}_{short}_{:08x}", hash as u32)
}

/// Handles a server that does not answer: under `CI=true` the case fails; otherwise it
/// is skipped with a note on stderr (shown once, even though test output is captured).
pub fn server_down(name: &str, env: &str, url: &str, start: &str, error: &str) {
    let problem = format!("{name} does not answer at {url} ({error}); start it ({start}) or point {env} at one");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{problem}. Under CI=true a missing server is a failure");
    }
    eprintln!("{problem}. Skipping this {name} case");
    static SHOWN: std::sync::Once = std::sync::Once::new();
    SHOWN.call_once(|| {
        let _ = writeln!(std::io::stderr(), "note: {problem}. Skipping the {name} cases");
    });
}

/// An error and its causes, for a message.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
