//! `skylink bench signaling`: a load generator for a Skylink (skylinkjs 0.6 compatible)
//! signaling server.
//!
//! Every virtual client behaves like skylinkjs 0.6.26 on the wire: it GETs
//! `{url}/api/{appKey}/{room}?rand=…` (spec/signaling.md §1.2), opens the Engine.IO 3 websocket
//! named by `ipSigserver`/`httpPortList` (§2; `--url`'s host:port is used instead when the
//! advertised host is not loopback), pings every `pingInterval` (EIO 3 heartbeats are
//! client-driven), sends `joinRoom` and waits for `inRoom` (§3.1–3.2), broadcasts `enter` and
//! answers every `enter` with a targeted `welcome` (§3.4–3.5). Clients are spread evenly over
//! `--rooms` rooms (client *i* joins room *i mod M*).
//!
//! After everyone has joined (plus `--settle`), each client sends `private` messages (§3.18) to
//! random members of its room, a fraction `--public-ratio` of them as `public` broadcasts
//! (§3.17), for `--duration` seconds, either
//! * open loop: `--rate R` messages per second **per client** (total offered rate = R × N), or
//! * closed loop: `--inflight K` messages outstanding per client; a message completes when all
//!   its recipients got it (the generator is one process, so receivers tell senders directly).
//!
//! `data` carries `{seq, t, from, to, pad}`: receivers compute the relay latency from `t`, check
//! that the message reached exactly its target (or only its room), and detect reordering. With
//! `--idle` (or `--rate 0`) the clients only join and hold their sockets for `--duration`.
//!
//! The run stops by itself: joins are bounded by `--join-timeout`, traffic by `--duration`,
//! draining by `--grace`. The result is a [`Report`] (table, or JSON with `--json`).

mod client;
mod http;
mod stats;
mod sys;

use anyhow::{Context as _, bail};
use serde::Serialize;
use stats::{Percentiles, Shared, new_histogram};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc, watch};

/// Arguments of `skylink bench signaling`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Base URL of the room API (the `roomServer`), e.g. `http://127.0.0.1:8018`.
    #[arg(long)]
    pub url: String,
    /// App key used in the API path and in `joinRoom.key`.
    #[arg(long, default_value = "bench-app-key")]
    pub app_key: String,
    /// Room names are this prefix followed by the room number.
    #[arg(long, default_value = "bench-room-")]
    pub room_prefix: String,
    /// `Origin` header of the API request (CORS-mode keys); an empty string sends none.
    #[arg(long, default_value = "http://127.0.0.1")]
    pub origin: String,
    /// Number of virtual clients (sockets).
    #[arg(long, short = 'n', default_value_t = 100)]
    pub clients: usize,
    /// Number of rooms; clients are spread evenly (client i joins room i mod M).
    #[arg(long, short = 'm', default_value_t = 25)]
    pub rooms: usize,
    /// Open-loop send rate in messages per second PER CLIENT (0 = idle sockets).
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Closed loop: keep K messages in flight per client (overrides --rate when > 0).
    #[arg(long, default_value_t = 0)]
    pub inflight: usize,
    /// Fraction (0..=1) of messages sent as room-wide `public` instead of targeted `private`.
    #[arg(long, default_value_t = 0.0)]
    pub public_ratio: f64,
    /// Extra payload bytes per message (`data.pad`).
    #[arg(long, default_value_t = 0)]
    pub payload: usize,
    /// Seconds of traffic (or, with --idle, of holding the sockets).
    #[arg(long, short = 'd', default_value_t = 10.0)]
    pub duration: f64,
    /// Only join and hold the sockets (no messages besides enter/welcome and pings).
    #[arg(long)]
    pub idle: bool,
    /// Do not send `enter` after `inRoom` (no enter/welcome discovery traffic).
    #[arg(long)]
    pub no_enter: bool,
    /// Seconds to wait after the last join before traffic starts (enter/welcome settle).
    #[arg(long, default_value_t = 1.0)]
    pub settle: f64,
    /// Seconds to wait after the traffic for outstanding messages before counting them lost.
    #[arg(long, default_value_t = 3.0)]
    pub grace: f64,
    /// How many clients may be joining at the same time.
    #[arg(long, default_value_t = 128)]
    pub connect_concurrency: usize,
    /// Seconds one client may take for API GET + websocket + `inRoom`.
    #[arg(long, default_value_t = 15.0)]
    pub join_timeout: f64,
    /// PID of the server process, to report its memory (VmRSS) and CPU use.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Connect websockets here instead of where the API points.
    #[arg(long)]
    pub socket_addr: Option<SocketAddr>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit with an error when a message was lost/misdelivered or any client failed.
    #[arg(long)]
    pub check: bool,
}

