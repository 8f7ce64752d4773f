//! `cargo xtask bench signaling`: our signaling server against a baseline, in one command.
//!
//! The baseline is `bench/node-relay/server.js`: the minimum Skylink room API + SM relay on
//! socket.io 1.4.8 (Engine.IO 3), the server generation skylinkjs 0.6.26 was built against.
//! Every scenario runs the SAME `skylink bench signaling … --json --server-pid PID` invocation
//! against a fresh baseline process and then a fresh `skylink serve` process, and the table
//! reports skylink-rs / baseline ratios (project rule: figures are ratios against a baseline
//! measured in the same command, because the 2-core machine is noisy).
//!
//! Scenarios (defaults finish in well under 3 minutes):
//! * relay: `--clients 400 --rooms 100 --inflight 4 --duration 8` (closed loop, saturating);
//! * latency: `--clients 400 --rooms 100 --rate 25 --duration 8` (open loop, moderate load);
//! * idle: `--clients 5000 --rooms 1250 --idle --duration 10` (same room size as above).
//!
//! The table is printed and written to `bench/results/signaling-<UTC date>.md`. Every process
//! started here (servers, load generator) is killed when its run ends, also on errors.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[path = "bench_media.rs"]
mod media;

const BASELINE_NAME: &str = "baseline (Node socket.io 1.4.8)";
const OURS_NAME: &str = "skylink-rs";

/// Entry point: `cargo xtask bench <what> [options]`.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("signaling") => signaling(root, &args[1..]),
        Some("join") => join(root, &args[1..]),
        Some("transfer") => transfer(root, &args[1..]),
        Some("media") => media::run(root, &args[1..]),
        _ => {
            eprintln!("usage: cargo xtask bench signaling|join|transfer|media [options]");
            eprintln!("{}", media::MEDIA_USAGE);
            eprintln!("{}", SIGNALING_USAGE);
            eprintln!("{}", JOIN_USAGE);
            eprintln!("{}", TRANSFER_USAGE);
            bail!("unknown or missing bench")
        }
    }
}

const SIGNALING_USAGE: &str = "\
  Runs `skylink bench signaling` against the Node socket.io 1.4.8 baseline (bench/node-relay)
  and against `skylink serve` (release build), fresh server per run, and prints ratios.
  options (defaults in brackets):
    --clients N         clients of the relay and latency scenarios [400]
    --rooms M           rooms of the relay and latency scenarios [100]
    --inflight K        relay scenario: messages in flight per client [4]
    --rate R            latency scenario: messages per second per client [25]
    --duration S        seconds of traffic per relay/latency run [8]
    --idle-clients N2   sockets of the idle scenario [5000]
    --idle-rooms M2     rooms of the idle scenario [N2 × M / N, same room size]
    --idle-duration S2  seconds the idle sockets are held [10]
    --only LIST         comma-separated subset of relay,latency,idle
    --no-build          do not run `cargo build --release -p skylink-cli` first";

#[derive(Debug, Clone)]
struct Opts {
    clients: usize,
    rooms: usize,
    inflight: usize,
    rate: f64,
    duration: f64,
    idle_clients: usize,
    idle_rooms: Option<usize>,
    idle_duration: f64,
    only: Option<Vec<String>>,
    build: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            clients: 400,
            rooms: 100,
            inflight: 4,
            rate: 25.0,
            duration: 8.0,
            idle_clients: 5000,
            idle_rooms: None,
            idle_duration: 10.0,
            only: None,
            build: true,
        }
    }
}

fn parse_opts(args: &[String]) -> Result<Opts> {
    let mut o = Opts::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        if name == "--no-build" {
            o.build = false;
            continue;
        }
        if name == "-h" || name == "--help" {
            eprintln!("usage: cargo xtask bench signaling [options]\n{SIGNALING_USAGE}");
            std::process::exit(0);
        }
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .with_context(|| format!("{name} needs a value"))?,
        };
        fn num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T> {
            v.parse()
                .ok()
                .with_context(|| format!("{name}: bad value {v:?}"))
        }
        match name {
            "--clients" => o.clients = num(name, &value)?,
            "--rooms" => o.rooms = num(name, &value)?,
            "--inflight" => o.inflight = num(name, &value)?,
            "--rate" => o.rate = num(name, &value)?,
            "--duration" => o.duration = num(name, &value)?,
            "--idle-clients" => o.idle_clients = num(name, &value)?,
            "--idle-rooms" => o.idle_rooms = Some(num(name, &value)?),
            "--idle-duration" => o.idle_duration = num(name, &value)?,
            "--only" => {
                let list: Vec<String> = value.split(',').map(|s| s.trim().to_owned()).collect();
                for s in &list {
                    if !["relay", "latency", "idle"].contains(&s.as_str()) {
                        bail!("--only: unknown scenario {s:?} (relay, latency, idle)");
                    }
                }
                o.only = Some(list);
            }
            _ => bail!("unknown option {name}\n{SIGNALING_USAGE}"),
        }
    }
    if o.clients == 0 || o.rooms == 0 || o.idle_clients == 0 {
        bail!("--clients, --rooms and --idle-clients must be > 0");
    }
    if o.inflight == 0 || o.rate.is_nan() || o.rate <= 0.0 {
        bail!("--inflight and --rate must be > 0");
    }
    if !(o.duration > 0.0 && o.idle_duration > 0.0) {
        bail!("durations must be > 0");
    }
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// Scenarios and metrics

#[derive(Clone, Copy, PartialEq)]
enum Better {
    Higher,
    Lower,
    /// A count that should be zero (no ratio).
    Zero,
}

struct Metric {
    name: &'static str,
    better: Better,
    get: fn(&Value) -> Option<f64>,
    fmt: fn(f64) -> String,
}

struct Scenario {
    key: &'static str,
    title: String,
    args: Vec<String>,
    /// Upper bound for one load-generator run.
    timeout: Duration,
    metrics: Vec<Metric>,
}

fn f(v: &Value, path: &[&str]) -> Option<f64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_f64()
}

fn fmt_int(x: f64) -> String {
    let s = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 { format!("-{out}") } else { out }
}
fn fmt_ms(x: f64) -> String {
    format!("{x:.2}")
}
fn fmt_1(x: f64) -> String {
    format!("{x:.1}")
}
fn fmt_pct(x: f64) -> String {
    format!("{x:.0} %")
}
fn fmt_mb(x: f64) -> String {
    format!("{:.1} MB", x / 1024.0)
}

