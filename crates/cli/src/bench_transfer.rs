//! `skylink bench transfer`: bulk data-transfer throughput of Rust peers, in one process.
//!
//! Scenarios (each one run, loopback only, every wait bounded):
//! * `pipelined` — two [`Client`]s through a running `skylink serve`, `sendBlobData` of
//!   `--size` bytes (pattern `i % 251`), the receiver accepting at once; timed from the
//!   sender's call to the receiver's `dataTransferState("downloadCompleted")`, then the
//!   received bytes are compared with the pattern. `InitOptions::dt_extensions = true`: the
//!   skylink-dt pipelined window between skylink-rs peers.
//! * `stop-and-wait` — the same with `dt_extensions = false` (the reference's protocol: one
//!   chunk, one ACK).
//! * `raw` — no engine, no server: two `PeerSession`s (webrtc 0.21) on 127.0.0.1, signaling
//!   passed directly, one extra ordered/reliable channel, `--size` bytes sent as
//!   `--chunk`-byte binary messages (65 456 = the DT binary chunk size) as fast as
//!   `send` takes them; timed until the receiver holds every byte (checked against the
//!   pattern as they arrive). The ceiling the DT protocol runs on.
//!
//! * `file` — two `skylink join --json` bot processes (this executable) through the server;
//!   the sender gets `sendBlobData {"path"}` of a `--file-size` file (sparse, a pattern at
//!   both ends), streamed from disk; the receiver has `--download-dir`. Reports the rate and
//!   the **sender process's** peak RSS (`VmHWM` of its `/proc/<pid>/status`), the figure that
//!   shows an upload from disk is not held in memory. Run once (not per `--runs`).
//!
//! Peak RSS: `VmHWM` of this process is reset (`/proc/self/clear_refs` ← `5`) before each
//! scenario and read after it. Sender and receiver live in this process, so the figure covers
//! both peers, the source buffer and the received copy.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use skylink_room::peer::{CandidateFields, PeerConfig, PeerEvent, PeerSession};
use skylink_room::{Client, Event, InitOptions, JoinOptions, TransferData, TransferOptions};
use tokio::sync::{broadcast, mpsc};

/// `skylink bench transfer` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// roomServer URL of the server under test (pipelined / stop-and-wait scenarios).
    #[arg(long, default_value = "http://127.0.0.1:8018")]
    server: String,
    /// App key to use.
    #[arg(long, default_value = "bench-key")]
    app_key: String,
    /// Bytes per transfer.
    #[arg(long, default_value_t = 64 << 20)]
    size: usize,
    /// Message size of the raw data-channel scenario (the DT binary chunk size).
    #[arg(long, default_value_t = 65_456)]
    chunk: usize,
    /// Comma-separated subset of pipelined,stop-and-wait,raw,file.
    #[arg(long, default_value = "pipelined,stop-and-wait,raw,file")]
    only: String,
    /// Bytes of the `file` scenario's file (streamed from disk by a bot process).
    #[arg(long, default_value_t = 1 << 30)]
    file_size: u64,
    /// Runs per scenario (interleaved); the median run is reported, with every run's MB/s.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Upper bound of one transfer, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Local UDP address of the peer connections.
    #[arg(long, default_value = "127.0.0.1:0")]
    udp: String,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Bound of every setup step (join, channel open, accept).
const WAIT: Duration = Duration::from_secs(20);
/// The pattern byte at offset `i` (as interop/lib/scenario.mjs uses).
const PATTERN_MOD: usize = 251;

fn pattern(n: usize) -> Arc<[u8]> {
    (0..n).map(|i| (i % PATTERN_MOD) as u8).collect()
}

fn options(args: &Args, dt_extensions: bool) -> InitOptions {
    let mut o = InitOptions::new(args.app_key.clone());
    o.force_ssl = args.server.starts_with("https:");
    o.room_server = args
        .server
        .trim_start_matches("https:")
        .trim_start_matches("http:")
        .to_owned();
    o.udp_addrs = vec![args.udp.clone()];
    o.dt_extensions = dt_extensions;
    o
}

