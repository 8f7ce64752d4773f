//! The data-transfer and data-stream commands of `skylink join` (`sendBlobData`,
//! `sendURLData`, `acceptDataTransfer`, `cancelDataTransfer`, `startStreamingData`,
//! `streamData`, `stopStreamingData`, `getCurrentDataTransfers`,
//! `getCurrentDataStreamsSession`) and the [`Tracker`] of the transfers and streams seen in
//! the event stream.
//!
//! `sendBlobData` / `sendURLData` answer like the reference's callback: once the transfer is
//! terminal for every target peer. Their reply is *deferred*: [`send_data`] starts the
//! transfer and returns a future that waits for the outcome, so the bot keeps running other
//! commands (e.g. `cancelDataTransfer`) meanwhile.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Value, json};
use skylink_room::{Event, TransferData, TransferOptions};
use tokio::sync::broadcast;

use super::commands::{CmdResult, Ctx, Params, opt_str, target_peer_ids};

/// A reply that comes later (the outcome of a transfer).
pub type Deferred = Pin<Box<dyn Future<Output = CmdResult> + Send>>;

/// How long `startStreamingData` waits for the streams' DATA channels to open before it
/// answers with the peers that started so far.
const STREAM_START_WAIT: Duration = Duration::from_secs(20);

/// `DATA_TRANSFER_STATE` values after which a transfer session is over.
pub fn is_terminal(state: &str) -> bool {
    matches!(
        state,
        "uploadCompleted"
            | "downloadCompleted"
            | "rejected"
            | "userRejected"
            | "cancel"
            | "error"
            | "startError"
    )
}

/// One transfer not yet terminal for every peer.
#[derive(Debug, Clone)]
struct TransferEntry {
    /// The uploader.
    sender: String,
    /// We are the uploader.
    is_self: bool,
    /// The last `transferInfo` seen.
    info: Value,
    /// Last state per peer still in progress.
    states: BTreeMap<String, String>,
}

/// One data stream still running with at least one peer.
#[derive(Debug, Clone)]
struct StreamEntry {
    sender: String,
    is_self: bool,
    info: Value,
    peers: BTreeSet<String>,
}

/// The transfers and streams in progress, as seen in the events the bot wrote (the writer
/// feeds every event to [`Tracker::observe`]).
#[derive(Debug, Default)]
pub struct Tracker {
    self_id: Option<String>,
    transfers: BTreeMap<String, TransferEntry>,
    streams: BTreeMap<String, StreamEntry>,
}

/// The tracker shared by the writer (which feeds it) and the commands (which read it).
pub type SharedTracker = Arc<Mutex<Tracker>>;

