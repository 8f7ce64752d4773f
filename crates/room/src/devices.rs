//! Ready-made [`MediaDevices`]: what `getUserMedia` / `shareScreen` open on a machine without
//! a browser — a test pattern and a tone (feature `codecs`, libvpx + libopus), IVF / Ogg Opus
//! files (pure Rust), the X11 screen (feature `codecs`), and, with the `camera` / `mic`
//! features, V4L2 cameras and ALSA microphones.
//!
//! ```
//! use skylink_room::devices::{AudioDevice, Devices, VideoDevice};
//! let mut options = skylink_room::InitOptions::new("app-key");
//! options.media_devices = std::sync::Arc::new(Devices {
//!     video: VideoDevice::TestPattern,
//!     audio: AudioDevice::Tone,
//!     ..Devices::default()
//! });
//! ```

use std::path::PathBuf;

use bytes::Bytes;
use skylink_media::{EncodedSource, MediaError};

use crate::local_media::{MediaDevices, MediaRequest, OpenedMedia};

/// Default VP8 bitrate for the sources this module encodes (kbps).
pub const VIDEO_BITRATE_KBPS: u32 = 600;
/// Default Opus bitrate (bits per second).
pub const AUDIO_BITRATE_BPS: i32 = 32_000;

/// Where camera video comes from.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum VideoDevice {
    /// No camera: video requests get audio only (`mediaAccessFallback`).
    #[default]
    None,
    /// The moving test pattern with the frame number in it, at the requested size and rate
    /// (feature `codecs`).
    TestPattern,
    /// A VP8 IVF file, looped and paced by its timestamps.
    Ivf(PathBuf),
    /// An IVF file held in memory (e.g. an asset embedded in the binary), looped.
    IvfBytes(Bytes),
    /// A V4L2 camera (`None` = the first one; features `camera` + `codecs`).
    Camera(Option<String>),
}

/// Where microphone audio comes from.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum AudioDevice {
    /// No microphone.
    #[default]
    None,
    /// A 440 Hz sine (feature `codecs`).
    Tone,
    /// An Ogg Opus file, looped and paced.
    Ogg(PathBuf),
    /// An Ogg Opus file held in memory, looped.
    OggBytes(Bytes),
    /// An ALSA capture device (`None` = `default`; features `mic` + `codecs`).
    Mic(Option<String>),
}

/// Where `shareScreen` video comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ScreenDevice {
    /// No screen capture.
    None,
    /// The X11 display (`None` = `$DISPLAY`), captured with MIT-SHM (feature `codecs`).
    X11(Option<String>),
    /// The test pattern, flagged as a screen (feature `codecs`; for tests and demos).
    TestPattern,
}

impl Default for ScreenDevice {
    fn default() -> Self {
        ScreenDevice::X11(None)
    }
}

/// A fixed choice of devices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Devices {
    /// The camera.
    pub video: VideoDevice,
    /// The microphone.
    pub audio: AudioDevice,
    /// The screen.
    pub screen: ScreenDevice,
}

impl MediaDevices for Devices {
    fn open(&self, request: &MediaRequest) -> Result<OpenedMedia, MediaError> {
        let video = if !request.video {
            None
        } else if request.screen {
            open_screen(&self.screen, request)?
        } else {
            open_video(&self.video, request)?
        };
        let audio = if request.audio {
            open_audio(&self.audio)?
        } else {
            None
        };
        if video.is_none() && audio.is_none() {
            return Err(MediaError::NoDevice(format!(
                "no device for {}",
                match (request.audio, request.video) {
                    (true, true) => "audio or video",
                    (true, false) => "audio",
                    _ => "video",
                }
            )));
        }
        Ok(OpenedMedia { audio, video })
    }
}

type Source = Option<Box<dyn EncodedSource>>;

fn open_video(device: &VideoDevice, request: &MediaRequest) -> Result<Source, MediaError> {
    Ok(match device {
        VideoDevice::None => None,
        VideoDevice::Ivf(path) => Some(Box::new(
            skylink_media::ivf::IvfFileSource::open(path)?.looping(true),
        )),
        VideoDevice::IvfBytes(bytes) => Some(Box::new(
            skylink_media::ivf::IvfFileSource::from_file(skylink_media::ivf::IvfFile::parse(
                bytes,
            )?)
            .looping(true),
        )),
        VideoDevice::TestPattern => codec_sources::test_pattern(request, false)?,
        VideoDevice::Camera(dev) => codec_sources::camera(dev.as_deref(), request)?,
    })
}

fn open_screen(device: &ScreenDevice, request: &MediaRequest) -> Result<Source, MediaError> {
    match device {
        ScreenDevice::None => Err(MediaError::NoDevice("no screen to capture".into())),
        ScreenDevice::TestPattern => codec_sources::test_pattern(request, true),
        ScreenDevice::X11(display) => codec_sources::screen(display.as_deref(), request),
    }
}

