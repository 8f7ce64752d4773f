//! `skylink join`: a Skylink peer on the command line, for people (chat mode) and for other
//! programs (`--json`, the bot protocol of `docs/bot-protocol.md`).
//!
//! Three tasks: a stdin reader (lines), the executor (the initial join, then every command in
//! order, one at a time, so commands sent before the join completes wait for it), and the
//! writer loop here, which owns stdout. The writer prints events as they arrive; before
//! printing a reply it first prints every event already raised, so a reply comes after the
//! events its command caused; the executor starts the next command only once that reply is
//! written, so the next command's events come after it.

/// The chat commands, as a literal (shared by `--help` and `/help`).
macro_rules! chat_help {
    () => {
        "Chat mode (without --json), one line at a time on stdin:
  <text>               send <text> to everyone (public sendMessage)
  /msg <peerId> <text> send <text> to one peer only (private sendMessage)
  /lock, /unlock       lock or unlock the room
  /peers               list the peers in the room
  /user <json>         set your user data (text that is not JSON is sent as a string)
  /send <peerId|all> <file>     offer a file (sendBlobData); progress bars on stderr
  /accept <peerId> <transferId> accept an offered file (saved under --download-dir)
  /reject <peerId> <transferId> refuse an offered file
  /cancel <peerId> <transferId> stop a transfer, either direction
  /quit                leave the room and exit (so does end of input)
  /help                show this list"
    };
}

mod chat;
mod commands;
mod data;
mod download;
mod frame_clock;
mod media;
mod progress;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};
use skylink_room::{Client, Event, InitOptions};
use tokio::sync::{broadcast, mpsc, oneshot};

use commands::{Answer, Ctx, Request};
use data::SharedTracker;

/// Exit status when the first join fails.
pub const EXIT_JOIN_FAILED: i32 = 1;
/// Exit status when stdout is gone or the engine stopped.
pub const EXIT_IO: i32 = 3;

/// `skylink join` arguments.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct JoinArgs {
    /// Room to join.
    #[arg(long)]
    pub room: String,
    /// The roomServer URL (`http://host:port`, `//host:port` or `host:port`); default: a
    /// local `skylink serve` (http://127.0.0.1:8018). `https://` turns on forceSSL (TLS).
    #[arg(long, env = "SKYLINK_SERVER")]
    pub server: Option<String>,
    /// The App Key (a server without configuration accepts any).
    #[arg(long, env = "SKYLINK_APP_KEY", default_value = "skylink-cli")]
    pub app_key: String,
    /// Custom user data announced to the room, as JSON (`'{"name":"bot"}'`, `'"text"'`).
    #[arg(long, value_parser = parse_json)]
    pub user_data: Option<Value>,
    /// Bot mode: one JSON event per line on stdout, JSON commands on stdin
    /// (docs/bot-protocol.md).
    #[arg(long)]
    pub json: bool,
    /// Local UDP address(es) for the peer connections (repeatable). `0.0.0.0:0` binds every
    /// non-loopback interface; `127.0.0.1:0` keeps media on loopback.
    #[arg(long = "udp", default_value = "0.0.0.0:0")]
    pub udp: Vec<String>,
    /// Save every completed download as a file in DIR (created if needed), named after the
    /// sender's file name (sanitised; numbered on a clash). JSON mode: the `incomingData`
    /// line then carries `savedPath` instead of `data`.
    #[arg(long, value_name = "DIR")]
    pub download_dir: Option<PathBuf>,
    /// Video to send: `testpattern` (moving pattern with the frame number), `FILE.ivf` (VP8,
    /// looped), `camera` / `camera:/dev/videoN` (V4L2), or `screen` (shareScreen of
    /// `$DISPLAY` after joining). Sent from the join on (getUserMedia before joinRoom).
    #[arg(long, value_name = "SOURCE")]
    pub video: Option<String>,
    /// Audio to send: `tone` (440 Hz), `FILE.ogg` (Ogg Opus, looped), `mic` / `mic:DEVICE`
    /// (ALSA).
    #[arg(long, value_name = "SOURCE")]
    pub audio: Option<String>,
    /// Record every received track into DIR (`<peer>-<track>.ivf` / `.ogg`).
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Join publish-only (`joinRoom({publishOnly: true})`): send our media, receive none;
    /// peers see `peerInfo.config.publishOnly`.
    #[arg(long)]
    pub publish_only: bool,
    /// Join as the child of peer ID (`joinRoom({parentId})`): parent and child ignore each
    /// other.
    #[arg(long, value_name = "ID")]
    pub parent_id: Option<String>,
}

