//! Opus through the system libopus: a test tone, an encoding source and a decoder.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::error::MediaError;
use crate::frame::{AudioFrame, Codec, EncodedFrame};
use crate::pacer::Pacer;
use crate::source::{AudioSource, EncodedSource};

/// The only sample rate WebRTC Opus uses on the wire.
pub const SAMPLE_RATE: u32 = crate::opus_toc::SAMPLE_RATE;
/// Samples per channel in one 20 ms packet at 48 kHz.
pub const FRAME_SAMPLES: usize = 960;
/// The packet duration every source here produces.
pub const FRAME_DURATION: Duration = Duration::from_millis(20);
/// The largest packet libopus can produce (RFC 6716 §3.4 bound, with headroom).
const MAX_PACKET: usize = 4000;
/// The longest packet duration Opus allows: 120 ms at 48 kHz.
const MAX_FRAME_SAMPLES: usize = 5760;

fn opus_error(e: impl std::fmt::Display) -> MediaError {
    MediaError::Codec {
        codec: "opus",
        message: e.to_string(),
    }
}

fn channels(count: u16) -> Result<opus::Channels, MediaError> {
    match count {
        1 => Ok(opus::Channels::Mono),
        2 => Ok(opus::Channels::Stereo),
        n => Err(MediaError::InvalidSettings(format!(
            "opus supports 1 or 2 channels, not {n}"
        ))),
    }
}

/// Root-mean-square level of 16-bit samples (0 for silence, ~23 170 for a full-scale sine).
///
/// ```
/// assert_eq!(skylink_media::opus::rms(&[0, 0, 0]), 0.0);
/// assert_eq!(skylink_media::opus::rms(&[100, -100]), 100.0);
/// ```
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// A 48 kHz stereo sine wave in 20 ms blocks, paced in real time unless built with
/// [`Tone::unpaced`].
#[derive(Debug, Clone)]
pub struct Tone {
    frequency: f64,
    amplitude: f64,
    next_sample: u64,
    pacer: Pacer,
}

impl Default for Tone {
    /// 440 Hz at a quarter of full scale, paced.
    fn default() -> Tone {
        Tone {
            frequency: 440.0,
            amplitude: 0.25,
            next_sample: 0,
            pacer: Pacer::real_time(),
        }
    }
}

impl Tone {
    /// A paced tone of `frequency` Hz (between 1 Hz and 20 kHz).
    pub fn new(frequency: f64) -> Result<Tone, MediaError> {
        if !(1.0..=20_000.0).contains(&frequency) {
            return Err(MediaError::InvalidSettings(format!(
                "tone frequency {frequency} Hz out of range"
            )));
        }
        Ok(Tone {
            frequency,
            ..Tone::default()
        })
    }

    /// Like [`Tone::new`] but `next_frame` never waits.
    pub fn unpaced(frequency: f64) -> Result<Tone, MediaError> {
        Ok(Tone {
            pacer: Pacer::unpaced(),
            ..Tone::new(frequency)?
        })
    }
}

impl AudioSource for Tone {
    fn sample_rate(&self) -> u32 {
        SAMPLE_RATE
    }

    fn channels(&self) -> u16 {
        2
    }

    fn next_frame(&mut self) -> Result<AudioFrame, MediaError> {
        let first = self.next_sample;
        self.next_sample += FRAME_SAMPLES as u64;
        let captured_at = self.pacer.wait_until(Duration::from_micros(
            first * 1_000_000 / u64::from(SAMPLE_RATE),
        ));
        let step = std::f64::consts::TAU * self.frequency / f64::from(SAMPLE_RATE);
        let mut samples = Vec::with_capacity(FRAME_SAMPLES * 2);
        for n in first..first + FRAME_SAMPLES as u64 {
            // Reduce the phase per sample so precision does not decay over long runs.
            let phase = step * (n % u64::from(SAMPLE_RATE)) as f64;
            let value = (phase.sin() * self.amplitude * f64::from(i16::MAX)) as i16;
            samples.extend_from_slice(&[value, value]);
        }
        Ok(AudioFrame {
            sample_rate: SAMPLE_RATE,
            channels: 2,
            samples,
            captured_at,
        })
    }
}

