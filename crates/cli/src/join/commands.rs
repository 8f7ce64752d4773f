//! The command dispatcher of `skylink join`: one request (`{"cmd", "id", …params}`) in, one
//! reply out. Each command of the API reference is one small function below, registered in
//! [`dispatch`]; parameters are named as in the reference.

use serde::Serialize;
use serde_json::{Map, Value, json};
use skylink_room::{Client, JoinOptions, RoomPeer};

use super::data::{self, Deferred, SharedTracker};

/// The parameters of a request (the command object minus `cmd` and `id`).
pub type Params = Map<String, Value>;

/// What a command answers: its `result`, or the error text of `ok:false`.
pub type CmdResult = Result<Value, String>;

/// Every command name [`dispatch`] knows, in the order of `--help` and the protocol doc.
pub const COMMANDS: &[&str] = &[
    "joinRoom",
    "leaveRoom",
    "sendMessage",
    "setUserData",
    "getUserData",
    "getPeerInfo",
    "getPeersInRoom",
    "lockRoom",
    "unlockRoom",
    "sendP2PMessage",
    "getPeersDatachannels",
    "getPeerCustomSettings",
    "refreshConnection",
    "getConnectionStatus",
    "getPeers",
    "introducePeer",
    "setLogLevel",
    "setDebugMode",
    "getLogs",
    "clearAllLogs",
    "printAllLogs",
    "sendBlobData",
    "sendURLData",
    "acceptDataTransfer",
    "cancelDataTransfer",
    "startStreamingData",
    "streamData",
    "stopStreamingData",
    "getCurrentDataTransfers",
    "getCurrentDataStreamsSession",
    "getUserMedia",
    "sendStream",
    "shareScreen",
    "stopScreen",
    "stopStream",
    "muteStream",
    "enableAudio",
    "disableAudio",
    "enableVideo",
    "disableVideo",
    "getRemoteMedia",
];

/// Commands whose reply is deferred (see [`run`]).
pub const DEFERRED: &[&str] = &["sendBlobData", "sendURLData"];

/// One command to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The method name as in the API reference (`"sendMessage"`).
    pub cmd: String,
    /// The caller's correlation id, echoed in the reply (`null` when absent).
    pub id: Value,
    /// The other members of the command object.
    pub params: Params,
}

/// The bot's state shared by the commands.
#[derive(Debug)]
pub struct Ctx {
    /// The engine.
    pub client: Client,
    /// The room of `--room` (used by `joinRoom` without `room`).
    pub default_room: String,
    /// The room of the last `joinRoom`.
    pub room: String,
    /// Our custom data as last set (`joinRoom` `options.userData`, `setUserData`).
    pub user_data: Value,
    /// Transfers and streams in progress, as seen by the writer.
    pub tracker: SharedTracker,
    /// Decoder probes on the received tracks (`getRemoteMedia`).
    pub probes: super::media::Probes,
    /// `--download-dir` (absolute): accepted blob downloads are written there as they arrive.
    pub download_dir: Option<std::path::PathBuf>,
}

/// What running a command gives: its reply now, or a wait for it (transfers).
pub enum Answer {
    /// The command is done.
    Now(CmdResult),
    /// The command started; this resolves to its result later.
    Later(Deferred),
}

/// Runs `req`: [`DEFERRED`] commands start their work and answer [`Answer::Later`] (or
/// [`Answer::Now`] with an error when nothing started); every other command is [`dispatch`]ed.
pub async fn run(ctx: &mut Ctx, req: &Request) -> Answer {
    if DEFERRED.contains(&req.cmd.as_str()) {
        return match data::send_data(ctx, &req.cmd, &req.params).await {
            Ok(wait) => Answer::Later(wait),
            Err(e) => Answer::Now(Err(e)),
        };
    }
    Answer::Now(dispatch(ctx, req).await)
}