/// `--help` epilogue: the chat commands and a summary of the bot protocol.
const AFTER_HELP: &str = concat!(
    chat_help!(),
    "\n\n",
    "JSON mode (--json): stdout carries only JSON lines, each an event\n",
    "({\"event\":\"peerJoined\",…}) or a reply ({\"reply\":\"sendMessage\",\"id\":1,\"ok\":true,…});\n",
    "stdin takes one command per line ({\"cmd\":\"sendMessage\",\"id\":1,\"message\":\"hi\"}).\n",
    "Commands: joinRoom leaveRoom sendMessage setUserData getUserData getPeerInfo\n",
    "getPeersInRoom lockRoom unlockRoom sendP2PMessage getPeersDatachannels\n",
    "getPeerCustomSettings refreshConnection getConnectionStatus getPeers introducePeer\n",
    "setLogLevel setDebugMode getLogs clearAllLogs printAllLogs sendBlobData sendURLData\n",
    "acceptDataTransfer cancelDataTransfer startStreamingData streamData stopStreamingData\n",
    "getCurrentDataTransfers getCurrentDataStreamsSession getUserMedia sendStream\n",
    "shareScreen stopScreen stopStream muteStream enableAudio disableAudio enableVideo\n",
    "disableVideo getRemoteMedia.\n",
    "The first line is our own peerJoined.\n",
    "Exit status: 0 after leaveRoom or end of input, 1 when the first join fails,\n",
    "3 when stdout is closed or the engine stopped. Logs go to stderr (RUST_LOG)."
);

fn parse_json(s: &str) -> Result<Value, String> {
    serde_json::from_str(s).map_err(|e| format!("not JSON ({e}); quote strings: '\"text\"'"))
}

/// The `init()` options for `--server`, `--app-key` and `--room`.
fn init_options(args: &JoinArgs) -> InitOptions {
    let mut o = InitOptions::new(args.app_key.clone());
    o.default_room = Some(args.room.clone());
    let server = match &args.server {
        Some(s) => s.trim_end_matches('/').to_owned(),
        None => format!(
            "//127.0.0.1:{}",
            skylink_server::Config::default().server.port
        ),
    };
    let (room_server, force_ssl) = if let Some(rest) = server.strip_prefix("https://") {
        (format!("//{rest}"), true)
    } else if let Some(rest) = server.strip_prefix("http://") {
        (format!("//{rest}"), false)
    } else if server.starts_with("//") {
        (server, false)
    } else {
        (format!("//{server}"), false)
    };
    o.room_server = room_server;
    o.force_ssl = force_ssl;
    o.udp_addrs = args.udp.clone();
    o
}