/// How clients generate traffic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Join and hold the socket.
    Idle,
    /// Open loop, messages per second per client.
    Rate(f64),
    /// Closed loop, messages in flight per client.
    Inflight(usize),
}

/// Benchmark configuration (what [`Args`] becomes; build it directly in tests).
#[derive(Debug, Clone)]
pub struct Config {
    /// Room API base URL (`http://host:port[/prefix]` or `host:port`).
    pub url: String,
    /// App key.
    pub app_key: String,
    /// Room name prefix.
    pub room_prefix: String,
    /// `Origin` header for the API request.
    pub origin: Option<String>,
    /// Number of clients.
    pub clients: usize,
    /// Number of rooms.
    pub rooms: usize,
    /// Traffic mode.
    pub mode: Mode,
    /// Fraction of `public` messages.
    pub public_ratio: f64,
    /// Padding bytes per message.
    pub payload: usize,
    /// Traffic (or hold) duration.
    pub duration: Duration,
    /// Send `enter` after joining.
    pub send_enter: bool,
    /// Pause between the last join and the traffic.
    pub settle: Duration,
    /// Drain time after the traffic.
    pub grace: Duration,
    /// Concurrent joins.
    pub connect_concurrency: usize,
    /// Per-client join timeout.
    pub join_timeout: Duration,
    /// Server PID for `/proc` readings.
    pub server_pid: Option<u32>,
    /// Websocket address override.
    pub socket_addr: Option<SocketAddr>,
}

impl Config {
    /// A small default configuration against `url` (100 clients, 25 rooms, 10 msg/s, 10 s).
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "the binary builds configs from Args")
    )]
    pub fn new(url: impl Into<String>) -> Self {
        Config {
            url: url.into(),
            app_key: "bench-app-key".into(),
            room_prefix: "bench-room-".into(),
            origin: Some("http://127.0.0.1".into()),
            clients: 100,
            rooms: 25,
            mode: Mode::Rate(10.0),
            public_ratio: 0.0,
            payload: 0,
            duration: Duration::from_secs(10),
            send_enter: true,
            settle: Duration::from_secs(1),
            grace: Duration::from_secs(3),
            connect_concurrency: 128,
            join_timeout: Duration::from_secs(15),
            server_pid: None,
            socket_addr: None,
        }
    }
}

impl TryFrom<Args> for Config {
    type Error = anyhow::Error;

    fn try_from(a: Args) -> anyhow::Result<Self> {
        let secs = |name: &str, v: f64| {
            Duration::try_from_secs_f64(v)
                .with_context(|| format!("--{name} {v} is not a duration"))
        };
        if !(0.0..=1.0).contains(&a.public_ratio) {
            bail!("--public-ratio must be within 0..=1");
        }
        if a.rate.is_nan() || a.rate < 0.0 {
            bail!("--rate must be >= 0");
        }
        let mode = if a.idle || (a.inflight == 0 && a.rate == 0.0) {
            Mode::Idle
        } else if a.inflight > 0 {
            Mode::Inflight(a.inflight)
        } else {
            Mode::Rate(a.rate)
        };
        Ok(Config {
            url: a.url,
            app_key: a.app_key,
            room_prefix: a.room_prefix,
            origin: Some(a.origin).filter(|o| !o.is_empty()),
            clients: a.clients,
            rooms: a.rooms.max(1),
            mode,
            public_ratio: a.public_ratio,
            payload: a.payload,
            duration: secs("duration", a.duration)?,
            send_enter: !a.no_enter,
            settle: secs("settle", a.settle)?,
            grace: secs("grace", a.grace)?,
            connect_concurrency: a.connect_concurrency.max(1),
            join_timeout: secs("join-timeout", a.join_timeout)?,
            server_pid: a.server_pid,
            socket_addr: a.socket_addr,
        })
    }
}

/// Where the API lives (resolved once).
#[derive(Debug)]
pub(crate) struct Target {
    api_addr: SocketAddr,
    host: String,
    path_prefix: String,
    socket_override: Option<SocketAddr>,
}

