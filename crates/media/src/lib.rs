//! Media for skylink-rs: where audio and video come from and where received media goes.
//!
//! The crate is independent of WebRTC: it produces **encoded frames** (VP8 video, Opus audio)
//! paced in real time, and consumes encoded frames (recorders, the VP8 decoder probe). The
//! engine (`skylink-room`) packetizes what [`EncodedSource`] yields into RTP and hands
//! depacketized frames to the sinks.
//!
//! Shared vocabulary lives in [`frame`] (raw and encoded frames) and [`source`] (the traits
//! every source implements).
//!
//! - Codecs: [`vp8`] (libvpx) and [`opus`] (libopus, plus the [`Tone`] test source).
//! - Synthetic video: [`testpattern`], whose frames carry a machine-readable frame number.
//! - Encoding sources: [`vp8_source`] and [`opus::OpusSource`]; files: [`ivf`], [`ogg_opus`].
//! - Checks on received media: [`probe`]. Real-time pacing: [`pacer`].
//! - The reference API's `getUserMedia()` options: [`settings`].
//!
//! The codecs (libvpx, libopus) are behind the `codecs` feature; without it the crate is pure
//! Rust (files, settings, the raw test pattern, screen capture to raw frames).
//!
//! ```
//! # #[cfg(feature = "codecs")] {
//! use skylink_media::{EncodedSource, TestPattern, Vp8Probe, Vp8Source};
//!
//! let mut sender = Vp8Source::new(TestPattern::unpaced(320, 240, 30.0)?, 300)?;
//! let mut probe = Vp8Probe::new()?;
//! probe.push(&sender.next_frame()?.expect("frame").data)?;
//! assert_eq!(probe.report().last_frame_number, Some(0));
//! # }
//! # Ok::<(), skylink_media::MediaError>(())
//! ```

pub mod assets;
pub mod capture;
mod digits;
pub mod error;
pub mod frame;
mod frame_code;
pub mod ivf;
pub mod ogg_opus;
#[cfg(feature = "codecs")]
pub mod opus;
pub mod opus_toc;
pub mod pacer;
#[cfg(feature = "codecs")]
pub mod probe;
pub mod settings;
pub mod sink;
pub mod source;
pub mod testpattern;
#[cfg(feature = "codecs")]
pub mod vp8;
#[cfg(feature = "codecs")]
pub mod vp8_source;

pub use error::MediaError;
pub use frame::{AudioFrame, Codec, EncodedFrame, MediaKind, VideoFrame};
pub use ivf::{IvfFileSource, IvfRecorder};
pub use ogg_opus::{OggOpusFileSource, OggOpusRecorder};
#[cfg(feature = "codecs")]
pub use opus::{OpusDecoder, OpusSource, Tone};
#[cfg(feature = "codecs")]
pub use probe::{OpusProbe, ProbeReport, Vp8Probe};
pub use settings::MediaOptions;
pub use sink::FrameSink;
pub use source::{AudioSource, EncodedSource, VideoSource};
pub use testpattern::{TestPattern, read_frame_number};
#[cfg(feature = "codecs")]
pub use vp8::{Vp8Decoder, Vp8Encoder};
#[cfg(feature = "codecs")]
pub use vp8_source::Vp8Source;
