//! Webcam capture through Video4Linux2 (feature `camera`).
//!
//! Only uncompressed YUYV is negotiated: every UVC camera offers it, and it converts to I420
//! without a JPEG decoder. (At high resolutions UVC cameras often offer YUYV only at low frame
//! rates; the driver's choice is reported by [`VideoSource::frame_rate`].)

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tracing::{debug, info, warn};
use v4l::buffer::Type;
use v4l::capability::Flags;
use v4l::io::mmap::Stream;
use v4l::io::traits::{CaptureStream, Stream as _};
use v4l::video::Capture;
use v4l::video::capture::Parameters;
use v4l::{Device, Format, FourCC};

use super::convert::yuyv_to_i420;
use crate::error::MediaError;
use crate::frame::VideoFrame;
use crate::source::VideoSource;

/// A camera found by [`list_cameras`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInfo {
    /// Device node, e.g. `/dev/video0`; pass it to [`CameraSource::open`].
    pub path: PathBuf,
    /// The driver's name for the card, e.g. `"HD Pro Webcam C920"`.
    pub name: String,
}

/// The `/dev/videoN` nodes that can capture video, in N order; empty when there are none.
///
/// Nodes that exist but cannot be opened (permissions, busy) are skipped with a warning, and
/// metadata or output-only nodes (UVC cameras create two nodes each) are left out.
///
/// ```no_run
/// for camera in skylink_media::capture::list_cameras()? {
///     println!("{}: {}", camera.path.display(), camera.name);
/// }
/// # Ok::<(), skylink_media::MediaError>(())
/// ```
pub fn list_cameras() -> Result<Vec<CameraInfo>, MediaError> {
    let entries = match std::fs::read_dir("/dev") {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut nodes: Vec<(u32, PathBuf)> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name();
            let number = name.to_str()?.strip_prefix("video")?.parse::<u32>().ok()?;
            Some((number, entry.path()))
        })
        .collect();
    nodes.sort();
    let mut cameras = Vec::new();
    for (_, path) in nodes {
        let caps = match Device::with_path(&path).and_then(|d| d.query_caps()) {
            Ok(caps) => caps,
            Err(e) => {
                warn!(path = %path.display(), error = %e, "skipping video device");
                continue;
            }
        };
        if caps.capabilities.contains(Flags::VIDEO_CAPTURE) {
            cameras.push(CameraInfo {
                path,
                name: caps.card,
            });
        }
    }
    Ok(cameras)
}

/// How long a camera may go without delivering a frame before `next_frame` fails.
const FRAME_TIMEOUT: Duration = Duration::from_secs(3);

/// A [`VideoSource`] reading a V4L2 webcam in YUYV, paced by the camera itself.
///
/// ```no_run
/// use skylink_media::VideoSource;
/// use skylink_media::capture::CameraSource;
///
/// let mut camera = CameraSource::open(None, 640, 480, 30)?;
/// let frame = camera.next_frame()?;
/// println!("{}x{}", frame.width, frame.height);
/// # Ok::<(), skylink_media::MediaError>(())
/// ```
pub struct CameraSource {
    // The stream shares the device's descriptor (an `Arc`), keeping it open while it lives.
    // An `Option` only so `Drop` can take it out (see there).
    stream: Option<Stream<'static>>,
    path: PathBuf,
    width: u32,
    height: u32,
    stride: usize,
    frame_rate: f64,
    index: u64,
}

impl std::fmt::Debug for CameraSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraSource")
            .field("path", &self.path)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("frame_rate", &self.frame_rate)
            .finish_non_exhaustive()
    }
}

