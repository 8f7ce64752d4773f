//! `skylink serve` as an operator runs it (docs/operations.md): a TOML config file, JSON logs,
//! `/health` and `/metrics`, and a clean exit on SIGTERM.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStderr, Command};
use tokio::time::timeout;

/// Upper bound of every wait.
const WAIT: Duration = Duration::from_secs(15);

struct Serve {
    child: Child,
    stderr: Lines<BufReader<ChildStderr>>,
    /// Every JSON log line read so far.
    logs: Vec<Value>,
}

impl Serve {
    fn spawn(config: &std::path::Path) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_skylink"))
            .args(["serve", "--port", "0", "--log-format", "json", "--config"])
            .arg(config)
            .env("RUST_LOG", "info")
            .env_remove("SKYLINK_PORT")
            .env_remove("SKYLINK_BIND")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn skylink serve");
        let stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
        Serve {
            child,
            stderr,
            logs: Vec::new(),
        }
    }

    /// The next log line whose `message` is `message` (every line must be JSON).
    async fn log(&mut self, message: &str) -> Value {
        let wait = async {
            loop {
                let line = self
                    .stderr
                    .next_line()
                    .await
                    .expect("read stderr")
                    .unwrap_or_else(|| panic!("stderr ended before {message:?}: {:?}", self.logs));
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"));
                self.logs.push(v.clone());
                if v["message"] == message {
                    return v;
                }
            }
        };
        timeout(WAIT, wait)
            .await
            .unwrap_or_else(|_| panic!("no {message:?} log line within {WAIT:?}"))
    }
}

/// `GET path` over a fresh connection: (status, body).
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let exchange = async {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        tcp.write_all(req.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        tcp.read_to_end(&mut buf).await.expect("read");
        buf
    };
    let buf = timeout(WAIT, exchange).await.expect("response in time");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_owned())
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

#[tokio::test]
async fn config_file_json_logs_metrics_and_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("skylink.toml");
    std::fs::write(
        &config,
        r#"
[server]
bind = "127.0.0.1"
port = 8018            # overridden by --port 0

[[apps]]
key = "ops-app"
secret = "ops-secret"
"#,
    )
    .expect("write config");
    let mut serve = Serve::spawn(&config);

    let up = serve.log("skylink server listening").await;
    assert_eq!(up["level"], "INFO");
    assert_eq!(up["tls"], false);
    assert_eq!(up["apps"], 1);
    assert_eq!(up["config"], config.display().to_string());
    let addr: SocketAddr = up["addr"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("addr in {up}"));
    assert!(
        addr.ip().is_loopback(),
        "bound from the config file: {addr}"
    );
    assert_ne!(addr.port(), 8018, "--port beats the file");

    let (status, body) = get(addr, "/health").await;
    assert_eq!(status, 200, "{body}");
    let health: Value = serde_json::from_str(&body).expect("health JSON");
    assert_eq!(health["status"], "ok");

    // A configured server refuses unknown App Keys: an API answer, a log line and a counter.
    let (_, body) = get(addr, "/api/not-our-key/room1?rand=1").await;
    let refusal: Value = serde_json::from_str(&body).expect("API JSON");
    assert_eq!(refusal["error"], 4001, "{refusal}");
    let logged = serve.log("room API refused").await;
    assert_eq!(logged["code"], 4001);
    assert_eq!(logged["path"], "/api/not-our-key/room1");
    // Our own key in CORS mode is served.
    let (status, body) = get(addr, "/api/ops-app/room1?rand=2").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"pc_constraints\""), "{body}");

    let (status, metrics) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(metric(&metrics, "skylink_api_refused_total"), 1.0);
    assert_eq!(metric(&metrics, "skylink_api_ok_total"), 1.0);
    assert_eq!(metric(&metrics, "skylink_sockets"), 0.0);
    assert!(
        metrics.contains("skylink_messages_dropped_total{reason=\"malformed\"} 0"),
        "{metrics}"
    );

    let pid = serve.child.id().expect("pid") as libc::pid_t;
    // SAFETY: plain kill(2) on the child we spawned and still own.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let down = serve.log("shutting down").await;
    assert_eq!(down["signal"], "SIGTERM");
    serve.log("skylink server stopped").await;
    let status = timeout(WAIT, serve.child.wait())
        .await
        .expect("exits in time")
        .expect("wait");
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[tokio::test]
async fn a_bad_config_file_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[server]\nprot = 8018\n").expect("write config");
    let out = timeout(
        WAIT,
        Command::new(env!("CARGO_BIN_EXE_skylink"))
            .args(["serve", "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .expect("exits in time")
    .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml"), "names the file: {err}");
    assert!(err.contains("prot"), "names the unknown key: {err}");
}
