//! The service under load: the release `web` binary, started on a free port and
//! stopped with SIGINT.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Lines of the server's stderr kept for the report.
const LOG_KEPT: usize = 5;

/// The running service; killed on drop if [`Server::stop`] was not called.
pub struct Server {
    child: Child,
    pub base: String,
    pub log: Arc<Mutex<Log>>,
    stopped: bool,
}

/// What the server wrote to stderr: how many lines, and the first few.
#[derive(Default)]
pub struct Log {
    pub lines: u64,
    pub first: Vec<String>,
}

impl Server {
    pub fn start(database_url: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_web"))
            .args(["--addr", "127.0.0.1:0", "--database-url", database_url])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start the web binary");
        let log = drain_stderr(child.stderr.take().expect("piped"));
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("cannot read the server's stdout");
        let mut server = Server { child, base: String::new(), log, stopped: false };
        let Some(base) = line.trim().strip_prefix("listening on ") else {
            let status = server.child.wait();
            panic!("the server did not start ({status:?}): {:?}", server.log.lock().unwrap().first);
        };
        server.base = base.to_owned();
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        server
    }

    /// SIGINT, then waits for the graceful exit (10 s at most, then SIGKILL).
    pub fn stop(mut self) -> String {
        self.stopped = true;
        let started = Instant::now();
        let _ = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(status)) = self.child.try_wait() {
                return format!("{status}, {:.0?} after SIGINT", started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        format!("no exit 10 s after SIGINT; killed ({:?})", self.child.wait())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn drain_stderr(stderr: impl Read + Send + 'static) -> Arc<Mutex<Log>> {
    let log = Arc::new(Mutex::new(Log::default()));
    let kept = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut log = kept.lock().unwrap();
            log.lines += 1;
            if log.first.len() < LOG_KEPT {
                log.first.push(line);
            }
        }
    });
    log
}