/// The devices `--video` / `--audio` name.
fn devices(args: &JoinArgs) -> anyhow::Result<skylink_room::devices::Devices> {
    use skylink_room::devices::{AudioDevice, Devices, ScreenDevice, VideoDevice};
    let video = match args.video.as_deref() {
        None | Some("screen") => VideoDevice::None,
        Some("testpattern") => test_pattern(cfg!(feature = "codecs")),
        Some("camera") => VideoDevice::Camera(None),
        Some(s) if s.starts_with("camera:") => VideoDevice::Camera(Some(s[7..].to_owned())),
        Some(path) if path.ends_with(".ivf") => VideoDevice::Ivf(PathBuf::from(path)),
        Some(other) => anyhow::bail!(
            "--video {other:?}: expected testpattern, FILE.ivf, camera[:DEVICE] or screen"
        ),
    };
    let audio = match args.audio.as_deref() {
        None => AudioDevice::None,
        Some("tone") => tone(cfg!(feature = "codecs")),
        Some("mic") => AudioDevice::Mic(None),
        Some(s) if s.starts_with("mic:") => AudioDevice::Mic(Some(s[4..].to_owned())),
        Some(path) if path.ends_with(".ogg") => AudioDevice::Ogg(PathBuf::from(path)),
        Some(other) => {
            anyhow::bail!("--audio {other:?}: expected tone, FILE.ogg or mic[:DEVICE]")
        }
    };
    Ok(Devices {
        video,
        audio,
        screen: ScreenDevice::X11(None),
    })
}

/// `--video testpattern`: encoded live with the codecs, else the pre-encoded loop of the same
/// pattern that ships in skylink-media (so a plain `cargo run` bot still shows video).
fn test_pattern(codecs: bool) -> skylink_room::devices::VideoDevice {
    use skylink_room::devices::VideoDevice;
    if codecs {
        VideoDevice::TestPattern
    } else {
        VideoDevice::IvfBytes(bytes::Bytes::from_static(
            skylink_media::assets::TESTPATTERN_IVF,
        ))
    }
}

/// `--audio tone`: as [`test_pattern`], with the pre-encoded Ogg Opus tone.
fn tone(codecs: bool) -> skylink_room::devices::AudioDevice {
    use skylink_room::devices::AudioDevice;
    if codecs {
        AudioDevice::Tone
    } else {
        AudioDevice::OggBytes(bytes::Bytes::from_static(skylink_media::assets::TONE_OGG))
    }
}

/// What the executor tells the writer.
enum Exec {
    /// A finished command's reply (JSON mode: the line; chat mode: formatted), and who
    /// waits until it is written (the next command runs only then).
    Reply(Value, oneshot::Sender<()>),
    /// Text for the user (chat mode only).
    Say(String),
    /// Print what is pending and exit with this status.
    Exit(i32),
}

/// Runs `skylink join` until `leaveRoom`, end of stdin or a fatal error; returns the exit
/// status.
///
/// # Errors
/// Only when stdout cannot be written at start-up.
pub async fn run(args: JoinArgs) -> anyhow::Result<i32> {
    let download_dir = match &args.download_dir {
        Some(dir) => Some(
            download::prepare_dir(dir)
                .with_context(|| format!("--download-dir {}", dir.display()))?,
        ),
        None => None,
    };
    let mut opts = init_options(&args);
    opts.media_devices = std::sync::Arc::new(frame_clock::FrameClock(devices(&args)?));
    if let Some(dir) = &args.record {
        std::fs::create_dir_all(dir).with_context(|| format!("--record {}", dir.display()))?;
    }
    let probes = media::probe_set(&mut opts, args.record.clone());
    tracing::info!(room = %args.room, server = %opts.room_server, json = args.json, "joining");
    let client = Client::new(opts);
    // Subscribed before anything happens: no event is missed.
    let events = client.subscribe();
    let tracker = SharedTracker::default();
    let ctx = Ctx {
        client,
        default_room: args.room.clone(),
        room: args.room.clone(),
        user_data: args
            .user_data
            .clone()
            .unwrap_or_else(|| Value::String(String::new())),
        tracker: Arc::clone(&tracker),
        probes,
        download_dir: download_dir.clone(),
    };
    let media_plan = media::Plan::from_args(&args);
    // The writer's own handle keeps the engine (and its event channel) alive until the
    // writer has printed everything, even after the executor is done with its handle.
    let _engine = ctx.client.clone();
    let (line_tx, line_rx) = mpsc::unbounded_channel();
    let (exec_tx, exec_rx) = mpsc::unbounded_channel();
    tokio::spawn(read_stdin(line_tx));
    let mut first_options = serde_json::Map::new();
    if let Some(d) = &args.user_data {
        first_options.insert("userData".into(), d.clone());
    }
    if args.publish_only {
        first_options.insert("publishOnly".into(), Value::Bool(true));
    }
    if let Some(id) = &args.parent_id {
        first_options.insert("parentId".into(), Value::String(id.clone()));
    }
    tokio::spawn(execute(
        ctx,
        first_options,
        args.json,
        media_plan,
        line_rx,
        exec_tx,
    ));
    let mut writer = Writer {
        json: args.json,
        out: std::io::stdout(),
        seen_self: !args.json,
        held: Vec::new(),
        tracker,
        download_dir,
        progress: (!args.json).then(progress::Progress::new),
        progress_lines: HashMap::new(),
    };
    writer.flush().context("writing to stdout")?;
    Ok(write_loop(&mut writer, events, exec_rx).await)
}

