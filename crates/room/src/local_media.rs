//! Local media held by the engine (sdp-and-peers.md §4.1): at most a camera stream and a
//! screen stream, each made of up to two feeds. A feed runs its [`EncodedSource`] on its
//! own thread (sources block until a frame is due) and fans the frames out to every peer
//! connection that sends them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;

use serde_json::Value;
use skylink_media::{Codec, EncodedFrame, EncodedSource, MediaError};
use tokio::sync::{broadcast, mpsc};

/// Frames a slow peer may fall behind by before it skips ahead (about 2 s of video).
const FEED_BACKLOG: usize = 64;

/// The encoded sources a device request produced.
#[derive(Default)]
pub struct OpenedMedia {
    /// An Opus source.
    pub audio: Option<Box<dyn EncodedSource>>,
    /// A VP8 source.
    pub video: Option<Box<dyn EncodedSource>>,
}

impl std::fmt::Debug for OpenedMedia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedMedia")
            .field("audio", &self.audio.is_some())
            .field("video", &self.video.is_some())
            .finish()
    }
}

/// What `getUserMedia` / `shareScreen` ask a [`MediaDevices`] for.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRequest {
    /// Capture audio.
    pub audio: bool,
    /// Capture video.
    pub video: bool,
    /// Capture the screen instead of a camera (`shareScreen`).
    pub screen: bool,
    /// Requested video width.
    pub width: u32,
    /// Requested video height.
    pub height: u32,
    /// Requested frames per second.
    pub frame_rate: f64,
    /// `audio.deviceId`.
    pub audio_device: Option<String>,
    /// `video.deviceId`.
    pub video_device: Option<String>,
}

impl Default for MediaRequest {
    fn default() -> Self {
        MediaRequest {
            audio: true,
            video: true,
            screen: false,
            width: 640,
            height: 480,
            frame_rate: 30.0,
            audio_device: None,
            video_device: None,
        }
    }
}

/// Where the engine's `getUserMedia` and `shareScreen` get their media: the Rust
/// counterpart of the browser's devices. Opening may block (it runs on a blocking thread).
pub trait MediaDevices: Send + Sync {
    /// Opens what `request` asks for. A device that does not exist is
    /// [`MediaError::NoDevice`]; returning fewer kinds than requested is allowed (the engine
    /// then raises `mediaAccessFallback`, as the reference does).
    fn open(&self, request: &MediaRequest) -> Result<OpenedMedia, MediaError>;
}

/// No devices at all: every request fails with [`MediaError::NoDevice`] (the default until
/// an application configures devices).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDevices;

impl MediaDevices for NoDevices {
    fn open(&self, _request: &MediaRequest) -> Result<OpenedMedia, MediaError> {
        Err(MediaError::NoDevice(
            "no media devices configured (InitOptions::media_devices)".into(),
        ))
    }
}

/// A cheap handle on a running feed, shared with the peer connections that send it.
#[derive(Clone)]
pub(crate) struct FeedHandle {
    pub(crate) codec: Codec,
    pub(crate) tx: broadcast::Sender<Arc<EncodedFrame>>,
    keyframe: Arc<AtomicBool>,
    /// Bitrate cap in kbit/s asked of the source (`NO_CAP` = none); the feed thread applies
    /// a change before its next frame.
    max_kbps: Arc<AtomicU32>,
}

/// [`FeedHandle::set_max_bitrate_kbps`] without a cap.
const NO_CAP: u32 = 0;

impl std::fmt::Debug for FeedHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedHandle")
            .field("codec", &self.codec)
            .finish_non_exhaustive()
    }
}

impl FeedHandle {
    /// Frames from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<EncodedFrame>> {
        self.tx.subscribe()
    }

    /// Asks the source for a key frame (a new receiver needs one to start decoding).
    pub(crate) fn request_keyframe(&self) {
        self.keyframe.store(true, Ordering::Release);
    }

    /// Caps the source's bitrate (`None` = its default), from the next frame on.
    pub(crate) fn set_max_bitrate_kbps(&self, kbps: Option<u32>) {
        self.max_kbps
            .store(kbps.map_or(NO_CAP, |k| k.max(1)), Ordering::Release);
    }
}