async fn until<T>(
    rx: &mut broadcast::Receiver<Event>,
    what: &str,
    wait: Duration,
    mut f: impl FnMut(&Event) -> Option<T>,
) -> anyhow::Result<T> {
    let fut = async {
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    if let Some(t) = f(&ev) {
                        return Ok(t);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    bail!("event receiver lagged by {n} events while waiting for {what}")
                }
                Err(broadcast::error::RecvError::Closed) => bail!("engine stopped"),
            }
        }
    };
    tokio::time::timeout(wait, fut)
        .await
        .with_context(|| format!("timed out after {wait:?} waiting for {what}"))?
}

/// `VmHWM`/`VmRSS` of this process in kB.
fn proc_status_kb(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|r| r.trim_start_matches(':').split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Resets `VmHWM` to the current RSS (Linux ≥ 4.0); false when refused.
fn reset_hwm() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Measures `VmHWM` around `fut` and adds `rss_*_kb` fields to its JSON result.
async fn with_rss(
    fut: impl std::future::Future<Output = anyhow::Result<Value>>,
) -> anyhow::Result<Value> {
    let reset = reset_hwm();
    let before = proc_status_kb("VmRSS");
    let mut v = fut.await?;
    if let Value::Object(m) = &mut v {
        m.insert("rss_before_kb".into(), json!(before));
        m.insert("rss_peak_kb".into(), json!(proc_status_kb("VmHWM")));
        m.insert("rss_peak_is_per_scenario".into(), json!(reset));
    }
    Ok(v)
}

/// User + system CPU seconds of this process so far.
pub(crate) fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return f64::NAN;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn rate(size: usize, secs: f64) -> f64 {
    size as f64 / 1e6 / secs
}

/// One engine-to-engine transfer through the server.
async fn engine_transfer(args: &Args, data: Arc<[u8]>, extensions: bool) -> anyhow::Result<Value> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let room = format!(
        "bench-transfer-{}-{stamp}",
        if extensions { "pipe" } else { "saw" }
    );
    let a = Client::new(options(args, extensions));
    let b = Client::new(options(args, extensions));
    let mut a_rx = a.subscribe();
    let mut b_rx = b.subscribe();
    let a_id = tokio::time::timeout(WAIT, a.join_room(Some(&room), JoinOptions::default()))
        .await
        .context("A joinRoom timed out")??;
    let b_id = tokio::time::timeout(WAIT, b.join_room(Some(&room), JoinOptions::default()))
        .await
        .context("B joinRoom timed out")??;
    for (rx, peer, who) in [(&mut a_rx, &b_id, "A"), (&mut b_rx, &a_id, "B")] {
        until(
            rx,
            &format!("{who}: messaging channel open"),
            WAIT,
            |e| match e {
                Event::DataChannelState {
                    state,
                    peer_id,
                    channel_type,
                    ..
                } if state == "open" && peer_id == peer && channel_type == "messaging" => Some(()),
                _ => None,
            },
        )
        .await?;
    }
    let total = Duration::from_secs(args.timeout);
    let size = data.len();
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let (id, started) = a
        .send_blob_data(
            data.clone(),
            Some(vec![b_id.clone()]),
            TransferOptions {
                name: Some("bench-pattern.bin".into()),
                timeout_secs: 120.0,
                ..Default::default()
            },
        )
        .await
        .context("sendBlobData")?;
    if started != [b_id.clone()] {
        bail!("sendBlobData started for {started:?}, not [{b_id}]");
    }
    let (rid, info) = until(&mut b_rx, "B: incomingDataRequest", WAIT, |e| match e {
        Event::IncomingDataRequest {
            transfer_id,
            transfer_info,
            is_self: false,
            ..
        } => Some((transfer_id.clone(), transfer_info.clone())),
        _ => None,
    })
    .await?;
    let t_request = t0.elapsed();
    b.accept_data_transfer(&a_id, &rid, true)
        .await
        .context("acceptDataTransfer")?;
    // downloadCompleted ends the clock; incomingData carries the bytes (either order).
    let mut done: Option<Duration> = None;
    let mut got: Option<Arc<[u8]>> = None;
    let mut progress_events = 0usize;
    let mut first_chunk: Option<Duration> = None;
    let mut last_chunk: Option<Duration> = None;
    until(
        &mut b_rx,
        "B: downloadCompleted + incomingData",
        total,
        |e| {
            match e {
                Event::DataTransferState {
                    state,
                    transfer_id,
                    error,
                    ..
                } if *transfer_id == rid => match state.as_str() {
                    "downloadCompleted" => done = done.or(Some(t0.elapsed())),
                    "downloading" => {
                        progress_events += 1;
                        let now = t0.elapsed();
                        first_chunk = first_chunk.or(Some(now));
                        last_chunk = Some(now);
                    }
                    "error" | "cancel" | "rejected" | "downloadError" | "uploadError" => {
                        // Surface it: the closure cannot return an error, so stop with a marker.
                        tracing::error!(state, ?error, "transfer failed");
                        return Some(Err(format!("receiver state {state}: {error:?}")));
                    }
                    _ => {}
                },
                Event::IncomingData {
                    data: TransferData::Bytes(d),
                    transfer_id,
                    is_self: false,
                    ..
                } if *transfer_id == rid => got = Some(d.clone()),
                _ => {}
            }
            (done.is_some() && got.is_some()).then_some(Ok(()))
        },
    )
    .await?
    .map_err(anyhow::Error::msg)?;
    let elapsed = done.expect("set");
    let cpu = cpu_seconds() - cpu0;
    let got = got.expect("set");
    let verified = got.len() == size && got[..] == data[..];
    if !verified {
        bail!(
            "received {} bytes that differ from the {size}-byte pattern",
            got.len()
        );
    }
    drop(got);
    let upload = until(&mut a_rx, "A: uploadCompleted", WAIT, |e| match e {
        Event::DataTransferState {
            state, transfer_id, ..
        } if *transfer_id == id && state == "uploadCompleted" => Some(t0.elapsed()),
        _ => None,
    })
    .await?;
    let _ = tokio::time::timeout(WAIT, a.leave_room()).await;
    let _ = tokio::time::timeout(WAIT, b.leave_room()).await;
    Ok(json!({
        "bytes": size,
        "seconds": elapsed.as_secs_f64(),
        "mb_per_s": rate(size, elapsed.as_secs_f64()),
        "verified": verified,
        "dt_extensions": extensions,
        "chunk_size": info.get("chunkSize"),
        "chunk_type": info.get("chunkType"),
        "request_ms": t_request.as_secs_f64() * 1e3,
        "first_chunk_ms": first_chunk.map(|d| d.as_secs_f64() * 1e3),
        "last_chunk_ms": last_chunk.map(|d| d.as_secs_f64() * 1e3),
        "cpu_s": cpu,
        "upload_completed_s": upload.as_secs_f64(),
        "downloading_events": progress_events,
    }))
}