/// An [`EncodedSource`] of 20 ms Opus packets from a 48 kHz [`AudioSource`].
///
/// Blocks of any length are re-cut into 20 ms packets. While muted it encodes silence, as a
/// browser does for a disabled track. When the inner source reports [`MediaError::Ended`],
/// `next_frame` returns `Ok(None)`.
///
/// ```
/// use skylink_media::{EncodedSource, opus::{OpusDecoder, OpusSource, Tone, rms}};
///
/// let mut source = OpusSource::new(Tone::unpaced(440.0)?, 64_000)?;
/// let mut decoder = OpusDecoder::new(2)?;
/// let mut loudest: f64 = 0.0;
/// for _ in 0..5 {
///     let packet = source.next_frame()?.expect("a tone never ends");
///     loudest = loudest.max(rms(&decoder.decode(&packet.data)?.samples));
/// }
/// assert!(loudest > 1000.0);
/// # Ok::<(), skylink_media::MediaError>(())
/// ```
pub struct OpusSource<A: AudioSource> {
    source: A,
    encoder: opus::Encoder,
    channels: usize,
    buffered: Vec<i16>,
    buffered_at: Option<Instant>,
    index: u64,
    muted: bool,
    /// The bitrate given to [`OpusSource::new`] (bits per second).
    default_bps: i32,
    /// The bitrate in use.
    bitrate_bps: i32,
}

impl<A: AudioSource> OpusSource<A> {
    /// Encodes `source` (48 kHz, 1 or 2 channels) at `bitrate_bps` bits per second.
    pub fn new(source: A, bitrate_bps: i32) -> Result<OpusSource<A>, MediaError> {
        if source.sample_rate() != SAMPLE_RATE {
            return Err(MediaError::InvalidSettings(format!(
                "opus source needs 48 kHz audio, got {} Hz",
                source.sample_rate()
            )));
        }
        if !(6_000..=510_000).contains(&bitrate_bps) {
            return Err(MediaError::InvalidSettings(format!(
                "opus bitrate {bitrate_bps} out of range"
            )));
        }
        let mut encoder = opus::Encoder::new(
            SAMPLE_RATE,
            channels(source.channels())?,
            opus::Application::Voip,
        )
        .map_err(opus_error)?;
        encoder
            .set_bitrate(opus::Bitrate::Bits(bitrate_bps))
            .map_err(opus_error)?;
        Ok(OpusSource {
            channels: usize::from(source.channels()),
            source,
            encoder,
            buffered: Vec::with_capacity(FRAME_SAMPLES * 2),
            buffered_at: None,
            index: 0,
            muted: false,
            default_bps: bitrate_bps,
            bitrate_bps,
        })
    }

    /// The target bitrate in use (bits per second).
    pub fn bitrate_bps(&self) -> i32 {
        self.bitrate_bps
    }

    /// The raw source.
    pub fn source(&self) -> &A {
        &self.source
    }
}

impl<A: AudioSource> EncodedSource for OpusSource<A> {
    fn codec(&self) -> Codec {
        Codec::Opus
    }

    fn next_frame(&mut self) -> Result<Option<EncodedFrame>, MediaError> {
        let needed = FRAME_SAMPLES * self.channels;
        while self.buffered.len() < needed {
            let block = match self.source.next_frame() {
                Ok(block) => block,
                Err(MediaError::Ended) => return Ok(None),
                Err(e) => return Err(e),
            };
            if usize::from(block.channels) != self.channels || block.sample_rate != SAMPLE_RATE {
                return Err(MediaError::InvalidSettings(
                    "audio source changed its format mid-stream".into(),
                ));
            }
            self.buffered_at.get_or_insert(block.captured_at);
            self.buffered.extend_from_slice(&block.samples);
        }
        let mut pcm: Vec<i16> = self.buffered.drain(..needed).collect();
        if self.muted {
            pcm.fill(0);
        }
        let captured_at = self.buffered_at.take().unwrap_or_else(Instant::now);
        if !self.buffered.is_empty() {
            self.buffered_at = Some(captured_at + FRAME_DURATION);
        }
        let mut packet = vec![0u8; MAX_PACKET];
        let len = self.encoder.encode(&pcm, &mut packet).map_err(opus_error)?;
        packet.truncate(len);
        let index = self.index;
        self.index += 1;
        Ok(Some(EncodedFrame {
            codec: Codec::Opus,
            data: Bytes::from(packet),
            duration: FRAME_DURATION,
            keyframe: false,
            index,
            captured_at,
        }))
    }

