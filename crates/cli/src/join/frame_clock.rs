//! The wall-clock time of each opened video stream's first frame, for latency measurements
//! made outside the process (`interop/bench/media-pages.mjs` compares it with the time a
//! browser displays each frame; the test pattern's frame n is then captured at that time
//! plus `n / fps`, as it is paced from its first frame).
//!
//! It is a log line, not part of the bot protocol: target `skylink_frame_clock`, level
//! info, fields `frame` (the source's frame index) and `captured_unix_ms` (milliseconds since
//! the Unix epoch, fractional). Enable it with `RUST_LOG=warn,skylink_frame_clock=info`.

use std::time::{SystemTime, UNIX_EPOCH};

use skylink_media::{Codec, EncodedFrame, EncodedSource, MediaError};
use skylink_room::local_media::{MediaDevices, MediaRequest, OpenedMedia};

/// Devices whose video sources log their first frame's capture time.
pub struct FrameClock<D>(pub D);

impl<D: MediaDevices> MediaDevices for FrameClock<D> {
    fn open(&self, request: &MediaRequest) -> Result<OpenedMedia, MediaError> {
        let mut media = self.0.open(request)?;
        if let Some(inner) = media.video.take() {
            media.video = Some(Box::new(FirstFrame {
                inner,
                logged: false,
            }));
        }
        Ok(media)
    }
}

struct FirstFrame {
    inner: Box<dyn EncodedSource>,
    logged: bool,
}

impl EncodedSource for FirstFrame {
    fn codec(&self) -> Codec {
        self.inner.codec()
    }

    fn next_frame(&mut self) -> Result<Option<EncodedFrame>, MediaError> {
        let frame = self.inner.next_frame()?;
        if let Some(f) = frame.as_ref().filter(|_| !self.logged) {
            self.logged = true;
            let wall = SystemTime::now()
                .checked_sub(f.captured_at.elapsed())
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0.0, |d| d.as_secs_f64() * 1e3);
            tracing::info!(
                target: "skylink_frame_clock",
                frame = f.index,
                captured_unix_ms = format!("{wall:.3}"),
                "first video frame captured"
            );
        }
        Ok(frame)
    }

    fn request_keyframe(&mut self) {
        self.inner.request_keyframe();
    }

    fn set_muted(&mut self, muted: bool) {
        self.inner.set_muted(muted);
    }

    fn set_max_bitrate_kbps(&mut self, kbps: Option<u32>) {
        self.inner.set_max_bitrate_kbps(kbps);
    }
}