impl Target {
    async fn resolve(cfg: &Config) -> anyhow::Result<Self> {
        let url = cfg.url.trim();
        let rest = if let Some(rest) = url.strip_prefix("http://") {
            rest
        } else if url.starts_with("https://") {
            bail!("https is not supported by the bench (loopback only): {url}");
        } else {
            url
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let authority = if authority.contains(':') {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let api_addr = tokio::net::lookup_host(&authority)
            .await
            .with_context(|| format!("resolving {authority}"))?
            .next()
            .with_context(|| format!("{authority} has no address"))?;
        Ok(Target {
            api_addr,
            host: authority,
            path_prefix: path.trim_end_matches('/').to_owned(),
            socket_override: cfg.socket_addr,
        })
    }
}

/// One joined member of a room, as the coordinator hands it to the clients.
#[derive(Debug)]
pub(crate) struct Member {
    idx: usize,
    sid: String,
}

/// The traffic plan published once everybody has joined.
#[derive(Debug)]
pub(crate) struct Plan {
    t_start: Instant,
    t_stop: Instant,
    /// Room of every client index.
    client_room: Vec<usize>,
    /// Joined members per room.
    members: Vec<Vec<Member>>,
}

/// Server process readings (from `/proc/PID`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerStats {
    /// PID read.
    pub pid: u32,
    /// VmRSS before any client connected, kB.
    pub rss_before_kb: u64,
    /// VmRSS once all clients joined and settled, kB.
    pub rss_joined_kb: u64,
    /// VmRSS at the end of the run (sockets still open), kB.
    pub rss_after_kb: u64,
    /// Peak RSS (VmHWM) at the end, kB.
    pub hwm_kb: u64,
    /// (rss_joined - rss_before) / joined sockets, kB.
    pub kb_per_socket: f64,
    /// Server CPU during the traffic window, percent of one core.
    pub cpu_percent: f64,
}

/// The benchmark result.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// `idle`, `rate` or `inflight`.
    pub mode: String,
    /// Per-client open-loop rate (msg/s) or in-flight window.
    pub load: f64,
    /// Clients requested.
    pub clients: usize,
    /// Rooms requested.
    pub rooms: usize,
    /// Clients whose websocket handshake completed.
    pub connected: usize,
    /// Clients that got `inRoom`.
    pub joined: usize,
    /// Wall time of the whole join phase, seconds.
    pub join_phase_s: f64,
    /// Join latency: API GET + websocket + `inRoom`.
    pub join: Percentiles,
    /// Join latency part: API GET only.
    pub join_api: Percentiles,
    /// Join latency part: TCP + websocket upgrade + Engine.IO open + `40`.
    pub join_socket: Percentiles,
    /// Join latency part: `joinRoom` → `inRoom`.
    pub join_in_room: Percentiles,
    /// Length of the send window, seconds.
    pub traffic_s: f64,
    /// `private` messages sent.
    pub sent_private: u64,
    /// `public` messages sent.
    pub sent_public: u64,
    /// Messages sent per second (all clients).
    pub sent_per_s: f64,
    /// Deliveries expected (1 per private, room size - 1 per public).
    pub expected: u64,
    /// Correct deliveries received.
    pub delivered: u64,
    /// Deliveries received per second, over the send window plus drain.
    pub delivered_per_s: f64,
    /// Expected but not delivered by the end of the grace time.
    pub lost: u64,
    /// Relay latency (send → receive, both in this process).
    pub relay: Percentiles,
    /// `enter` messages received.
    pub enters_received: u64,
    /// `welcome` messages received.
    pub welcomes_received: u64,
    /// Peers learnt through enter/welcome, summed over clients.
    pub peers_discovered: u64,
    /// Peers that could have been learnt (sum over rooms of n × (n - 1)).
    pub peers_expected: u64,
    /// `bye` messages received (other clients leaving while the run shuts down).
    pub byes_received: u64,
    /// Engine.IO pings sent.
    pub pings: u64,
    /// Engine.IO pongs received.
    pub pongs: u64,
    /// Errors and anomalies by kind.
    pub errors: BTreeMap<&'static str, u64>,
    /// Server memory and CPU, with `--server-pid`.
    pub server: Option<ServerStats>,
    /// Generator RSS at the end, kB.
    pub bench_rss_kb: u64,
    /// Generator CPU during the traffic window, percent of one core.
    pub bench_cpu_percent: f64,
    /// Deduplicated diagnostic notes (first few of each kind of anomaly).
    pub notes: Vec<String>,
}

