//! Probes for received media: decode what arrives and summarise it for assertions.
//!
//! A [`Vp8Probe`] answers "is video flowing, is it the test pattern, is it moving, is it
//! black?"; an [`OpusProbe`] answers "is audio flowing and is it more than silence?".

use crate::error::MediaError;
use crate::opus::{OpusDecoder, rms};
use crate::testpattern::read_frame_number;
use crate::vp8::Vp8Decoder;

/// Mean absolute luma difference (on sampled pixels) above which a frame counts as changed;
/// above codec noise on a still picture, far below any real motion.
const CHANGE_THRESHOLD: f64 = 0.5;
/// Only every this-many-th luma byte is compared, which is plenty to see motion.
const CHANGE_STRIDE: usize = 7;

/// A snapshot of what a [`Vp8Probe`] has seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProbeReport {
    /// Compressed frames pushed.
    pub frames_received: u64,
    /// Frames decoded into pictures.
    pub frames_decoded: u64,
    /// Pushed frames the decoder rejected.
    pub decode_errors: u64,
    /// Key frames among those pushed.
    pub keyframes: u64,
    /// The embedded frame number of the last decoded frame, when it could be read.
    pub last_frame_number: Option<u64>,
    /// Decoded frames whose embedded frame number could be read.
    pub frame_numbers_read: u64,
    /// Mean luma of the last decoded frame (≈16 for black video).
    pub mean_luma: f64,
    /// Width and height of the last decoded frame.
    pub resolution: Option<(u32, u32)>,
    /// Decoded frames whose picture differed from the one before (same size).
    pub changed_frames: u64,
}

/// Decodes whole VP8 frames and keeps a [`ProbeReport`].
///
/// ```
/// use skylink_media::{EncodedSource, probe::Vp8Probe, testpattern::TestPattern, vp8_source::Vp8Source};
///
/// let mut source = Vp8Source::new(TestPattern::unpaced(320, 240, 30.0)?, 400)?;
/// let mut probe = Vp8Probe::new()?;
/// for _ in 0..3 {
///     probe.push(&source.next_frame()?.expect("frame").data)?;
/// }
/// let report = probe.report();
/// assert_eq!(report.frames_decoded, 3);
/// assert_eq!(report.last_frame_number, Some(2));
/// assert_eq!(report.changed_frames, 2);
/// assert!(report.mean_luma > 60.0);
/// # Ok::<(), skylink_media::MediaError>(())
/// ```
pub struct Vp8Probe {
    decoder: Vp8Decoder,
    report: ProbeReport,
    previous_luma: Option<(u32, u32, Vec<u8>)>,
}

impl Vp8Probe {
    /// A probe with an empty report.
    pub fn new() -> Result<Vp8Probe, MediaError> {
        Ok(Vp8Probe {
            decoder: Vp8Decoder::new()?,
            report: ProbeReport::default(),
            previous_luma: None,
        })
    }

    /// Feeds one whole compressed VP8 frame. A frame that does not decode is counted in
    /// `decode_errors` and its error returned; the probe stays usable.
    pub fn push(&mut self, frame: &[u8]) -> Result<(), MediaError> {
        self.report.frames_received += 1;
        // Bit 0 of the VP8 frame tag is 0 for key frames (RFC 6386 §9.1).
        if frame.first().is_some_and(|tag| tag & 1 == 0) {
            self.report.keyframes += 1;
        }
        let decoded = match self.decoder.decode(frame) {
            Ok(decoded) => decoded,
            Err(e) => {
                self.report.decode_errors += 1;
                return Err(e);
            }
        };
        for picture in decoded {
            self.report.frames_decoded += 1;
            self.report.mean_luma = picture.mean_luma();
            self.report.resolution = Some((picture.width, picture.height));
            self.report.last_frame_number = read_frame_number(&picture);
            if self.report.last_frame_number.is_some() {
                self.report.frame_numbers_read += 1;
            }
            let luma = picture.y().to_vec();
            if let Some((w, h, previous)) = &self.previous_luma
                && (*w, *h) == (picture.width, picture.height)
                && mean_abs_diff(previous, &luma) > CHANGE_THRESHOLD
            {
                self.report.changed_frames += 1;
            }
            self.previous_luma = Some((picture.width, picture.height, luma));
        }
        Ok(())
    }