/// `value` without the keys in `drop` (for an object).
fn without(value: &Value, drop: &[&str]) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !drop.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl Tracker {
    /// Updates the state from one event.
    pub fn observe(&mut self, ev: &Event) {
        match ev {
            Event::PeerJoined {
                peer_id,
                is_self: true,
                ..
            } => self.self_id = Some(peer_id.clone()),
            Event::PeerLeft { is_self: true, .. } => {
                self.transfers.clear();
                self.streams.clear();
            }
            Event::PeerLeft { peer_id, .. } => {
                self.transfers.retain(|_, t| {
                    t.states.remove(peer_id);
                    !t.states.is_empty()
                });
                self.streams.retain(|_, s| {
                    s.peers.remove(peer_id);
                    !s.peers.is_empty()
                });
            }
            Event::IncomingDataRequest {
                transfer_id,
                peer_id,
                transfer_info,
                is_self,
            } => {
                let state = if *is_self { "userRequest" } else { "request" };
                self.transfer_state(transfer_id, peer_id, state, transfer_info, *is_self);
            }
            Event::DataTransferState {
                state,
                transfer_id,
                peer_id,
                transfer_info,
                ..
            } => {
                let upload = transfer_info["direction"] == "upload";
                self.transfer_state(transfer_id, peer_id, state, transfer_info, upload);
            }
            Event::DataStreamState {
                state,
                stream_id,
                peer_id,
                stream_info,
                ..
            } => self.stream_state(stream_id, peer_id, state, stream_info),
            // The data is here: the download is over whatever order the completion state
            // arrives in (the bot's progress lines are rate-limited, the state list is not
            // ordered against `incomingData`).
            Event::IncomingData {
                transfer_id,
                peer_id,
                transfer_info,
                is_self: false,
                ..
            } => self.transfer_state(
                transfer_id,
                peer_id,
                "downloadCompleted",
                transfer_info,
                false,
            ),
            _ => {}
        }
    }

    /// The last `transferInfo` of a transfer in progress.
    pub fn transfer_info(&self, id: &str) -> Option<&Value> {
        self.transfers.get(id).map(|t| &t.info)
    }

    fn transfer_state(&mut self, id: &str, peer: &str, state: &str, info: &Value, upload: bool) {
        if is_terminal(state) {
            if let Some(t) = self.transfers.get_mut(id) {
                t.states.remove(peer);
                if t.states.is_empty() {
                    self.transfers.remove(id);
                }
            }
            return;
        }
        let sender = if upload {
            self.self_id.clone().unwrap_or_default()
        } else {
            peer.to_owned()
        };
        let t = self
            .transfers
            .entry(id.to_owned())
            .or_insert_with(|| TransferEntry {
                sender,
                is_self: upload,
                info: Value::Null,
                states: BTreeMap::new(),
            });
        t.info = info.clone();
        t.states.insert(peer.to_owned(), state.to_owned());
    }

    fn stream_state(&mut self, id: &str, peer: &str, state: &str, info: &Value) {
        match state {
            "sendStart" | "receiveStart" => {
                let sender = info["senderPeerId"].as_str().unwrap_or(peer).to_owned();
                let is_self = state == "sendStart";
                let s = self
                    .streams
                    .entry(id.to_owned())
                    .or_insert_with(|| StreamEntry {
                        sender,
                        is_self,
                        info: Value::Null,
                        peers: BTreeSet::new(),
                    });
                s.info = without(info, &["chunk", "chunkSize"]);
                s.peers.insert(peer.to_owned());
            }
            "sendStop" | "receiveStop" | "receivingStop" | "error" | "startError" => {
                if let Some(s) = self.streams.get_mut(id) {
                    s.peers.remove(peer);
                    if s.peers.is_empty() {
                        self.streams.remove(id);
                    }
                }
            }
            _ => {}
        }
    }

    /// `getCurrentDataTransfers()`: `{transferId: {transferInfo, peerId, isSelf, states}}`
    /// (`peerId` the uploader; `states` — our addition — the last state per peer).
    pub fn current_transfers(&self) -> Value {
        let out: Map<String, Value> = self
            .transfers
            .iter()
            .map(|(id, t)| {
                (
                    id.clone(),
                    json!({
                        "transferInfo": without(&t.info, &["data"]),
                        "peerId": t.sender,
                        "isSelf": t.is_self,
                        "states": t.states,
                    }),
                )
            })
            .collect();
        Value::Object(out)
    }

    /// `getCurrentDataStreamsSession()`: `{streamId: {streamInfo, peerId, isSelf}}` (`peerId`
    /// the sender; `streamInfo` without `chunk` and `chunkSize`).
    pub fn current_streams(&self) -> Value {
        let out: Map<String, Value> = self
            .streams
            .iter()
            .map(|(id, s)| {
                (
                    id.clone(),
                    json!({"streamInfo": s.info, "peerId": s.sender, "isSelf": s.is_self}),
                )
            })
            .collect();
        Value::Object(out)
    }
}

/// A required string parameter.
fn req_str(p: &Params, key: &str) -> Result<String, String> {
    opt_str(p, key)?.ok_or_else(|| format!("{key} is required"))
}

