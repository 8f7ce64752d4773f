//! Ogg Opus files (RFC 7845): a reader, a paced [`EncodedSource`] and a recorder.
//!
//! Paging (CRCs, lacing, page boundaries) is the `ogg` crate's; this module handles the Opus
//! mapping: the `OpusHead` and `OpusTags` header packets, pre-skip and granule positions.

use std::fs::File;
use std::io::{BufWriter, Cursor, Write};
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use ogg::{PacketReader, PacketWriteEndInfo, PacketWriter};

use crate::error::MediaError;
use crate::frame::{Codec, EncodedFrame};
use crate::opus_toc::{SAMPLE_RATE, packet_samples};
use crate::pacer::Pacer;
use crate::source::EncodedSource;

/// Samples libopus's encoder delays its output by at 48 kHz; players skip them.
const PRE_SKIP: u16 = 312;
/// The recorder ends a page after this many packets (one second of 20 ms packets), so an
/// interrupted recording loses little and players can seek.
const PACKETS_PER_PAGE: u32 = 50;
const VENDOR: &str = "skylink-rs";

fn bad(message: impl Into<String>) -> MediaError {
    MediaError::BadFile(format!("Ogg Opus: {}", message.into()))
}

/// One audio packet of an Ogg Opus file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OggOpusPacket {
    /// The Opus packet.
    pub data: Bytes,
    /// Samples per channel at 48 kHz it decodes to.
    pub samples: usize,
}

/// A whole Ogg Opus file, parsed and validated (first logical stream only).
///
/// ```
/// use skylink_media::ogg_opus::{OggOpusFile, OggOpusRecorder};
///
/// // A 20 ms CELT packet (TOC 0xfc: config 31, stereo, one frame) of digital silence.
/// let packet = [0xfc, 0xff, 0xfe];
/// let mut recorder = OggOpusRecorder::new(Vec::new(), 2)?;
/// recorder.push(&packet)?;
/// let bytes = recorder.finish()?;
/// let file = OggOpusFile::parse(&bytes)?;
/// assert_eq!((file.channels, file.packets.len()), (2, 1));
/// assert_eq!(&file.packets[0].data[..], &packet);
/// assert!(OggOpusFile::parse(b"OggS garbage").is_err());
/// # Ok::<(), skylink_media::MediaError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OggOpusFile {
    /// Channel count from `OpusHead`.
    pub channels: u8,
    /// Samples to discard at the start when decoding.
    pub pre_skip: u16,
    /// The original input sample rate (informational).
    pub input_sample_rate: u32,
    /// The audio packets, in order.
    pub packets: Vec<OggOpusPacket>,
}

impl OggOpusFile {
    /// Reads and parses the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<OggOpusFile, MediaError> {
        OggOpusFile::parse(&std::fs::read(path)?)
    }

    /// Parses a whole file. Anything but a valid Ogg Opus stream is [`MediaError::BadFile`].
    pub fn parse(bytes: &[u8]) -> Result<OggOpusFile, MediaError> {
        let mut reader = PacketReader::new(Cursor::new(bytes));
        let mut next = || reader.read_packet().map_err(|e| bad(e.to_string()));
        let head = next()?.ok_or_else(|| bad("no packets"))?;
        let serial = head.stream_serial();
        let (channels, pre_skip, input_sample_rate) = parse_head(&head.data)?;
        let mut tags_seen = false;
        let mut packets = Vec::new();
        while let Some(packet) = next()? {
            if packet.stream_serial() != serial {
                continue;
            }
            if !tags_seen {
                if !packet.data.starts_with(b"OpusTags") {
                    return Err(bad("second packet is not OpusTags"));
                }
                tags_seen = true;
                continue;
            }
            let samples =
                packet_samples(&packet.data).map_err(|e| bad(format!("audio packet: {e}")))?;
            packets.push(OggOpusPacket {
                data: Bytes::from(packet.data),
                samples,
            });
        }
        if !tags_seen {
            return Err(bad("no OpusTags packet"));
        }
        Ok(OggOpusFile {
            channels,
            pre_skip,
            input_sample_rate,
            packets,
        })
    }
}

