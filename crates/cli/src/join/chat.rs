//! The human mode of `skylink join` (without `--json`): a readable log line per interesting
//! event, and chat input lines turned into the same [`Request`]s as JSON mode.

use serde_json::{Map, Value, json};
use skylink_room::{Event, ReadyState, SocketErrorCode, TransferData};

use super::commands::Request;

/// The chat commands (also shown by `--help` and `/help`).
pub const HELP: &str = chat_help!();

/// What a chat line asks for.
#[derive(Debug, PartialEq)]
pub enum ChatLine {
    /// Nothing (a blank line).
    Skip,
    /// Text to show the user (help, usage errors).
    Say(String),
    /// A command to run.
    Run(Request),
}

fn request(cmd: &str, params: Value) -> ChatLine {
    ChatLine::Run(Request {
        cmd: cmd.into(),
        id: Value::Null,
        params: match params {
            Value::Object(m) => m,
            _ => Map::new(),
        },
    })
}

/// Parses one chat line.
pub fn parse(line: &str) -> ChatLine {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return ChatLine::Skip;
    }
    let Some(command) = line.strip_prefix('/') else {
        return request("sendMessage", json!({ "message": line }));
    };
    let (word, rest) = command.split_once(' ').unwrap_or((command, ""));
    let rest = rest.trim();
    match word {
        "msg" => match rest.split_once(' ') {
            Some((peer, text)) if !text.trim().is_empty() => request(
                "sendMessage",
                json!({ "message": text.trim(), "targetPeerId": peer }),
            ),
            _ => ChatLine::Say("usage: /msg <peerId> <text>".into()),
        },
        "lock" => request("lockRoom", json!({})),
        "unlock" => request("unlockRoom", json!({})),
        "peers" => request("getPeersInRoom", json!({})),
        "user" => {
            let data = serde_json::from_str(rest).unwrap_or_else(|_| Value::String(rest.into()));
            request("setUserData", json!({ "userData": data }))
        }
        "send" => match rest.split_once(' ') {
            Some((peer, file)) if !file.trim().is_empty() => {
                let mut params = json!({ "path": file.trim() });
                if peer != "all" {
                    params["targetPeerId"] = json!(peer);
                }
                request("sendBlobData", params)
            }
            _ => ChatLine::Say("usage: /send <peerId|all> <file>".into()),
        },
        "accept" | "reject" | "cancel" => {
            let mut words = rest.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some(peer), Some(id), None) => match word {
                    "cancel" => request(
                        "cancelDataTransfer",
                        json!({ "peerId": peer, "transferId": id }),
                    ),
                    _ => request(
                        "acceptDataTransfer",
                        json!({ "peerId": peer, "transferId": id, "accept": word == "accept" }),
                    ),
                },
                _ => ChatLine::Say(format!("usage: /{word} <peerId> <transferId>")),
            }
        }
        "quit" | "leave" => request("leaveRoom", json!({})),
        "help" => ChatLine::Say(HELP.into()),
        other => ChatLine::Say(format!("unknown command /{other} (/help lists them)")),
    }
}

/// A message or user-data value as text: strings bare, anything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// ` (userData)` when there is any.
fn user_suffix(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) if s.is_empty() => String::new(),
        other => format!(" ({})", text(other)),
    }
}