fn relay_metrics() -> Vec<Metric> {
    vec![
        Metric {
            name: "relayed msg/s",
            better: Better::Higher,
            get: |r| f(r, &["delivered_per_s"]),
            fmt: fmt_int,
        },
        Metric {
            name: "relay p50 ms",
            better: Better::Lower,
            get: |r| f(r, &["relay", "p50_ms"]),
            fmt: fmt_ms,
        },
        Metric {
            name: "relay p99 ms",
            better: Better::Lower,
            get: |r| f(r, &["relay", "p99_ms"]),
            fmt: fmt_ms,
        },
        Metric {
            name: "lost",
            better: Better::Zero,
            get: |r| f(r, &["lost"]),
            fmt: fmt_int,
        },
        Metric {
            name: "server CPU (% of a core)",
            better: Better::Lower,
            get: |r| f(r, &["server", "cpu_percent"]),
            fmt: fmt_pct,
        },
        Metric {
            name: "server CPU ms per 1k msgs",
            better: Better::Lower,
            get: |r| {
                let cpu = f(r, &["server", "cpu_percent"])?;
                let rate = f(r, &["delivered_per_s"])?;
                (rate > 0.0).then(|| cpu * 10.0 / (rate / 1000.0))
            },
            fmt: fmt_ms,
        },
        Metric {
            name: "server RSS peak",
            better: Better::Lower,
            get: |r| f(r, &["server", "hwm_kb"]),
            fmt: fmt_mb,
        },
    ]
}

fn latency_metrics() -> Vec<Metric> {
    vec![
        Metric {
            name: "relay p50 ms",
            better: Better::Lower,
            get: |r| f(r, &["relay", "p50_ms"]),
            fmt: fmt_ms,
        },
        Metric {
            name: "relay p99 ms",
            better: Better::Lower,
            get: |r| f(r, &["relay", "p99_ms"]),
            fmt: fmt_ms,
        },
        Metric {
            name: "relayed msg/s (offered load)",
            better: Better::Higher,
            get: |r| f(r, &["delivered_per_s"]),
            fmt: fmt_int,
        },
        Metric {
            name: "lost",
            better: Better::Zero,
            get: |r| f(r, &["lost"]),
            fmt: fmt_int,
        },
        Metric {
            name: "server CPU (% of a core)",
            better: Better::Lower,
            get: |r| f(r, &["server", "cpu_percent"]),
            fmt: fmt_pct,
        },
    ]
}

fn idle_metrics() -> Vec<Metric> {
    vec![
        Metric {
            name: "kB per joined socket",
            better: Better::Lower,
            get: |r| f(r, &["server", "kb_per_socket"]),
            fmt: fmt_1,
        },
        Metric {
            name: "join p50 ms",
            better: Better::Lower,
            get: |r| f(r, &["join", "p50_ms"]),
            fmt: fmt_ms,
        },
        Metric {
            name: "join p99 ms",
            better: Better::Lower,
            get: |r| f(r, &["join", "p99_ms"]),
            fmt: fmt_ms,
        },
        Metric {
            name: "join phase s",
            better: Better::Lower,
            get: |r| f(r, &["join_phase_s"]),
            fmt: fmt_ms,
        },
        Metric {
            name: "joined sockets",
            better: Better::Higher,
            get: |r| f(r, &["joined"]),
            fmt: fmt_int,
        },
        Metric {
            name: "server RSS with all joined",
            better: Better::Lower,
            get: |r| f(r, &["server", "rss_joined_kb"]),
            fmt: fmt_mb,
        },
    ]
}

fn scenarios(o: &Opts) -> Vec<Scenario> {
    let s = |x: f64| format!("{x}");
    let idle_rooms = o
        .idle_rooms
        .unwrap_or_else(|| (o.idle_clients * o.rooms).div_ceil(o.clients).max(1));
    let slack = |d: f64| Duration::from_secs_f64(d + 120.0);
    let all = vec![
        Scenario {
            key: "relay",
            title: format!(
                "(a) relay: {} cl / {} rooms, inflight {}, {} s",
                o.clients, o.rooms, o.inflight, o.duration
            ),
            args: vec![
                "--clients".into(),
                o.clients.to_string(),
                "--rooms".into(),
                o.rooms.to_string(),
                "--inflight".into(),
                o.inflight.to_string(),
                "--duration".into(),
                s(o.duration),
            ],
            timeout: slack(o.duration),
            metrics: relay_metrics(),
        },
        Scenario {
            key: "latency",
            title: format!(
                "(b) latency: {} cl / {} rooms, {}/s each (= {} msg/s), {} s",
                o.clients,
                o.rooms,
                o.rate,
                fmt_int(o.rate * o.clients as f64),
                o.duration
            ),
            args: vec![
                "--clients".into(),
                o.clients.to_string(),
                "--rooms".into(),
                o.rooms.to_string(),
                "--rate".into(),
                s(o.rate),
                "--duration".into(),
                s(o.duration),
            ],
            timeout: slack(o.duration),
            metrics: latency_metrics(),
        },
        Scenario {
            key: "idle",
            title: format!(
                "(c) idle: {} cl / {} rooms, {} s",
                o.idle_clients, idle_rooms, o.idle_duration
            ),
            args: vec![
                "--clients".into(),
                o.idle_clients.to_string(),
                "--rooms".into(),
                idle_rooms.to_string(),
                "--idle".into(),
                "--duration".into(),
                s(o.idle_duration),
            ],
            timeout: slack(o.idle_duration),
            metrics: idle_metrics(),
        },
    ];
    all.into_iter()
        .filter(|sc| {
            o.only
                .as_ref()
                .is_none_or(|only| only.iter().any(|k| k == sc.key))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Processes

#[derive(Clone, Copy, PartialEq, Debug)]
enum Impl {
    Baseline,
    Ours,
}

impl Impl {
    fn name(self) -> &'static str {
        match self {
            Impl::Baseline => BASELINE_NAME,
            Impl::Ours => OURS_NAME,
        }
    }
}

/// Lines a child wrote, kept for the report (bounded).
type Log = Arc<Mutex<Vec<String>>>;

const LOG_KEEP: usize = 400;

/// Reads `pipe` line by line into `log` on a thread; lines matching `watch` are also sent on `tx`.
fn drain_lines(
    pipe: impl std::io::Read + Send + 'static,
    log: Log,
    tx: Option<mpsc::Sender<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let reader = BufReader::new(pipe);
        for line in reader.lines() {
            let Ok(line) = line else { break };
            if let Some(tx) = &tx {
                let _ = tx.send(line.clone());
            }
            let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
            if log.len() < LOG_KEEP {
                log.push(line);
            }
        }
    })
}

/// A running server; killed (SIGKILL) and reaped on drop.
struct ServerProc {
    which: Impl,
    child: Child,
    pid: u32,
    url: String,
    stdout: Log,
    stderr: Log,
}