/// One stdin line: its text, or why it has none (not UTF-8).
type Line = Result<String, String>;

async fn read_stdin(tx: mpsc::UnboundedSender<Line>) {
    use tokio::io::AsyncBufReadExt as _;
    let mut input = tokio::io::BufReader::new(tokio::io::stdin());
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match input.read_until(b'\n', &mut buf).await {
            Ok(0) => {
                tracing::debug!("end of stdin");
                return;
            }
            Ok(_) => {
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                let line = String::from_utf8(std::mem::take(&mut buf))
                    .map_err(|e| format!("the line is not UTF-8: {}", e.utf8_error()));
                if tx.send(line).is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading stdin failed; treating it as its end");
                return;
            }
        }
    }
}

/// The executor: the first join, then each line's command in order.
async fn execute(
    mut ctx: Ctx,
    first_options: serde_json::Map<String, Value>,
    json_mode: bool,
    media_plan: media::Plan,
    mut lines: mpsc::UnboundedReceiver<Line>,
    out: mpsc::UnboundedSender<Exec>,
) {
    media_plan.before_join(&ctx.client).await;
    let mut first = serde_json::Map::new();
    if !first_options.is_empty() {
        first.insert("options".into(), Value::Object(first_options));
    }
    if let Err(e) = commands::join_room(&mut ctx, &first).await {
        tracing::error!(room = %ctx.room, error = %e, "joining the room failed");
        let _ = out.send(Exec::Exit(EXIT_JOIN_FAILED));
        return;
    }
    media_plan.after_join(&ctx.client).await;
    while let Some(line) = lines.recv().await {
        let line = match line {
            Ok(line) => line,
            Err(error) if json_mode => {
                send_reply(&out, commands::reject(Value::Null, Value::Null, error)).await;
                continue;
            }
            Err(error) => {
                let _ = out.send(Exec::Say(format!("! {error}")));
                continue;
            }
        };
        let req: Request = if json_mode {
            match commands::parse_line(&line) {
                Ok(Some(req)) => req,
                Ok(None) => continue,
                Err(reply) => {
                    send_reply(&out, reply).await;
                    continue;
                }
            }
        } else {
            match chat::parse(&line) {
                chat::ChatLine::Skip => continue,
                chat::ChatLine::Say(text) => {
                    let _ = out.send(Exec::Say(text));
                    continue;
                }
                chat::ChatLine::Run(req) => req,
            }
        };
        tracing::debug!(cmd = %req.cmd, id = %req.id, "command");
        match commands::run(&mut ctx, &req).await {
            Answer::Now(result) => send_reply(&out, commands::reply(&req, result)).await,
            Answer::Later(wait) => {
                // The transfer runs on; its reply is written when it ends, while the next
                // commands run.
                let out = out.clone();
                tokio::spawn(async move {
                    let result = wait.await;
                    send_reply(&out, commands::reply(&req, result)).await;
                });
                continue;
            }
        }
        if req.cmd == "leaveRoom" {
            let _ = out.send(Exec::Exit(0));
            return;
        }
    }
    if let Err(e) = ctx.client.leave_room().await {
        tracing::warn!(error = %e, "leaving the room at end of input failed");
    }
    let _ = out.send(Exec::Exit(0));
}

