//! IVF files of VP8 frames: a reader, a paced [`EncodedSource`] and a recorder.
//!
//! IVF is libvpx's minimal container: a 32-byte header (`DKIF`, version 0, header size,
//! FourCC, width, height, time base rate and scale, frame count) followed by frames, each a
//! 12-byte header (size, 64-bit timestamp in time-base units) and the frame's bytes. All
//! integers are little-endian.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::error::MediaError;
use crate::frame::{Codec, EncodedFrame};
use crate::pacer::Pacer;
use crate::source::EncodedSource;

const FILE_HEADER_LEN: usize = 32;
const FRAME_HEADER_LEN: usize = 12;
const VP8_FOURCC: &[u8; 4] = b"VP80";
/// The recorder's time base: the VP8 RTP clock, so RTP timestamps can be written as they are.
pub const RECORDER_TIMEBASE_HZ: u32 = 90_000;
/// Used for a file's last frame, whose duration no later timestamp tells.
const FALLBACK_FRAME_DURATION: Duration = Duration::from_millis(33);

fn bad(message: impl Into<String>) -> MediaError {
    MediaError::BadFile(format!("IVF: {}", message.into()))
}

fn le_u16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Whether a VP8 frame is a key frame: bit 0 of its frame tag is 0 (RFC 6386 §9.1).
pub fn is_vp8_keyframe(frame: &[u8]) -> bool {
    frame.first().is_some_and(|tag| tag & 1 == 0)
}

/// Width and height coded in a VP8 key frame (after the `9d 01 2a` start code), if it is one.
pub fn vp8_keyframe_size(frame: &[u8]) -> Option<(u16, u16)> {
    if !is_vp8_keyframe(frame) || frame.len() < 10 || frame[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    Some((le_u16(frame, 6) & 0x3fff, le_u16(frame, 8) & 0x3fff))
}

/// The fields of an IVF file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvfHeader {
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Time base denominator: timestamp units per `timebase_scale` seconds.
    pub timebase_rate: u32,
    /// Time base numerator.
    pub timebase_scale: u32,
    /// Frame count as written in the header (writers that never finished leave 0).
    pub frame_count: u32,
}

impl IvfHeader {
    /// A timestamp in time-base units as a duration (saturating).
    pub fn to_duration(&self, pts: u64) -> Duration {
        let nanos = u128::from(pts) * u128::from(self.timebase_scale) * 1_000_000_000
            / u128::from(self.timebase_rate);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// One frame of an IVF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvfFrame {
    /// Timestamp in time-base units.
    pub pts: u64,
    /// The compressed frame.
    pub data: Bytes,
}

/// A whole IVF file of VP8 frames, parsed and validated.
///
/// ```
/// use skylink_media::ivf::{IvfFile, IvfRecorder};
///
/// let mut recorder = IvfRecorder::new(std::io::Cursor::new(Vec::new()), 640, 480)?;
/// recorder.push(&[0x50, 0x42, 0x00], 0)?;
/// let bytes = recorder.finish()?.into_inner();
/// let file = IvfFile::parse(&bytes)?;
/// assert_eq!(file.header.frame_count, 1);
/// assert_eq!(&file.frames[0].data[..], &[0x50, 0x42, 0x00]);
/// assert!(IvfFile::parse(b"not an ivf file").is_err());
/// # Ok::<(), skylink_media::MediaError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvfFile {
    /// The file header.
    pub header: IvfHeader,
    /// Every frame, in file order.
    pub frames: Vec<IvfFrame>,
}