/// `{"base64": "…"}` decoded.
fn base64_object(v: &Value, key: &str) -> Result<Vec<u8>, String> {
    let text = v
        .get("base64")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{key} must be {{\"base64\": \"…\"}}"))?;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("{key}.base64 is not base64: {e}"))
}

/// `name`, `timeout` (seconds) and `mimeType` of `sendBlobData` / `sendURLData`.
fn transfer_options(p: &Params, default_name: Option<String>) -> Result<TransferOptions, String> {
    let mut o = TransferOptions {
        name: opt_str(p, "name")?.or(default_name),
        mime_type: opt_str(p, "mimeType")?,
        ..TransferOptions::default()
    };
    match p.get("timeout") {
        None | Some(Value::Null) => {}
        Some(v) => match v.as_f64() {
            Some(t) if t >= 0.0 && t.is_finite() => o.timeout_secs = t,
            _ => return Err(format!("timeout must be a number of seconds ≥ 0, not {v}")),
        },
    }
    Ok(o)
}

/// `sendBlobData` (`path` of a file, or `base64`) and `sendURLData` (`data`, a string): starts
/// the transfer and returns the wait for its outcome. An error here (bad parameters, nothing
/// could start) is the reply itself.
pub async fn send_data(ctx: &Ctx, cmd: &str, p: &Params) -> Result<Deferred, String> {
    let targets = target_peer_ids(p)?;
    // Subscribed before the transfer starts: none of its events can be missed.
    let events = ctx.client.subscribe();
    let started = if cmd == "sendURLData" {
        let data = match p.get("data") {
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) => return Err("data is required".into()),
            Some(other) => return Err(format!("data must be a string, not {other}")),
        };
        let options = transfer_options(p, None)?;
        ctx.client
            .send_url_data(&data, targets.clone(), options)
            .await
    } else {
        let (bytes, default_name) = match (p.get("path"), p.get("base64")) {
            (Some(Value::String(path)), None | Some(Value::Null)) => {
                // Streamed from disk chunk by chunk: the file is never held in memory whole.
                let name = std::path::Path::new(path)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned());
                let options = transfer_options(p, name)?;
                let started = ctx
                    .client
                    .send_blob_file(path, targets.clone(), options)
                    .await;
                return deferred(events, started, targets);
            }
            (None | Some(Value::Null), Some(Value::String(b64))) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| format!("base64 is not base64: {e}"))?;
                (bytes, None)
            }
            (None | Some(Value::Null), None | Some(Value::Null)) => {
                return Err("path (a file) or base64 (the bytes) is required".into());
            }
            (Some(Value::String(_)), Some(_)) => {
                return Err("give either path or base64, not both".into());
            }
            _ => return Err("path and base64 must be strings".into()),
        };
        let options = transfer_options(p, default_name)?;
        ctx.client
            .send_blob_data(bytes, targets.clone(), options)
            .await
    };
    deferred(events, started, targets)
}

/// The wait for a started transfer's outcome (or the start error as the reply).
fn deferred(
    events: broadcast::Receiver<Event>,
    started: Result<(String, Vec<String>), skylink_room::RoomError>,
    targets: Option<Vec<String>>,
) -> Result<Deferred, String> {
    let (transfer_id, list_of_peers) = started.map_err(|e| e.to_string())?;
    let not_started: Vec<String> = targets
        .unwrap_or_default()
        .into_iter()
        .filter(|t| !list_of_peers.contains(t))
        .collect();
    Ok(Box::pin(wait_transfer(
        events,
        transfer_id,
        list_of_peers,
        not_started,
    )))
}

/// How one peer's part of a transfer ended.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Completed,
    Failed(String),
}

/// The text of an `error` payload (`{message, transferType}`).
fn error_text(state: &str, error: Option<&Value>) -> String {
    match error.and_then(|e| e["message"].as_str()) {
        Some(m) if !m.is_empty() => format!("{state} ({m})"),
        _ => state.to_owned(),
    }
}