/// Validates an `OpusHead` packet; returns (channels, pre-skip, input sample rate).
fn parse_head(head: &[u8]) -> Result<(u8, u16, u32), MediaError> {
    if head.len() < 19 || !head.starts_with(b"OpusHead") {
        return Err(bad("first packet is not OpusHead"));
    }
    // Major version 0 (the high nibble) is the only one defined; minor versions are compatible.
    if head[8] & 0xf0 != 0 {
        return Err(bad(format!("unsupported version {}", head[8])));
    }
    let channels = head[9];
    let mapping_family = head[18];
    if channels == 0 || (mapping_family == 0 && channels > 2) {
        return Err(bad(format!(
            "{channels} channels with mapping family {mapping_family}"
        )));
    }
    if mapping_family != 0 {
        return Err(bad(format!(
            "unsupported channel mapping family {mapping_family}"
        )));
    }
    let pre_skip = u16::from_le_bytes([head[10], head[11]]);
    let input_sample_rate = u32::from_le_bytes([head[12], head[13], head[14], head[15]]);
    Ok((channels, pre_skip, input_sample_rate))
}

/// An [`EncodedSource`] playing an Ogg Opus file's packets, paced by their durations.
///
/// Returns `Ok(None)` after the last packet, or starts over when [`looping`](Self::looping).
pub struct OggOpusFileSource {
    file: OggOpusFile,
    next: usize,
    samples_played: u64,
    looping: bool,
    pacer: Pacer,
    index: u64,
}

impl OggOpusFileSource {
    /// A paced source over the file at `path`; the file is read and validated at once.
    pub fn open(path: impl AsRef<Path>) -> Result<OggOpusFileSource, MediaError> {
        Ok(OggOpusFileSource::from_file(OggOpusFile::open(path)?))
    }

    /// A paced source over an already parsed file.
    pub fn from_file(file: OggOpusFile) -> OggOpusFileSource {
        OggOpusFileSource {
            file,
            next: 0,
            samples_played: 0,
            looping: false,
            pacer: Pacer::real_time(),
            index: 0,
        }
    }

    /// Starts over after the last packet instead of ending.
    pub fn looping(mut self, looping: bool) -> OggOpusFileSource {
        self.looping = looping;
        self
    }

    /// Yields packets as fast as they are asked for.
    pub fn unpaced(mut self) -> OggOpusFileSource {
        self.pacer = Pacer::unpaced();
        self
    }

    /// Channel count of the file.
    pub fn channels(&self) -> u8 {
        self.file.channels
    }
}

impl EncodedSource for OggOpusFileSource {
    fn codec(&self) -> Codec {
        Codec::Opus
    }

    fn next_frame(&mut self) -> Result<Option<EncodedFrame>, MediaError> {
        if self.file.packets.is_empty() {
            return Ok(None);
        }
        if self.next == self.file.packets.len() {
            if !self.looping {
                return Ok(None);
            }
            self.next = 0;
        }
        let packet = &self.file.packets[self.next];
        self.next += 1;
        let at = Duration::from_micros(self.samples_played * 1_000_000 / u64::from(SAMPLE_RATE));
        let captured_at = self.pacer.wait_until(at);
        self.samples_played += packet.samples as u64;
        let index = self.index;
        self.index += 1;
        Ok(Some(EncodedFrame {
            codec: Codec::Opus,
            data: packet.data.clone(),
            duration: Duration::from_micros(
                packet.samples as u64 * 1_000_000 / u64::from(SAMPLE_RATE),
            ),
            keyframe: false,
            index,
            captured_at,
        }))
    }
}

/// Writes Opus packets to a valid Ogg Opus file.
///
/// The last packet is held back until the next one (or [`finish`](Self::finish)) so that it
/// can carry the end-of-stream flag. Dropping the recorder finishes it as a best effort.
pub struct OggOpusRecorder<W: Write = BufWriter<File>> {
    writer: Option<PacketWriter<'static, W>>,
    serial: u32,
    pending: Option<Vec<u8>>,
    granule: u64,
    packets_on_page: u32,
    packets: u64,
}

