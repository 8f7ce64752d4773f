//! The engine's media API (sdp-and-peers.md §4.2–§4.7): `getUserMedia`, `sendStream`,
//! `shareScreen` / `stopScreen`, `stopStream`, `muteStream`, and the local stream records.

use serde_json::{Value, json};
use skylink_media::MediaError;

use super::{Engine, now_ms};
use crate::error::RoomError;
use crate::event::Event;
use crate::local_media::{Chosen, Feed, LocalStream, MediaRequest, OpenedMedia, new_stream_id};
use crate::session::LocalAdvert;

/// What `sendStream` sends: new media from the devices, or sources the application opened.
pub enum StreamInput {
    /// `sendStream(options)`: `getUserMedia(options)` first.
    Options(Option<Value>),
    /// `sendStream(stream)`: adopt these sources as the camera stream (settings
    /// `{audio: true, video: true}`, as the reference does for a stream object).
    Sources(OpenedMedia),
}

impl std::fmt::Debug for StreamInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamInput::Options(o) => f.debug_tuple("Options").field(o).finish(),
            StreamInput::Sources(s) => f.debug_tuple("Sources").field(s).finish(),
        }
    }
}

/// The parsed `getUserMedia` options: the device request, the advertised settings and the
/// mute requests.
pub(super) struct UserMediaOptions {
    pub(super) request: MediaRequest,
    pub(super) settings: Value,
    pub(super) mute_audio: bool,
    pub(super) mute_video: bool,
}

pub(super) fn parse_options(options: Option<&Value>) -> Result<UserMediaOptions, RoomError> {
    let parsed = skylink_media::settings::MediaOptions::from_optional_json(options)
        .map_err(|e| RoomError::InvalidArgument(invalid_text(e)))?;
    let (width, height) = parsed.resolution().unwrap_or((640, 480));
    Ok(UserMediaOptions {
        request: MediaRequest {
            audio: parsed.audio.is_some(),
            video: parsed.video.is_some(),
            screen: false,
            width: width.clamp(16, 7680),
            height: height.clamp(16, 4320),
            frame_rate: parsed.frame_rate().unwrap_or(30.0).clamp(1.0, 60.0),
            audio_device: parsed.audio.as_ref().and_then(|a| a.device_id.clone()),
            video_device: parsed.video.as_ref().and_then(|v| v.device_id.clone()),
        },
        settings: parsed.advertised_settings(),
        mute_audio: parsed.audio_mute_requested(),
        mute_video: parsed.video_mute_requested(),
    })
}

fn invalid_text(e: MediaError) -> String {
    match e {
        MediaError::InvalidSettings(s) => s,
        other => other.to_string(),
    }
}

fn truthy(v: Option<&Value>) -> bool {
    !matches!(v, None | Some(Value::Null) | Some(Value::Bool(false)))
}

impl Engine {
    /// Opens devices on a blocking thread (capture setup may take a while).
    async fn open_devices(&self, request: MediaRequest) -> Result<OpenedMedia, MediaError> {
        let devices = self.opts.media_devices.clone();
        tokio::task::spawn_blocking(move || devices.open(&request))
            .await
            .map_err(|e| MediaError::NoDevice(format!("device thread failed: {e}")))?
    }

    /// `getUserMedia(options)` (§4.2) including the audio fallback. Returns the stream id.
    pub(super) async fn get_user_media(
        &mut self,
        options: Option<Value>,
    ) -> Result<String, RoomError> {
        let opts = parse_options(options.as_ref())?;
        match self.open_devices(opts.request.clone()).await {
            Ok(opened) => {
                let id = self.adopt(opened, opts.settings, false, false).await;
                self.apply_mute_request(opts.mute_audio, opts.mute_video);
                Ok(id)
            }
            Err(error) if opts.request.audio && opts.request.video && self.opts.audio_fallback => {
                self.emit(Event::MediaAccessFallback {
                    error: error.to_string(),
                    diff: Value::Null,
                    state: 0,
                    is_screensharing: false,
                    is_audio_fallback: true,
                    stream_id: None,
                });
                let request = MediaRequest {
                    video: false,
                    audio_device: None,
                    ..opts.request.clone()
                };
                match self.open_devices(request).await {
                    Ok(opened) => {
                        let mut settings = opts.settings;
                        settings["audio"] = json!({"stereo": false});
                        let id = self.adopt(opened, settings, false, true).await;
                        self.apply_mute_request(opts.mute_audio, opts.mute_video);
                        Ok(id)
                    }
                    Err(e2) => {
                        self.emit(Event::MediaAccessError {
                            error: e2.to_string(),
                            is_screensharing: false,
                            is_audio_fallback_error: true,
                        });
                        self.emit(Event::MediaAccessFallback {
                            error: e2.to_string(),
                            diff: Value::Null,
                            state: -1,
                            is_screensharing: false,
                            is_audio_fallback: true,
                            stream_id: None,
                        });
                        Err(RoomError::Media(e2.to_string()))
                    }
                }
            }
            Err(error) => {
                self.emit(Event::MediaAccessError {
                    error: error.to_string(),
                    is_screensharing: false,
                    is_audio_fallback_error: false,
                });
                Err(RoomError::Media(error.to_string()))
            }
        }
    }