impl IvfFile {
    /// Reads and parses the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<IvfFile, MediaError> {
        IvfFile::parse(&std::fs::read(path)?)
    }

    /// Parses a whole file. Anything but a complete VP8 IVF file is [`MediaError::BadFile`].
    pub fn parse(bytes: &[u8]) -> Result<IvfFile, MediaError> {
        if bytes.len() < FILE_HEADER_LEN {
            return Err(bad("shorter than its header"));
        }
        if &bytes[0..4] != b"DKIF" {
            return Err(bad("no DKIF signature"));
        }
        if le_u16(bytes, 4) != 0 {
            return Err(bad(format!("unsupported version {}", le_u16(bytes, 4))));
        }
        let header_len = usize::from(le_u16(bytes, 6));
        if header_len < FILE_HEADER_LEN || header_len > bytes.len() {
            return Err(bad(format!("invalid header length {header_len}")));
        }
        if &bytes[8..12] != VP8_FOURCC {
            return Err(bad(format!(
                "codec {:?} is not VP8",
                String::from_utf8_lossy(&bytes[8..12])
            )));
        }
        let header = IvfHeader {
            width: le_u16(bytes, 12),
            height: le_u16(bytes, 14),
            timebase_rate: le_u32(bytes, 16),
            timebase_scale: le_u32(bytes, 20),
            frame_count: le_u32(bytes, 24),
        };
        if header.timebase_rate == 0 || header.timebase_scale == 0 {
            return Err(bad("zero time base"));
        }
        let mut frames = Vec::new();
        let mut at = header_len;
        while at < bytes.len() {
            if bytes.len() - at < FRAME_HEADER_LEN {
                return Err(bad(format!("truncated frame header at byte {at}")));
            }
            let size = le_u32(bytes, at) as usize;
            let mut pts = [0u8; 8];
            pts.copy_from_slice(&bytes[at + 4..at + 12]);
            at += FRAME_HEADER_LEN;
            if size == 0 {
                return Err(bad(format!("empty frame at byte {at}")));
            }
            if bytes.len() - at < size {
                return Err(bad(format!(
                    "frame at byte {at} claims {size} bytes past the end"
                )));
            }
            frames.push(IvfFrame {
                pts: u64::from_le_bytes(pts),
                data: Bytes::copy_from_slice(&bytes[at..at + size]),
            });
            at += size;
        }
        Ok(IvfFile { header, frames })
    }
}

/// An [`EncodedSource`] playing an IVF file's VP8 frames, paced by their timestamps.
///
/// Returns `Ok(None)` after the last frame, or starts over when [`looping`](Self::looping)
/// (timestamps and indices keep increasing across loops).
pub struct IvfFileSource {
    file: IvfFile,
    next: usize,
    loop_offset: Duration,
    looping: bool,
    pacer: Pacer,
    index: u64,
}

impl IvfFileSource {
    /// A paced source over the file at `path`; the file is read and validated at once.
    pub fn open(path: impl AsRef<Path>) -> Result<IvfFileSource, MediaError> {
        Ok(IvfFileSource::from_file(IvfFile::open(path)?))
    }

    /// A paced source over an already parsed file.
    pub fn from_file(file: IvfFile) -> IvfFileSource {
        IvfFileSource {
            file,
            next: 0,
            loop_offset: Duration::ZERO,
            looping: false,
            pacer: Pacer::real_time(),
            index: 0,
        }
    }

    /// Starts over after the last frame instead of ending.
    pub fn looping(mut self, looping: bool) -> IvfFileSource {
        self.looping = looping;
        self
    }

    /// Yields frames as fast as they are asked for.
    pub fn unpaced(mut self) -> IvfFileSource {
        self.pacer = Pacer::unpaced();
        self
    }

    /// The file header (resolution, time base).
    pub fn header(&self) -> &IvfHeader {
        &self.file.header
    }

    /// Media time of frame `i` from the first frame.
    fn offset(&self, i: usize) -> Duration {
        let first = self.file.frames.first().map_or(0, |f| f.pts);
        self.file
            .header
            .to_duration(self.file.frames[i].pts.saturating_sub(first))
    }

    /// Time to the next frame; the last frame lasts as long as the one before it.
    fn frame_duration(&self, i: usize) -> Duration {
        let frames = &self.file.frames;
        let gap = |a: usize, b: usize| {
            self.file
                .header
                .to_duration(frames[b].pts.saturating_sub(frames[a].pts))
        };
        match (i.checked_sub(1), frames.get(i + 1)) {
            (_, Some(_)) => gap(i, i + 1),
            (Some(previous), None) => gap(previous, i),
            (None, None) => FALLBACK_FRAME_DURATION,
        }
    }
}

impl EncodedSource for IvfFileSource {
    fn codec(&self) -> Codec {
        Codec::Vp8
    }

    fn next_frame(&mut self) -> Result<Option<EncodedFrame>, MediaError> {
        if self.file.frames.is_empty() {
            return Ok(None);
        }
        if self.next == self.file.frames.len() {
            if !self.looping {
                return Ok(None);
            }
            let last = self.file.frames.len() - 1;
            self.loop_offset += self.offset(last) + self.frame_duration(last);
            self.next = 0;
        }
        let i = self.next;
        self.next += 1;
        let captured_at: Instant = self.pacer.wait_until(self.loop_offset + self.offset(i));
        let data = self.file.frames[i].data.clone();
        let index = self.index;
        self.index += 1;
        Ok(Some(EncodedFrame {
            codec: Codec::Vp8,
            keyframe: is_vp8_keyframe(&data),
            data,
            duration: self.frame_duration(i),
            index,
            captured_at,
        }))
    }
}

