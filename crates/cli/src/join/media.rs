//! The media commands of `skylink join` (sdp-and-peers.md §4): `getUserMedia`, `sendStream`,
//! `shareScreen`, `stopScreen`, `stopStream`, `muteStream`, `enable/disableAudio/Video`, and
//! `getRemoteMedia` (what arrived from the peers: counters and the decoder probes).

use serde_json::{Value, json};
use skylink_room::StreamInput;

use super::commands::{CmdResult, Ctx, Params};

/// Decoder probes on received tracks (feature `codecs`; without it only counters).
#[cfg(feature = "codecs")]
pub type Probes = Option<skylink_room::probes::ProbeSet>;
/// Decoder probes on received tracks (feature `codecs`; without it only counters).
#[cfg(not(feature = "codecs"))]
pub type Probes = Option<()>;

/// Attaches probes (and recorders for `--record`) to every received track.
#[cfg(feature = "codecs")]
pub fn probe_set(
    opts: &mut skylink_room::InitOptions,
    record: Option<std::path::PathBuf>,
) -> Probes {
    let probes = skylink_room::probes::ProbeSet::default();
    opts.media_sinks = Some(probes.factory(record));
    Some(probes)
}

/// Attaches recorders for `--record` to every received track (no probes without `codecs`).
#[cfg(not(feature = "codecs"))]
pub fn probe_set(
    opts: &mut skylink_room::InitOptions,
    record: Option<std::path::PathBuf>,
) -> Probes {
    if let Some(dir) = record {
        opts.media_sinks = Some(skylink_room::peer_media::SinkFactory::new(move |track| {
            match skylink_room::recording::recorder_for(&dir, track) {
                Ok(r) => r.into_iter().collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "creating a recorder");
                    Vec::new()
                }
            }
        }));
    }
    None
}

#[cfg(feature = "codecs")]
fn probe_report(probes: &Probes, track_id: &str) -> Option<Value> {
    probes.as_ref().and_then(|p| p.report_json(track_id))
}

#[cfg(not(feature = "codecs"))]
fn probe_report(_: &Probes, _: &str) -> Option<Value> {
    None
}

/// What `--video` / `--audio` ask for at start-up.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    camera: bool,
    audio: bool,
    screen: bool,
}

impl Plan {
    /// From the command line.
    pub fn from_args(args: &super::JoinArgs) -> Plan {
        Plan {
            camera: args.video.as_deref().is_some_and(|v| v != "screen"),
            audio: args.audio.is_some(),
            screen: args.video.as_deref() == Some("screen"),
        }
    }

    /// `getUserMedia` before `joinRoom`, so the stream is sent from the first offer on (a
    /// failure is logged; the bot joins without media, as a page whose camera failed).
    pub async fn before_join(&self, client: &skylink_room::Client) {
        let audio = self.audio && !self.screen;
        if !self.camera && !audio {
            return;
        }
        let options = json!({"audio": audio, "video": self.camera});
        if let Err(e) = client.get_user_media(Some(options)).await {
            tracing::warn!(error = %e, "getUserMedia for --video/--audio failed");
        }
    }

    /// `shareScreen` after joining for `--video screen`.
    pub async fn after_join(&self, client: &skylink_room::Client) {
        if self.screen
            && let Err(e) = client.share_screen(self.audio).await
        {
            tracing::warn!(error = %e, "shareScreen for --video screen failed");
        }
    }
}

fn options(p: &Params) -> Option<Value> {
    p.get("options").filter(|v| !v.is_null()).cloned()
}

fn flag(v: Option<&Value>) -> Option<bool> {
    v.and_then(Value::as_bool)
}

/// Runs a media command; `None` when `cmd` is not one.
pub async fn dispatch(ctx: &mut Ctx, cmd: &str, p: &Params) -> Option<CmdResult> {
    let c = &ctx.client;
    let err = |e: skylink_room::RoomError| e.to_string();
    let r = match cmd {
        "getUserMedia" => c
            .get_user_media(options(p))
            .await
            .map(|id| json!({"streamId": id}))
            .map_err(err),
        "sendStream" => c
            .send_stream(StreamInput::Options(options(p)))
            .await
            .map(|id| json!({"streamId": id}))
            .map_err(err),
        "shareScreen" => c
            .share_screen(flag(p.get("enableAudio")).unwrap_or(false))
            .await
            .map(|id| json!({"streamId": id}))
            .map_err(err),
        "stopScreen" => c.stop_screen().await.map(|()| Value::Null).map_err(err),
        "stopStream" => c.stop_stream().await.map(|()| Value::Null).map_err(err),
        "muteStream" => {
            let o = p.get("options").unwrap_or(&Value::Null);
            let pick = |k: &str| flag(o.get(k)).or_else(|| flag(p.get(k)));
            c.mute_stream(pick("audioMuted"), pick("videoMuted"))
                .await
                .map(|()| Value::Null)
                .map_err(err)
        }
        "enableAudio" | "disableAudio" | "enableVideo" | "disableVideo" => {
            let set = async {
                let (a, v) = c.mute_state().await?;
                let (a, v) = match cmd {
                    "enableAudio" => (false, v),
                    "disableAudio" => (true, v),
                    "enableVideo" => (a, false),
                    _ => (a, true),
                };
                c.mute_stream(Some(a), Some(v)).await
            };
            set.await.map(|()| Value::Null).map_err(err)
        }
        "getRemoteMedia" => match c.remote_tracks().await {
            Ok(tracks) => Ok(json!({
                "tracks": tracks.iter().map(|t| {
                    let mut v = json!({
                        "peerId": t.peer_id,
                        "streamId": t.stream_id,
                        "trackId": t.track_id,
                        "kind": t.kind,
                        "mimeType": t.mime_type,
                        "packets": t.packets,
                        "bytes": t.bytes,
                        "frames": t.frames,
                        "keyframes": t.keyframes,
                        "ended": t.ended,
                    });
                    if let Some(report) = probe_report(&ctx.probes, &t.track_id) {
                        v["probe"] = report;
                    }
                    v
                }).collect::<Vec<_>>(),
            })),
            Err(e) => Err(e.to_string()),
        },
        _ => return None,
    };
    Some(r)
}