impl Report {
    /// Everything that makes a run "not clean": failed joins, lost or misdelivered messages,
    /// disconnects, protocol errors. Empty for a clean run.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.joined < self.clients {
            out.push(format!(
                "{} of {} clients joined",
                self.joined, self.clients
            ));
        }
        if self.lost > 0 {
            out.push(format!("{} deliveries lost", self.lost));
        }
        for (kind, n) in &self.errors {
            if *n > 0 && *kind != "server_ping" {
                out.push(format!("{n} × {kind}"));
            }
        }
        if self.peers_discovered < self.peers_expected {
            out.push(format!(
                "only {} of {} peers discovered via enter/welcome",
                self.peers_discovered, self.peers_expected
            ));
        }
        out
    }

    /// The human-readable table.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let p = |x: &Percentiles| {
            format!(
                "p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}  (n={})",
                x.p50_ms, x.p90_ms, x.p99_ms, x.max_ms, x.count
            )
        };
        let _ = writeln!(s, "skylink bench signaling");
        let _ = writeln!(
            s,
            "  mode                {} (load {}), {} clients in {} rooms",
            self.mode, self.load, self.clients, self.rooms
        );
        let _ = writeln!(
            s,
            "  connected / joined  {} / {}  (join phase {:.2} s)",
            self.connected, self.joined, self.join_phase_s
        );
        let _ = writeln!(s, "  join latency ms     {}", p(&self.join));
        let _ = writeln!(s, "    api GET           {}", p(&self.join_api));
        let _ = writeln!(s, "    socket+handshake  {}", p(&self.join_socket));
        let _ = writeln!(s, "    joinRoom→inRoom   {}", p(&self.join_in_room));
        let _ = writeln!(
            s,
            "  discovery           {} / {} peers ({} enter, {} welcome received)",
            self.peers_discovered,
            self.peers_expected,
            self.enters_received,
            self.welcomes_received
        );
        if self.mode != "idle" {
            let _ = writeln!(
                s,
                "  sent                {} private + {} public in {:.2} s = {:.0} msg/s",
                self.sent_private, self.sent_public, self.traffic_s, self.sent_per_s
            );
            let _ = writeln!(
                s,
                "  delivered           {} of {} expected = {:.0} msg/s relayed, lost {}",
                self.delivered, self.expected, self.delivered_per_s, self.lost
            );
            let _ = writeln!(s, "  relay latency ms    {}", p(&self.relay));
        }
        let _ = writeln!(
            s,
            "  engine.io pings     {} sent, {} pongs",
            self.pings, self.pongs
        );
        let errors: Vec<String> = self
            .errors
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{k}={n}"))
            .collect();
        let _ = writeln!(
            s,
            "  errors              {}",
            if errors.is_empty() {
                "none".into()
            } else {
                errors.join(" ")
            }
        );
        if let Some(sv) = &self.server {
            let _ = writeln!(
                s,
                "  server pid {}      RSS before {} kB, joined {} kB, after {} kB, peak {} kB",
                sv.pid, sv.rss_before_kb, sv.rss_joined_kb, sv.rss_after_kb, sv.hwm_kb
            );
            let _ = writeln!(
                s,
                "  server per socket   {:.1} kB;  server CPU {:.0}% of a core during traffic",
                sv.kb_per_socket, sv.cpu_percent
            );
        }
        let _ = writeln!(
            s,
            "  generator           RSS {} kB, CPU {:.0}% of a core during traffic",
            self.bench_rss_kb, self.bench_cpu_percent
        );
        for note in &self.notes {
            let _ = writeln!(s, "  note: {note}");
        }
        s
    }
}

/// Runs the load generator from the command line.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let json = args.json;
    let check = args.check;
    let cfg = Config::try_from(args)?;
    let report = run_bench(cfg).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    let problems = report.problems();
    if check && !problems.is_empty() {
        bail!("benchmark run not clean: {}", problems.join("; "));
    }
    Ok(())
}

fn percentiles_of(samples: &[u64]) -> Percentiles {
    let mut h = new_histogram();
    for s in samples {
        h.saturating_record((*s).max(1));
    }
    Percentiles::of(&h)
}