/// Writes VP8 frames to an IVF file with a 1/90 000 s time base.
///
/// The header's frame count (and its resolution, when created with 0×0, from the first key
/// frame) is fixed up by [`finish`](Self::finish), or on drop as a best effort.
pub struct IvfRecorder<W: Write + Seek = BufWriter<File>> {
    writer: Option<W>,
    width: u16,
    height: u16,
    frames: u32,
    next_pts: u64,
}

impl IvfRecorder<BufWriter<File>> {
    /// Creates (or truncates) the file at `path`. Pass 0×0 to take the size from the first key
    /// frame.
    pub fn create(
        path: impl AsRef<Path>,
        width: u16,
        height: u16,
    ) -> Result<IvfRecorder, MediaError> {
        IvfRecorder::new(BufWriter::new(File::create(path)?), width, height)
    }
}

impl<W: Write + Seek> IvfRecorder<W> {
    /// Writes the header to `writer` (at its current position, which should be the start).
    pub fn new(mut writer: W, width: u16, height: u16) -> Result<IvfRecorder<W>, MediaError> {
        writer.write_all(&header_bytes(width, height, 0))?;
        Ok(IvfRecorder {
            writer: Some(writer),
            width,
            height,
            frames: 0,
            next_pts: 0,
        })
    }

    /// Appends one whole VP8 frame with timestamp `pts` in 1/90 000 s (an RTP timestamp
    /// relative to the first one).
    pub fn push(&mut self, frame: &[u8], pts: u64) -> Result<(), MediaError> {
        if frame.is_empty() {
            return Err(MediaError::InvalidSettings(
                "cannot record an empty VP8 frame".into(),
            ));
        }
        let size = u32::try_from(frame.len())
            .map_err(|_| MediaError::InvalidSettings("frame too large".into()))?;
        let writer = self.writer.as_mut().ok_or(MediaError::Ended)?;
        if (self.width, self.height) == (0, 0)
            && let Some((w, h)) = vp8_keyframe_size(frame)
        {
            (self.width, self.height) = (w, h);
        }
        writer.write_all(&size.to_le_bytes())?;
        writer.write_all(&pts.to_le_bytes())?;
        writer.write_all(frame)?;
        self.frames += 1;
        self.next_pts = pts;
        Ok(())
    }

    /// Appends an [`EncodedFrame`], timestamped after the previous frame by the previous
    /// frame's duration (so a source's output can be recorded as is).
    pub fn push_encoded(&mut self, frame: &EncodedFrame) -> Result<(), MediaError> {
        let pts = if self.frames == 0 { 0 } else { self.next_pts };
        self.push(&frame.data, pts)?;
        let ticks = frame.duration.as_nanos() * u128::from(RECORDER_TIMEBASE_HZ) / 1_000_000_000;
        self.next_pts = pts + u64::try_from(ticks).unwrap_or(0);
        Ok(())
    }

    /// Frames written so far.
    pub fn frames(&self) -> u32 {
        self.frames
    }

    /// Fixes up the header, flushes and returns the writer.
    pub fn finish(mut self) -> Result<W, MediaError> {
        self.finalize()?;
        self.writer.take().ok_or(MediaError::Ended)
    }

    fn finalize(&mut self) -> Result<(), MediaError> {
        let header = header_bytes(self.width, self.height, self.frames);
        let writer = self.writer.as_mut().ok_or(MediaError::Ended)?;
        let end = writer.stream_position()?;
        writer.seek(SeekFrom::Start(0))?;
        writer.write_all(&header)?;
        writer.seek(SeekFrom::Start(end))?;
        writer.flush()?;
        Ok(())
    }
}

impl<W: Write + Seek> Drop for IvfRecorder<W> {
    fn drop(&mut self) {
        if self.writer.is_some()
            && let Err(e) = self.finalize()
        {
            tracing::warn!(error = %e, "could not finish IVF recording");
        }
    }
}

fn header_bytes(width: u16, height: u16, frames: u32) -> [u8; FILE_HEADER_LEN] {
    let mut header = [0u8; FILE_HEADER_LEN];
    header[0..4].copy_from_slice(b"DKIF");
    header[6..8].copy_from_slice(&(FILE_HEADER_LEN as u16).to_le_bytes());
    header[8..12].copy_from_slice(VP8_FOURCC);
    header[12..14].copy_from_slice(&width.to_le_bytes());
    header[14..16].copy_from_slice(&height.to_le_bytes());
    header[16..20].copy_from_slice(&RECORDER_TIMEBASE_HZ.to_le_bytes());
    header[20..24].copy_from_slice(&1u32.to_le_bytes());
    header[24..28].copy_from_slice(&frames.to_le_bytes());
    header
}