/// The log line of an event, `None` for the uninteresting ones.
pub fn event_line(ev: &Event) -> Option<String> {
    match ev {
        Event::PeerJoined {
            peer_id,
            peer_info,
            is_self: true,
        } => Some(format!(
            "* joined room {} as {peer_id}{}",
            peer_info.room,
            user_suffix(&peer_info.user_data)
        )),
        Event::PeerJoined {
            peer_id, peer_info, ..
        } => Some(format!(
            "+ {peer_id} joined{}",
            user_suffix(&peer_info.user_data)
        )),
        Event::PeerLeft { is_self: true, .. } => Some("* left the room".into()),
        Event::PeerLeft { peer_id, .. } => Some(format!("- {peer_id} left")),
        Event::PeerUpdated {
            peer_id,
            peer_info,
            is_self: false,
        } => Some(format!(
            "~ {peer_id} updated their data: {}",
            text(&peer_info.user_data)
        )),
        Event::IncomingMessage {
            message,
            is_self: false,
            ..
        } => Some(if message.is_private {
            format!(
                "<{} (private)> {}",
                message.sender_peer_id,
                text(&message.content)
            )
        } else {
            format!("<{}> {}", message.sender_peer_id, text(&message.content))
        }),
        Event::RoomLock {
            is_locked, peer_id, ..
        } => Some(format!(
            "# room {} by {peer_id}",
            if *is_locked { "locked" } else { "unlocked" }
        )),
        Event::IncomingDataRequest {
            transfer_id,
            peer_id,
            transfer_info,
            is_self: false,
        } => Some(format!(
            "? {peer_id} offers {} ({} bytes): /accept {peer_id} {transfer_id} or /reject {peer_id} {transfer_id}",
            text(&transfer_info["name"]),
            transfer_info["size"]
        )),
        Event::DataTransferState {
            state,
            transfer_id,
            peer_id,
            transfer_info,
            error,
        } => transfer_state_line(state, transfer_id, peer_id, transfer_info, error.as_ref()),
        Event::IncomingDataStreamStarted {
            stream_id,
            peer_id,
            is_self: false,
            ..
        } => Some(format!("~ {peer_id} started data stream {stream_id}")),
        Event::IncomingDataStream {
            chunk,
            stream_id,
            peer_id,
            is_self: false,
            ..
        } => Some(match chunk {
            TransferData::Text(t) => format!("<{peer_id} stream {stream_id}> {t}"),
            TransferData::Bytes(b) => {
                format!("<{peer_id} stream {stream_id}> {} bytes", b.len())
            }
            TransferData::Source(s) => {
                format!("<{peer_id} stream {stream_id}> {} bytes", s.len())
            }
            // stream chunks are never saved to files; listed for completeness
            TransferData::File { size, .. } => {
                format!("<{peer_id} stream {stream_id}> {size} bytes")
            }
            _ => format!("<{peer_id} stream {stream_id}> data"),
        }),
        Event::IncomingDataStreamStopped {
            stream_id,
            peer_id,
            is_self: false,
            ..
        } => Some(format!("~ {peer_id} stopped data stream {stream_id}")),
        Event::SystemAction {
            action,
            message,
            reason,
        } => Some(format!("! server {action} ({reason}): {message}")),
        Event::SessionDisconnect { .. } => {
            Some("! disconnected from the signaling server (rejoining)".into())
        }
        Event::ReadyStateChange {
            ready_state: ReadyState::Error,
            error: Some(e),
            room,
        } => Some(format!("! room {room}: room API error: {}", e.content)),
        Event::SocketError {
            error_code: SocketErrorCode::ReconnectionAborted,
            error,
            ..
        } => Some(format!("! cannot reach the signaling server: {error}")),
        _ => None,
    }
}

/// The line of a `dataTransferState` worth a line (start and end; the bars show progress).
fn transfer_state_line(
    state: &str,
    id: &str,
    peer: &str,
    info: &Value,
    error: Option<&Value>,
) -> Option<String> {
    let name = text(&info["name"]);
    let why = error
        .and_then(|e| e["message"].as_str())
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    match state {
        "userRequest" => Some(format!(
            "> offered {name} to {peer} (transfer {id}; /cancel {peer} {id})"
        )),
        "uploadStarted" => Some(format!("> {peer} accepted {name}")),
        "downloadStarted" => Some(format!("< receiving {name} from {peer}")),
        "uploadCompleted" => Some(format!("> sent {name} to {peer}")),
        "downloadCompleted" => Some(format!("< received {name} from {peer}")),
        "rejected" => Some(format!("! {peer} rejected {name}{why}")),
        "userRejected" => Some(format!("! rejected {name} from {peer}")),
        "cancel" => Some(format!("! transfer {id} of {name} ({peer}) cancelled{why}")),
        "error" | "startError" => Some(format!("! transfer {id} of {name} ({peer}) failed{why}")),
        _ => None,
    }
}