/// One side of the raw pair.
struct Side {
    session: Arc<PeerSession>,
    events: mpsc::UnboundedReceiver<PeerEvent>,
}

async fn raw_side(local: &str, remote: &str, udp: &str) -> anyhow::Result<Side> {
    let mut c = PeerConfig::new(local, remote);
    c.udp_addrs = vec![udp.to_owned()];
    let (session, events) = PeerSession::new(c)
        .await
        .context("building a PeerSession")?;
    Ok(Side {
        session: Arc::new(session),
        events,
    })
}

/// Moves events between the two sides (trickling candidates) until both saw `ChannelOpen`
/// of `label`.
async fn raw_pump_until_open(a: &mut Side, b: &mut Side, label: &str) -> anyhow::Result<()> {
    let (mut a_open, mut b_open) = (false, false);
    let work = async {
        while !(a_open && b_open) {
            tokio::select! {
                Some(ev) = a.events.recv() => match ev {
                    PeerEvent::LocalCandidate(c) => add(&b.session, c).await?,
                    PeerEvent::ChannelOpen { label: l } if l == label => a_open = true,
                    _ => {}
                },
                Some(ev) = b.events.recv() => match ev {
                    PeerEvent::LocalCandidate(c) => add(&a.session, c).await?,
                    PeerEvent::ChannelOpen { label: l } if l == label => b_open = true,
                    _ => {}
                },
                else => bail!("event streams ended before {label} opened"),
            }
        }
        Ok(())
    };
    tokio::time::timeout(WAIT, work)
        .await
        .with_context(|| format!("timed out waiting for channel {label} to open"))?
}

