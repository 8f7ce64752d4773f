//! Microphone capture through ALSA (feature `mic`).
//!
//! Captures signed 16-bit little-endian samples at 48 kHz — Opus's native rate, so nothing is
//! resampled later — in stereo when the device has it, otherwise mono, and hands them out in
//! 20 ms blocks (one Opus frame). Device names are ALSA PCM names: `default`, `plughw:1,0`,
//! `pulse`, … A `plughw:`/`default` device converts rate and channels for hardware that lacks
//! them; a raw `hw:` device must support them itself.

use std::io;
use std::time::Instant;

use alsa::device_name::HintIter;
use alsa::pcm::{Access, Format, HwParams, PCM};
use alsa::{Direction, ValueOr};
use tracing::{info, warn};

use crate::error::MediaError;
use crate::frame::AudioFrame;
use crate::source::AudioSource;

/// The capture rate: Opus's own.
const SAMPLE_RATE: u32 = 48_000;
/// Frames (per-channel samples) in one 20 ms block.
const BLOCK_FRAMES: usize = SAMPLE_RATE as usize / 50;
/// How long to wait for a block before reporting the device as stuck.
const READ_TIMEOUT_MS: u32 = 2_000;
/// Overruns recovered in a row before giving up on the device.
const MAX_RECOVERIES: u32 = 5;

/// A capture-capable ALSA PCM, as listed by [`list_microphones`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MicInfo {
    /// The PCM name to pass to [`MicSource::open`] (`default`, `sysdefault:CARD=PCH`, …).
    pub name: String,
    /// ALSA's human-readable description, often several lines.
    pub description: Option<String>,
}

/// The PCMs ALSA's device hints list for capture (including virtual ones such as `null` and
/// `default`); empty when there are none.
///
/// ```no_run
/// for mic in skylink_media::capture::list_microphones()? {
///     println!("{}", mic.name);
/// }
/// # Ok::<(), skylink_media::MediaError>(())
/// ```
pub fn list_microphones() -> Result<Vec<MicInfo>, MediaError> {
    let hints = HintIter::new(None, c"pcm").map_err(|e| alsa_io("listing ALSA PCMs", e))?;
    Ok(hints
        .filter(|hint| hint.direction.is_none_or(|d| d == Direction::Capture))
        .filter_map(|hint| {
            Some(MicInfo {
                name: hint.name?,
                description: hint.desc,
            })
        })
        .collect())
}

/// An [`AudioSource`] capturing 20 ms blocks from an ALSA device, paced by the device.
///
/// ```no_run
/// use skylink_media::AudioSource;
/// use skylink_media::capture::MicSource;
///
/// let mut mic = MicSource::open(None)?;
/// let block = mic.next_frame()?;
/// assert_eq!(block.samples.len(), 960 * usize::from(mic.channels()));
/// # Ok::<(), skylink_media::MediaError>(())
/// ```
pub struct MicSource {
    pcm: PCM,
    name: String,
    channels: u16,
}

impl std::fmt::Debug for MicSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MicSource")
            .field("name", &self.name)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

impl MicSource {
    /// Opens the ALSA PCM `device` (`None` is `default`) for 48 kHz S16_LE capture and starts it.
    ///
    /// [`MediaError::NoDevice`] when the device cannot be opened (it does not exist, is busy,
    /// or there is no sound card); [`MediaError::InvalidSettings`] when it cannot deliver
    /// 16-bit samples at 48 kHz in one or two channels.
    pub fn open(device: Option<&str>) -> Result<MicSource, MediaError> {
        let name = device.unwrap_or("default");
        if name.contains('\0') {
            return Err(MediaError::InvalidSettings(format!(
                "microphone name {name:?} contains NUL"
            )));
        }
        let pcm = PCM::new(name, Direction::Capture, false)
            .map_err(|e| MediaError::NoDevice(format!("microphone {name:?}: {e}")))?;
        let channels = configure(&pcm, name)?;
        pcm.start().map_err(|e| alsa_io("starting capture", e))?;
        info!(
            microphone = name,
            channels,
            rate = SAMPLE_RATE,
            "microphone capture ready"
        );
        Ok(MicSource {
            pcm,
            name: name.to_owned(),
            channels,
        })
    }