/// The line of a received file: where it was saved, or why it was not.
pub fn incoming_data_line(
    name: &Value,
    size: usize,
    peer: &str,
    saved: Option<Result<&std::path::Path, &str>>,
) -> String {
    let name = text(name);
    match saved {
        Some(Ok(path)) => format!("< {name} from {peer} saved to {}", path.display()),
        Some(Err(e)) => format!("! {name} from {peer} ({size} bytes) could not be saved: {e}"),
        None => format!(
            "< {name} from {peer} ({size} bytes) not saved: start with --download-dir DIR to keep files"
        ),
    }
}

/// The text shown for a finished chat command, `None` when silent.
pub fn reply_text(reply: &Value) -> Option<String> {
    if reply["ok"] != Value::Bool(true) {
        return Some(format!(
            "! {}: {}",
            text(&reply["reply"]),
            text(&reply["error"])
        ));
    }
    if reply["reply"] == "sendBlobData" {
        let r = &reply["result"];
        let peers: Vec<String> = r["listOfPeers"]
            .as_array()
            .map(|l| l.iter().map(text).collect())
            .unwrap_or_default();
        return Some(format!(
            "> {} delivered to {}",
            text(&r["transferInfo"]["name"]),
            peers.join(", ")
        ));
    }
    if reply["reply"] == "getPeersInRoom" {
        let peers = reply["result"].as_object()?;
        let mut out = format!("{} in the room:", peers.len());
        for (id, info) in peers {
            let me = if info["isSelf"] == true { " (you)" } else { "" };
            out.push_str(&format!("\n  {id}{me}{}", user_suffix(&info["userData"])));
        }
        return Some(out);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> (String, Value) {
        match parse(line) {
            ChatLine::Run(r) => (r.cmd, Value::Object(r.params)),
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn chat_lines() {
        assert_eq!(
            run("hello there"),
            ("sendMessage".into(), json!({"message": "hello there"}))
        );
        assert_eq!(
            run("/msg abc hi you"),
            (
                "sendMessage".into(),
                json!({"message": "hi you", "targetPeerId": "abc"})
            )
        );
        assert_eq!(run("/lock").0, "lockRoom");
        assert_eq!(run("/unlock").0, "unlockRoom");
        assert_eq!(run("/peers").0, "getPeersInRoom");
        assert_eq!(run("/quit").0, "leaveRoom");
        assert_eq!(
            run(r#"/user {"name":"x"}"#).1,
            json!({"userData": {"name": "x"}})
        );
        assert_eq!(run("/user bob").1, json!({"userData": "bob"}));
        assert_eq!(
            run("/send abc my file.txt"),
            (
                "sendBlobData".into(),
                json!({"path": "my file.txt", "targetPeerId": "abc"})
            )
        );
        assert_eq!(run("/send all f").1, json!({"path": "f"}));
        assert_eq!(
            run("/accept p t1"),
            (
                "acceptDataTransfer".into(),
                json!({"peerId": "p", "transferId": "t1", "accept": true})
            )
        );
        assert_eq!(run("/reject p t1").1["accept"], false);
        assert_eq!(
            run("/cancel p t1"),
            (
                "cancelDataTransfer".into(),
                json!({"peerId": "p", "transferId": "t1"})
            )
        );
        assert!(matches!(parse("/send abc"), ChatLine::Say(_)));
        assert!(matches!(parse("/accept p"), ChatLine::Say(_)));
        assert_eq!(parse(""), ChatLine::Skip);
        assert!(matches!(parse("/msg abc"), ChatLine::Say(_)));
        assert!(matches!(parse("/nope"), ChatLine::Say(_)));
    }
}