/// Hands a reply to the writer and waits until it is written, so that the events of the
/// next command come after this reply.
async fn send_reply(out: &mpsc::UnboundedSender<Exec>, reply: Value) {
    let (done, written) = oneshot::channel();
    if out.send(Exec::Reply(reply, done)).is_ok() {
        let _ = written.await;
    }
}

/// Owns stdout: JSON lines (bot mode) or readable lines (chat mode).
struct Writer {
    json: bool,
    out: std::io::Stdout,
    /// Our own `peerJoined` was printed (always true in chat mode).
    seen_self: bool,
    /// JSON lines raised before our own `peerJoined`, printed right after it.
    held: Vec<String>,
    /// Fed every event (`getCurrentDataTransfers`, `getCurrentDataStreamsSession`).
    tracker: SharedTracker,
    /// `--download-dir` (absolute).
    download_dir: Option<PathBuf>,
    /// Chat mode: the transfer progress bars.
    progress: Option<progress::Progress>,
    /// Bot mode: per (transfer, peer) the percentage and time of the last printed
    /// `uploading` / `downloading` line (see [`Writer::skip_progress`]).
    progress_lines: HashMap<(String, String), (f64, Instant)>,
}

/// Bot mode prints an `uploading` / `downloading` line only when the percentage moved by at
/// least this much since the last printed one …
const PROGRESS_STEP_PCT: f64 = 1.0;
/// … or this long passed.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

impl Writer {
    /// Bot mode rate-limits progress lines (a 64 MiB transfer has ~1,000 chunks, each with a
    /// `dataTransferState` event): the first line with percentage 0 and the first above 0 are
    /// always printed, then one per [`PROGRESS_STEP_PCT`] or [`PROGRESS_EVERY`]; terminal
    /// states are always printed. Returns true for a line to leave out.
    fn skip_progress(&mut self, ev: &Event) -> bool {
        let Event::DataTransferState {
            state,
            transfer_id,
            peer_id,
            transfer_info,
            ..
        } = ev
        else {
            return false;
        };
        let key = (transfer_id.clone(), peer_id.clone());
        if state != "uploading" && state != "downloading" {
            if state != "uploadStarted" && state != "downloadStarted" {
                self.progress_lines.remove(&key);
            }
            return false;
        }
        let pct = transfer_info["percentage"].as_f64().unwrap_or(0.0);
        let now = Instant::now();
        if let Some((last, at)) = self.progress_lines.get(&key)
            && !(*last == 0.0 && pct > 0.0)
            && pct - last < PROGRESS_STEP_PCT
            && now.duration_since(*at) < PROGRESS_EVERY
        {
            return true;
        }
        self.progress_lines.insert(key, (pct, now));
        false
    }

    fn line(&mut self, text: &str) -> std::io::Result<()> {
        let out = &self.out;
        let write = || {
            let mut out = out.lock();
            out.write_all(text.as_bytes())?;
            out.write_all(b"\n")?;
            out.flush()
        };
        match &self.progress {
            Some(p) => p.suspend(write),
            None => write(),
        }
    }

    /// A received file (`incomingData` from a peer) saved under `--download-dir`: `None`
    /// without it, else the path or the error text.
    fn save_download(&self, ev: &Event) -> Option<Result<PathBuf, String>> {
        // written to disk as it arrived (accepted with a file sink): already saved
        if let Event::IncomingData {
            data: skylink_room::TransferData::File { path, .. },
            is_self: false,
            ..
        } = ev
        {
            return Some(Ok(path.clone()));
        }
        let dir = self.download_dir.as_deref()?;
        let Event::IncomingData {
            data,
            transfer_info,
            transfer_id,
            is_self: false,
            ..
        } = ev
        else {
            return None;
        };
        let name = transfer_info["name"].as_str().unwrap_or(transfer_id);
        Some(save_under(dir, name, data))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.lock().flush()
    }