impl ServerProc {
    fn start(root: &Path, which: Impl) -> Result<Self> {
        // Raise the soft open-file limit (to 65536, else to the hard limit), then exec the server
        // so that the PID we hold (and hand to --server-pid) is the server itself.
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(r#"ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@""#)
            .arg("bash")
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match which {
            Impl::Ours => {
                cmd.arg(skylink_bin(root))
                    .args(["serve", "--bind", "127.0.0.1", "--port", "0"])
                    // `warn` as asked, plus the binary's own `info` for the `addr=` line.
                    .env("RUST_LOG", "warn,skylink=info");
                for var in [
                    "SKYLINK_CONFIG",
                    "SKYLINK_BIND",
                    "SKYLINK_PORT",
                    "SKYLINK_PUBLIC_HOST",
                    "SKYLINK_JS",
                ] {
                    cmd.env_remove(var);
                }
            }
            Impl::Baseline => {
                cmd.arg("node")
                    .arg(root.join("bench/node-relay/server.js"))
                    .args(["--port", "0"])
                    .env_remove("PORT");
            }
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", which.name()))?;
        let pid = child.id();
        let stdout = Log::default();
        let stderr = Log::default();
        let (tx, rx) = mpsc::channel();
        let out_pipe = child.stdout.take().context("server stdout")?;
        let err_pipe = child.stderr.take().context("server stderr")?;
        // From here on `server` owns the child: any early return kills it.
        let mut server = ServerProc {
            which,
            child,
            pid,
            url: String::new(),
            stdout: stdout.clone(),
            stderr: stderr.clone(),
        };
        let (out_tx, err_tx) = match which {
            Impl::Ours => (None, Some(tx)),
            Impl::Baseline => (Some(tx), None),
        };
        drain_lines(out_pipe, stdout, out_tx);
        drain_lines(err_pipe, stderr, err_tx);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!(
                    "{} did not report its address within 20 s; output:\n{}",
                    which.name(),
                    server.output_tail(20)
                );
            }
            match rx.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(line) => {
                    if let Some(addr) = parse_listen_line(which, &line) {
                        server.url = format!("http://{addr}");
                        return Ok(server);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // Give the other reader a moment to collect the last lines.
                    std::thread::sleep(Duration::from_millis(100));
                    bail!(
                        "{} exited before listening; output:\n{}",
                        which.name(),
                        server.output_tail(20)
                    );
                }
            }
            if let Some(status) = server.child.try_wait()? {
                std::thread::sleep(Duration::from_millis(100));
                bail!(
                    "{} exited ({status}) before listening; output:\n{}",
                    which.name(),
                    server.output_tail(20)
                );
            }
        }
    }

    /// `Some(status)` if the server has exited.
    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn output_tail(&self, n: usize) -> String {
        let mut lines: Vec<String> = Vec::new();
        for log in [&self.stdout, &self.stderr] {
            lines.extend(
                log.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .cloned(),
            );
        }
        let skip = lines.len().saturating_sub(n);
        lines[skip..].join("\n")
    }

    /// Warnings and errors the server logged (minus the expected start-up lines).
    fn complaints(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (stream, log) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            for line in log.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                let expected = match self.which {
                    Impl::Ours => {
                        line.contains("no App Keys configured")
                            || line.contains("skylink server listening")
                            || !(line.contains("WARN") || line.contains("ERROR"))
                    }
                    Impl::Baseline => stream == "stdout" && line.starts_with("listening "),
                };
                if !expected {
                    out.push(format!("{stream}: {line}"));
                }
            }
        }
        out
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        // Kill by our own child's PID only, then reap it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_listen_line(which: Impl, line: &str) -> Option<String> {
    let rest = match which {
        Impl::Ours => &line[line.find("addr=")? + "addr=".len()..],
        Impl::Baseline => line.trim().strip_prefix("listening ")?,
    };
    let addr: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']'))
        .collect();
    let port = addr.rsplit_once(':')?.1.parse::<u16>().ok()?;
    (port != 0).then_some(addr)
}