/// Waits until the transfer is terminal for every peer in `peers`; the reply of the reference
/// callback: `{transferId, listOfPeers, transferInfo}`, or an error naming each failed peer.
async fn wait_transfer(
    mut events: broadcast::Receiver<Event>,
    transfer_id: String,
    peers: Vec<String>,
    not_started: Vec<String>,
) -> CmdResult {
    let mut outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
    let mut info = Value::Null;
    let done = |o: &BTreeMap<String, Outcome>| peers.iter().all(|p| o.contains_key(p));
    while !done(&outcomes) {
        let ev = match events.recv().await {
            Ok(ev) => ev,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(skipped = n, %transfer_id, "transfer waiter lagged");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => {
                return Err(format!("transfer {transfer_id}: the engine stopped"));
            }
        };
        match &ev {
            Event::DataTransferState {
                state,
                transfer_id: id,
                peer_id,
                transfer_info,
                error,
            } if *id == transfer_id => {
                if info.is_null() || transfer_info.is_object() {
                    info = transfer_info.clone();
                }
                if !is_terminal(state) || outcomes.contains_key(peer_id) {
                    continue;
                }
                let outcome = if state == "uploadCompleted" {
                    Outcome::Completed
                } else {
                    Outcome::Failed(error_text(state, error.as_ref()))
                };
                outcomes.insert(peer_id.clone(), outcome);
            }
            Event::PeerLeft {
                peer_id,
                is_self: false,
                ..
            } if peers.contains(peer_id) && !outcomes.contains_key(peer_id) => {
                outcomes.insert(
                    peer_id.clone(),
                    Outcome::Failed("error (the peer left the room)".into()),
                );
            }
            Event::PeerLeft { is_self: true, .. } => {
                for p in &peers {
                    outcomes
                        .entry(p.clone())
                        .or_insert_with(|| Outcome::Failed("error (we left the room)".into()));
                }
            }
            _ => {}
        }
    }
    let mut failures: Vec<String> = peers
        .iter()
        .filter_map(|p| match outcomes.get(p) {
            Some(Outcome::Failed(why)) => Some(format!("{p}: {why}")),
            _ => None,
        })
        .collect();
    failures.extend(
        not_started
            .iter()
            .map(|p| format!("{p}: startError (the transfer could not start)")),
    );
    if !failures.is_empty() {
        return Err(format!("transfer {transfer_id}: {}", failures.join("; ")));
    }
    Ok(json!({
        "transferId": transfer_id,
        "listOfPeers": peers,
        "transferInfo": without(&info, &["percentage", "data"]),
    }))
}

/// `acceptDataTransfer(peerId, transferId, accept)`: `accept` absent or false rejects (as in
/// the reference). Result `null`. With `--download-dir` an accepted blob download is written
/// to its file as it arrives (the path is picked now; see [`super::download::reserve`]).
pub async fn accept_data_transfer(ctx: &Ctx, p: &Params) -> CmdResult {
    let peer = req_str(p, "peerId")?;
    let id = req_str(p, "transferId")?;
    let accept = match p.get("accept") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(format!("accept must be a boolean, not {other}")),
    };
    if accept && let Some(dir) = &ctx.download_dir {
        let info = ctx
            .tracker
            .lock()
            .ok()
            .and_then(|t| t.transfer_info(&id).cloned());
        if let Some(info) = info.filter(|i| i["dataType"] == "blob") {
            let name = info["name"].as_str().unwrap_or(&id);
            match super::download::reserve(dir, name) {
                Ok(path) => match ctx
                    .client
                    .accept_data_transfer_to_file(&peer, &id, &path)
                    .await
                {
                    Ok(()) => return Ok(Value::Null),
                    // e.g. the temporary file cannot be created: accepted in memory below,
                    // saved (or `saveError`) on completion as without a file sink
                    Err(e) => tracing::warn!(path = %path.display(), error = %e,
                        "download to a file failed; accepting it in memory"),
                },
                Err(e) => tracing::warn!(dir = %dir.display(), name, error = %e,
                    "no file name for a download; accepting it in memory"),
            }
        }
    }
    ctx.client
        .accept_data_transfer(&peer, &id, accept)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Value::Null)
}