/// Runs `req` and returns its result. Unknown names fail with `unknown command …`.
pub async fn dispatch(ctx: &mut Ctx, req: &Request) -> CmdResult {
    let p = &req.params;
    match req.cmd.as_str() {
        "joinRoom" => join_room(ctx, p).await,
        "leaveRoom" => leave_room(ctx, p).await,
        "sendMessage" => send_message(ctx, p).await,
        "setUserData" => set_user_data(ctx, p).await,
        "getUserData" => get_user_data(ctx, p).await,
        "getPeerInfo" => get_peer_info(ctx, p).await,
        "getPeersInRoom" => get_peers_in_room(ctx, p).await,
        "lockRoom" => lock_room(ctx, p).await,
        "unlockRoom" => unlock_room(ctx, p).await,
        "sendP2PMessage" => send_p2p_message(ctx, p).await,
        "getPeersDatachannels" => get_peers_datachannels(ctx, p).await,
        "getPeerCustomSettings" => get_peer_custom_settings(ctx, p).await,
        "refreshConnection" => refresh_connection(ctx, p).await,
        "getConnectionStatus" => get_connection_status(ctx, p).await,
        "getPeers" => get_peers(ctx, p).await,
        "introducePeer" => introduce_peer(ctx, p).await,
        "setLogLevel" => set_log_level(p),
        "setDebugMode" => set_debug_mode(p),
        "getLogs" => get_logs(p),
        "clearAllLogs" => {
            skylink::logging::SkylinkLogs::clear_all_logs();
            Ok(Value::Null)
        }
        "acceptDataTransfer" => data::accept_data_transfer(ctx, p).await,
        "cancelDataTransfer" => data::cancel_data_transfer(ctx, p).await,
        "startStreamingData" => data::start_streaming_data(ctx, p).await,
        "streamData" => data::stream_data(ctx, p).await,
        "stopStreamingData" => data::stop_streaming_data(ctx, p).await,
        "getCurrentDataTransfers" => data::get_current_data_transfers(ctx),
        "getCurrentDataStreamsSession" => data::get_current_data_streams_session(ctx),
        "sendBlobData" | "sendURLData" => match data::send_data(ctx, &req.cmd, p).await {
            Ok(wait) => wait.await,
            Err(e) => Err(e),
        },
        "printAllLogs" => {
            // Printed to stderr: stdout carries only protocol lines.
            let mut err = std::io::stderr().lock();
            skylink::logging::SkylinkLogs::write_all_logs(&mut err).map_err(|e| e.to_string())?;
            Ok(Value::Null)
        }
        other => match super::media::dispatch(ctx, other, p).await {
            Some(r) => r,
            None => Err(format!(
                "unknown command {other:?} (known: {})",
                COMMANDS.join(", ")
            )),
        },
    }
}

/// The reply line of a finished command.
pub fn reply(req: &Request, result: CmdResult) -> Value {
    match result {
        Ok(result) => json!({"reply": req.cmd, "id": req.id, "ok": true, "result": result}),
        Err(error) => json!({"reply": req.cmd, "id": req.id, "ok": false, "error": error}),
    }
}

/// The reply to a line that is not a command (`reply` and `id` are `null` unless known).
pub fn reject(cmd: Value, id: Value, error: String) -> Value {
    json!({"reply": cmd, "id": id, "ok": false, "error": error})
}

/// Parses one stdin line of JSON mode: `Ok(None)` for a blank line, `Err(reply)` for a line
/// that is not a command object.
pub fn parse_line(line: &str) -> Result<Option<Request>, Value> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(None);
    }
    let value: Value = serde_json::from_str(line)
        .map_err(|e| reject(Value::Null, Value::Null, format!("invalid JSON: {e}")))?;
    let Value::Object(mut params) = value else {
        return Err(reject(
            Value::Null,
            Value::Null,
            "a command must be a JSON object".into(),
        ));
    };
    let id = params.remove("id").unwrap_or(Value::Null);
    match params.remove("cmd") {
        Some(Value::String(cmd)) => Ok(Some(Request { cmd, id, params })),
        Some(other) => Err(reject(
            Value::Null,
            id,
            format!("\"cmd\" must be a string, not {other}"),
        )),
        None => Err(reject(Value::Null, id, "missing \"cmd\"".into())),
    }
}

fn to_json<T: Serialize>(t: &T) -> CmdResult {
    serde_json::to_value(t).map_err(|e| e.to_string())
}