fn open_audio(device: &AudioDevice) -> Result<Source, MediaError> {
    Ok(match device {
        AudioDevice::None => None,
        AudioDevice::Ogg(path) => Some(Box::new(
            skylink_media::ogg_opus::OggOpusFileSource::open(path)?.looping(true),
        )),
        AudioDevice::OggBytes(bytes) => Some(Box::new(
            skylink_media::ogg_opus::OggOpusFileSource::from_file(
                skylink_media::ogg_opus::OggOpusFile::parse(bytes)?,
            )
            .looping(true),
        )),
        AudioDevice::Tone => codec_sources::tone()?,
        AudioDevice::Mic(dev) => codec_sources::mic(dev.as_deref())?,
    })
}

#[cfg(feature = "codecs")]
mod codec_sources {
    use super::{AUDIO_BITRATE_BPS, MediaRequest, Source, VIDEO_BITRATE_KBPS};
    use skylink_media::MediaError;
    use skylink_media::opus::{OpusSource, Tone};
    use skylink_media::testpattern::TestPattern;
    use skylink_media::vp8_source::Vp8Source;

    pub(super) fn test_pattern(request: &MediaRequest, screen: bool) -> Result<Source, MediaError> {
        // A test-pattern "screen" is the same picture; the engine's record says it is a
        // screen share.
        let _ = screen;
        let pattern = TestPattern::new(request.width, request.height, request.frame_rate)?;
        Ok(Some(Box::new(Vp8Source::new(pattern, VIDEO_BITRATE_KBPS)?)))
    }

    pub(super) fn screen(
        display: Option<&str>,
        request: &MediaRequest,
    ) -> Result<Source, MediaError> {
        let screen =
            skylink_media::capture::ScreenSource::open(skylink_media::capture::ScreenOptions {
                display: display.map(str::to_owned),
                frame_rate: request.frame_rate,
                ..Default::default()
            })?;
        Ok(Some(Box::new(Vp8Source::new(screen, VIDEO_BITRATE_KBPS)?)))
    }

    pub(super) fn tone() -> Result<Source, MediaError> {
        Ok(Some(Box::new(OpusSource::new(
            Tone::new(440.0)?,
            AUDIO_BITRATE_BPS,
        )?)))
    }

    #[cfg(feature = "camera")]
    pub(super) fn camera(
        device: Option<&str>,
        request: &MediaRequest,
    ) -> Result<Source, MediaError> {
        let cam = skylink_media::capture::CameraSource::open(
            device,
            request.width,
            request.height,
            request.frame_rate.round() as u32,
        )?;
        Ok(Some(Box::new(Vp8Source::new(cam, VIDEO_BITRATE_KBPS)?)))
    }

    #[cfg(not(feature = "camera"))]
    pub(super) fn camera(_: Option<&str>, _: &MediaRequest) -> Result<Source, MediaError> {
        Err(MediaError::NoDevice(
            "camera support is not built in (feature `camera`)".into(),
        ))
    }

    #[cfg(feature = "mic")]
    pub(super) fn mic(device: Option<&str>) -> Result<Source, MediaError> {
        let mic = skylink_media::capture::MicSource::open(device)?;
        Ok(Some(Box::new(OpusSource::new(mic, AUDIO_BITRATE_BPS)?)))
    }

    #[cfg(not(feature = "mic"))]
    pub(super) fn mic(_: Option<&str>) -> Result<Source, MediaError> {
        Err(MediaError::NoDevice(
            "microphone support is not built in (feature `mic`)".into(),
        ))
    }
}

#[cfg(not(feature = "codecs"))]
mod codec_sources {
    use super::{MediaRequest, Source};
    use skylink_media::MediaError;

    fn missing(what: &str) -> MediaError {
        MediaError::NoDevice(format!(
            "{what} needs the VP8/Opus encoders: build with the `codecs` feature (Debian: apt-get install libvpx-dev libopus-dev)"
        ))
    }

    pub(super) fn test_pattern(_: &MediaRequest, _: bool) -> Result<Source, MediaError> {
        Err(missing("the test pattern"))
    }

    pub(super) fn screen(_: Option<&str>, _: &MediaRequest) -> Result<Source, MediaError> {
        Err(missing("screen capture"))
    }

    pub(super) fn tone() -> Result<Source, MediaError> {
        Err(missing("the tone"))
    }

    pub(super) fn camera(_: Option<&str>, _: &MediaRequest) -> Result<Source, MediaError> {
        Err(missing("a camera"))
    }

    pub(super) fn mic(_: Option<&str>) -> Result<Source, MediaError> {
        Err(missing("a microphone"))
    }
}