/// `cancelDataTransfer(peerId, transferId)`: result `null`.
pub async fn cancel_data_transfer(ctx: &Ctx, p: &Params) -> CmdResult {
    let peer = req_str(p, "peerId")?;
    let id = req_str(p, "transferId")?;
    ctx.client
        .cancel_data_transfer(&peer, &id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Value::Null)
}

/// The peers a stream will be started for: the given ones that are in the room, else every
/// peer with an open messaging channel.
async fn stream_targets(ctx: &Ctx, targets: Option<&Vec<String>>) -> Result<Vec<String>, String> {
    match targets {
        Some(list) => {
            let room = ctx
                .client
                .get_peers_in_room()
                .await
                .map_err(|e| e.to_string())?;
            Ok(list
                .iter()
                .filter(|t| room.iter().any(|r| !r.is_self && r.peer_id == **t))
                .cloned()
                .collect())
        }
        None => Ok(ctx
            .client
            .get_peers_datachannels()
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|c| c.ready_state == "open")
            .map(|c| c.peer_id)
            .collect()),
    }
}

/// `startStreamingData(isStringStream, targetPeerId)`: answers once every target's stream has
/// started (`sendStart`) or failed, at most [`STREAM_START_WAIT`]; result `{streamId,
/// listOfPeers}` with the peers it started for (`streamData` may follow at once).
pub async fn start_streaming_data(ctx: &Ctx, p: &Params) -> CmdResult {
    let is_string = match p.get("isStringStream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(format!("isStringStream must be a boolean, not {other}")),
    };
    let targets = target_peer_ids(p)?;
    let expected = stream_targets(ctx, targets.as_ref()).await?;
    let mut events = ctx.client.subscribe();
    let stream_id = ctx
        .client
        .start_streaming_data(is_string, targets)
        .await
        .map_err(|e| e.to_string())?;
    let mut started = Vec::new();
    let mut failed = Vec::new();
    let wait = async {
        while started.len() + failed.len() < expected.len() {
            let ev = match events.recv().await {
                Ok(ev) => ev,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            };
            match ev {
                Event::DataStreamState {
                    state,
                    stream_id: id,
                    peer_id,
                    error,
                    ..
                } if id == stream_id && expected.contains(&peer_id) => match state.as_str() {
                    "sendStart" => started.push(peer_id),
                    "startError" | "error" => failed.push(format!(
                        "{peer_id}: {state}{}",
                        error.map(|e| format!(" ({e})")).unwrap_or_default()
                    )),
                    _ => {}
                },
                Event::PeerLeft {
                    peer_id,
                    is_self: false,
                    ..
                } if expected.contains(&peer_id) => {
                    failed.push(format!("{peer_id}: left the room"));
                }
                _ => {}
            }
        }
    };
    if tokio::time::timeout(STREAM_START_WAIT, wait).await.is_err() {
        tracing::warn!(%stream_id, "not every stream channel opened in time");
    }
    if started.is_empty() && !failed.is_empty() {
        return Err(format!(
            "stream {stream_id} did not start: {}",
            failed.join("; ")
        ));
    }
    Ok(json!({"streamId": stream_id, "listOfPeers": started}))
}

/// `streamData(streamId, data)`: `data` a string (string stream) or `{"base64": …}` (binary
/// stream). Result `null`.
pub async fn stream_data(ctx: &Ctx, p: &Params) -> CmdResult {
    let id = req_str(p, "streamId")?;
    let chunk = match p.get("data") {
        Some(Value::String(s)) => TransferData::Text(s.as_str().into()),
        Some(v @ Value::Object(_)) => TransferData::Bytes(base64_object(v, "data")?.into()),
        None | Some(Value::Null) => return Err("data is required".into()),
        Some(other) => {
            return Err(format!(
                "data must be a string or {{\"base64\": …}}, not {other}"
            ));
        }
    };
    ctx.client
        .stream_data(&id, chunk)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Value::Null)
}