/// An optional string parameter (`null` counts as absent).
pub(super) fn opt_str(p: &Params, key: &str) -> Result<Option<String>, String> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("{key} must be a string, not {other}")),
    }
}

/// `targetPeerId`: a string, an array of strings, or absent (`null`).
pub(super) fn target_peer_ids(p: &Params) -> Result<Option<Vec<String>>, String> {
    const WHAT: &str = "targetPeerId must be a string or an array of strings";
    match p.get("targetPeerId") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(|| WHAT.to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(WHAT.into()),
    }
}

async fn peers(ctx: &Ctx) -> Result<Vec<RoomPeer>, String> {
    ctx.client
        .get_peers_in_room()
        .await
        .map_err(|e| e.to_string())
}

/// `peerId` when it is in the room, else ourselves (the reference's fallback); `None` when
/// we are not in a room and `peerId` is unknown.
async fn find_peer(ctx: &Ctx, p: &Params) -> Result<Option<RoomPeer>, String> {
    let wanted = opt_str(p, "peerId")?;
    let list = peers(ctx).await?;
    let found = wanted
        .as_deref()
        .and_then(|id| list.iter().find(|r| r.peer_id == id))
        .or_else(|| list.iter().find(|r| r.is_self));
    Ok(found.cloned())
}

/// `joinRoom(room, options)`: result `{room, peerId, peerInfo}`.
pub async fn join_room(ctx: &mut Ctx, p: &Params) -> CmdResult {
    let room = opt_str(p, "room")?.unwrap_or_else(|| ctx.default_room.clone());
    let options = match p.get("options") {
        None | Some(Value::Null) => JoinOptions::default(),
        Some(Value::Object(o)) => join_options(o),
        Some(other) => return Err(format!("options must be an object, not {other}")),
    };
    if let Some(d) = &options.user_data {
        ctx.user_data = d.clone();
    }
    let peer_id = ctx
        .client
        .join_room(Some(&room), options)
        .await
        .map_err(|e| e.to_string())?;
    ctx.room = room.clone();
    let info = peers(ctx)
        .await?
        .into_iter()
        .find(|r| r.is_self)
        .map(|r| to_json(&r.peer_info))
        .transpose()?
        .unwrap_or(Value::Null);
    Ok(json!({"room": room, "peerId": peer_id, "peerInfo": info}))
}

/// JavaScript truthiness.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `joinRoom`'s `options` as 0.6.26 parses them (§2.1): `userData`; `publishOnly` (truthy,
/// or `{parentId}`); `parentId` (a non-empty string, wins over `publishOnly.parentId`);
/// `bandwidth.{audio, video, data}` and `googleXBandwidth.{min, max}` (numbers, kbps);
/// `sdpSettings.{connection, direction}` (flags, `true` unless `false`).
pub fn join_options(o: &serde_json::Map<String, Value>) -> JoinOptions {
    let mut options = JoinOptions {
        user_data: o.get("userData").cloned(),
        ..JoinOptions::default()
    };
    if let Some(po) = o.get("publishOnly").filter(|v| truthy(v)) {
        options.publish_only = true;
        if let Some(id) = po
            .get("parentId")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            options.parent_id = Some(id.to_owned());
        }
    }
    if let Some(id) = o
        .get("parentId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        options.parent_id = Some(id.to_owned());
    }
    if let Some(b) = o.get("bandwidth").filter(|b| b.is_object()) {
        options.bandwidth.audio = b.get("audio").and_then(Value::as_f64);
        options.bandwidth.video = b.get("video").and_then(Value::as_f64);
        options.bandwidth.data = b.get("data").and_then(Value::as_f64);
    }
    if let Some(g) = o.get("googleXBandwidth").filter(|g| g.is_object()) {
        options.google_x_bandwidth.min = g.get("min").and_then(Value::as_f64);
        options.google_x_bandwidth.max = g.get("max").and_then(Value::as_f64);
    }
    // The settings type reads flags as 0.6.26 does (anything but `false` is true).
    if let Some(sdp) = o.get("sdpSettings").filter(|v| v.is_object()) {
        options.sdp_settings = serde_json::from_value(sdp.clone()).ok();
    }
    options
}