    fn event(&mut self, ev: &Event) -> std::io::Result<()> {
        if let Ok(mut t) = self.tracker.lock() {
            t.observe(ev);
        }
        if self.json && self.skip_progress(ev) {
            return Ok(());
        }
        let saved = self.save_download(ev);
        if !self.json {
            if let Some(p) = &mut self.progress {
                p.on_event(ev);
            }
            if let Event::IncomingData {
                data,
                peer_id,
                transfer_info,
                is_self: false,
                ..
            } = ev
            {
                let saved = saved.as_ref().map(|r| r.as_deref().map_err(String::as_str));
                let text =
                    chat::incoming_data_line(&transfer_info["name"], data.len(), peer_id, saved);
                return self.line(&text);
            }
            return match chat::event_line(ev) {
                Some(text) => self.line(&text),
                None => Ok(()),
            };
        }
        let text = match (saved, ev) {
            (
                Some(Ok(path)),
                Event::IncomingData {
                    transfer_id,
                    peer_id,
                    transfer_info,
                    is_self,
                    ..
                },
            ) => json!({
                "event": ev.name(),
                "savedPath": path.to_string_lossy(),
                "transferId": transfer_id,
                "peerId": peer_id,
                "transferInfo": transfer_info,
                "isSelf": is_self,
            })
            .to_string(),
            (Some(Err(e)), _) => {
                let mut v = ev.to_json();
                v["saveError"] = Value::String(e);
                v.to_string()
            }
            // The uploader's own copy: with --download-dir the bytes are not printed (a large
            // send would make a line of 4/3 its size); a file streamed from disk never has them.
            (None, Event::IncomingData { is_self: true, .. }) if self.download_dir.is_some() => {
                let mut v = ev.to_json();
                if let Some(o) = v.as_object_mut() {
                    o.remove("data");
                }
                v.to_string()
            }
            _ => ev.to_json().to_string(),
        };
        if self.seen_self {
            return self.line(&text);
        }
        if matches!(ev, Event::PeerJoined { is_self: true, .. }) {
            self.seen_self = true;
            self.line(&text)?;
            for held in std::mem::take(&mut self.held) {
                self.line(&held)?;
            }
        } else {
            self.held.push(text);
        }
        Ok(())
    }

    fn reply(&mut self, reply: &Value) -> std::io::Result<()> {
        if !self.json {
            return match chat::reply_text(reply) {
                Some(text) => self.line(&text),
                None => Ok(()),
            };
        }
        let text = reply.to_string();
        if self.seen_self {
            self.line(&text)
        } else {
            self.held.push(text);
            Ok(())
        }
    }

    /// At exit: lines still held (the first join failed) are printed so the caller sees why.
    fn finish(&mut self) -> std::io::Result<()> {
        for held in std::mem::take(&mut self.held) {
            self.line(&held)?;
        }
        self.flush()
    }
}

/// [`download::save`] with the error as text (logged).
fn save_under(
    dir: &Path,
    name: &str,
    data: &skylink_room::TransferData,
) -> Result<PathBuf, String> {
    download::save(dir, name, data).map_err(|e| {
        tracing::warn!(dir = %dir.display(), name, error = %e, "saving a download failed");
        format!("saving under {}: {e}", dir.display())
    })
}

/// Prints every event already raised (non-blocking).
fn drain(writer: &mut Writer, events: &mut broadcast::Receiver<Event>) -> std::io::Result<()> {
    loop {
        match events.try_recv() {
            Ok(ev) => writer.event(&ev)?,
            Err(broadcast::error::TryRecvError::Lagged(n)) => {
                tracing::warn!(skipped = n, "stdout too slow: events were dropped");
            }
            Err(_) => return Ok(()),
        }
    }
}

