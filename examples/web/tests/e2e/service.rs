//! The `web` binary as a child process: started on a free port, its stderr collected
//! for the failure messages, and stopped with SIGINT.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long the service may take to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long it may take to exit after SIGINT before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// How many of its last stderr lines a failure shows.
const TAIL_LINES: usize = 60;

/// A running `web` service. Dropping it stops it with SIGINT and waits for it; a
/// service that then exits with another status than 0 fails the test, and a failing
/// test shows the end of the service's stderr.
pub struct Service {
    child: Child,
    base: String,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
    stopped: bool,
}

/// How a service ended.
pub struct Stopped {
    pub status: ExitStatus,
    pub stderr: String,
}

impl Service {
    /// Starts the binary on `127.0.0.1:0` with `database_url`, and waits for its
    /// `listening on http://HOST:PORT` line.
    pub fn start(database_url: &str) -> Service {
        let mut child = Command::new(env!("CARGO_BIN_EXE_web"))
            .args(["--addr", "127.0.0.1:0", "--database-url", database_url])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the web binary");
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_reader = Some(collect(child.stderr.take().expect("piped stderr"), Arc::clone(&stderr)));
        let lines = lines_of(child.stdout.take().expect("piped stdout"));
        let mut service = Service { child, base: String::new(), stderr, stderr_reader, stopped: false };
        match lines.recv_timeout(START_TIMEOUT) {
            Ok(line) => match line.strip_prefix("listening on ") {
                Some(base) if base.starts_with("http://") => service.base = base.to_owned(),
                _ => service.fail(&format!("its first stdout line is {line:?}, not `listening on http://HOST:PORT`")),
            },
            Err(RecvTimeoutError::Timeout) => {
                service.fail(&format!("it said nowhere it listens within {START_TIMEOUT:?}"))
            }
            Err(RecvTimeoutError::Disconnected) => service.fail("it closed its stdout before saying where it listens"),
        }
        service
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends `signal` (`-INT`, `-TERM`) and waits for the service to exit.
    pub fn stop(mut self, signal: &str) -> Stopped {
        self.shut_down(signal).unwrap_or_else(|why| panic!("{why}"))
    }

    /// Sends `signal` and waits; a service that does not exit in time is killed, and
    /// that is the error.
    fn shut_down(&mut self, signal: &str) -> Result<Stopped, String> {
        self.stopped = true;
        // A service that already died is not an error here: its status says so.
        let _ = Command::new("kill").args([signal, &self.child.id().to_string()]).status();
        if let Some(status) = self.wait(STOP_TIMEOUT) {
            return Ok(Stopped { status, stderr: self.collected_stderr() });
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let stderr = self.collected_stderr();
        Err(format!(
            "the web service did not exit within {STOP_TIMEOUT:?} of kill {signal}; its stderr:\n{}",
            tail(&stderr)
        ))
    }

    /// The child's exit status, waiting at most `timeout`.
    fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait().expect("wait for the service") {
                Some(status) => return Some(status),
                None if Instant::now() >= deadline => return None,
                None => thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    /// All of stderr, once the child has exited (the reader then reaches its end).
    fn collected_stderr(&mut self) -> String {
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        self.stderr.lock().map(|text| text.clone()).unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Fails the test over a service that did not start: kills it, and shows how it
    /// ended and what it said.
    fn fail(&mut self, why: &str) -> ! {
        self.stopped = true;
        let _ = self.child.kill();
        let status = self.child.wait().map_or_else(|e| e.to_string(), |s| s.to_string());
        let stderr = self.collected_stderr();
        panic!("the web service did not start: {why} (it ended with {status}); its stderr:\n{}", tail(&stderr));
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        let stopped = self.shut_down("-INT");
        let why = match stopped {
            Ok(Stopped { status, .. }) if status.success() && !thread::panicking() => return,
            Ok(Stopped { status, stderr }) => {
                format!("the web service ended with {status}; its stderr:\n{}", tail(&stderr))
            }
            Err(why) => why,
        };
        // Already failing: say why beside the failure, as a second panic would abort.
        if thread::panicking() {
            eprintln!("{why}");
        } else {
            panic!("after SIGINT, {why}");
        }
    }
}

/// The lines of the child's stdout, read on a thread until it closes.
fn lines_of(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // Nobody listens after the first line: the rest is only drained.
            let _ = send.send(line);
        }
    });
    receive
}

/// Appends everything `from` says to `into`, on a thread, until it closes.
fn collect(from: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            if let Ok(mut text) = into.lock() {
                text.push_str(&String::from_utf8_lossy(&line));
            }
            line.clear();
        }
    })
}

/// The last lines of `text`, saying how many were left out.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let skipped = lines.len().saturating_sub(TAIL_LINES);
    let mut shown = if skipped > 0 { format!("[{skipped} earlier lines left out]\n") } else { String::new() };
    shown += &lines[skipped..].join("\n");
    shown
}