async fn add(s: &PeerSession, c: CandidateFields) -> anyhow::Result<()> {
    s.add_remote_candidate(c)
        .await
        .context("adding a candidate")
}

/// Bulk send over one data channel of a raw loopback pair.
async fn raw_transfer(args: &Args, data: Arc<[u8]>) -> anyhow::Result<Value> {
    if args.chunk == 0 {
        bail!("--chunk must be > 0");
    }
    let mut a = raw_side("rawA", "rawB", &args.udp).await?;
    let mut b = raw_side("rawB", "rawA", &args.udp).await?;
    let offer = a.session.create_offer().await.context("offer")?;
    let answer = b.session.accept_offer(&offer).await.context("answer")?;
    a.session
        .accept_answer(&answer)
        .await
        .context("apply answer")?;
    let messaging = a.session.offer_label().to_owned();
    raw_pump_until_open(&mut a, &mut b, &messaging).await?;
    const BULK: &str = "bulk";
    a.session.open_channel(BULK).await.context("open bulk")?;
    raw_pump_until_open(&mut a, &mut b, BULK).await?;
    // A's later events are not needed; keep draining them so nothing piles up.
    let mut a_events = a.events;
    let drain = tokio::spawn(async move { while a_events.recv().await.is_some() {} });

    let size = data.len();
    let chunk = args.chunk;
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let sender = {
        let session = a.session.clone();
        let data = data.clone();
        tokio::spawn(async move {
            let mut off = 0;
            while off < data.len() {
                let end = (off + chunk).min(data.len());
                session.send_on(BULK, None, Some(&data[off..end])).await?;
                off = end;
            }
            anyhow::Ok(t0.elapsed())
        })
    };
    let total = Duration::from_secs(args.timeout);
    let mut received = 0usize;
    let mut messages = 0usize;
    let recv = async {
        while received < size {
            match b.events.recv().await {
                Some(PeerEvent::Binary { label, data: d }) if label == BULK => {
                    if d.len() > size - received || d[..] != data[received..received + d.len()] {
                        bail!("bulk data differs at offset {received}");
                    }
                    received += d.len();
                    messages += 1;
                }
                Some(PeerEvent::ChannelClosed { label }) if label == BULK => {
                    bail!("bulk channel closed after {received} bytes")
                }
                Some(_) => {}
                None => bail!("receiver events ended after {received} bytes"),
            }
        }
        Ok(t0.elapsed())
    };
    let elapsed = tokio::time::timeout(total, recv)
        .await
        .with_context(|| format!("raw transfer timed out after {total:?} ({received} bytes)"))??;
    let cpu = cpu_seconds() - cpu0;
    let queued = tokio::time::timeout(WAIT, sender)
        .await
        .context("sender task did not finish")?
        .context("sender task")??;
    let _ = a.session.close().await;
    let _ = b.session.close().await;
    drain.abort();
    Ok(json!({
        "bytes": size,
        "seconds": elapsed.as_secs_f64(),
        "mb_per_s": rate(size, elapsed.as_secs_f64()),
        "verified": true,
        "chunk_size": chunk,
        "messages": messages,
        "sender_queued_s": queued.as_secs_f64(),
        "cpu_s": cpu,
    }))
}

