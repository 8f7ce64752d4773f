//! The traits every media source implements.
//!
//! Sources are synchronous and may block: the engine runs each one on its own thread. All
//! sources are **paced in real time** by default — `next_frame` returns when the frame is due
//! (a camera when it has captured, a test pattern or a file at its frame rate) — so the caller
//! simply forwards what it gets. Sources for benchmarks offer an unpaced constructor.

use crate::error::MediaError;
use crate::frame::{AudioFrame, Codec, EncodedFrame, VideoFrame};

/// Raw video: a camera, a screen, a test pattern.
pub trait VideoSource: Send {
    /// Width and height of the frames it yields.
    fn resolution(&self) -> (u32, u32);
    /// Nominal frames per second.
    fn frame_rate(&self) -> f64;
    /// The next frame, blocking until it is due. [`MediaError::Ended`] when the source is done.
    fn next_frame(&mut self) -> Result<VideoFrame, MediaError>;
    /// `true` for a screen capture (advertised as `screenshare` to peers).
    fn is_screen(&self) -> bool {
        false
    }
}

/// Raw audio: a microphone, a tone.
pub trait AudioSource: Send {
    /// Samples per second.
    fn sample_rate(&self) -> u32;
    /// 1 or 2.
    fn channels(&self) -> u16;
    /// The next block (20 ms for Opus), blocking until it is due.
    fn next_frame(&mut self) -> Result<AudioFrame, MediaError>;
}

/// Encoded media ready to send: VP8 frames or Opus packets.
pub trait EncodedSource: Send {
    /// The codec of every frame it yields.
    fn codec(&self) -> Codec;
    /// The next encoded frame, blocking until it is due; `Ok(None)` at the end of a file.
    fn next_frame(&mut self) -> Result<Option<EncodedFrame>, MediaError>;
    /// Ask for a key frame as soon as possible (a new receiver joined). No-op for audio.
    fn request_keyframe(&mut self) {}
    /// While muted a video source sends black frames and an audio source silence, as a
    /// browser does for a disabled track.
    fn set_muted(&mut self, _muted: bool) {}
    /// Caps the encoder's target bitrate at `kbps` from the next frame on (`None` = back to
    /// the source's own default). The engine calls it with the lowest `b=AS` of the matching
    /// kind over the remote descriptions it applied (sdp-and-peers.md §1.10: webrtc-rs does
    /// not encode, so the encoder must honour the limit). Sources that do not encode (files,
    /// pre-encoded assets) ignore it.
    fn set_max_bitrate_kbps(&mut self, _kbps: Option<u32>) {}
}