/// `leaveRoom()`: result `{peerId, previousRoom}` (the bot exits after replying).
async fn leave_room(ctx: &mut Ctx, _: &Params) -> CmdResult {
    let peer_id = ctx.client.peer_id().await.map_err(|e| e.to_string())?;
    ctx.client.leave_room().await.map_err(|e| e.to_string())?;
    Ok(json!({"peerId": peer_id, "previousRoom": ctx.room}))
}

/// `sendMessage(message, targetPeerId)`: result `null` once queued for the server.
async fn send_message(ctx: &mut Ctx, p: &Params) -> CmdResult {
    let message = p
        .get("message")
        .cloned()
        .ok_or_else(|| "message is required".to_owned())?;
    let targets = target_peer_ids(p)?;
    ctx.client
        .send_message(message, targets)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Value::Null)
}

/// `setUserData(userData)`: absent means `""`, as in the reference. Result `null`.
async fn set_user_data(ctx: &mut Ctx, p: &Params) -> CmdResult {
    let data = p
        .get("userData")
        .cloned()
        .unwrap_or_else(|| Value::String(String::new()));
    ctx.user_data = data.clone();
    ctx.client
        .set_user_data(data)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Value::Null)
}

/// `getUserData(peerId)`: that peer's (else our) custom data.
async fn get_user_data(ctx: &mut Ctx, p: &Params) -> CmdResult {
    Ok(match find_peer(ctx, p).await? {
        Some(r) => r.peer_info.user_data,
        None => ctx.user_data.clone(),
    })
}

/// `getPeerInfo(peerId)`: that peer's (else our) `peerInfo`.
async fn get_peer_info(ctx: &mut Ctx, p: &Params) -> CmdResult {
    match find_peer(ctx, p).await? {
        Some(r) => to_json(&r.peer_info),
        None => Err("not in a room".into()),
    }
}

/// `getPeersInRoom()`: `{peerId: {…peerInfo, isSelf}}`, us first.
async fn get_peers_in_room(ctx: &mut Ctx, _: &Params) -> CmdResult {
    let mut out = Map::new();
    for r in peers(ctx).await? {
        let mut info = to_json(&r.peer_info)?;
        if let Value::Object(m) = &mut info {
            m.insert("isSelf".into(), Value::Bool(r.is_self));
        }
        out.insert(r.peer_id, info);
    }
    Ok(Value::Object(out))
}

/// `lockRoom()`: result `null`.
async fn lock_room(ctx: &mut Ctx, _: &Params) -> CmdResult {
    ctx.client.lock_room().await.map_err(|e| e.to_string())?;
    Ok(Value::Null)
}

/// `sendP2PMessage(message, targetPeerId)`: result `null` once written to the channels.
async fn send_p2p_message(ctx: &mut Ctx, p: &Params) -> CmdResult {
    let message = p
        .get("message")
        .cloned()
        .ok_or_else(|| "message is required".to_owned())?;
    let targets = target_peer_ids(p)?;
    ctx.client
        .send_p2p_message(message, targets)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Value::Null)
}