/// Runs the benchmark.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let only: Vec<&str> = args.only.split(',').map(str::trim).collect();
    for s in &only {
        if !["pipelined", "stop-and-wait", "raw", "file"].contains(s) {
            bail!("--only: unknown scenario {s:?} (pipelined, stop-and-wait, raw, file)");
        }
    }
    if args.size == 0 {
        bail!("--size must be > 0");
    }
    if args.runs == 0 {
        bail!("--runs must be > 0");
    }
    let with_file = only.contains(&"file");
    let only: Vec<&str> = only.into_iter().filter(|s| *s != "file").collect();
    let data = pattern(if only.is_empty() { 1 } else { args.size });
    let mut all: Vec<Vec<Value>> = vec![Vec::new(); only.len()];
    for _ in 0..args.runs {
        for (k, s) in only.iter().enumerate() {
            let r = match *s {
                "pipelined" => with_rss(engine_transfer(&args, data.clone(), true)).await,
                "stop-and-wait" => with_rss(engine_transfer(&args, data.clone(), false)).await,
                _ => with_rss(raw_transfer(&args, data.clone())).await,
            };
            let v = r.unwrap_or_else(|e| json!({"error": format!("{e:#}")}));
            if !args.json {
                match v.get("mb_per_s").and_then(Value::as_f64) {
                    Some(mbs) => println!(
                        "{s:<14} {:>8.2} MB/s  {:>7.2} s  CPU {:>5.2} s  peak RSS {} kB",
                        mbs,
                        v["seconds"].as_f64().unwrap_or(f64::NAN),
                        v["cpu_s"].as_f64().unwrap_or(f64::NAN),
                        v["rss_peak_kb"]
                    ),
                    None => println!("{s:<14} FAILED: {}", v["error"]),
                }
            }
            all[k].push(v);
        }
    }
    let mut out = serde_json::Map::new();
    out.insert("bytes".into(), json!(args.size));
    out.insert("runs".into(), json!(args.runs));
    for (s, runs) in only.iter().zip(all) {
        // The first failure, else the median run by MB/s.
        let v = match runs.iter().find(|v| v.get("error").is_some()) {
            Some(e) => e.clone(),
            None => {
                let mut sorted = runs.clone();
                sorted.sort_by(|x, y| {
                    let r = |v: &Value| v["mb_per_s"].as_f64().unwrap_or(0.0);
                    r(x).total_cmp(&r(y))
                });
                let mut m = sorted[sorted.len() / 2].clone();
                if let Value::Object(o) = &mut m {
                    let rates: Vec<Value> = runs.iter().map(|v| v["mb_per_s"].clone()).collect();
                    o.insert("runs_mb_per_s".into(), Value::Array(rates));
                    let peak = runs.iter().filter_map(|v| v["rss_peak_kb"].as_u64()).max();
                    o.insert("rss_peak_kb".into(), json!(peak));
                }
                m
            }
        };
        out.insert((*s).to_owned(), v);
    }
    if with_file {
        let v = file_transfer(&args)
            .await
            .unwrap_or_else(|e| json!({"error": format!("{e:#}")}));
        if !args.json {
            match v.get("mb_per_s").and_then(Value::as_f64) {
                Some(mbs) => println!(
                    "{:<14} {:>8.2} MB/s  {:>7.2} s  sender peak RSS {} kB (file {} bytes)",
                    "file",
                    mbs,
                    v["seconds"].as_f64().unwrap_or(f64::NAN),
                    v["sender_rss_peak_kb"],
                    v["bytes"]
                ),
                None => println!("file           FAILED: {}", v["error"]),
            }
        }
        out.insert("file".into(), v);
    }
    if args.json {
        println!("{}", Value::Object(out));
    }
    Ok(())
}