    /// What the probe has seen so far.
    pub fn report(&self) -> ProbeReport {
        self.report.clone()
    }
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    let (mut sum, mut count) = (0u64, 0u64);
    for (x, y) in a.iter().zip(b).step_by(CHANGE_STRIDE) {
        sum += u64::from(x.abs_diff(*y));
        count += 1;
    }
    if count == 0 {
        0.0
    } else {
        sum as f64 / count as f64
    }
}

/// A snapshot of what an [`OpusProbe`] has seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpusProbeReport {
    /// Packets pushed.
    pub packets: u64,
    /// Pushed packets the decoder rejected.
    pub decode_errors: u64,
    /// Samples per channel decoded in total.
    pub samples_decoded: u64,
    /// RMS level of the last decoded packet (0 = silence, ~23 170 = full-scale sine).
    pub last_rms: f64,
    /// The highest per-packet RMS level seen.
    pub peak_rms: f64,
}

/// Decodes Opus packets (stereo, 48 kHz) and keeps an [`OpusProbeReport`].
///
/// ```
/// use skylink_media::{EncodedSource, opus::{OpusSource, Tone}, probe::OpusProbe};
///
/// let mut source = OpusSource::new(Tone::unpaced(440.0)?, 32_000)?;
/// let mut probe = OpusProbe::new()?;
/// for _ in 0..10 {
///     probe.push(&source.next_frame()?.expect("packet").data)?;
/// }
/// assert_eq!(probe.report().packets, 10);
/// assert!(probe.report().last_rms > 1000.0, "a tone is not silence");
/// # Ok::<(), skylink_media::MediaError>(())
/// ```
pub struct OpusProbe {
    decoder: OpusDecoder,
    report: OpusProbeReport,
}

impl OpusProbe {
    /// A probe with an empty report.
    pub fn new() -> Result<OpusProbe, MediaError> {
        Ok(OpusProbe {
            decoder: OpusDecoder::new(2)?,
            report: OpusProbeReport::default(),
        })
    }

    /// Feeds one Opus packet. A packet that does not decode is counted in `decode_errors`
    /// and its error returned; the probe stays usable.
    pub fn push(&mut self, packet: &[u8]) -> Result<(), MediaError> {
        self.report.packets += 1;
        match self.decoder.decode(packet) {
            Ok(pcm) => {
                let level = rms(&pcm.samples);
                self.report.samples_decoded +=
                    (pcm.samples.len() / usize::from(pcm.channels.max(1))) as u64;
                self.report.last_rms = level;
                self.report.peak_rms = self.report.peak_rms.max(level);
                Ok(())
            }
            Err(e) => {
                self.report.decode_errors += 1;
                Err(e)
            }
        }
    }

    /// What the probe has seen so far.
    pub fn report(&self) -> OpusProbeReport {
        self.report.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<Vp8Probe>();
        assert_send::<OpusProbe>();
        assert_send::<crate::Vp8Source<crate::TestPattern>>();
        assert_send::<crate::OpusSource<crate::Tone>>();
        assert_send::<crate::IvfFileSource>();
        assert_send::<crate::OggOpusFileSource>();
        assert_send::<crate::IvfRecorder>();
        assert_send::<crate::OggOpusRecorder>();
    }

    #[test]
    fn garbage_is_counted_not_fatal() {
        let mut video = Vp8Probe::new().expect("probe");
        assert!(video.push(&[]).is_err());
        let _ = video.push(&[0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0xff]);
        assert!(video.report().decode_errors >= 1);
        assert_eq!(video.report().frames_received, 2);

        let mut audio = OpusProbe::new().expect("probe");
        assert!(audio.push(&[]).is_err());
        assert_eq!(audio.report().decode_errors, 1);
    }
}
