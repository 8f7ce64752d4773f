//! [`Event::to_json`]: every event as one JSON object, `{"event": <name>, …payload…}`, the
//! payload keys named as in the API reference (camelCase). This is the line format of
//! `skylink join --json` (see `docs/bot-protocol.md`), so it is a contract: keys are only
//! ever added.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::event::{Event, MessageInfo};

/// Any payload struct as JSON (they are plain data; a failure can only mean a bug and is
/// rendered as `null` rather than a panic).
fn v<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

/// `incomingMessage`'s `message`: `listOfPeers` only when defined (own messages).
fn message_json(m: &MessageInfo) -> Value {
    let mut out = v(m);
    if let Value::Object(map) = &mut out
        && map.get("listOfPeers").is_some_and(Value::is_null)
    {
        map.remove("listOfPeers");
    }
    out
}

/// `{"event": name}` followed by the payload entries, in order.
fn with_name(name: &str, payload: Value) -> Value {
    let mut map = Map::new();
    map.insert("event".into(), Value::String(name.to_owned()));
    if let Value::Object(p) = payload {
        map.extend(p);
    }
    Value::Object(map)
}

impl Event {
    /// The event as one JSON object: `{"event": "<name()>", …payload…}` with the payload
    /// named as in the API reference (`peerId`, `peerInfo`, `isSelf`, …). Numeric constants
    /// (`readyState`, `errorCode`) are their numbers; optional payloads that are not defined
    /// are `null`.
    ///
    /// ```
    /// use skylink_room::Event;
    /// let ev = Event::SystemAction {
    ///     action: "warning".into(),
    ///     message: "closing soon".into(),
    ///     reason: "toclose".into(),
    /// };
    /// assert_eq!(
    ///     ev.to_json().to_string(),
    ///     r#"{"event":"systemAction","action":"warning","message":"closing soon","reason":"toclose"}"#
    /// );
    /// ```
    pub fn to_json(&self) -> Value {
        // Exhaustive on purpose (no `_` arm): a new variant must be given its JSON form.
        let payload = match self {
            Event::ReadyStateChange {
                ready_state,
                error,
                room,
            } => json!({
                "readyState": *ready_state as i32,
                "error": v(error),
                "room": room,
            }),
            Event::ChannelOpen { session } | Event::ChannelClose { session } => {
                json!({ "session": v(session) })
            }
            Event::ChannelMessage { message, session } => {
                json!({ "message": message, "session": v(session) })
            }
            Event::ChannelError { error, session } => {
                json!({ "error": error, "session": v(session) })
            }
            Event::ChannelRetry {
                fallback_type,
                current_attempt,
                session,
            } => json!({
                "fallbackType": v(fallback_type),
                "currentAttempt": current_attempt,
                "session": v(session),
            }),
            Event::SocketError {
                error_code,
                error,
                r#type,
                session,
            } => json!({
                "errorCode": error_code.code(),
                "error": error,
                "type": v(r#type),
                "session": v(session),
            }),
            Event::PeerJoined {
                peer_id,
                peer_info,
                is_self,
            }
            | Event::PeerLeft {
                peer_id,
                peer_info,
                is_self,
            }
            | Event::PeerUpdated {
                peer_id,
                peer_info,
                is_self,
            } => json!({
                "peerId": peer_id,
                "peerInfo": v(peer_info),
                "isSelf": is_self,
            }),
            Event::HandshakeProgress {
                state,
                peer_id,
                error,
            } => json!({ "state": v(state), "peerId": peer_id, "error": error }),
            Event::PeerConnectionState { state, peer_id }
            | Event::IceConnectionState { state, peer_id }
            | Event::CandidateGenerationState { state, peer_id } => {
                json!({ "state": state, "peerId": peer_id })
            }
            Event::CandidateProcessingState {
                state,
                peer_id,
                candidate_id,
                candidate_type,
                candidate,
                error,
            } => json!({
                "state": state,
                "peerId": peer_id,
                "candidateId": candidate_id,
                "candidateType": candidate_type,
                "candidate": v(candidate),
                "error": error,
            }),
            Event::CandidatesGathered { peer_id, length } => {
                json!({ "peerId": peer_id, "length": v(length) })
            }
            Event::DataChannelState {
                state,
                peer_id,
                error,
                channel_name,
                channel_type,
                message_type,
            } => json!({
                "state": state,
                "peerId": peer_id,
                "error": error,
                "channelName": channel_name,
                "channelType": channel_type,
                "messageType": message_type,
            }),
            Event::PeerRestart {
                peer_id,
                peer_info,
                is_self_initiate_restart,
                is_ice_restart,
            } => json!({
                "peerId": peer_id,
                "peerInfo": v(peer_info),
                "isSelfInitiateRestart": is_self_initiate_restart,
                "isIceRestart": is_ice_restart,
            }),
            Event::ServerPeerJoined {
                peer_id,
                server_peer_type,
            }
            | Event::ServerPeerLeft {
                peer_id,
                server_peer_type,
            }
            | Event::ServerPeerRestart {
                peer_id,
                server_peer_type,
            } => json!({ "peerId": peer_id, "serverPeerType": server_peer_type }),
            Event::GetPeersStateChange {
                state,
                privileged_peer_id,
                peer_list,
            } => json!({
                "state": state,
                "privilegedPeerId": privileged_peer_id,
                "peerList": peer_list,
            }),
            Event::IntroduceStateChange {
                state,
                privileged_peer_id,
                sending_peer_id,
                receiving_peer_id,
                reason,
            } => json!({
                "state": state,
                "privilegedPeerId": privileged_peer_id,
                "sendingPeerId": sending_peer_id,
                "receivingPeerId": receiving_peer_id,
                "reason": reason,
            }),
            Event::IncomingDataRequest {
                transfer_id,
                peer_id,
                transfer_info,
                is_self,
            } => json!({
                "transferId": transfer_id,
                "peerId": peer_id,
                "transferInfo": transfer_info,
                "isSelf": is_self,
            }),
            Event::DataTransferState {
                state,
                transfer_id,
                peer_id,
                transfer_info,
                error,
            } => json!({
                "state": state,
                "transferId": transfer_id,
                "peerId": peer_id,
                "transferInfo": transfer_info,
                "error": error,
            }),
            Event::IncomingData {
                data,
                transfer_id,
                peer_id,
                transfer_info,
                is_self,
            } => {
                let mut v = json!({
                    "data": data_json(data),
                    "transferId": transfer_id,
                    "peerId": peer_id,
                    "transferInfo": transfer_info,
                    "isSelf": is_self,
                });
                // a payload streamed from a file is not in memory: `data` is omitted
                if let (crate::event::TransferData::Source(_), Some(o)) = (data, v.as_object_mut())
                {
                    o.remove("data");
                }
                v
            }
            Event::DataStreamState {
                state,
                stream_id,
                peer_id,
                stream_info,
                error,
            } => json!({
                "state": state,
                "streamId": stream_id,
                "peerId": peer_id,
                "streamInfo": stream_info,
                "error": error,
            }),
            Event::IncomingDataStreamStarted {
                stream_id,
                peer_id,
                stream_info,
                is_self,
            } => json!({
                "streamId": stream_id,
                "peerId": peer_id,
                "streamInfo": stream_info,
                "isSelf": is_self,
            }),
            Event::IncomingDataStream {
                chunk,
                stream_id,
                peer_id,
                stream_info,
                is_self,
            } => json!({
                "chunk": data_json(chunk),
                "streamId": stream_id,
                "peerId": peer_id,
                "streamInfo": stream_info,
                "isSelf": is_self,
            }),
            Event::IncomingDataStreamStopped {
                stream_id,
                peer_id,
                stream_info,
                is_self,
            } => json!({
                "streamId": stream_id,
                "peerId": peer_id,
                "streamInfo": stream_info,
                "isSelf": is_self,
            }),
            Event::GetConnectionStatusStateChange {
                state,
                peer_id,
                stats,
                error,
            } => json!({
                "state": state,
                "peerId": peer_id,
                "stats": stats,
                "error": error,
            }),
            Event::IncomingMessage {
                message,
                peer_id,
                peer_info,
                is_self,
            } => json!({
                "message": message_json(message),
                "peerId": peer_id,
                "peerInfo": v(peer_info),
                "isSelf": is_self,
            }),
            Event::RoomLock {
                is_locked,
                peer_id,
                peer_info,
                is_self,
            } => json!({
                "isLocked": is_locked,
                "peerId": peer_id,
                "peerInfo": v(peer_info),
                "isSelf": is_self,
            }),
            Event::SystemAction {
                action,
                message,
                reason,
            } => json!({ "action": action, "message": message, "reason": reason }),
            Event::SessionDisconnect { peer_id, peer_info } => {
                json!({ "peerId": peer_id, "peerInfo": v(peer_info) })
            }
            Event::MediaAccessSuccess {
                stream_id,
                is_screensharing,
                is_audio_fallback,
            } => json!({
                "streamId": stream_id,
                "isScreensharing": is_screensharing,
                "isAudioFallback": is_audio_fallback,
            }),
            Event::MediaAccessError {
                error,
                is_screensharing,
                is_audio_fallback_error,
            } => json!({
                "error": error,
                "isScreensharing": is_screensharing,
                "isAudioFallbackError": is_audio_fallback_error,
            }),
            Event::MediaAccessFallback {
                error,
                diff,
                state,
                is_screensharing,
                is_audio_fallback,
                stream_id,
            } => json!({
                "error": {"error": error, "diff": diff},
                "state": state,
                "isScreensharing": is_screensharing,
                "isAudioFallback": is_audio_fallback,
                "streamId": stream_id,
            }),
            Event::MediaAccessStopped {
                is_screensharing,
                is_audio_fallback,
                stream_id,
            } => json!({
                "isScreensharing": is_screensharing,
                "isAudioFallback": is_audio_fallback,
                "streamId": stream_id,
            }),
            Event::IncomingStream {
                peer_id,
                stream_id,
                is_self,
                peer_info,
                is_screensharing,
            } => json!({
                "peerId": peer_id,
                "streamId": stream_id,
                "isSelf": is_self,
                "peerInfo": v(peer_info),
                "isScreensharing": is_screensharing,
            }),
            Event::StreamEnded {
                peer_id,
                peer_info,
                is_self,
                is_screensharing,
                stream_id,
            } => json!({
                "peerId": peer_id,
                "peerInfo": v(peer_info),
                "isSelf": is_self,
                "isScreensharing": is_screensharing,
                "streamId": stream_id,
            }),
            Event::StreamMuted {
                peer_id,
                peer_info,
                is_self,
                is_screensharing,
            } => json!({
                "peerId": peer_id,
                "peerInfo": v(peer_info),
                "isSelf": is_self,
                "isScreensharing": is_screensharing,
            }),
            Event::LocalMediaMuted {
                audio_muted,
                video_muted,
            } => json!({
                "mediaStatus": {"audioMuted": audio_muted, "videoMuted": video_muted},
            }),
        };
        with_name(self.name(), payload)
    }
}

/// Binary data as `{"base64": …, "size": n}` (JSON cannot hold bytes); text as a string.
fn data_json(d: &crate::event::TransferData) -> Value {
    use base64::Engine as _;
    match d {
        crate::event::TransferData::Bytes(b) => json!({
            "base64": base64::engine::general_purpose::STANDARD.encode(b),
            "size": b.len(),
        }),
        crate::event::TransferData::Text(t) => Value::String(t.to_string()),
        // The bytes are on disk, not in memory: only the size (the caller omits `data`).
        crate::event::TransferData::Source(s) => json!({"size": s.len()}),
        // Saved to disk as it arrived: where, and how much (no bytes).
        crate::event::TransferData::File { path, size } => json!({
            "path": path.to_string_lossy(),
            "size": size,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ReadyStateError;
    use crate::event::{
        CandidateInfo, CandidatesLength, HandshakeProgress, PeerInfo, SocketSession,
    };
    use crate::fallback::{SocketErrorCode, SocketFallback};
    use skylink_sm::room_api::ReadyState;

    fn info() -> PeerInfo {
        PeerInfo {
            user_data: json!({"name": "Alice"}),
            room: "r1".into(),
            ..PeerInfo::default()
        }
    }

    fn session() -> SocketSession {
        SocketSession {
            server_url: "ws://127.0.0.1:1/socket.io/?EIO=3&transport=websocket".into(),
            transport_type: "WebSocket".into(),
            attempts: 0,
            final_attempts: 4,
            fallback_type: SocketFallback::NonFallback,
        }
    }

    #[test]
    fn incoming_message_matches_the_contract() {
        let ev = Event::IncomingMessage {
            message: MessageInfo {
                content: json!("hi"),
                is_private: false,
                target_peer_id: None,
                is_data_channel: false,
                sender_peer_id: "A".into(),
                list_of_peers: None,
            },
            peer_id: "A".into(),
            peer_info: info(),
            is_self: false,
        };
        let j = ev.to_json();
        assert_eq!(j["event"], "incomingMessage");
        assert_eq!(
            j["message"],
            json!({"content":"hi","isPrivate":false,"targetPeerId":null,"isDataChannel":false,"senderPeerId":"A"})
        );
        assert_eq!(j["peerId"], "A");
        assert_eq!(j["isSelf"], false);
        assert_eq!(j["peerInfo"]["userData"], json!({"name": "Alice"}));
        assert_eq!(j["peerInfo"]["agent"]["SMProtocolVersion"], "");
        // The event name comes first.
        assert!(
            j.to_string()
                .starts_with(r#"{"event":"incomingMessage","message":"#)
        );

        let own = Event::IncomingMessage {
            message: MessageInfo {
                content: json!({"x": 1}),
                is_private: true,
                target_peer_id: Some(json!("B")),
                is_data_channel: false,
                sender_peer_id: "A".into(),
                list_of_peers: Some(vec!["B".into()]),
            },
            peer_id: "A".into(),
            peer_info: info(),
            is_self: true,
        };
        let j = own.to_json();
        assert_eq!(j["message"]["listOfPeers"], json!(["B"]));
        assert_eq!(j["message"]["targetPeerId"], "B");
    }

    #[test]
    fn ready_state_is_numeric() {
        let ev = Event::ReadyStateChange {
            ready_state: ReadyState::Error,
            error: Some(ReadyStateError {
                status: 403,
                content: "nope".into(),
                error_code: Some(4002),
            }),
            room: "r1".into(),
        };
        assert_eq!(
            ev.to_json(),
            json!({"event":"readyStateChange","readyState":-1,
                   "error":{"status":403,"content":"nope","errorCode":4002},"room":"r1"})
        );
        let ev = Event::ReadyStateChange {
            ready_state: ReadyState::Completed,
            error: None,
            room: "r1".into(),
        };
        assert_eq!(ev.to_json()["readyState"], 2);
        assert_eq!(ev.to_json()["error"], Value::Null);
    }

    #[test]
    fn peer_and_lock_events() {
        let ev = Event::PeerJoined {
            peer_id: "P".into(),
            peer_info: info(),
            is_self: true,
        };
        let j = ev.to_json();
        assert_eq!(j["event"], "peerJoined");
        assert_eq!(j["isSelf"], true);
        assert_eq!(j["peerInfo"]["room"], "r1");
        let ev = Event::RoomLock {
            is_locked: true,
            peer_id: "P".into(),
            peer_info: info(),
            is_self: false,
        };
        let j = ev.to_json();
        assert_eq!(j["event"], "roomLock");
        assert_eq!(j["isLocked"], true);
        assert_eq!(j["peerId"], "P");
    }

    #[test]
    fn socket_and_channel_events() {
        let ev = Event::SocketError {
            error_code: SocketErrorCode::ReconnectionAborted,
            error: "refused".into(),
            r#type: SocketFallback::FallbackPortNonSsl,
            session: session(),
        };
        let j = ev.to_json();
        assert_eq!(j["errorCode"], -3);
        assert_eq!(j["type"], "fallbackPortNonSSL");
        assert_eq!(j["session"]["finalAttempts"], 4);
        assert_eq!(j["session"]["transportType"], "WebSocket");
        let j = Event::ChannelRetry {
            fallback_type: SocketFallback::NonFallback,
            current_attempt: 2,
            session: session(),
        }
        .to_json();
        assert_eq!(j["fallbackType"], "nonfallback");
        assert_eq!(j["currentAttempt"], 2);
        assert_eq!(
            Event::ChannelOpen { session: session() }.to_json()["event"],
            "channelOpen"
        );
    }

    #[test]
    fn connection_events() {
        let j = Event::HandshakeProgress {
            state: HandshakeProgress::Welcome,
            peer_id: "P".into(),
            error: None,
        }
        .to_json();
        assert_eq!(
            j,
            json!({"event":"handshakeProgress","state":"welcome","peerId":"P","error":null})
        );
        let j = Event::CandidateProcessingState {
            state: "processSuccess".into(),
            peer_id: "P".into(),
            candidate_id: "can-1".into(),
            candidate_type: "host".into(),
            candidate: CandidateInfo {
                candidate: "candidate:1 1 udp 1 1.2.3.4 5 typ host".into(),
                sdp_mid: "0".into(),
                sdp_mline_index: 0,
            },
            error: None,
        }
        .to_json();
        assert_eq!(j["candidate"]["sdpMLineIndex"], 0);
        assert_eq!(j["candidate"]["sdpMid"], "0");
        assert_eq!(j["candidateType"], "host");
        let j = Event::CandidatesGathered {
            peer_id: "P".into(),
            length: CandidatesLength {
                expected: 3,
                received: 2,
                processed: 1,
            },
        }
        .to_json();
        assert_eq!(
            j["length"],
            json!({"expected": 3, "received": 2, "processed": 1})
        );
        let j = Event::DataChannelState {
            state: "open".into(),
            peer_id: "P".into(),
            error: None,
            channel_name: "main".into(),
            channel_type: "messaging".into(),
            message_type: None,
        }
        .to_json();
        assert_eq!(j["channelName"], "main");
        assert_eq!(j["messageType"], Value::Null);
    }
}