    /// The ALSA PCM name in use.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads until `buf` is full, recovering from overruns (the consumer was too slow).
    fn fill(&mut self, buf: &mut [i16]) -> Result<(), MediaError> {
        let channels = usize::from(self.channels);
        let mut filled = 0;
        let mut recoveries = 0;
        while filled < buf.len() {
            let read = self.pcm.wait(Some(READ_TIMEOUT_MS)).and_then(|ready| {
                if ready {
                    self.pcm.io_i16()?.readi(&mut buf[filled..]).map(Some)
                } else {
                    Ok(None)
                }
            });
            match read {
                Ok(Some(frames)) => {
                    filled += frames * channels;
                    recoveries = 0;
                }
                Ok(None) => {
                    return Err(MediaError::Io(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "microphone {:?} delivered nothing for {READ_TIMEOUT_MS} ms",
                            self.name
                        ),
                    )));
                }
                Err(e) if e.errno() == libc::ENODEV => {
                    warn!(microphone = %self.name, "microphone went away");
                    return Err(MediaError::Ended);
                }
                Err(e) if recoveries < MAX_RECOVERIES => {
                    recoveries += 1;
                    warn!(microphone = %self.name, error = %e, "capture overrun, recovering");
                    self.pcm
                        .try_recover(e, true)
                        .map_err(|e| alsa_io("recovering capture", e))?;
                    // Recovery leaves the stream prepared, not running.
                    self.pcm
                        .start()
                        .map_err(|e| alsa_io("restarting capture", e))?;
                }
                Err(e) => return Err(alsa_io("reading the microphone", e)),
            }
        }
        Ok(())
    }
}

/// Sets S16_LE / 48 kHz / interleaved and 20 ms periods; returns the channel count (1 or 2).
fn configure(pcm: &PCM, name: &str) -> Result<u16, MediaError> {
    let unsupported = |what: &str, e: alsa::Error| {
        MediaError::InvalidSettings(format!("microphone {name:?} cannot capture {what}: {e}"))
    };
    let hw = HwParams::any(pcm).map_err(|e| alsa_io("reading hardware parameters", e))?;
    hw.set_access(Access::RWInterleaved)
        .map_err(|e| unsupported("interleaved", e))?;
    hw.set_format(Format::S16LE)
        .map_err(|e| unsupported("S16_LE", e))?;
    hw.set_rate(SAMPLE_RATE, ValueOr::Nearest)
        .map_err(|e| unsupported("at 48 kHz", e))?;
    let channels = hw
        .set_channels_near(2)
        .map_err(|e| unsupported("in one or two channels", e))?;
    let channels = match channels {
        1 => 1,
        2 => 2,
        n => {
            return Err(MediaError::InvalidSettings(format!(
                "microphone {name:?} only captures {n} channels; use a plug device such as plughw:"
            )));
        }
    };
    // A 20 ms period wakes us once per block; four of them absorb scheduling hiccups.
    let period = hw
        .set_period_size_near(BLOCK_FRAMES as alsa::pcm::Frames, ValueOr::Nearest)
        .map_err(|e| unsupported("with 20 ms periods", e))?;
    hw.set_buffer_size_near(period.max(BLOCK_FRAMES as alsa::pcm::Frames) * 4)
        .map_err(|e| unsupported("with an 80 ms buffer", e))?;
    pcm.hw_params(&hw)
        .map_err(|e| unsupported("with these parameters", e))?;
    Ok(channels)
}

fn alsa_io(doing: &str, e: alsa::Error) -> MediaError {
    MediaError::Io(io::Error::other(format!("ALSA {doing}: {e}")))
}

impl AudioSource for MicSource {
    fn sample_rate(&self) -> u32 {
        SAMPLE_RATE
    }

    fn channels(&self) -> u16 {
        self.channels
    }

    fn next_frame(&mut self) -> Result<AudioFrame, MediaError> {
        let mut samples = vec![0i16; BLOCK_FRAMES * usize::from(self.channels)];
        self.fill(&mut samples)?;
        Ok(AudioFrame {
            sample_rate: SAMPLE_RATE,
            channels: self.channels,
            samples,
            captured_at: Instant::now(),
        })
    }
}
