//! The media half of the session (sdp-and-peers.md §4.6–§4.9): what we advertise about our
//! local stream, the `stream` / `muteAudioEvent` / `muteVideoEvent` messages both ways, and
//! the per-peer stream sessions that make every remote stream end at most once.

use std::time::Instant;

use serde_json::{Number, Value, json};
use skylink_sm::message::{Message, MuteEvent, Stream};

use super::{Output, Session};
use crate::event::Event;

/// What the engine holds as "the local stream" (screen share over camera, §4.1), as the
/// session advertises it in peer info, `enter`/`welcome` and `userInfo`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalAdvert {
    /// The held stream's id (the msid peers see), `None` without a stream.
    pub stream_id: Option<String>,
    /// Its advertised `{audio, video}` settings (§4.2), `None` without a stream.
    pub settings: Option<Value>,
    /// The held stream is a screen capture.
    pub is_screen: bool,
    /// Global mute state (`streamsMutedSettings`).
    pub audio_muted: bool,
    /// Global mute state (`streamsMutedSettings`).
    pub video_muted: bool,
}

/// A field of a settings object that is an object or `true` counts as present.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

fn is_screenshare(settings: &Value) -> bool {
    settings
        .get("video")
        .and_then(|v| v.get("screenshare"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

impl Session {
    /// Replaces what we advertise about our local media (call after every change of the
    /// held streams or the mute state; the engine does).
    pub fn set_local_media(&mut self, advert: LocalAdvert) {
        self.media = advert;
    }

    /// What we advertise about our local media.
    pub fn local_media(&self) -> &LocalAdvert {
        &self.media
    }

    /// `{audio, video}` of the held stream, `false`/`false` without one.
    pub(super) fn media_settings(&self) -> (Value, Value) {
        match &self.media.settings {
            Some(s) => (
                s.get("audio").cloned().unwrap_or(Value::Bool(false)),
                s.get("video").cloned().unwrap_or(Value::Bool(false)),
            ),
            None => (Value::Bool(false), Value::Bool(false)),
        }
    }

    /// `mediaStatus`: a kind we do not send counts as muted (§4.9).
    pub(super) fn media_status(&self) -> Value {
        let (audio, video) = self.media_settings();
        json!({
            "audioMuted": !truthy(Some(&audio)) || self.media.audio_muted,
            "videoMuted": !truthy(Some(&video)) || self.media.video_muted,
        })
    }

    /// Whether we advertise neither audio nor video (`receiveOnly`).
    pub(super) fn receive_only(&self) -> bool {
        let (audio, video) = self.media_settings();
        !truthy(Some(&audio)) && !truthy(Some(&video))
    }

    /// The `settings` of a `userInfo` (§4.9): object frame rates move to `customSettings`,
    /// object resolutions become `-1`, bandwidth is `maxBandwidth`.
    pub(super) fn wire_settings(&self) -> Value {
        let (audio, mut video) = self.media_settings();
        if let Value::Object(v) = &mut video {
            let mut custom = serde_json::Map::new();
            for (key, placeholder) in [("frameRate", json!(-1)), ("facingMode", json!("-1"))] {
                if v.get(key).is_some_and(Value::is_object)
                    && let Some(original) = v.insert(key.into(), placeholder)
                {
                    custom.insert(key.into(), original);
                }
            }
            if let Some(Value::Object(res)) = v.get_mut("resolution") {
                for key in ["width", "height"] {
                    if res.get(key).is_some_and(Value::is_object) {
                        res.insert(key.into(), json!(-1));
                    }
                }
            }
            v.insert("customSettings".into(), Value::Object(custom));
        }
        json!({"audio": audio, "video": video, "googleXBandwidth": {}, "maxBandwidth": {}})
    }

    /// `incomingStream(self)` then `peerUpdated(self)` — on join with a held stream, after
    /// `sendStream`, `shareScreen` and `stopScreen` (§4.3, §4.4).
    pub fn local_stream_announced(&self) -> Vec<Output> {
        let (Some(own), Some(stream_id)) = (self.self_id.clone(), self.media.stream_id.clone())
        else {
            return Vec::new();
        };
        vec![
            Output::Emit(Event::IncomingStream {
                peer_id: own.clone(),
                stream_id,
                is_self: true,
                peer_info: self.self_info(),
                is_screensharing: self.media.is_screen,
            }),
            Output::Emit(Event::PeerUpdated {
                peer_id: own,
                peer_info: self.self_info(),
                is_self: true,
            }),
        ]
    }

    /// A local stream stopped (§4.7): in a room, the `stream`/`ended` message and
    /// `streamEnded(self)`, then `peerUpdated(self)`.
    pub fn local_stream_ended(
        &mut self,
        stream_id: &str,
        settings: &Value,
        is_screen: bool,
        now: Instant,
    ) -> Vec<Output> {
        let mut out = Vec::new();
        let Some(own) = self.self_id.clone() else {
            return out;
        };
        let msg = Message::Stream(Stream {
            mid: Some(own.clone()),
            rid: Some(self.rid.clone()),
            cid: self.cid.clone(),
            stream_id: Some(stream_id.to_owned()),
            settings: serde_json::from_value(settings.clone()).ok(),
            status: Some("ended".into()),
            ..Default::default()
        });
        self.send(msg, now, &mut out);
        out.push(Output::Emit(Event::StreamEnded {
            peer_id: own.clone(),
            peer_info: self.self_info(),
            is_self: true,
            is_screensharing: is_screen,
            stream_id: stream_id.to_owned(),
        }));
        out.push(Output::Emit(Event::PeerUpdated {
            peer_id: own,
            peer_info: self.self_info(),
            is_self: true,
        }));
        out
    }

    /// The mute state changed (§4.6 step 5–6): `muteVideoEvent` / `muteAudioEvent` for the
    /// kinds that changed (throttled and grouped like the reference), then `streamMuted(self)`
    /// and `peerUpdated(self)` when `announce` (a track of a changed kind exists).
    pub fn local_mute_changed(
        &mut self,
        audio_changed: bool,
        video_changed: bool,
        announce: bool,
        stamp_ms: u64,
        now: Instant,
    ) -> Vec<Output> {
        let mut out = Vec::new();
        let Some(own) = self.self_id.clone() else {
            return out;
        };
        let mute = |muted: bool| MuteEvent {
            mid: Some(own.clone()),
            rid: Some(self.rid.clone()),
            muted: Some(muted),
            stamp: Some(Number::from(stamp_ms)),
            ..Default::default()
        };
        let (video_msg, audio_msg) = (mute(self.media.video_muted), mute(self.media.audio_muted));
        if video_changed {
            self.send(Message::MuteVideoEvent(video_msg), now, &mut out);
        }
        if audio_changed {
            self.send(Message::MuteAudioEvent(audio_msg), now, &mut out);
        }
        if announce {
            out.push(Output::Emit(Event::StreamMuted {
                peer_id: own.clone(),
                peer_info: self.self_info(),
                is_self: true,
                is_screensharing: self.media.is_screen,
            }));
            out.push(Output::Emit(Event::PeerUpdated {
                peer_id: own,
                peer_info: self.self_info(),
                is_self: true,
            }));
        }
        out
    }

    /// A new remote stream id appeared in the peer's description (§4.8 arrival): record the
    /// stream session and emit `incomingStream` then `peerUpdated`.
    pub fn remote_stream_added(
        &mut self,
        peer_id: &str,
        stream_id: &str,
        has_audio: bool,
        has_video: bool,
    ) -> Vec<Output> {
        let mut out = Vec::new();
        if peer_id == "MCU" {
            return out;
        }
        let Some(peer) = self.peers.get(peer_id) else {
            return out;
        };
        let mut entry = peer.info.settings.clone();
        if let Value::Object(m) = &mut entry {
            if !has_audio {
                m.insert("audio".into(), Value::Bool(false));
            }
            if !has_video {
                m.insert("video".into(), Value::Bool(false));
            }
        }
        let is_screen = is_screenshare(&peer.info.settings);
        let info = self.cfg.receiving.view(&peer.info);
        self.streams
            .entry(peer_id.to_owned())
            .or_default()
            .insert(stream_id.to_owned(), Some(entry));
        out.push(Output::Emit(Event::IncomingStream {
            peer_id: peer_id.to_owned(),
            stream_id: stream_id.to_owned(),
            is_self: false,
            peer_info: info.clone(),
            is_screensharing: is_screen,
        }));
        out.push(Output::Emit(Event::PeerUpdated {
            peer_id: peer_id.to_owned(),
            peer_info: info,
            is_self: false,
        }));
        out
    }

    /// A received `stream` message (§4.8 end).
    pub(super) fn remote_stream_message(&mut self, m: Stream, out: &mut Vec<Output>) {
        let Some(mid) = m.mid else { return };
        if m.status.as_deref() != Some("ended") {
            return;
        }
        let Some(stream_id) = m.stream_id else { return };
        let Some(peer) = self.peers.get(&mid) else {
            return;
        };
        let sessions = self.streams.entry(mid.clone()).or_default();
        if !sessions.contains_key(&stream_id)
            && let Some(settings) = m.settings.and_then(|s| serde_json::to_value(s).ok())
        {
            sessions.insert(stream_id.clone(), Some(settings));
        }
        let Some(Some(entry)) = sessions.get(&stream_id).cloned() else {
            return;
        };
        sessions.insert(stream_id.clone(), None);
        let mut info = self.cfg.receiving.view(&peer.info);
        if let Value::Object(s) = &mut info.settings {
            for key in ["audio", "video"] {
                s.insert(
                    key.into(),
                    entry.get(key).cloned().unwrap_or(Value::Bool(false)),
                );
            }
        }
        out.push(Output::Emit(Event::StreamEnded {
            peer_id: mid,
            peer_info: info,
            is_self: false,
            is_screensharing: is_screenshare(&entry),
            stream_id,
        }));
    }

    /// `streamEnded` for every still-active stream of a peer that left (after `peerLeft`).
    pub(super) fn remote_streams_gone(
        &mut self,
        peer_id: &str,
        info: &crate::event::PeerInfo,
        out: &mut Vec<Output>,
    ) {
        let Some(sessions) = self.streams.remove(peer_id) else {
            return;
        };
        for (stream_id, entry) in sessions {
            if let Some(entry) = entry {
                out.push(Output::Emit(Event::StreamEnded {
                    peer_id: peer_id.to_owned(),
                    peer_info: info.clone(),
                    is_self: false,
                    is_screensharing: is_screenshare(&entry),
                    stream_id,
                }));
            }
        }
    }

    /// A received `muteAudioEvent` (`audio`) or `muteVideoEvent` (§4.6 receiving).
    pub(super) fn remote_mute(&mut self, m: MuteEvent, audio: bool, out: &mut Vec<Output>) {
        let Some(mid) = m.mid else { return };
        let Some(peer) = self.peers.get_mut(&mid) else {
            return;
        };
        let stamp = m.stamp.as_ref().and_then(Number::as_f64);
        let slot = if audio {
            &mut peer.mute_stamps.0
        } else {
            &mut peer.mute_stamps.1
        };
        if let (Some(new), Some(old)) = (stamp, *slot)
            && new < old
        {
            return;
        }
        if stamp.is_some() {
            *slot = stamp;
        }
        let key = if audio { "audioMuted" } else { "videoMuted" };
        if !peer.info.media_status.is_object() {
            peer.info.media_status = json!({});
        }
        if let Value::Object(ms) = &mut peer.info.media_status {
            ms.insert(key.into(), Value::Bool(m.muted.unwrap_or(false)));
        }
        let info = self.cfg.receiving.view(&peer.info);
        out.push(Output::Emit(Event::StreamMuted {
            peer_id: mid.clone(),
            is_screensharing: is_screenshare(&info.settings),
            peer_info: info.clone(),
            is_self: false,
        }));
        out.push(Output::Emit(Event::PeerUpdated {
            peer_id: mid,
            peer_info: info,
            is_self: false,
        }));
    }
}