/// A child process killed and reaped on drop.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the load generator; returns its exit status, stdout and stderr.
fn run_loadgen(
    root: &Path,
    url: &str,
    pid: u32,
    args: &[String],
    timeout: Duration,
) -> Result<(ExitStatus, String, String)> {
    let mut cmd = Command::new(skylink_bin(root));
    cmd.args(["bench", "signaling", "--url", url])
        .args(args)
        .args(["--json", "--server-pid", &pid.to_string()])
        .env("RUST_LOG", "warn")
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut guard = Guard(cmd.spawn().context("starting the load generator")?);
    let mut out_pipe = guard.0.stdout.take().context("loadgen stdout")?;
    let mut err_pipe = guard.0.stderr.take().context("loadgen stderr")?;
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = guard.0.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            drop(guard); // kills it; the pipes close and the reader threads end
            let err = err_t.join().unwrap_or_default();
            bail!(
                "load generator still running after {:.0} s (killed); stderr tail:\n{}",
                timeout.as_secs_f64(),
                tail(&err, 15)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = out_t.join().unwrap_or_default();
    let err = err_t.join().unwrap_or_default();
    Ok((status, out, err))
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

// ---------------------------------------------------------------------------------------------
// One run

struct RunResult {
    which: Impl,
    report: Option<Value>,
    /// Why the run produced no report.
    failure: Option<String>,
    /// Anomalies: failed joins, lost/misdelivered messages, server complaints, crashes.
    problems: Vec<String>,
    /// Load-generator notes (informational).
    notes: Vec<String>,
    /// CPU used by unrelated processes during the run, % of one core.
    other_cpu_pct: f64,
    /// Background activity seen during the run.
    noise: String,
    wall_s: f64,
}

/// The same "not clean" rules as the generator's `Report::problems`.
fn report_problems(r: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let n = |k: &str| r.get(k).and_then(Value::as_u64).unwrap_or(0);
    if n("joined") < n("clients") {
        out.push(format!(
            "{} of {} clients joined",
            n("joined"),
            n("clients")
        ));
    }
    if n("lost") > 0 {
        out.push(format!(
            "{} of {} deliveries lost",
            n("lost"),
            n("expected")
        ));
    }
    if let Some(errors) = r.get("errors").and_then(Value::as_object) {
        for (kind, count) in errors {
            let count = count.as_u64().unwrap_or(0);
            if count > 0 && kind != "server_ping" {
                out.push(format!("{count} × {kind}"));
            }
        }
    }
    if n("peers_discovered") < n("peers_expected") {
        out.push(format!(
            "only {} of {} peers discovered via enter/welcome",
            n("peers_discovered"),
            n("peers_expected")
        ));
    }
    out
}

fn run_one(root: &Path, sc: &Scenario, which: Impl) -> RunResult {
    let started = Instant::now();
    let cpu_before = CpuSnapshot::take();
    let mut res = RunResult {
        which,
        report: None,
        failure: None,
        problems: Vec::new(),
        notes: Vec::new(),
        other_cpu_pct: 0.0,
        noise: String::new(),
        wall_s: 0.0,
    };
    eprintln!("==> {} | {}", sc.title, which.name());
    let outcome = (|| -> Result<()> {
        let mut server = ServerProc::start(root, which)?;
        eprintln!("    server pid {} at {}", server.pid, server.url);
        let (status, out, err) = run_loadgen(root, &server.url, server.pid, &sc.args, sc.timeout)?;
        if let Some(st) = server.exited() {
            res.problems.push(format!(
                "server exited during the run ({st}); output tail:\n{}",
                server.output_tail(10)
            ));
        }
        // Let the server log what the shutdown of all sockets caused, then read its output.
        std::thread::sleep(Duration::from_millis(300));
        for c in server.complaints().into_iter().take(10) {
            res.problems.push(format!("server log: {c}"));
        }
        drop(server);
        let json_start = out.find('{');
        let report: Value = match json_start.map(|i| serde_json::from_str(&out[i..])) {
            Some(Ok(v)) => v,
            _ => bail!(
                "load generator exited with {status} without a JSON report; stderr tail:\n{}",
                tail(&err, 15)
            ),
        };
        if !status.success() {
            res.problems.push(format!(
                "load generator exited with {status}: {}",
                tail(&err, 3)
            ));
        }
        for line in err.lines() {
            if line.contains("WARN") || line.contains("ERROR") {
                res.notes.push(format!("generator: {line}"));
            }
        }
        res.problems.extend(report_problems(&report));
        if let Some(notes) = report.get("notes").and_then(Value::as_array) {
            res.notes
                .extend(notes.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        res.report = Some(report);
        Ok(())
    })();
    if let Err(e) = outcome {
        res.failure = Some(format!("{e:#}"));
    }
    res.wall_s = started.elapsed().as_secs_f64();
    let (other_pct, top, load) = cpu_before.others_since();
    res.other_cpu_pct = other_pct;
    res.noise = format!(
        "other processes used {other_pct:.0} % of a core{}; load avg {load}",
        if top.is_empty() {
            String::new()
        } else {
            format!(" ({top})")
        }
    );
    match (&res.failure, res.problems.is_empty()) {
        (Some(f), _) => eprintln!("    FAILED: {f}"),
        (None, true) => eprintln!("    clean run in {:.1} s; {}", res.wall_s, res.noise),
        (None, false) => eprintln!(
            "    run done in {:.1} s with problems: {}",
            res.wall_s,
            res.problems.join("; ")
        ),
    }
    res
}

/// Kernel clock ticks per second for `/proc` CPU times (USER_HZ; 100 on Linux).
const USER_HZ: f64 = 100.0;

/// A snapshot of CPU time, to tell how much of the machine others used during a run.
struct CpuSnapshot {
    at: Instant,
    /// Busy ticks of all CPUs (`/proc/stat`: everything but idle and iowait).
    total_busy: u64,
    /// This process and its reaped children (servers, load generator), ticks.
    own: u64,
    /// pid → (command, own ticks) of every other process.
    others: std::collections::HashMap<u32, (String, u64)>,
    load: String,
}

/// (command, CPU ticks) of `/proc/PID/stat`: utime + stime, plus cutime + cstime (reaped
/// children) when `with_children`.
fn proc_ticks(pid: &str, with_children: bool) -> Option<(String, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    let mut ticks = 0u64;
    let last = if with_children { 14 } else { 12 };
    for i in 11..=last {
        ticks += fields.get(i)?.parse::<i64>().ok()?.max(0) as u64;
    }
    Some((comm, ticks))
}

impl CpuSnapshot {
    fn take() -> Self {
        let total_busy = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|t| {
                let line = t.lines().next()?.strip_prefix("cpu ")?.to_owned();
                let v: Vec<u64> = line
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                // user nice system idle iowait irq softirq steal (guest counted in user).
                Some(v.iter().take(8).sum::<u64>() - v.get(3)? - v.get(4)?)
            })
            .unwrap_or(0);
        let me = std::process::id();
        let own = proc_ticks("self", true).map_or(0, |(_, t)| t);
        let mut others = std::collections::HashMap::new();
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for entry in dir.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                let Ok(pid) = name.parse::<u32>() else {
                    continue;
                };
                if pid == me {
                    continue;
                }
                // Own time only: a child's whole lifetime lands in its parent's cutime when
                // it is reaped, which would blame the wrong window.
                if let Some(v) = proc_ticks(&name, false) {
                    others.insert(pid, v);
                }
            }
        }
        let load = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| s.split_whitespace().next().map(str::to_owned))
            .unwrap_or_else(|| "?".into());
        CpuSnapshot {
            at: Instant::now(),
            total_busy,
            own,
            others,
            load,
        }
    }

    /// CPU used by processes that are neither this one nor its children since `self`, in % of
    /// one core, and the biggest such users by command name.
    fn others_since(&self) -> (f64, String, String) {
        let now = CpuSnapshot::take();
        let wall = now.at.duration_since(self.at).as_secs_f64().max(1e-3);
        let busy = now.total_busy.saturating_sub(self.total_busy);
        let own = now.own.saturating_sub(self.own);
        let pct = busy.saturating_sub(own) as f64 / USER_HZ / wall * 100.0;
        let mut by_comm: std::collections::BTreeMap<String, u64> = Default::default();
        for (pid, (comm, ticks)) in &now.others {
            let before = self.others.get(pid).map_or(0, |(_, t)| *t);
            let d = ticks.saturating_sub(before);
            if d > 0 {
                *by_comm.entry(comm.clone()).or_default() += d;
            }
        }
        let mut top: Vec<(String, u64)> = by_comm.into_iter().collect();
        top.sort_by_key(|e| std::cmp::Reverse(e.1));
        let named: f64 = top.iter().map(|(_, t)| *t as f64).sum::<f64>() / USER_HZ / wall * 100.0;
        let mut top: Vec<String> = top
            .into_iter()
            .map(|(c, t)| (c, t as f64 / USER_HZ / wall * 100.0))
            .filter(|(_, p)| *p >= 5.0)
            .take(4)
            .map(|(c, p)| format!("{c} {p:.0} %"))
            .collect();
        if pct - named >= 10.0 {
            top.push(format!(
                "{:.0} % by processes that ended meanwhile or the kernel",
                pct - named
            ));
        }
        (pct, top.join(", "), format!("{} → {}", self.load, now.load))
    }
}

// ---------------------------------------------------------------------------------------------
// The command