/// `stopStreamingData(streamId)`: result `null`.
pub async fn stop_streaming_data(ctx: &Ctx, p: &Params) -> CmdResult {
    let id = req_str(p, "streamId")?;
    ctx.client
        .stop_streaming_data(&id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Value::Null)
}

/// `getCurrentDataTransfers()`.
pub fn get_current_data_transfers(ctx: &Ctx) -> CmdResult {
    Ok(ctx
        .tracker
        .lock()
        .map_err(|_| "tracker poisoned".to_owned())?
        .current_transfers())
}

/// `getCurrentDataStreamsSession()`.
pub fn get_current_data_streams_session(ctx: &Ctx) -> CmdResult {
    Ok(ctx
        .tracker
        .lock()
        .map_err(|_| "tracker poisoned".to_owned())?
        .current_streams())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(s: &str, id: &str, peer: &str, dir: &str) -> Event {
        Event::DataTransferState {
            state: s.into(),
            transfer_id: id.into(),
            peer_id: peer.into(),
            transfer_info: json!({"name": "f", "direction": dir, "percentage": 1, "data": null}),
            error: None,
        }
    }

    #[test]
    fn tracker_follows_transfers_and_streams() {
        let mut t = Tracker::default();
        t.observe(&Event::PeerJoined {
            peer_id: "me".into(),
            peer_info: Default::default(),
            is_self: true,
        });
        t.observe(&Event::IncomingDataRequest {
            transfer_id: "t1".into(),
            peer_id: "a".into(),
            transfer_info: json!({"name": "f", "direction": "upload"}),
            is_self: true,
        });
        t.observe(&state("uploading", "t1", "a", "upload"));
        t.observe(&state("request", "t2", "b", "download"));
        let cur = t.current_transfers();
        assert_eq!(cur["t1"]["peerId"], "me");
        assert_eq!(cur["t1"]["isSelf"], true);
        assert_eq!(cur["t1"]["states"]["a"], "uploading");
        assert!(cur["t1"]["transferInfo"].get("data").is_none());
        assert_eq!(cur["t2"]["peerId"], "b");
        assert_eq!(cur["t2"]["isSelf"], false);
        t.observe(&state("uploadCompleted", "t1", "a", "upload"));
        t.observe(&Event::PeerLeft {
            peer_id: "b".into(),
            peer_info: Default::default(),
            is_self: false,
        });
        assert_eq!(t.current_transfers(), json!({}));

        let ss = |s: &str, peer: &str| Event::DataStreamState {
            state: s.into(),
            stream_id: "s1".into(),
            peer_id: peer.into(),
            stream_info: json!({"senderPeerId": "me", "chunkSize": 3, "isStringStream": false}),
            error: None,
        };
        t.observe(&ss("sendStart", "a"));
        t.observe(&ss("sendStart", "b"));
        let cur = t.current_streams();
        assert_eq!(
            cur["s1"],
            json!({"streamInfo": {"senderPeerId": "me", "isStringStream": false}, "peerId": "me", "isSelf": true})
        );
        t.observe(&ss("sendStop", "a"));
        assert!(t.current_streams().get("s1").is_some());
        t.observe(&ss("sendStop", "b"));
        assert_eq!(t.current_streams(), json!({}));
    }

    #[test]
    fn transfer_options_parse() {
        let p = |v: Value| v.as_object().cloned().unwrap_or_default();
        let o =
            transfer_options(&p(json!({"timeout": 5, "name": "x"})), Some("d".into())).expect("ok");
        assert_eq!((o.name.as_deref(), o.timeout_secs), (Some("x"), 5.0));
        let o = transfer_options(&p(json!({})), Some("d".into())).expect("ok");
        assert_eq!(o.name.as_deref(), Some("d"));
        assert!(transfer_options(&p(json!({"timeout": "soon"})), None).is_err());
        assert!(transfer_options(&p(json!({"timeout": -1})), None).is_err());
    }
}
