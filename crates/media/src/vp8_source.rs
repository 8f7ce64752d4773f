//! Raw video in, VP8 frames out: the video half of what a WebRTC sender does.

use std::collections::VecDeque;

use crate::error::MediaError;
use crate::frame::{Codec, EncodedFrame, VideoFrame};
use crate::source::{EncodedSource, VideoSource};
use crate::vp8::Vp8Encoder;

/// An [`EncodedSource`] that pulls frames from a [`VideoSource`] and encodes them to VP8.
///
/// Pacing comes from the inner source. When the inner source reports
/// [`MediaError::Ended`], `next_frame` returns `Ok(None)`. A change of resolution (a camera
/// switching mode) re-creates the encoder, starting with a key frame.
///
/// ```
/// use skylink_media::{EncodedSource, testpattern::TestPattern, vp8_source::Vp8Source};
///
/// let mut source = Vp8Source::new(TestPattern::unpaced(320, 240, 30.0)?, 300)?;
/// let first = source.next_frame()?.expect("a test pattern never ends");
/// assert!(first.keyframe);
/// assert_eq!(first.index, 0);
/// # Ok::<(), skylink_media::MediaError>(())
/// ```
pub struct Vp8Source<S: VideoSource> {
    source: S,
    encoder: Vp8Encoder,
    bitrate_kbps: u32,
    /// The bitrate given to [`Vp8Source::new`] / [`Vp8Source::set_bitrate_kbps`].
    default_kbps: u32,
    muted: bool,
    keyframe_requested: bool,
    pending: VecDeque<EncodedFrame>,
}

impl<S: VideoSource> Vp8Source<S> {
    /// Encodes `source` at its resolution and frame rate with a `bitrate_kbps` target.
    pub fn new(source: S, bitrate_kbps: u32) -> Result<Vp8Source<S>, MediaError> {
        let (width, height) = source.resolution();
        let encoder = Vp8Encoder::new(width, height, source.frame_rate(), bitrate_kbps)?;
        Ok(Vp8Source {
            source,
            encoder,
            bitrate_kbps,
            default_kbps: bitrate_kbps,
            muted: false,
            keyframe_requested: false,
            pending: VecDeque::new(),
        })
    }

    /// The raw source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// Changes the target bitrate from the next frame on (it also becomes the default that
    /// [`EncodedSource::set_max_bitrate_kbps`] caps).
    pub fn set_bitrate_kbps(&mut self, bitrate_kbps: u32) -> Result<(), MediaError> {
        self.encoder.set_bitrate_kbps(bitrate_kbps)?;
        self.bitrate_kbps = bitrate_kbps;
        self.default_kbps = bitrate_kbps;
        Ok(())
    }

    /// The target bitrate in use (kbit/s).
    pub fn bitrate_kbps(&self) -> u32 {
        self.bitrate_kbps
    }

    /// Whether black frames are being sent instead of the source's content.
    pub fn is_muted(&self) -> bool {
        self.muted
    }

    fn encode(&mut self, raw: VideoFrame) -> Result<(), MediaError> {
        let frame = if self.muted {
            VideoFrame {
                captured_at: raw.captured_at,
                ..VideoFrame::black(raw.width, raw.height, raw.index)
            }
        } else {
            raw
        };
        if (frame.width, frame.height) != self.encoder.resolution() {
            tracing::debug!(
                width = frame.width,
                height = frame.height,
                "video source changed resolution"
            );
            self.encoder = Vp8Encoder::new(
                frame.width,
                frame.height,
                self.source.frame_rate(),
                self.bitrate_kbps,
            )?;
        }
        let force = std::mem::take(&mut self.keyframe_requested);
        self.pending.extend(self.encoder.encode(&frame, force)?);
        Ok(())
    }
}

impl<S: VideoSource> EncodedSource for Vp8Source<S> {
    fn codec(&self) -> Codec {
        Codec::Vp8
    }

    fn next_frame(&mut self) -> Result<Option<EncodedFrame>, MediaError> {
        loop {
            if let Some(frame) = self.pending.pop_front() {
                return Ok(Some(frame));
            }
            match self.source.next_frame() {
                Ok(raw) => self.encode(raw)?,
                Err(MediaError::Ended) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    fn request_keyframe(&mut self) {
        self.keyframe_requested = true;
    }

    fn set_muted(&mut self, muted: bool) {
        self.muted = muted;
    }

    fn set_max_bitrate_kbps(&mut self, kbps: Option<u32>) {
        let target = kbps.map_or(self.default_kbps, |cap| cap.clamp(1, self.default_kbps));
        if target == self.bitrate_kbps {
            return;
        }
        match self.encoder.set_bitrate_kbps(target) {
            Ok(()) => {
                tracing::debug!(kbps = target, "VP8 target bitrate changed");
                self.bitrate_kbps = target;
            }
            Err(e) => tracing::warn!(error = %e, "changing the VP8 bitrate failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testpattern::TestPattern;

    #[test]
    fn max_bitrate_caps_under_the_default() {
        let mut s = Vp8Source::new(TestPattern::unpaced(160, 120, 30.0).unwrap(), 300).unwrap();
        s.next_frame().unwrap();
        s.set_max_bitrate_kbps(Some(100));
        assert_eq!(s.bitrate_kbps(), 100);
        s.next_frame().unwrap();
        s.set_max_bitrate_kbps(Some(1000));
        assert_eq!(s.bitrate_kbps(), 300, "a cap never raises the default");
        s.set_max_bitrate_kbps(Some(50));
        s.set_max_bitrate_kbps(None);
        assert_eq!(s.bitrate_kbps(), 300);
    }
}
