//! Raw and encoded media frames.

use std::time::{Duration, Instant};

use bytes::Bytes;

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// An audio track.
    Audio,
    /// A video track.
    Video,
}

/// The codecs the Rust peer sends; both are what Chromium and SkylinkJS 0.6 prefer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// VP8 video, 90 kHz RTP clock.
    Vp8,
    /// Opus audio, 48 kHz RTP clock, two channels in SDP.
    Opus,
}

impl Codec {
    /// The MIME type used in SDP and by the `webrtc` crate (`video/VP8`, `audio/opus`).
    pub fn mime_type(self) -> &'static str {
        match self {
            Codec::Vp8 => "video/VP8",
            Codec::Opus => "audio/opus",
        }
    }

    /// The RTP clock rate.
    pub fn clock_rate(self) -> u32 {
        match self {
            Codec::Vp8 => 90_000,
            Codec::Opus => 48_000,
        }
    }

    /// The channel count advertised in SDP (`0` for video).
    pub fn channels(self) -> u16 {
        match self {
            Codec::Vp8 => 0,
            Codec::Opus => 2,
        }
    }

    /// Which kind of track carries this codec.
    pub fn kind(self) -> MediaKind {
        match self {
            Codec::Vp8 => MediaKind::Video,
            Codec::Opus => MediaKind::Audio,
        }
    }
}

/// One raw video frame in I420 (planar Y, then U, then V at half resolution each way).
#[derive(Debug, Clone)]
pub struct VideoFrame {
    /// Width in pixels (even).
    pub width: u32,
    /// Height in pixels (even).
    pub height: u32,
    /// `width*height` luma bytes followed by two `(width/2)*(height/2)` chroma planes.
    pub data: Vec<u8>,
    /// Frame counter of the source, from 0.
    pub index: u64,
    /// When the frame was captured or generated (for end-to-end latency).
    pub captured_at: Instant,
}

impl VideoFrame {
    /// The byte length of an I420 frame of this size.
    pub fn i420_len(width: u32, height: u32) -> usize {
        let (w, h) = (width as usize, height as usize);
        w * h + 2 * (w / 2) * (h / 2)
    }

    /// A black frame (Y = 16, U = V = 128, the BT.601 video-range black).
    pub fn black(width: u32, height: u32, index: u64) -> VideoFrame {
        let luma = width as usize * height as usize;
        let mut data = vec![128u8; VideoFrame::i420_len(width, height)];
        data[..luma].fill(16);
        VideoFrame {
            width,
            height,
            data,
            index,
            captured_at: Instant::now(),
        }
    }

    /// The luma plane.
    pub fn y(&self) -> &[u8] {
        &self.data[..self.width as usize * self.height as usize]
    }

    /// Mean luma over the whole frame: about 16 for black video, 0 for an empty frame.
    ///
    /// ```
    /// use skylink_media::VideoFrame;
    ///
    /// assert_eq!(VideoFrame::black(64, 48, 0).mean_luma(), 16.0);
    /// ```
    pub fn mean_luma(&self) -> f64 {
        let luma = &self.data[..(self.width as usize * self.height as usize).min(self.data.len())];
        if luma.is_empty() {
            return 0.0;
        }
        luma.iter().map(|&v| u64::from(v)).sum::<u64>() as f64 / luma.len() as f64
    }
}

/// One block of raw audio: interleaved signed 16-bit samples.
#[derive(Debug, Clone)]
pub struct AudioFrame {
    /// Samples per second (48 000 for everything the crate produces).
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: u16,
    /// `channels` samples per instant, interleaved.
    pub samples: Vec<i16>,
    /// When the block was captured or generated.
    pub captured_at: Instant,
}

impl AudioFrame {
    /// How long the block plays.
    pub fn duration(&self) -> Duration {
        let per_channel = self.samples.len() as u64 / u64::from(self.channels.max(1));
        Duration::from_micros(per_channel * 1_000_000 / u64::from(self.sample_rate.max(1)))
    }
}

/// One encoded frame ready for RTP packetization: a whole VP8 frame or one Opus packet.
#[derive(Debug, Clone)]
pub struct EncodedFrame {
    /// The codec of `data`.
    pub codec: Codec,
    /// The compressed bytes.
    pub data: Bytes,
    /// How long the frame is shown / played (drives the RTP timestamp).
    pub duration: Duration,
    /// A VP8 key frame (always `false` for audio).
    pub keyframe: bool,
    /// The raw frame's index at the source.
    pub index: u64,
    /// When the raw frame was captured (end-to-end latency starts here).
    pub captured_at: Instant,
}
