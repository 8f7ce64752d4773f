//! Media for skylink-rs: where audio and video come from and where received media goes.
//!
//! The crate is independent of WebRTC: it produces **encoded frames** (VP8 video, Opus audio)
//! paced in real time, and consumes encoded frames (recorders, the VP8 decoder probe). The
//! engine (`skylink-room`) packetizes what [`EncodedSource`] yields into RTP and hands
//! depacketized frames to the sinks.
//!
//! Shared vocabulary lives in [`frame`] (raw and encoded frames) and [`source`] (the traits
//! every source implements).

pub mod capture;
pub mod error;
pub mod frame;
pub mod sink;
pub mod source;

pub use error::MediaError;
pub use frame::{AudioFrame, Codec, EncodedFrame, MediaKind, VideoFrame};
pub use sink::FrameSink;
pub use source::{AudioSource, EncodedSource, VideoSource};