/// `VmHWM` of another process in kB.
fn pid_hwm_kb(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// A `skylink join --json` child process.
struct Bot {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl Bot {
    fn spawn(
        args: &Args,
        room: &str,
        download_dir: Option<&std::path::Path>,
    ) -> anyhow::Result<Bot> {
        use tokio::io::AsyncBufReadExt as _;
        let exe = std::env::current_exe().context("current executable")?;
        let mut cmd = tokio::process::Command::new(exe);
        cmd.args(["join", "--json", "--room", room, "--server", &args.server])
            .args(["--app-key", &args.app_key, "--udp", &args.udp])
            .env("RUST_LOG", "error")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true);
        if let Some(d) = download_dir {
            cmd.arg("--download-dir").arg(d);
        }
        let mut child = cmd.spawn().context("spawning skylink join")?;
        let stdin = child.stdin.take().context("bot stdin")?;
        let stdout = child.stdout.take().context("bot stdout")?;
        Ok(Bot {
            child,
            stdin,
            lines: tokio::io::BufReader::new(stdout).lines(),
        })
    }

    async fn send(&mut self, v: Value) -> anyhow::Result<()> {
        use tokio::io::AsyncWriteExt as _;
        self.stdin.write_all(format!("{v}\n").as_bytes()).await?;
        self.stdin.flush().await?;
        Ok(())
    }

    /// The first line matching `pred` within `wait` (other lines are dropped).
    async fn until(
        &mut self,
        what: &str,
        wait: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let fut = async {
            loop {
                let line = self
                    .lines
                    .next_line()
                    .await?
                    .with_context(|| format!("bot exited while waiting for {what}"))?;
                let v: Value = serde_json::from_str(&line).context("bot line is not JSON")?;
                if pred(&v) {
                    return anyhow::Ok(v);
                }
            }
        };
        tokio::time::timeout(wait, fut)
            .await
            .with_context(|| format!("timed out after {wait:?} waiting for {what}"))?
    }
}

/// The `file` scenario: bot → bot, `sendBlobData {"path"}`, sender VmHWM.
async fn file_transfer(args: &Args) -> anyhow::Result<Value> {
    use std::io::Write as _;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let dir =
        std::env::temp_dir().join(format!("skylink-bench-file-{}-{stamp}", std::process::id()));
    struct Cleanup(std::path::PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(dir.clone());
    let (src_dir, dl_dir) = (dir.join("src"), dir.join("dl"));
    std::fs::create_dir_all(&src_dir)?;
    std::fs::create_dir_all(&dl_dir)?;
    let src = src_dir.join("big.bin");
    {
        let head = pattern(1 << 20);
        let mut f = std::fs::File::create(&src)?;
        f.set_len(args.file_size)?;
        f.write_all(&head[..head.len().min(args.file_size as usize)])?;
    }
    let room = format!("bench-file-{stamp}");
    let mut rx = Bot::spawn(args, &room, Some(&dl_dir))?;
    let rx_id = rx
        .until("receiver peerJoined", WAIT, |v| v["event"] == "peerJoined")
        .await?["peerId"]
        .as_str()
        .context("peerId")?
        .to_owned();
    let mut tx = Bot::spawn(args, &room, None)?;
    tx.until("sender peerJoined", WAIT, |v| v["event"] == "peerJoined")
        .await?;
    let open = |v: &Value| {
        v["event"] == "dataChannelState" && v["state"] == "open" && v["channelType"] == "messaging"
    };
    tx.until("sender channel open", WAIT, open).await?;
    rx.until("receiver channel open", WAIT, open).await?;
    let limit = Duration::from_secs(args.timeout);
    let started = Instant::now();
    tx.send(
        json!({"cmd": "sendBlobData", "id": 1, "path": src, "targetPeerId": rx_id,
                   "timeout": 60}),
    )
    .await?;
    let req = rx
        .until("incomingDataRequest", limit, |v| {
            v["event"] == "incomingDataRequest" && v["isSelf"] == false
        })
        .await?;
    let tid = req["transferId"].as_str().context("transferId")?.to_owned();
    let from = req["peerId"].clone();
    rx.send(json!({"cmd": "acceptDataTransfer", "id": 2, "peerId": from,
                   "transferId": tid, "accept": true}))
        .await?;
    let (reply, got) = tokio::join!(
        tx.until("sendBlobData reply", limit, |v| v.get("reply").is_some()
            && v["id"] == 1),
        rx.until("incomingData", limit, |v| v["event"] == "incomingData"
            && v["isSelf"] == false),
    );
    let secs = started.elapsed().as_secs_f64();
    let sender_hwm = tx.child.id().and_then(pid_hwm_kb);
    let receiver_hwm = rx.child.id().and_then(pid_hwm_kb);
    let (reply, got) = (reply?, got?);
    if reply["ok"] != true {
        bail!("sendBlobData failed: {reply}");
    }
    let saved = got["savedPath"].as_str().context("savedPath")?;
    let len = std::fs::metadata(saved)?.len();
    if len != args.file_size {
        bail!("saved {len} bytes of {}", args.file_size);
    }
    Ok(json!({
        "bytes": args.file_size,
        "seconds": secs,
        "mb_per_s": args.file_size as f64 / 1e6 / secs,
        "sender_rss_peak_kb": sender_hwm,
        "receiver_rss_peak_kb": receiver_hwm,
    }))
}