fn signaling(root: &Path, args: &[String]) -> Result<()> {
    let opts = parse_opts(args)?;
    let command_line = format!(
        "cargo xtask bench signaling{}{}",
        if args.is_empty() { "" } else { " " },
        args.join(" ")
    );
    if opts.build {
        super::step(
            "cargo build --release -p skylink-cli",
            super::cargo(&["build", "--release", "-p", "skylink-cli"]),
        )?;
    }
    if !skylink_bin(root).exists() {
        bail!("target/release/skylink is missing (run without --no-build)");
    }
    let relay_dir = root.join("bench/node-relay");
    if !relay_dir
        .join("node_modules/socket.io/package.json")
        .exists()
    {
        let mut npm = Command::new("npm");
        npm.args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&relay_dir);
        super::step("npm ci (bench/node-relay)", npm)?;
    }
    let node_version = command_output("node", &["--version"]);
    let socketio_version =
        std::fs::read_to_string(relay_dir.join("node_modules/socket.io/package.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v.get("version").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| "?".into());

    let started = Instant::now();
    let scenarios = scenarios(&opts);
    let mut results: Vec<(usize, RunResult)> = Vec::new();
    for (i, sc) in scenarios.iter().enumerate() {
        for which in [Impl::Baseline, Impl::Ours] {
            results.push((i, run_one(root, sc, which)));
            // Let TIME_WAIT sockets and the kernel settle between runs.
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    let total_s = started.elapsed().as_secs_f64();

    let mut table = render_table(&scenarios, &results);
    let noisiest = results
        .iter()
        .map(|(i, r)| (r.other_cpu_pct, *i, r.which))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((pct, i, which)) = noisiest {
        let _ = writeln!(
            table,
            "Background: other processes used at most {pct:.0} % of a core during a run ({} | {}); {}.",
            scenarios[i].title,
            which.name(),
            if pct >= 20.0 {
                "the machine was NOT quiet, treat the affected ratios with care"
            } else {
                "the machine was quiet"
            }
        );
    }
    println!();
    println!("{table}");
    let details = render_details(&scenarios, &results);
    if !details.problems.is_empty() {
        println!("Problems:\n{}", details.problems);
    }

    let date = utc_date();
    let results_dir = root.join("bench/results");
    std::fs::create_dir_all(&results_dir).context("creating bench/results")?;
    let path = unique_path(&results_dir, &format!("signaling-{date}"));
    let git_rev = command_output("git", &["rev-parse", "--short", "HEAD"]);
    let dirty =
        !command_output("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty();
    let mut md = String::new();
    let _ = writeln!(md, "# Signaling benchmark, {date}\n");
    let _ = writeln!(md, "Command: `{command_line}` (total {total_s:.0} s)\n");
    let _ = writeln!(
        md,
        "- commit: {git_rev}{}",
        if dirty {
            " (with uncommitted changes)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        md,
        "- machine: {} × {}, Linux {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
    );
    let _ = writeln!(
        md,
        "- baseline: `bench/node-relay/server.js` on Node {node_version}, socket.io {socketio_version}; \
         ours: `target/release/skylink serve` (RUST_LOG=warn)"
    );
    let _ = writeln!(
        md,
        "- same `skylink bench signaling … --json --server-pid PID` invocation per scenario, \
         fresh server process per run (baseline first, then skylink-rs); the load generator \
         shares the 2 cores with the server\n"
    );
    let _ = writeln!(md, "{table}");
    let _ = writeln!(md, "## Runs\n\n{}", details.runs);
    if !details.problems.is_empty() {
        let _ = writeln!(md, "## Problems\n\n{}", details.problems);
    }
    std::fs::write(&path, md).with_context(|| format!("writing {}", path.display()))?;
    let shown = path.strip_prefix(root).unwrap_or(&path);
    println!("Results written to {}", shown.display());
    if results.iter().any(|(_, r)| r.failure.is_some()) {
        bail!("some runs failed (see above)");
    }
    Ok(())
}

fn render_table(scenarios: &[Scenario], results: &[(usize, RunResult)]) -> String {
    let mut rows: Vec<[String; 5]> = vec![[
        "scenario".into(),
        "metric".into(),
        BASELINE_NAME.into(),
        OURS_NAME.into(),
        "ratio (rs / baseline)".into(),
    ]];
    for (i, sc) in scenarios.iter().enumerate() {
        let find = |w: Impl| {
            results
                .iter()
                .find(|(j, r)| *j == i && r.which == w)
                .map(|(_, r)| r)
        };
        let (base, ours) = (find(Impl::Baseline), find(Impl::Ours));
        for (k, m) in sc.metrics.iter().enumerate() {
            let value = |r: Option<&RunResult>| -> Option<f64> {
                r.and_then(|r| r.report.as_ref()).and_then(|v| (m.get)(v))
            };
            let cell = |r: Option<&RunResult>| match (r, value(r)) {
                (_, Some(x)) => (m.fmt)(x),
                (Some(r), None) if r.failure.is_some() => "failed".into(),
                _ => "n/a".into(),
            };
            let (b, o) = (value(base), value(ours));
            let ratio = match (m.better, b, o) {
                (Better::Zero, Some(b), Some(o)) => {
                    if b == 0.0 && o == 0.0 {
                        "both 0".into()
                    } else {
                        "≠ 0!".into()
                    }
                }
                (_, Some(b), Some(o)) if b > 0.0 => {
                    let r = o / b;
                    let good = match m.better {
                        Better::Higher => r >= 1.0,
                        _ => r <= 1.0,
                    };
                    let factor = if r >= 1.0 { r } else { 1.0 / r.max(1e-12) };
                    let verdict = if (0.95..=1.05).contains(&r) {
                        "≈ same".to_owned()
                    } else if good {
                        format!("{factor:.1}× better")
                    } else {
                        format!("{factor:.1}× worse")
                    };
                    format!("{r:.2} ({verdict})")
                }
                _ => "—".into(),
            };
            let arrow = match m.better {
                Better::Higher => " ↑",
                Better::Lower => " ↓",
                Better::Zero => " (want 0)",
            };
            rows.push([
                if k == 0 {
                    sc.title.clone()
                } else {
                    String::new()
                },
                format!("{}{arrow}", m.name),
                cell(base),
                cell(ours),
                ratio,
            ]);
        }
    }
    let widths: Vec<usize> = (0..5)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for (n, row) in rows.iter().enumerate() {
        s.push('|');
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            // Numbers right-aligned, text left-aligned.
            if c >= 2 && n > 0 {
                let _ = write!(s, " {}{} |", " ".repeat(pad), cell);
            } else {
                let _ = write!(s, " {}{} |", cell, " ".repeat(pad));
            }
        }
        s.push('\n');
        if n == 0 {
            s.push('|');
            for (c, w) in widths.iter().enumerate() {
                let dashes = "-".repeat(*w);
                if c >= 2 {
                    let _ = write!(s, " {}: |", &dashes[1..]);
                } else {
                    let _ = write!(s, " {dashes} |");
                }
            }
            s.push('\n');
        }
    }
    s.push_str(
        "\nratio = skylink-rs / baseline (↑ higher is better, ↓ lower is better); \
         CPU in % of one core over the traffic window, measured by the load generator from /proc.\n",
    );
    s
}

struct Details {
    runs: String,
    problems: String,
}

fn render_details(scenarios: &[Scenario], results: &[(usize, RunResult)]) -> Details {
    let mut runs = String::new();
    let mut problems = String::new();
    for (i, r) in results {
        let sc = &scenarios[*i];
        let _ = writeln!(
            runs,
            "- {} | {}: `skylink bench signaling --url http://127.0.0.1:PORT {} --json --server-pid PID` ({:.1} s wall; {})",
            sc.title,
            r.which.name(),
            sc.args.join(" "),
            r.wall_s,
            r.noise
        );
        if let Some(v) = &r.report {
            let g = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(0.0);
            let _ = writeln!(
                runs,
                "  - joined {}/{}, sent {} ({} msg/s), delivered {}/{}, lost {}, relay p90 {:.2} ms / max {:.2} ms, \
                 pings {} / pongs {}, generator CPU {:.0} %, server RSS before/joined/after {}/{}/{} kB",
                g("joined"),
                g("clients"),
                g("sent_private") + g("sent_public"),
                fmt_int(g("sent_per_s")),
                g("delivered"),
                g("expected"),
                g("lost"),
                f(v, &["relay", "p90_ms"]).unwrap_or(0.0),
                f(v, &["relay", "max_ms"]).unwrap_or(0.0),
                g("pings"),
                g("pongs"),
                g("bench_cpu_percent"),
                f(v, &["server", "rss_before_kb"]).unwrap_or(0.0),
                f(v, &["server", "rss_joined_kb"]).unwrap_or(0.0),
                f(v, &["server", "rss_after_kb"]).unwrap_or(0.0),
            );
        }
        for note in r.notes.iter().take(8) {
            let _ = writeln!(runs, "  - note: {note}");
        }
        if let Some(fail) = &r.failure {
            let _ = writeln!(
                problems,
                "- {} | {}: FAILED: {fail}",
                sc.title,
                r.which.name()
            );
        }
        for p in &r.problems {
            let _ = writeln!(problems, "- {} | {}: {p}", sc.title, r.which.name());
        }
    }
    Details { runs, problems }
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|r| r.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// `bench/results/<stem>.md`, or `<stem>-2.md`, `-3`, … if it exists.
fn unique_path(dir: &Path, stem: &str) -> PathBuf {
    let first = dir.join(format!("{stem}.md"));
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}.md")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

const JOIN_USAGE: &str = "\
  join: joinRoom → open messaging data channel, two Rust peers (`skylink bench join`) against
  two skylinkjs 0.6.26 pages in headless Chromium (interop/bench/join-pages.mjs), both through
  `skylink serve` (release build), and the ratio.
  options: --iterations N [20 Rust, N/4 (≥ 3) browser]  --no-build";

/// `cargo xtask bench join`.
fn join(root: &Path, args: &[String]) -> Result<()> {
    let mut iterations = 20usize;
    let mut build = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--iterations" => {
                iterations = it
                    .next()
                    .context("--iterations needs a value")?
                    .parse()
                    .context("--iterations")?;
            }
            "--no-build" => build = false,
            other => bail!("unknown option {other}\n{JOIN_USAGE}"),
        }
    }
    let bin = release_skylink(root, build, &[])?;
    let server = ServerProc::start(root, Impl::Ours)?;
    let out = Command::new(&bin)
        .args(["bench", "join", "--json", "--server", &server.url])
        .args(["--iterations", &iterations.to_string()])
        .env("RUST_LOG", "warn")
        .stderr(Stdio::inherit())
        .output()
        .context("skylink bench join")?;
    drop(server);
    if !out.status.success() {
        bail!("skylink bench join failed ({})", out.status);
    }
    let rust: Value = serde_json::from_slice(&out.stdout).context("bench join JSON")?;
    let interop = root.join("interop");
    if !interop.join("node_modules").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&interop)
            .status()
            .context("npm ci")?;
        if !status.success() {
            bail!("npm ci failed in interop/");
        }
    }
    let pages = (iterations / 4).max(3);
    let out = Command::new("node")
        .arg("bench/join-pages.mjs")
        .arg(pages.to_string())
        .current_dir(&interop)
        .env("SKYLINK_BIN", skylink_bin(root))
        .stderr(Stdio::inherit())
        .output()
        .context("node bench/join-pages.mjs")?;
    if !out.status.success() {
        bail!("bench/join-pages.mjs failed ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    let browser: Value = serde_json::from_str(line).context("join-pages JSON")?;
    let get = |v: &Value, k: &str, p: &str| f(v, &[k, p]).unwrap_or(f64::NAN);
    let mut table = String::new();
    let _ = writeln!(
        table,
        "# joinRoom → data channel open ({}; {})\n",
        utc_date(),
        cpu_model()
    );
    let _ = writeln!(
        table,
        "| pair | joins | join→open p50 | join→open p90 | answer→open p50 | answer→open p90 |"
    );
    let _ = writeln!(table, "|---|--:|--:|--:|--:|--:|");
    for (name, v, n) in [
        ("skylinkjs 0.6.26 ↔ skylinkjs (Chromium)", &browser, pages),
        ("skylink-rs ↔ skylink-rs", &rust, iterations),
    ] {
        let _ = writeln!(
            table,
            "| {name} | {n} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
            get(v, "join_to_open_ms", "p50"),
            get(v, "join_to_open_ms", "p90"),
            get(v, "answer_to_open_ms", "p50"),
            get(v, "answer_to_open_ms", "p90"),
        );
    }
    let ratio = get(&rust, "join_to_open_ms", "p50") / get(&browser, "join_to_open_ms", "p50");
    let _ = writeln!(
        table,
        "\nRust / browser join→open (p50): **{ratio:.2}×** (goal ≤ 0.3×); Rust answer→open p50 {:.1} ms (goal ≤ 20 ms).",
        get(&rust, "answer_to_open_ms", "p50")
    );
    println!("{table}");
    let dir = root.join("bench/results");
    std::fs::create_dir_all(&dir)?;
    let path = unique_path(&dir, &format!("join-{}", utc_date()));
    std::fs::write(&path, &table)?;
    println!("written to {}", path.display());
    Ok(())
}

/// The release `skylink` binary: `$CARGO_TARGET_DIR/release/skylink` when that variable is set
/// (relative to the project root if relative), else `target/release/skylink`.
fn skylink_bin(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir).join("release/skylink"),
        _ => root.join("target/release/skylink"),
    }
}