/// Runs one benchmark and returns its report. Bounded in time: join phase (per-client
/// `join_timeout`, `connect_concurrency` at a time), `settle`, `duration`, `grace`.
pub async fn run_bench(cfg: Config) -> anyhow::Result<Report> {
    if cfg.clients == 0 {
        bail!("--clients must be > 0");
    }
    match sys::raise_nofile_limit() {
        Ok(limit) if (limit as usize) < cfg.clients + 64 => tracing::warn!(
            limit,
            clients = cfg.clients,
            "RLIMIT_NOFILE is below the number of sockets"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not raise RLIMIT_NOFILE"),
    }
    let target = Arc::new(Target::resolve(&cfg).await?);
    let cfg = Arc::new(cfg);
    let server_before = cfg.server_pid.and_then(|pid| sys::mem_sample(Some(pid)));
    if cfg.server_pid.is_some() && server_before.is_none() {
        tracing::warn!(pid = ?cfg.server_pid, "cannot read /proc/PID/status of the server");
    }
    let shared = Arc::new(Shared::new());
    let permits = Arc::new(Semaphore::new(cfg.connect_concurrency));
    let (join_tx, mut join_rx) = mpsc::unbounded_channel();
    let (plan_tx, plan_rx) = watch::channel(None::<Arc<Plan>>);
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut done_rxs = Vec::with_capacity(cfg.clients);
    let mut notify = Vec::with_capacity(cfg.clients);
    for _ in 0..cfg.clients {
        let (tx, rx) = mpsc::unbounded_channel();
        notify.push(tx);
        done_rxs.push(rx);
    }
    let notify = Arc::new(notify);
    let client_room: Vec<usize> = (0..cfg.clients).map(|i| i % cfg.rooms).collect();

    let join_started = Instant::now();
    let mut handles = Vec::with_capacity(cfg.clients);
    for (idx, done_rx) in done_rxs.into_iter().enumerate() {
        let ctx = client::ClientCtx {
            idx,
            room: client_room[idx],
            cfg: cfg.clone(),
            target: target.clone(),
            shared: shared.clone(),
            connect_permits: permits.clone(),
            join_tx: join_tx.clone(),
            plan_rx: plan_rx.clone(),
            shutdown_rx: shutdown_rx.clone(),
            done_rx,
            notify: notify.clone(),
        };
        handles.push(tokio::spawn(client::run(ctx)));
    }
    drop(join_tx);

    // Join phase: every client reports exactly once (success, failure or timeout).
    let mut sids: Vec<Option<String>> = vec![None; cfg.clients];
    let (mut total, mut api, mut socket, mut in_room) = (vec![], vec![], vec![], vec![]);
    let mut reports = 0;
    while reports < cfg.clients {
        let Some(report) = join_rx.recv().await else {
            break;
        };
        reports += 1;
        if let Ok(t) = report.result {
            total.push(t.total_us);
            api.push(t.api_us);
            socket.push(t.socket_us);
            in_room.push(t.in_room_us);
            sids[report.idx] = Some(t.sid);
        }
    }
    let join_phase = join_started.elapsed();
    let joined = total.len();
    tracing::info!(
        joined,
        clients = cfg.clients,
        secs = join_phase.as_secs_f64(),
        "join phase done"
    );

    let mut members: Vec<Vec<Member>> = (0..cfg.rooms).map(|_| Vec::new()).collect();
    for (idx, sid) in sids.iter().enumerate() {
        if let Some(sid) = sid {
            members[client_room[idx]].push(Member {
                idx,
                sid: sid.clone(),
            });
        }
    }
    let peers_expected: u64 = members
        .iter()
        .map(|m| (m.len() * m.len().saturating_sub(1)) as u64)
        .sum();
    // Nobody to talk to: skip the settle and traffic phases.
    let (settle, duration) = if joined == 0 {
        (Duration::ZERO, Duration::ZERO)
    } else {
        (cfg.settle, cfg.duration)
    };
    let t_start = Instant::now() + settle;
    let t_stop = t_start + duration;
    let plan = Arc::new(Plan {
        t_start,
        t_stop,
        client_room,
        members,
    });
    let _ = plan_tx.send(Some(plan));

    tokio::time::sleep_until(t_start.into()).await;
    let server_joined = cfg.server_pid.and_then(|pid| sys::mem_sample(Some(pid)));
    let server_cpu0 = cfg.server_pid.and_then(|pid| sys::cpu_seconds(Some(pid)));
    let bench_cpu0 = sys::cpu_seconds(None);
    let wall0 = Instant::now();

    tokio::time::sleep_until(t_stop.into()).await;
    // Wait until every sender has left its sending phase, then drain for up to `grace`.
    let wait_senders = Instant::now() + Duration::from_secs(5);
    while shared.senders_active.load(Relaxed) > 0 && Instant::now() < wait_senders {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let traffic = t_stop.saturating_duration_since(t_start);
    let drain_deadline = Instant::now() + cfg.grace;
    let mut drained_at = Instant::now();
    if cfg.mode != Mode::Idle {
        loop {
            drained_at = Instant::now();
            if shared.delivered.load(Relaxed) >= shared.expected.load(Relaxed)
                || drained_at >= drain_deadline
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let server_cpu1 = cfg.server_pid.and_then(|pid| sys::cpu_seconds(Some(pid)));
    let bench_cpu1 = sys::cpu_seconds(None);
    let wall = wall0.elapsed().as_secs_f64().max(1e-9);
    let server_after = cfg.server_pid.and_then(|pid| sys::mem_sample(Some(pid)));
    let bench_mem = sys::mem_sample(None);

    let _ = shutdown_tx.send(true);
    let mut peers_discovered = 0u64;
    let shutdown_deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    for handle in handles {
        match tokio::time::timeout_at(shutdown_deadline, handle).await {
            Ok(Ok(outcome)) => peers_discovered += outcome.discovered as u64,
            Ok(Err(e)) => shared.note(format!("client task failed: {e}")),
            Err(_) => {
                shared.note("client tasks did not stop within 15 s".into());
                break;
            }
        }
    }

    let sent_private = shared.sent_private.load(Relaxed);
    let sent_public = shared.sent_public.load(Relaxed);
    let expected = shared.expected.load(Relaxed);
    let delivered = shared.delivered.load(Relaxed);
    let cpu_pct = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (b - a) / wall * 100.0,
        _ => 0.0,
    };
    let server = match (cfg.server_pid, server_before) {
        (Some(pid), Some(before)) => {
            let joined_rss = server_joined.unwrap_or_default().rss_kb;
            let after = server_after.unwrap_or_default();
            Some(ServerStats {
                pid,
                rss_before_kb: before.rss_kb,
                rss_joined_kb: joined_rss,
                rss_after_kb: after.rss_kb,
                hwm_kb: after.hwm_kb,
                kb_per_socket: if joined > 0 {
                    (joined_rss as f64 - before.rss_kb as f64) / joined as f64
                } else {
                    0.0
                },
                cpu_percent: cpu_pct(server_cpu0, server_cpu1),
            })
        }
        _ => None,
    };
    let drain_window = drained_at
        .saturating_duration_since(t_start)
        .as_secs_f64()
        .max(1e-9);
    Ok(Report {
        mode: match cfg.mode {
            Mode::Idle => "idle",
            Mode::Rate(_) => "rate",
            Mode::Inflight(_) => "inflight",
        }
        .into(),
        load: match cfg.mode {
            Mode::Idle => 0.0,
            Mode::Rate(r) => r,
            Mode::Inflight(k) => k as f64,
        },
        clients: cfg.clients,
        rooms: cfg.rooms,
        connected: shared.connected.load(Relaxed) as usize,
        joined,
        join_phase_s: join_phase.as_secs_f64(),
        join: percentiles_of(&total),
        join_api: percentiles_of(&api),
        join_socket: percentiles_of(&socket),
        join_in_room: percentiles_of(&in_room),
        traffic_s: traffic.as_secs_f64(),
        sent_private,
        sent_public,
        sent_per_s: (sent_private + sent_public) as f64 / traffic.as_secs_f64().max(1e-9),
        expected,
        delivered,
        delivered_per_s: delivered as f64 / drain_window,
        lost: expected.saturating_sub(delivered),
        relay: Percentiles::of(&shared.relay_histogram()),
        enters_received: shared.enters.load(Relaxed),
        welcomes_received: shared.welcomes.load(Relaxed),
        peers_discovered,
        peers_expected: if cfg.send_enter { peers_expected } else { 0 },
        byes_received: shared.byes.load(Relaxed),
        pings: shared.pings.load(Relaxed),
        pongs: shared.pongs.load(Relaxed),
        errors: shared.errors(),
        server,
        bench_rss_kb: bench_mem.map(|m| m.rss_kb).unwrap_or_default(),
        bench_cpu_percent: cpu_pct(bench_cpu0, bench_cpu1),
        notes: shared.notes(),
    })
}

#[cfg(test)]
mod tests;