    fn set_muted(&mut self, muted: bool) {
        self.muted = muted;
    }

    fn set_max_bitrate_kbps(&mut self, kbps: Option<u32>) {
        // Opus accepts 6–510 kbit/s; a cap below 6 kbit/s gives 6.
        let target = kbps.map_or(self.default_bps, |cap| {
            let cap = i32::try_from(cap.saturating_mul(1000)).unwrap_or(i32::MAX);
            cap.clamp(6_000, self.default_bps.max(6_000))
        });
        if target == self.bitrate_bps {
            return;
        }
        match self.encoder.set_bitrate(opus::Bitrate::Bits(target)) {
            Ok(()) => {
                tracing::debug!(bps = target, "Opus target bitrate changed");
                self.bitrate_bps = target;
            }
            Err(e) => tracing::warn!(error = %opus_error(e), "changing the Opus bitrate failed"),
        }
    }
}

/// An Opus decoder to 48 kHz interleaved PCM, for checks and probes.
pub struct OpusDecoder {
    decoder: opus::Decoder,
    channels: u16,
}

impl OpusDecoder {
    /// A decoder producing `channels` (1 or 2) channels.
    pub fn new(channels: u16) -> Result<OpusDecoder, MediaError> {
        let decoder =
            opus::Decoder::new(SAMPLE_RATE, self::channels(channels)?).map_err(opus_error)?;
        Ok(OpusDecoder { decoder, channels })
    }

    /// Decodes one packet. Malformed packets are an error; the decoder stays usable.
    pub fn decode(&mut self, packet: &[u8]) -> Result<AudioFrame, MediaError> {
        if packet.is_empty() {
            return Err(opus_error("empty packet"));
        }
        let channels = usize::from(self.channels);
        let mut samples = vec![0i16; MAX_FRAME_SAMPLES * channels];
        let per_channel = self
            .decoder
            .decode(packet, &mut samples, false)
            .map_err(opus_error)?;
        samples.truncate(per_channel * channels);
        Ok(AudioFrame {
            sample_rate: SAMPLE_RATE,
            channels: self.channels,
            samples,
            captured_at: Instant::now(),
        })
    }
}

/// Samples per channel (at 48 kHz) that an Opus packet decodes to, from its TOC byte.
pub fn packet_samples(packet: &[u8]) -> Result<usize, MediaError> {
    crate::opus_toc::packet_samples(packet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_bitrate_caps_under_the_default() {
        let mut s = OpusSource::new(Tone::unpaced(440.0).unwrap(), 32_000).unwrap();
        s.next_frame().unwrap();
        s.set_max_bitrate_kbps(Some(16));
        assert_eq!(s.bitrate_bps(), 16_000);
        s.set_max_bitrate_kbps(Some(2));
        assert_eq!(s.bitrate_bps(), 6_000, "opus floor");
        s.set_max_bitrate_kbps(Some(500));
        assert_eq!(s.bitrate_bps(), 32_000, "a cap never raises the default");
        s.set_max_bitrate_kbps(None);
        assert_eq!(s.bitrate_bps(), 32_000);
        assert!(s.next_frame().unwrap().is_some());
    }

    #[test]
    fn bad_settings_are_rejected() {
        assert!(Tone::new(0.0).is_err());
        assert!(OpusDecoder::new(3).is_err());
        assert!(OpusSource::new(Tone::unpaced(440.0).expect("tone"), 10).is_err());
    }

    #[test]
    fn garbage_packets_are_errors() {
        let mut decoder = OpusDecoder::new(2).expect("decoder");
        assert!(decoder.decode(&[]).is_err());
        // A code-3 packet claiming 63 frames with no payload is invalid.
        assert!(decoder.decode(&[0x03, 0xff]).is_err());
    }
}