impl CameraSource {
    /// Opens `device` (a path such as `/dev/video0`; `None` is the first camera of
    /// [`list_cameras`]) in YUYV at the size and rate closest to those asked for.
    ///
    /// [`MediaError::NoDevice`] when there is no camera or the node cannot be opened;
    /// [`MediaError::InvalidSettings`] when it cannot stream YUYV or picks an odd size.
    pub fn open(
        device: Option<&str>,
        width: u32,
        height: u32,
        fps: u32,
    ) -> Result<CameraSource, MediaError> {
        if width == 0 || height == 0 || fps == 0 {
            return Err(MediaError::InvalidSettings(format!(
                "camera size and rate must be non-zero, got {width}x{height} at {fps} fps"
            )));
        }
        let path = match device {
            Some(path) => PathBuf::from(path),
            None => list_cameras()?
                .into_iter()
                .next()
                .map(|camera| camera.path)
                .ok_or_else(|| {
                    MediaError::NoDevice("no camera found (no /dev/video* capture device)".into())
                })?,
        };
        let shown = path.display().to_string();
        let dev = Device::with_path(&path)
            .map_err(|e| MediaError::NoDevice(format!("camera {shown}: {e}")))?;
        let caps = dev.query_caps()?;
        if !caps
            .capabilities
            .contains(Flags::VIDEO_CAPTURE | Flags::STREAMING)
        {
            return Err(MediaError::InvalidSettings(format!(
                "{shown} ({}) is not a streaming video-capture device",
                caps.card
            )));
        }
        let yuyv = FourCC::new(b"YUYV");
        let offered: Vec<String> = dev
            .enum_formats()?
            .iter()
            .map(|f| f.fourcc.to_string())
            .collect();
        if !offered.iter().any(|f| f == "YUYV") {
            return Err(MediaError::InvalidSettings(format!(
                "camera {shown} does not offer YUYV (it offers {})",
                offered.join(", ")
            )));
        }
        let format = dev.set_format(&Format::new(width, height, yuyv))?;
        check_format(&shown, &format)?;
        let frame_rate = negotiate_rate(&dev, fps, &shown);
        let stride = (format.stride as usize).max(format.width as usize * 2);
        let mut stream = Stream::with_buffers(&dev, Type::VideoCapture, 4)?;
        stream.set_timeout(FRAME_TIMEOUT);
        info!(
            camera = %shown,
            card = %caps.card,
            width = format.width,
            height = format.height,
            fps = frame_rate,
            "camera capture ready"
        );
        Ok(CameraSource {
            stream: Some(stream),
            path,
            width: format.width,
            height: format.height,
            stride,
            frame_rate,
            index: 0,
        })
    }

    /// The device node in use.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The driver may substitute another format or size; only even-sized YUYV is usable.
fn check_format(shown: &str, format: &Format) -> Result<(), MediaError> {
    if format.fourcc != FourCC::new(b"YUYV") {
        return Err(MediaError::InvalidSettings(format!(
            "camera {shown} switched to {} instead of YUYV",
            format.fourcc
        )));
    }
    if format.width < 2
        || format.height < 2
        || !format.width.is_multiple_of(2)
        || !format.height.is_multiple_of(2)
    {
        return Err(MediaError::InvalidSettings(format!(
            "camera {shown} chose {}x{}, I420 needs even dimensions",
            format.width, format.height
        )));
    }
    Ok(())
}

/// Asks for `fps` and returns what the driver settled on (`fps` if it does not say).
fn negotiate_rate(dev: &Device, fps: u32, shown: &str) -> f64 {
    // Not every driver implements VIDIOC_S_PARM; such cameras run at their default rate.
    match dev.set_params(&Parameters::with_fps(fps)) {
        Ok(params) if params.interval.numerator > 0 && params.interval.denominator > 0 => {
            f64::from(params.interval.denominator) / f64::from(params.interval.numerator)
        }
        Ok(_) => f64::from(fps),
        Err(e) => {
            debug!(camera = %shown, error = %e, "camera does not accept a frame rate");
            f64::from(fps)
        }
    }
}

impl VideoSource for CameraSource {
    fn resolution(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn frame_rate(&self) -> f64 {
        self.frame_rate
    }

    fn next_frame(&mut self) -> Result<VideoFrame, MediaError> {
        let stream = self.stream.as_mut().ok_or(MediaError::Ended)?;
        let (buf, meta) = stream.next().map_err(|e| {
            // ENODEV: the camera was unplugged.
            if e.raw_os_error() == Some(libc::ENODEV) {
                warn!(camera = %self.path.display(), "camera went away");
                MediaError::Ended
            } else {
                MediaError::Io(e)
            }
        })?;
        let captured_at = Instant::now();
        // Some drivers leave `bytesused` at 0 for fixed-size formats.
        let used = match meta.bytesused as usize {
            0 => buf.len(),
            n => n.min(buf.len()),
        };
        let mut data = vec![0u8; VideoFrame::i420_len(self.width, self.height)];
        yuyv_to_i420(
            &buf[..used],
            self.stride,
            self.width,
            self.height,
            &mut data,
        )?;
        let frame = VideoFrame {
            width: self.width,
            height: self.height,
            data,
            index: self.index,
            captured_at,
        };
        self.index += 1;
        Ok(frame)
    }
}

impl Drop for CameraSource {
    fn drop(&mut self) {
        let Some(mut stream) = self.stream.take() else {
            return;
        };
        // v4l's own drop panics when VIDIOC_STREAMOFF fails for any reason but ENODEV. Stop
        // here first (stopping twice is allowed); on such a failure leak the stream rather
        // than abort the process over a misbehaving driver. (Its buffer release on drop has
        // the same trait; that one cannot be checked beforehand.)
        match stream.stop() {
            Ok(()) => drop(stream),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => drop(stream),
            Err(e) => {
                warn!(camera = %self.path.display(), error = %e, "camera did not stop streaming");
                std::mem::forget(stream);
            }
        }
    }
}