/// `getPeersDatachannels()`: `{peerId: {channelName: {channelName, channelType, readyState}}}`.
async fn get_peers_datachannels(ctx: &mut Ctx, _: &Params) -> CmdResult {
    let mut out = Map::new();
    for c in ctx
        .client
        .get_peers_datachannels()
        .await
        .map_err(|e| e.to_string())?
    {
        let entry = out
            .entry(c.peer_id.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = entry {
            m.insert(
                "main".into(),
                json!({"channelName": c.channel_name, "channelType": c.channel_type,
                       "readyState": c.ready_state, "currentTransferId": null, "currentStreamId": null}),
            );
        }
    }
    Ok(Value::Object(out))
}

/// `getPeerCustomSettings()`: `{peerId: {settings, mediaStatus, maxBandwidth, googleXBandwidth}}`.
async fn get_peer_custom_settings(ctx: &mut Ctx, _: &Params) -> CmdResult {
    let mut out = Map::new();
    for r in peers(ctx).await?.into_iter().filter(|r| !r.is_self) {
        let settings = r.peer_info.settings.clone();
        out.insert(
            r.peer_id,
            json!({
                "settings": settings,
                "mediaStatus": r.peer_info.media_status,
                "maxBandwidth": settings.get("maxBandwidth").cloned().unwrap_or_else(|| json!({})),
                "googleXBandwidth": settings.get("googleXBandwidth").cloned().unwrap_or_else(|| json!({})),
            }),
        );
    }
    Ok(Value::Object(out))
}

/// `refreshConnection(targetPeerId, iceRestart)`: result `{listOfPeers, refreshSettings}`;
/// fails with the joined per-peer errors (`refreshErrors`).
async fn refresh_connection(ctx: &mut Ctx, p: &Params) -> CmdResult {
    let targets = target_peer_ids(p)?;
    let ice = match p.get("iceRestart") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(format!("iceRestart must be a boolean, not {other}")),
    };
    let r = ctx
        .client
        .refresh_connection(targets, ice)
        .await
        .map_err(|e| e.to_string())?;
    if !r.refresh_errors.is_empty() {
        let text: Vec<String> = r
            .refresh_errors
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        return Err(text.join("; "));
    }
    let settings: Map<String, Value> = r
        .refresh_settings
        .iter()
        .map(|(k, v)| (k.clone(), json!({"iceRestart": v})))
        .collect();
    Ok(json!({"listOfPeers": r.list_of_peers, "refreshSettings": settings}))
}

/// `getConnectionStatus(targetPeerId)`: `{listOfPeers, connectionStats: {peerId: stats}}`.
async fn get_connection_status(ctx: &mut Ctx, p: &Params) -> CmdResult {
    let targets = target_peer_ids(p)?;
    let r = ctx
        .client
        .get_connection_status(targets)
        .await
        .map_err(|e| e.to_string())?;
    Ok(r)
}

/// Privileged `getPeers(showAll)`: result `null`; the list arrives as `getPeersStateChange`.
async fn get_peers(ctx: &mut Ctx, p: &Params) -> CmdResult {
    let show_all = p.get("showAll").and_then(Value::as_bool).unwrap_or(false);
    ctx.client
        .get_peers(show_all)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Value::Null)
}

/// Privileged `introducePeer(sendingPeerId, receivingPeerId)`: result `null`.
async fn introduce_peer(ctx: &mut Ctx, p: &Params) -> CmdResult {
    let sending = opt_str(p, "sendingPeerId")?.ok_or("sendingPeerId is required")?;
    let receiving = opt_str(p, "receivingPeerId")?.ok_or("receivingPeerId is required")?;
    ctx.client
        .introduce_peer(&sending, &receiving)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Value::Null)
}

fn log_level_param(p: &Params, key: &str) -> Result<Option<skylink::logging::LogLevel>, String> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .and_then(skylink::logging::LogLevel::from_value)
            .map(Some)
            .ok_or_else(|| format!("{key} must be a LOG_LEVEL value (-1…4), not {v}")),
    }
}

/// `setLogLevel(logLevel)`: result `null`.
fn set_log_level(p: &Params) -> CmdResult {
    let level = log_level_param(p, "logLevel")?.ok_or("logLevel is required")?;
    skylink::logging::set_log_level(level);
    Ok(Value::Null)
}

/// `setDebugMode(options)`: `true`/`false` or `{storeLogs, trace}`. Result `null`.
fn set_debug_mode(p: &Params) -> CmdResult {
    let mode = match p.get("options") {
        None | Some(Value::Null) => skylink::logging::DebugMode::default(),
        Some(Value::Bool(b)) => skylink::logging::DebugMode::from(*b),
        Some(v @ Value::Object(_)) => {
            serde_json::from_value(v.clone()).map_err(|e| e.to_string())?
        }
        Some(other) => {
            return Err(format!(
                "options must be a boolean or an object, not {other}"
            ));
        }
    };
    skylink::logging::set_debug_mode(mode);
    Ok(Value::Null)
}

/// `SkylinkLogs.getLogs(logLevel)`: the stored records (all levels when absent).
fn get_logs(p: &Params) -> CmdResult {
    let level = log_level_param(p, "logLevel")?;
    let logs: Vec<Value> = skylink::logging::SkylinkLogs::get_logs(level)
        .into_iter()
        .map(|r| serde_json::to_value(&r).unwrap_or(Value::Null))
        .collect();
    Ok(Value::Array(logs))
}