async fn write_loop(
    writer: &mut Writer,
    mut events: broadcast::Receiver<Event>,
    mut exec: mpsc::UnboundedReceiver<Exec>,
) -> i32 {
    let mut engine_alive = true;
    loop {
        let step = tokio::select! {
            biased;
            ev = events.recv(), if engine_alive => match ev {
                Ok(ev) => writer.event(&ev),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "stdout too slow: events were dropped");
                    Ok(())
                }
                Err(broadcast::error::RecvError::Closed) => {
                    // Not expected while `run` holds a handle; the executor decides the end.
                    tracing::warn!("the engine's event stream ended");
                    engine_alive = false;
                    Ok(())
                }
            },
            msg = exec.recv() => match msg {
                Some(Exec::Reply(reply, done)) => {
                    let r = drain(writer, &mut events).and_then(|()| writer.reply(&reply));
                    let _ = done.send(());
                    r
                }
                Some(Exec::Say(text)) => writer.line(&text),
                Some(Exec::Exit(code)) => {
                    return match drain(writer, &mut events).and_then(|()| writer.finish()) {
                        Ok(()) => code,
                        Err(e) => {
                            tracing::warn!(error = %e, "writing stdout failed");
                            EXIT_IO
                        }
                    };
                }
                None => {
                    tracing::error!("the command executor stopped");
                    return EXIT_IO;
                }
            },
        };
        if let Err(e) = step {
            tracing::warn!(error = %e, "stdout is gone; exiting");
            return EXIT_IO;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(server: Option<&str>) -> JoinArgs {
        JoinArgs {
            room: "r".into(),
            server: server.map(str::to_owned),
            app_key: "k".into(),
            user_data: None,
            json: true,
            udp: vec!["127.0.0.1:0".into()],
            download_dir: None,
            video: None,
            audio: None,
            record: None,
            publish_only: false,
            parent_id: None,
        }
    }

    #[test]
    fn test_pattern_and_tone_need_no_codecs() {
        use skylink_room::devices::{AudioDevice, VideoDevice};
        assert!(matches!(test_pattern(true), VideoDevice::TestPattern));
        assert!(matches!(tone(true), AudioDevice::Tone));
        match test_pattern(false) {
            VideoDevice::IvfBytes(b) => assert_eq!(&b[..4], b"DKIF", "an IVF file"),
            other => panic!("without codecs: {other:?}"),
        }
        match tone(false) {
            AudioDevice::OggBytes(b) => assert_eq!(&b[..4], b"OggS", "an Ogg file"),
            other => panic!("without codecs: {other:?}"),
        }
        let mut a = args(None);
        a.video = Some("testpattern".into());
        a.audio = Some("tone".into());
        let d = devices(&a).expect("devices");
        assert!(!matches!(d.video, VideoDevice::None));
        assert!(!matches!(d.audio, AudioDevice::None));
    }

    #[test]
    fn server_urls() {
        let o = init_options(&args(None));
        assert_eq!(
            (o.room_server.as_str(), o.force_ssl),
            ("//127.0.0.1:8018", false)
        );
        assert_eq!(o.room(), "r");
        let o = init_options(&args(Some("http://10.0.0.1:9000/")));
        assert_eq!(
            (o.room_server.as_str(), o.force_ssl),
            ("//10.0.0.1:9000", false)
        );
        let o = init_options(&args(Some("https://example.org")));
        assert_eq!(
            (o.room_server.as_str(), o.force_ssl),
            ("//example.org", true)
        );
        let o = init_options(&args(Some("localhost:1")));
        assert_eq!(
            (o.room_server.as_str(), o.force_ssl),
            ("//localhost:1", false)
        );
    }
}