    fn apply_mute_request(&mut self, audio: bool, video: bool) {
        if audio {
            self.audio_muted = true;
        }
        if video {
            self.video_muted = true;
        }
        self.apply_mute_to_feeds();
        self.publish_media();
    }

    fn apply_mute_to_feeds(&self) {
        for s in self.camera.iter().chain(self.screen.iter()) {
            s.apply_mute(self.audio_muted, self.video_muted);
        }
    }

    /// The success path (§4.2 `_onStreamAccessSuccess`): replaces the held stream of the same
    /// kind, reports missing kinds as `mediaAccessFallback`, stores and announces the record.
    pub(super) async fn adopt(
        &mut self,
        opened: OpenedMedia,
        mut settings: Value,
        is_screen: bool,
        is_audio_fallback: bool,
    ) -> String {
        self.stop_record(is_screen).await;
        let id = new_stream_id();
        let (want_audio, want_video) =
            (truthy(settings.get("audio")), truthy(settings.get("video")));
        let (got_audio, got_video) = (opened.audio.is_some(), opened.video.is_some());
        if (want_audio && !got_audio) || (want_video && !got_video) {
            let n = |b: bool| u8::from(b);
            self.emit(Event::MediaAccessFallback {
                error: format!(
                    "Expected audio tracks length with {} and video tracks length with {} but received audio tracks length with {} and video tracks length with {}",
                    n(want_audio), n(want_video), n(got_audio), n(got_video)
                ),
                diff: json!({
                    "video": {"expected": n(want_video), "received": n(got_video)},
                    "audio": {"expected": n(want_audio), "received": n(got_audio)},
                }),
                state: 1,
                is_screensharing: is_screen,
                is_audio_fallback,
                stream_id: Some(id.clone()),
            });
            if !got_audio {
                settings["audio"] = Value::Bool(false);
            }
            if !got_video {
                settings["video"] = Value::Bool(false);
            }
        }
        let tx = self.media_ended_tx.clone();
        let record = LocalStream {
            id: id.clone(),
            settings,
            is_screen,
            is_audio_fallback,
            audio: opened.audio.map(|s| Feed::start(s, id.clone(), tx.clone())),
            video: opened.video.map(|s| Feed::start(s, id.clone(), tx.clone())),
        };
        if is_screen {
            self.screen = Some(record);
        } else {
            self.camera = Some(record);
        }
        self.apply_mute_to_feeds();
        self.publish_media();
        self.emit(Event::MediaAccessSuccess {
            stream_id: id.clone(),
            is_screensharing: is_screen,
            is_audio_fallback,
        });
        id
    }

    /// Stops the held camera (`is_screen == false`) or screen record: the stopped handling
    /// of §4.7 (`mediaAccessStopped`, and in a room the `stream`/`ended` message and
    /// `streamEnded(self)`).
    pub(super) async fn stop_record(&mut self, is_screen: bool) {
        let taken = if is_screen {
            self.screen.take()
        } else {
            self.camera.take()
        };
        let Some(mut record) = taken else { return };
        record.stop();
        self.publish_media();
        self.emit(Event::MediaAccessStopped {
            is_screensharing: is_screen,
            is_audio_fallback: record.is_audio_fallback,
            stream_id: record.id.clone(),
        });
        let out = match self.session.as_mut().filter(|_| self.in_room) {
            Some(s) => s.local_stream_ended(
                &record.id,
                &record.settings,
                is_screen,
                std::time::Instant::now(),
            ),
            None => Vec::new(),
        };
        self.apply(out).await;
    }

    /// Tells the session what we advertise and the peer layer what to send.
    pub(super) fn publish_media(&mut self) {
        let held = self.screen.as_ref().or(self.camera.as_ref());
        let advert = LocalAdvert {
            stream_id: held.map(|r| r.id.clone()),
            settings: held.map(|r| r.settings.clone()),
            is_screen: held.is_some_and(|r| r.is_screen),
            audio_muted: self.audio_muted,
            video_muted: self.video_muted,
        };
        let chosen = Chosen {
            stream_id: held.map(|r| r.id.clone()),
            feeds: held.map(LocalStream::feeds).unwrap_or_default(),
        };
        if let Some(s) = self.session.as_mut() {
            s.set_local_media(advert);
        }
        if let Some(p) = self.peers.as_mut() {
            p.set_chosen(chosen);
        }
    }