/// `unlockRoom()`: result `null`.
async fn unlock_room(ctx: &mut Ctx, _: &Params) -> CmdResult {
    ctx.client.unlock_room().await.map_err(|e| e.to_string())?;
    Ok(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_options_parse_like_0_6_26() {
        let parse = |v: Value| join_options(v.as_object().expect("object"));
        let o = parse(
            json!({"userData": "u", "publishOnly": true, "bandwidth": {"video": 100, "audio": "x"}}),
        );
        assert_eq!(o.user_data, Some(json!("u")));
        assert!(o.publish_only);
        assert_eq!(o.parent_id, None);
        assert_eq!(o.bandwidth.video, Some(100.0));
        assert_eq!(o.bandwidth.audio, None);
        let o = parse(json!({"publishOnly": {"parentId": "P"}}));
        assert!(o.publish_only);
        assert_eq!(o.parent_id.as_deref(), Some("P"));
        let o = parse(json!({"publishOnly": {"parentId": "P"}, "parentId": "Q"}));
        assert_eq!(o.parent_id.as_deref(), Some("Q"), "parentId wins");
        let o = parse(json!({
            "googleXBandwidth": {"min": 100, "max": "x"},
            "sdpSettings": {"connection": {"video": false}, "direction": {"audio": {"receive": false}}}
        }));
        assert_eq!(o.google_x_bandwidth.min, Some(100.0));
        assert_eq!(o.google_x_bandwidth.max, None);
        let sdp = o.sdp_settings.expect("sdpSettings");
        assert!(!sdp.connection.video && sdp.connection.audio && sdp.connection.data);
        assert!(!sdp.direction.audio.receive && sdp.direction.audio.send);
        assert!(sdp.direction.video.receive);
        let o = parse(json!({"publishOnly": 0, "parentId": ""}));
        assert!(!o.publish_only);
        assert_eq!(o.parent_id, None);
    }

    #[test]
    fn parses_commands_and_rejects_garbage() {
        let r = parse_line(r#"{"cmd":"sendMessage","id":1,"message":"hi","targetPeerId":"p"}"#)
            .expect("parsed")
            .expect("a request");
        assert_eq!(r.cmd, "sendMessage");
        assert_eq!(r.id, json!(1));
        assert_eq!(r.params.get("message"), Some(&json!("hi")));
        assert!(!r.params.contains_key("cmd") && !r.params.contains_key("id"));
        assert_eq!(parse_line("   "), Ok(None));
        let e = parse_line("not json").expect_err("garbage");
        assert_eq!(e["reply"], Value::Null);
        assert_eq!(e["id"], Value::Null);
        assert_eq!(e["ok"], false);
        assert!(
            e["error"]
                .as_str()
                .is_some_and(|s| s.starts_with("invalid JSON"))
        );
        let e = parse_line(r#"{"id":7}"#).expect_err("no cmd");
        assert_eq!(e["id"], 7);
        assert!(parse_line("[1]").is_err());
    }

    #[test]
    fn target_peer_id_forms() {
        let p = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(target_peer_ids(&p(json!({}))), Ok(None));
        assert_eq!(
            target_peer_ids(&p(json!({"targetPeerId": "a"}))),
            Ok(Some(vec!["a".into()]))
        );
        assert_eq!(
            target_peer_ids(&p(json!({"targetPeerId": ["a", "b"]}))),
            Ok(Some(vec!["a".into(), "b".into()]))
        );
        assert!(target_peer_ids(&p(json!({"targetPeerId": [1]}))).is_err());
        assert!(target_peer_ids(&p(json!({"targetPeerId": 5}))).is_err());
    }

    #[test]
    fn replies() {
        let req = Request {
            cmd: "lockRoom".into(),
            id: json!(3),
            params: Map::new(),
        };
        assert_eq!(
            reply(&req, Ok(Value::Null)),
            json!({"reply":"lockRoom","id":3,"ok":true,"result":null})
        );
        assert_eq!(
            reply(&req, Err("not in a room".into())),
            json!({"reply":"lockRoom","id":3,"ok":false,"error":"not in a room"})
        );
    }
}