/// Builds the release `skylink` (with `features`, unless `build` is false) and returns its
/// path; the binary must exist either way.
pub(crate) fn release_skylink(root: &Path, build: bool, features: &[&str]) -> Result<PathBuf> {
    if build {
        let mut args = vec!["build", "--release", "-p", "skylink-cli"];
        if !features.is_empty() {
            args.push("--features");
            args.extend_from_slice(features);
        }
        let status = Command::new("cargo")
            .args(&args)
            .current_dir(root)
            .status()
            .context("cargo build")?;
        if !status.success() {
            bail!("cargo {} failed", args.join(" "));
        }
    }
    let bin = skylink_bin(root);
    if !bin.exists() {
        bail!("{} is missing (run without --no-build)", bin.display());
    }
    Ok(bin)
}

const TRANSFER_USAGE: &str = "\
  transfer: bulk sendBlobData throughput, one command, same machine: (a) skylinkjs 0.6.26 ↔
  skylinkjs in headless Chromium (interop/bench/transfer-pages.mjs; base64 default and
  sendChunksAsBinary), (b) skylink-rs ↔ skylink-rs pipelined, (b′) stop-and-wait (`skylink
  bench transfer` through `skylink serve`), (c) raw webrtc 0.21 data channel, 65 456-byte
  messages, no server; (d) Rust bot (`skylink join --json`) ↔ page, both directions, when the
  bot has the transfer commands (SKYLINK_BOT_BIN=path overrides the binary used as the bot);
  MB/s (10^6 bytes) and ratios; (e) a --file-size file streamed from disk bot → bot
  (`sendBlobData {\"path\"}`) with the sending bot process's peak RSS (VmHWM).
  options: --size BYTES [67108864]  --file-size BYTES [1073741824]  --no-build
           --no-browser (Rust scenarios only)  --only-file (just (e), no browser)";