/// One running source.
pub(crate) struct Feed {
    handle: FeedHandle,
    muted: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Feed {
    /// Starts `source` on its own thread. `ended` hears `stream_id` once when the source
    /// ends by itself (end of file, device gone).
    pub(crate) fn start(
        mut source: Box<dyn EncodedSource>,
        stream_id: String,
        ended: mpsc::UnboundedSender<String>,
    ) -> Feed {
        let codec = source.codec();
        let (tx, _) = broadcast::channel(FEED_BACKLOG);
        let keyframe = Arc::new(AtomicBool::new(false));
        let muted = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let max_kbps = Arc::new(AtomicU32::new(NO_CAP));
        let handle = FeedHandle {
            codec,
            tx: tx.clone(),
            keyframe: keyframe.clone(),
            max_kbps: max_kbps.clone(),
        };
        let (m, s) = (muted.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name(format!("feed-{}", codec.mime_type()))
            .spawn(move || {
                let mut was_muted = false;
                let mut cap = NO_CAP;
                while !s.load(Ordering::Acquire) {
                    let now_cap = max_kbps.load(Ordering::Acquire);
                    if now_cap != cap {
                        source.set_max_bitrate_kbps((now_cap != NO_CAP).then_some(now_cap));
                        cap = now_cap;
                    }
                    let now_muted = m.load(Ordering::Acquire);
                    if now_muted != was_muted {
                        source.set_muted(now_muted);
                        was_muted = now_muted;
                    }
                    if keyframe.swap(false, Ordering::AcqRel) {
                        source.request_keyframe();
                    }
                    match source.next_frame() {
                        Ok(Some(frame)) => {
                            // No receiver yet is normal (not attached / not negotiated).
                            let _ = tx.send(Arc::new(frame));
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(codec = codec.mime_type(), error = %e, "media source failed");
                            break;
                        }
                    }
                }
                if !s.load(Ordering::Acquire) {
                    let _ = ended.send(stream_id);
                }
            })
            .ok();
        Feed {
            handle,
            muted,
            stop,
            thread,
        }
    }

    pub(crate) fn handle(&self) -> FeedHandle {
        self.handle.clone()
    }

    pub(crate) fn set_muted(&self, muted: bool) {
        self.muted.store(muted, Ordering::Release);
    }

    pub(crate) fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // The thread finishes its current frame (at most one frame interval) on its own;
        // joining here would block the engine task.
        self.thread.take();
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A held local stream (`streams.userMedia` or `streams.screenshare`).
pub(crate) struct LocalStream {
    pub(crate) id: String,
    /// Advertised `{audio, video}` settings.
    pub(crate) settings: Value,
    pub(crate) is_screen: bool,
    pub(crate) is_audio_fallback: bool,
    pub(crate) audio: Option<Feed>,
    pub(crate) video: Option<Feed>,
}

impl LocalStream {
    pub(crate) fn feeds(&self) -> Vec<FeedHandle> {
        self.audio
            .iter()
            .chain(self.video.iter())
            .map(Feed::handle)
            .collect()
    }

    pub(crate) fn stop(&mut self) {
        for f in self.audio.iter_mut().chain(self.video.iter_mut()) {
            f.stop();
        }
    }

    pub(crate) fn apply_mute(&self, audio_muted: bool, video_muted: bool) {
        if let Some(a) = &self.audio {
            a.set_muted(audio_muted);
        }
        if let Some(v) = &self.video {
            v.set_muted(video_muted);
        }
    }
}

/// The stream that peer connections send (§4.1: the screen share wins), shared with the
/// peer layer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Chosen {
    pub(crate) stream_id: Option<String>,
    pub(crate) feeds: Vec<FeedHandle>,
}

/// A new random stream id in the shape browsers use (36 characters, msid-safe).
pub(crate) fn new_stream_id() -> String {
    let r: u128 = rand::random();
    let h = format!("{r:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