impl OggOpusRecorder<BufWriter<File>> {
    /// Creates (or truncates) the file at `path` for `channels` (1 or 2) channels.
    pub fn create(path: impl AsRef<Path>, channels: u8) -> Result<OggOpusRecorder, MediaError> {
        OggOpusRecorder::new(BufWriter::new(File::create(path)?), channels)
    }
}

impl<W: Write> OggOpusRecorder<W> {
    /// Writes the two header pages to `writer`.
    pub fn new(writer: W, channels: u8) -> Result<OggOpusRecorder<W>, MediaError> {
        if !(1..=2).contains(&channels) {
            return Err(MediaError::InvalidSettings(format!(
                "{channels} channels; Ogg Opus recording supports 1 or 2"
            )));
        }
        let mut head = Vec::with_capacity(19);
        head.extend_from_slice(b"OpusHead");
        head.push(1);
        head.push(channels);
        head.extend_from_slice(&PRE_SKIP.to_le_bytes());
        head.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
        head.extend_from_slice(&0i16.to_le_bytes());
        head.push(0);
        let mut tags = Vec::new();
        tags.extend_from_slice(b"OpusTags");
        tags.extend_from_slice(&(VENDOR.len() as u32).to_le_bytes());
        tags.extend_from_slice(VENDOR.as_bytes());
        tags.extend_from_slice(&0u32.to_le_bytes());

        // Any fixed serial is valid for a single-stream file; a per-process one avoids
        // identical serials when files are later chained.
        let serial = std::process::id() ^ 0x534b_594c;
        let mut writer = PacketWriter::new(writer);
        // RFC 7845 §3: each header packet ends its own page, with granule position 0.
        writer.write_packet(head, serial, PacketWriteEndInfo::EndPage, 0)?;
        writer.write_packet(tags, serial, PacketWriteEndInfo::EndPage, 0)?;
        Ok(OggOpusRecorder {
            writer: Some(writer),
            serial,
            pending: None,
            granule: 0,
            packets_on_page: 0,
            packets: 0,
        })
    }

    /// Appends one Opus packet. Packets whose table of contents is invalid are rejected
    /// (their duration, needed for the granule position, is unknown).
    pub fn push(&mut self, packet: &[u8]) -> Result<(), MediaError> {
        packet_samples(packet)?;
        if self.writer.is_none() {
            return Err(MediaError::Ended);
        }
        if let Some(previous) = self.pending.take() {
            let end = if self.packets_on_page + 1 >= PACKETS_PER_PAGE {
                PacketWriteEndInfo::EndPage
            } else {
                PacketWriteEndInfo::NormalPacket
            };
            self.write(previous, end)?;
        }
        self.pending = Some(packet.to_vec());
        self.packets += 1;
        Ok(())
    }

    /// Audio packets accepted so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    fn write(&mut self, packet: Vec<u8>, end: PacketWriteEndInfo) -> Result<(), MediaError> {
        let samples = packet_samples(&packet)? as u64;
        // The granule position counts every decoded sample, pre-skip included (RFC 7845 §4).
        self.granule += samples;
        let writer = self.writer.as_mut().ok_or(MediaError::Ended)?;
        writer.write_packet(packet, self.serial, end, self.granule)?;
        self.packets_on_page = if end == PacketWriteEndInfo::NormalPacket {
            self.packets_on_page + 1
        } else {
            0
        };
        Ok(())
    }

    /// Writes the held-back packet with the end-of-stream flag, flushes and returns the
    /// writer.
    pub fn finish(mut self) -> Result<W, MediaError> {
        self.finalize()?;
        let writer = self.writer.take().ok_or(MediaError::Ended)?;
        Ok(writer.into_inner())
    }

    fn finalize(&mut self) -> Result<(), MediaError> {
        if let Some(last) = self.pending.take() {
            self.write(last, PacketWriteEndInfo::EndStream)?;
        }
        if let Some(writer) = self.writer.as_mut() {
            writer.inner_mut().flush()?;
        }
        Ok(())
    }
}

impl<W: Write> Drop for OggOpusRecorder<W> {
    fn drop(&mut self) {
        if self.writer.is_some()
            && let Err(e) = self.finalize()
        {
            tracing::warn!(error = %e, "could not finish Ogg Opus recording");
        }
    }
}