    /// After a change of the sent stream: `incomingStream(self)` (unless `announce` is
    /// false) and a refresh of every connection without ICE restart (§4.3, §4.4).
    async fn announce_and_refresh(&mut self, announce: bool) -> Result<(), RoomError> {
        if !self.in_room {
            return Ok(());
        }
        if announce {
            let out = self
                .session
                .as_ref()
                .map(|s| s.local_stream_announced())
                .unwrap_or_default();
            self.apply(out).await;
        }
        let has_peers = self
            .peers
            .as_ref()
            .is_some_and(|p| !p.peer_ids().is_empty());
        if has_peers {
            let r = self.refresh(None, false).await;
            if !r.refresh_errors.is_empty() {
                tracing::debug!(errors = ?r.refresh_errors, "refresh after a stream change");
                return Err(RoomError::Media("Failed refreshing connections.".into()));
            }
        }
        Ok(())
    }

    /// `sendStream(options | stream)` (§4.3).
    pub(super) async fn send_stream(&mut self, input: StreamInput) -> Result<String, RoomError> {
        if !self.in_room {
            return Err(RoomError::Media(
                "Unable to send stream as user is not in the Room.".into(),
            ));
        }
        let id = match input {
            StreamInput::Options(o) => self.get_user_media(o).await?,
            StreamInput::Sources(opened) => {
                if opened.audio.is_none() && opened.video.is_none() {
                    return Err(RoomError::InvalidArgument(
                        "Provided stream object does not have audio or video tracks.".into(),
                    ));
                }
                self.adopt(opened, json!({"audio": true, "video": true}), false, false)
                    .await
            }
        };
        let announce = self.screen.is_none();
        self.announce_and_refresh(announce).await?;
        Ok(id)
    }

    /// `shareScreen(enableAudio)` (§4.4): the screen from the devices, plus audio when asked.
    pub(super) async fn share_screen(&mut self, audio: bool) -> Result<String, RoomError> {
        let request = MediaRequest {
            audio,
            video: true,
            screen: true,
            frame_rate: 15.0,
            ..MediaRequest::default()
        };
        let opened = match self.open_devices(request).await {
            Ok(o) => o,
            Err(e) => {
                self.emit(Event::MediaAccessError {
                    error: e.to_string(),
                    is_screensharing: true,
                    is_audio_fallback_error: false,
                });
                return Err(RoomError::Media(e.to_string()));
            }
        };
        let settings = skylink_media::settings::screenshare_settings(&Value::Bool(audio));
        let id = self.adopt(opened, settings, true, false).await;
        self.announce_and_refresh(true).await?;
        Ok(id)
    }

    /// `stopScreen()` (§4.4): the camera goes back on the wire.
    pub(super) async fn stop_screen(&mut self) {
        if self.screen.is_none() {
            return;
        }
        self.stop_record(true).await;
        let announce = self.camera.is_some();
        if let Err(e) = self.announce_and_refresh(announce).await {
            tracing::debug!(error = %e, "stopScreen refresh");
        }
    }

    /// `stopStream()` (§4.5): no renegotiation.
    pub(super) async fn stop_stream(&mut self) {
        self.stop_record(false).await;
    }

    /// `muteStream({audioMuted, videoMuted})` (§4.6); `None` means `true`, as the reference.
    pub(super) async fn mute_stream(&mut self, audio: Option<bool>, video: Option<bool>) {
        if self.camera.is_none() && self.screen.is_none() {
            return;
        }
        let (audio, video) = (audio.unwrap_or(true), video.unwrap_or(true));
        let audio_changed = audio != self.audio_muted;
        let video_changed = video != self.video_muted;
        if !audio_changed && !video_changed {
            return;
        }
        self.audio_muted = audio;
        self.video_muted = video;
        self.apply_mute_to_feeds();
        self.publish_media();
        let records = || self.camera.iter().chain(self.screen.iter());
        let has_audio = records().any(|r| r.audio.is_some());
        let has_video = records().any(|r| r.video.is_some());
        let announce = (has_video && video_changed) || (has_audio && audio_changed);
        if announce {
            self.emit(Event::LocalMediaMuted {
                audio_muted: if has_audio { audio } else { true },
                video_muted: if has_video { video } else { true },
            });
        }
        let out = match self.session.as_mut().filter(|_| self.in_room) {
            Some(s) => s.local_mute_changed(
                audio_changed,
                video_changed,
                announce,
                now_ms(),
                std::time::Instant::now(),
            ),
            None => Vec::new(),
        };
        self.apply(out).await;
    }

    /// A feed's source ended by itself (end of file, device gone): the platform "ended"
    /// handling of §4.2 step 2 — a screen share runs `stopScreen`, a camera stream stops.
    pub(super) async fn media_ended(&mut self, stream_id: String) {
        if self.screen.as_ref().is_some_and(|r| r.id == stream_id) {
            self.stop_screen().await;
        } else if self.camera.as_ref().is_some_and(|r| r.id == stream_id) {
            self.stop_stream().await;
        }
    }
}