/// `cargo xtask bench transfer`.
fn transfer(root: &Path, args: &[String]) -> Result<()> {
    let mut size: usize = 64 << 20;
    let mut file_size: u64 = 1 << 30;
    let mut only_file = false;
    let mut build = true;
    let mut browser = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--file-size" => {
                file_size = it
                    .next()
                    .context("--file-size needs a value")?
                    .parse()
                    .context("--file-size")?;
            }
            "--only-file" => {
                only_file = true;
                browser = false;
            }
            "--size" => {
                size = it
                    .next()
                    .context("--size needs a value")?
                    .parse()
                    .context("--size")?;
            }
            "--no-build" => build = false,
            "--no-browser" => browser = false,
            "-h" | "--help" => {
                eprintln!("usage: cargo xtask bench transfer [options]\n{TRANSFER_USAGE}");
                return Ok(());
            }
            other => bail!("unknown option {other}\n{TRANSFER_USAGE}"),
        }
    }
    if size == 0 {
        bail!("--size must be > 0");
    }
    let bin = release_skylink(root, build, &[])?;
    let load_before = command_output("cat", &["/proc/loadavg"]);

    // (b), (b′), (c): one `skylink bench transfer` process against a fresh server.
    let server = ServerProc::start(root, Impl::Ours)?;
    let started = Instant::now();
    let mut child = Command::new(&bin)
        .args(["bench", "transfer", "--json", "--server", &server.url])
        .args(["--size", &size.to_string()])
        .args(["--file-size", &file_size.to_string()])
        .args(if only_file {
            &["--only", "file"][..]
        } else {
            &[][..]
        })
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("skylink bench transfer")?;
    let mut stdout = child.stdout.take().context("bench stdout")?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    // Three transfers of at most 300 s each plus setup; kill the child past that.
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break st;
        }
        if started.elapsed() > Duration::from_secs(960) {
            let _ = child.kill();
            let _ = child.wait();
            bail!("skylink bench transfer did not finish within 960 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let rust_out = reader.join().unwrap_or_default();
    let complaints = server.complaints();
    drop(server);
    if !status.success() {
        bail!("skylink bench transfer failed ({status})");
    }
    let rust: Value = serde_json::from_str(rust_out.lines().last().unwrap_or_default())
        .context("bench transfer JSON")?;

    // (d) needs a bot with the transfer commands: SKYLINK_BOT_BIN, else our own binary if its
    // `join` knows `--download-dir` (the option came with them).
    let bot_bin = std::env::var_os("SKYLINK_BOT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| bin.clone());
    let with_bot = browser
        && Command::new(&bot_bin)
            .args(["join", "--help"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--download-dir"));
    if !with_bot {
        eprintln!(
            "(d) skipped: {} has no bot transfer commands",
            bot_bin.display()
        );
    }

    // (a) and (d): Chromium pages (the script starts its own `skylink serve`).
    let pages: Value = if browser {
        let interop = root.join("interop");
        if !interop.join("node_modules").exists() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&interop)
                .status()
                .context("npm ci")?;
            if !status.success() {
                bail!("npm ci failed in interop/");
            }
        }
        // The script bounds every wait itself (each transfer ≤ 300 s).
        let mut cmd = Command::new("node");
        cmd.arg("bench/transfer-pages.mjs")
            .arg(size.to_string())
            .current_dir(&interop)
            .env("SKYLINK_BIN", &bin)
            .env_remove("SKYLINK_BOT_BIN");
        if with_bot {
            cmd.env("SKYLINK_BOT_BIN", &bot_bin);
        }
        let out = cmd
            .env("RUST_LOG", "warn,skylink=info")
            .stderr(Stdio::inherit())
            .output()
            .context("node bench/transfer-pages.mjs")?;
        if !out.status.success() {
            bail!("bench/transfer-pages.mjs failed ({})", out.status);
        }
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(text.lines().last().unwrap_or_default())
            .context("transfer-pages JSON")?
    } else {
        Value::Null
    };
    let load_after = command_output("cat", &["/proc/loadavg"]);

    let mbs = |v: &Value, k: &str| f(v, &[k, "mb_per_s"]);
    let a = mbs(&pages, "base64");
    let a_bin = mbs(&pages, "binary");
    let b = mbs(&rust, "pipelined");
    let b_saw = mbs(&rust, "stop-and-wait");
    let c = mbs(&rust, "raw");
    let d_up = mbs(&pages, "rust-to-js");
    let d_down = mbs(&pages, "js-to-rust");
    let d_down_bin = mbs(&pages, "js-to-rust-binary");
    let fmt_rate = |x: Option<f64>| x.map_or("n/a".to_owned(), |x| format!("{x:.2}"));
    let fmt_ratio = |x: Option<f64>, base: Option<f64>| match (x, base) {
        (Some(x), Some(b)) if b > 0.0 => format!("{:.2}×", x / b),
        _ => "—".to_owned(),
    };
    let secs = |v: &Value, k: &str| {
        f(v, &[k, "seconds"]).map_or("n/a".to_owned(), |s| format!("{s:.2} s"))
    };
    let rss = |k: &str| {
        f(&rust, &[k, "rss_peak_kb"])
            .map_or("—".to_owned(), |kb| format!("{:.0} MB", kb / 1024.0))
    };
    let chunk = |v: &Value, k: &str| {
        let t = v
            .get(k)
            .and_then(|r| r.get("chunk_type"))
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        let n = f(v, &[k, "chunk_size"]).map_or("?".to_owned(), fmt_int);
        format!("{t} {n}")
    };
    let mut t = String::new();
    let mib = size as f64 / 1048576.0;
    let _ = writeln!(
        t,
        "# Bulk data transfer, {mib:.0} MiB ({size} bytes, pattern i % 251) ({}; {}; {} cores)\n",
        utc_date(),
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let _ = writeln!(
        t,
        "| | pair / path | chunks | time | MB/s | vs (a) | peak RSS (both peers) |"
    );
    let _ = writeln!(t, "|---|---|---|--:|--:|--:|--:|");
    let rows = [
        (
            "(a)",
            "skylinkjs 0.6.26 ↔ skylinkjs (Chromium), default base64 chunks",
            chunk(&pages, "base64"),
            secs(&pages, "base64"),
            a,
            "—".to_owned(),
        ),
        (
            "(a′)",
            "skylinkjs ↔ skylinkjs, `sendChunksAsBinary`",
            chunk(&pages, "binary"),
            secs(&pages, "binary"),
            a_bin,
            "—".to_owned(),
        ),
        (
            "(b)",
            "skylink-rs ↔ skylink-rs, pipelined (dt_extensions)",
            chunk(&rust, "pipelined"),
            secs(&rust, "pipelined"),
            b,
            rss("pipelined"),
        ),
        (
            "(b′)",
            "skylink-rs ↔ skylink-rs, stop-and-wait (reference protocol)",
            chunk(&rust, "stop-and-wait"),
            secs(&rust, "stop-and-wait"),
            b_saw,
            rss("stop-and-wait"),
        ),
        (
            "(c)",
            "raw webrtc 0.21 data channel (2 `PeerSession`s, no server)",
            format!(
                "binary {}",
                f(&rust, &["raw", "chunk_size"]).map_or("?".to_owned(), fmt_int)
            ),
            secs(&rust, "raw"),
            c,
            rss("raw"),
        ),
        (
            "(d)",
            "skylink-rs bot → skylinkjs page (reference protocol)",
            chunk(&pages, "rust-to-js"),
            secs(&pages, "rust-to-js"),
            d_up,
            "—".to_owned(),
        ),
        (
            "(d)",
            "skylinkjs page → skylink-rs bot, default base64 chunks",
            chunk(&pages, "js-to-rust"),
            secs(&pages, "js-to-rust"),
            d_down,
            "—".to_owned(),
        ),
        (
            "(d)",
            "skylinkjs page → skylink-rs bot, `sendChunksAsBinary`",
            chunk(&pages, "js-to-rust-binary"),
            secs(&pages, "js-to-rust-binary"),
            d_down_bin,
            "—".to_owned(),
        ),
    ];
    let e_rss = f(&rust, &["file", "sender_rss_peak_kb"]);
    let rows = rows.into_iter().chain([(
        "(e)",
        "skylink-rs bot → bot, file streamed from disk (`sendBlobData {\"path\"}`)",
        format!(
            "binary, {} bytes",
            f(&rust, &["file", "bytes"]).map_or("?".to_owned(), fmt_int)
        ),
        secs(&rust, "file"),
        mbs(&rust, "file"),
        e_rss.map_or("—".to_owned(), |kb| {
            format!("sender {:.0} MB", kb / 1024.0)
        }),
    )]);
    for (tag, what, ch, time, rate, rss) in rows {
        let _ = writeln!(
            t,
            "| {tag} | {what} | {ch} | {time} | {} | {} | {rss} |",
            fmt_rate(rate),
            fmt_ratio(rate, a)
        );
    }
    if !with_bot {
        let _ = writeln!(
            t,
            "\n(d) not measured: `{}` has no bot transfer commands (set SKYLINK_BOT_BIN).",
            bot_bin.display()
        );
    }
    let _ = writeln!(t);
    let status = |ok: Option<bool>| match ok {
        Some(true) => "met",
        Some(false) => "**not met**",
        None => "n/a",
    };
    let ratio = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) if y > 0.0 => Some(x / y),
        _ => None,
    };
    let r1 = ratio(b_saw, a);
    let r1b = ratio(b_saw, a_bin);
    let r2 = ratio(b, c);
    let _ = writeln!(t, "| goal | measured | status |\n|---|---|---|");
    let _ = writeln!(
        t,
        "| (b′) ≥ 20 × (a) | b′/a = {} (b′/a′ = {}) | {} |",
        r1.map_or("—".into(), |r| format!("{r:.1}×")),
        r1b.map_or("—".into(), |r| format!("{r:.1}×")),
        status(r1.map(|r| r >= 20.0))
    );
    let _ = writeln!(
        t,
        "| (b) ≥ 0.8 × (c) | b/c = {} | {} |",
        r2.map_or("—".into(), |r| format!("{r:.2}×")),
        status(r2.map(|r| r >= 0.8))
    );
    let (rd_up, rd_down) = (ratio(d_up, a), ratio(d_down, a));
    let _ = writeln!(
        t,
        "| (d) ≥ (a) | Rust→JS / a = {}, JS→Rust / a = {} | {} |",
        rd_up.map_or("—".into(), |r| format!("{r:.2}×")),
        rd_down.map_or("—".into(), |r| format!("{r:.2}×")),
        status(rd_up.zip(rd_down).map(|(u, d)| u >= 1.0 && d >= 1.0))
    );
    let _ = writeln!(
        t,
        "| (e) sender peak RSS < 100 MB | {} | {} |",
        e_rss.map_or("—".into(), |kb| format!("{:.0} MB", kb / 1024.0)),
        status(e_rss.map(|kb| kb < 100.0 * 1024.0))
    );
    let _ = writeln!(
        t,
        "\nMB = 10^6 bytes. Time: sender's sendBlobData call → receiver's \
         dataTransferState(downloadCompleted) (receiver accepts at once; bytes verified); \
         (c): first send → receiver holds every byte; (d) JS→Rust: to the bot's incomingData \
         line (after it wrote the file), Rust→JS: from writing the bot's command line. \
         (b)/(b′)/(c): median of {} interleaved runs (all runs' MB/s below), in one \
         `skylink bench transfer` process (sender and receiver share it: the RSS column covers \
         both peers, the source buffer and the received copy; VmHWM reset per scenario). \
         Load average before/after: {} / {}.",
        f(&rust, &["runs"]).unwrap_or(1.0),
        load_before
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        load_after
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    for k in ["pipelined", "stop-and-wait", "raw"] {
        if let Some(runs) = rust
            .get(k)
            .and_then(|v| v.get("runs_mb_per_s"))
            .and_then(Value::as_array)
        {
            let list: Vec<String> = runs
                .iter()
                .filter_map(Value::as_f64)
                .map(|x| format!("{x:.1}"))
                .collect();
            let _ = writeln!(t, "\n{k}: runs {} MB/s", list.join(", "));
        }
    }
    for p in complaints.iter().take(5) {
        let _ = writeln!(t, "\nserver: {p}");
    }
    println!("{t}");
    let dir = root.join("bench/results");
    std::fs::create_dir_all(&dir)?;
    let path = unique_path(&dir, &format!("transfer-{}", utc_date()));
    let raw = serde_json::json!({"rust": rust, "pages": pages});
    std::fs::write(&path, format!("{t}\n## Raw\n\n```json\n{raw:#}\n```\n"))?;
    println!(
        "written to {}",
        path.strip_prefix(root).unwrap_or(&path).display()
    );
    for (k, v) in [("rust", &rust), ("pages", &pages)] {
        if let Some(m) = v.as_object() {
            for (name, r) in m {
                if let Some(e) = r.get("error") {
                    bail!("{k} {name} failed: {e}");
                }
            }
        }
    }
    Ok(())
}

/// Today's UTC date as `YYYY-MM-DD` (civil-from-days, H. Hinnant).
fn utc_date() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_lines() {
        assert_eq!(
            parse_listen_line(
                Impl::Ours,
                "2026-11-26T14:15:52.381421Z  INFO skylink: skylink server listening addr=127.0.0.1:37053"
            )
            .as_deref(),
            Some("127.0.0.1:37053")
        );
        assert_eq!(
            parse_listen_line(Impl::Baseline, "listening 127.0.0.1:4242").as_deref(),
            Some("127.0.0.1:4242")
        );
        assert_eq!(
            parse_listen_line(Impl::Baseline, "listening 127.0.0.1:0"),
            None
        );
        assert_eq!(parse_listen_line(Impl::Ours, "WARN no addr here"), None);
    }

    #[test]
    fn options_and_scenarios() {
        let o = parse_opts(&["--clients=40".into(), "--rooms".into(), "10".into()]).unwrap();
        let sc = scenarios(&o);
        assert_eq!(sc.len(), 3);
        // Idle rooms keep the room size: 5000 × 10 / 40.
        assert!(
            sc[2]
                .args
                .windows(2)
                .any(|w| w[0] == "--rooms" && w[1] == "1250")
        );
        assert!(parse_opts(&["--bogus".into(), "1".into()]).is_err());
        assert!(parse_opts(&["--only".into(), "relay,nope".into()]).is_err());
        assert_eq!(fmt_int(1234567.4), "1,234,567");
        assert_eq!(fmt_int(999.0), "999");
    }

    #[test]
    fn date_format() {
        let d = utc_date();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"));
    }
}
