//! Capture from local devices: the X11 screen, V4L2 webcams and ALSA microphones.
//!
//! | Source | Module | Cargo feature | System requirement |
//! |---|---|---|---|
//! | [`ScreenSource`] | [`screen`] | always built | an X server (`$DISPLAY`); MIT-SHM used when local |
//! | `CameraSource` | `camera` | `camera` | a V4L2 device offering YUYV; libclang to build |
//! | `MicSource` | `mic` | `mic` | alsa-lib (`libasound2-dev` to build) |
//!
//! Every source yields I420 [`VideoFrame`](crate::VideoFrame)s or interleaved 16-bit
//! [`AudioFrame`](crate::AudioFrame)s through the crate's [`VideoSource`](crate::VideoSource) /
//! [`AudioSource`](crate::AudioSource) traits, paced in real time: the screen on its own clock
//! (default 15 fps), a camera and a microphone by the device itself.
//!
//! A device that does not exist or cannot be opened is reported as
//! [`MediaError::NoDevice`](crate::MediaError::NoDevice); a device that exists but cannot
//! deliver what was asked (a camera without YUYV, a microphone without 48 kHz) as
//! [`MediaError::InvalidSettings`](crate::MediaError::InvalidSettings).
//!
//! Pixel conversion to I420 (BT.601, video range) lives in [`convert`], usable on its own.
//!
//! ```no_run
//! use skylink_media::VideoSource;
//! use skylink_media::capture::{ScreenOptions, ScreenSource};
//!
//! let mut screen = ScreenSource::open(ScreenOptions::default())?;
//! let frame = screen.next_frame()?;
//! println!("{}x{} screen frame", frame.width, frame.height);
//! # Ok::<(), skylink_media::MediaError>(())
//! ```

#[cfg(feature = "camera")]
pub mod camera;
pub mod convert;
#[cfg(feature = "mic")]
pub mod mic;
mod pacer;
pub mod screen;
mod shm;

#[cfg(feature = "camera")]
pub use camera::{CameraInfo, CameraSource, list_cameras};
#[cfg(feature = "mic")]
pub use mic::{MicInfo, MicSource, list_microphones};
pub use screen::{Region, ScreenOptions, ScreenSource};
