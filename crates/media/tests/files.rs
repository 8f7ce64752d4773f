//! IVF and Ogg Opus: record, read back, play, and never panic on garbage.
#![cfg(feature = "codecs")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use skylink_media::ivf::{IvfFile, IvfFileSource, IvfRecorder};
use skylink_media::ogg_opus::{OggOpusFile, OggOpusFileSource, OggOpusRecorder};
use skylink_media::opus::{OpusSource, Tone};
use skylink_media::probe::Vp8Probe;
use skylink_media::testpattern::TestPattern;
use skylink_media::vp8_source::Vp8Source;
use skylink_media::{EncodedSource, MediaError};

/// A path in the system temp dir unique to this process and test.
fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("skylink-media-{}-{name}", std::process::id()))
}

fn vp8_frames(count: usize) -> Vec<bytes::Bytes> {
    let mut source = Vp8Source::new(TestPattern::unpaced(160, 120, 30.0).expect("pattern"), 200)
        .expect("source");
    (0..count)
        .map(|_| source.next_frame().expect("encode").expect("frame").data)
        .collect()
}

fn opus_packets(count: usize) -> Vec<bytes::Bytes> {
    let mut source = OpusSource::new(Tone::unpaced(440.0).expect("tone"), 32_000).expect("source");
    (0..count)
        .map(|_| source.next_frame().expect("encode").expect("packet").data)
        .collect()
}

fn small_ivf() -> Vec<u8> {
    let mut recorder = IvfRecorder::new(std::io::Cursor::new(Vec::new()), 0, 0).expect("recorder");
    for (i, frame) in vp8_frames(4).iter().enumerate() {
        recorder.push(frame, i as u64 * 3000).expect("push");
    }
    recorder.finish().expect("finish").into_inner()
}

fn small_ogg() -> Vec<u8> {
    let mut recorder = OggOpusRecorder::new(Vec::new(), 2).expect("recorder");
    for packet in opus_packets(4) {
        recorder.push(&packet).expect("push");
    }
    recorder.finish().expect("finish")
}

#[test]
fn ivf_records_and_plays_back_the_same_frames() {
    let frames = vp8_frames(30);
    let path = temp_path("roundtrip.ivf");
    let mut recorder = IvfRecorder::create(&path, 0, 0).expect("create");
    for (i, frame) in frames.iter().enumerate() {
        recorder.push(frame, i as u64 * 3000).expect("push");
    }
    assert_eq!(recorder.frames(), 30);
    drop(recorder); // Dropping finishes the file too.

    let file = IvfFile::open(&path).expect("parse");
    assert_eq!(file.header.frame_count, 30);
    assert_eq!(
        (file.header.width, file.header.height),
        (160, 120),
        "size from the first key frame"
    );
    assert_eq!(
        file.frames
            .iter()
            .map(|f| f.data.clone())
            .collect::<Vec<_>>(),
        frames
    );
    assert_eq!(file.frames[29].pts, 29 * 3000);

    let mut source = IvfFileSource::open(&path).expect("open").unpaced();
    let mut probe = Vp8Probe::new().expect("probe");
    for (i, expected) in frames.iter().enumerate() {
        let frame = source.next_frame().expect("read").expect("frame");
        assert_eq!(&frame.data, expected);
        assert_eq!(frame.index, i as u64);
        assert_eq!(frame.duration, Duration::from_nanos(33_333_333));
        probe.push(&frame.data).expect("decodes");
    }
    assert!(source.next_frame().expect("end").is_none());
    assert_eq!(probe.report().last_frame_number, Some(29));
    std::fs::remove_file(&path).ok();
}

#[test]
fn ivf_source_loops_and_is_paced_by_timestamps() {
    let file = IvfFile::parse(&small_ivf()).expect("parse");
    let mut source = IvfFileSource::from_file(file).looping(true);
    let start = Instant::now();
    let indices: Vec<u64> = (0..9)
        .map(|_| {
            source
                .next_frame()
                .expect("read")
                .expect("looping never ends")
                .index
        })
        .collect();
    let elapsed = start.elapsed();
    assert_eq!(indices, (0..9).collect::<Vec<_>>());
    // 8 frame intervals of 1/30 s after the first frame.
    assert!(
        elapsed >= Duration::from_millis(250),
        "too fast: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(2), "too slow: {elapsed:?}");
}

#[test]
fn ogg_records_and_plays_back_the_same_packets() {
    let packets = opus_packets(120);
    let path = temp_path("roundtrip.opus");
    let mut recorder = OggOpusRecorder::create(&path, 2).expect("create");
    for packet in &packets {
        recorder.push(packet).expect("push");
    }
    assert_eq!(recorder.packets(), 120);
    recorder.finish().expect("finish");

    let bytes = std::fs::read(&path).expect("read");
    let file = OggOpusFile::parse(&bytes).expect("parse");
    assert_eq!((file.channels, file.pre_skip), (2, 312));
    assert_eq!(
        file.packets
            .iter()
            .map(|p| p.data.clone())
            .collect::<Vec<_>>(),
        packets
    );
    assert!(file.packets.iter().all(|p| p.samples == 960));
    assert_last_page_is_end_of_stream(&bytes, 120 * 960);

    let mut source = OggOpusFileSource::open(&path).expect("open").unpaced();
    for expected in &packets {
        let packet = source.next_frame().expect("read").expect("packet");
        assert_eq!(&packet.data, expected);
        assert_eq!(packet.duration, Duration::from_millis(20));
    }
    assert!(source.next_frame().expect("end").is_none());
    std::fs::remove_file(&path).ok();
}

/// Checks the last Ogg page's header: EOS flag and granule position.
fn assert_last_page_is_end_of_stream(bytes: &[u8], granule: u64) {
    let last = bytes
        .windows(4)
        .rposition(|w| w == b"OggS")
        .expect("an Ogg page");
    let header_type = bytes[last + 5];
    assert_eq!(header_type & 0x04, 0x04, "end-of-stream flag");
    let mut gp = [0u8; 8];
    gp.copy_from_slice(&bytes[last + 6..last + 14]);
    assert_eq!(u64::from_le_bytes(gp), granule);
}

#[test]
fn ogg_source_is_paced() {
    let file = OggOpusFile::parse(&small_ogg()).expect("parse");
    let mut source = OggOpusFileSource::from_file(file).looping(true);
    let start = Instant::now();
    for _ in 0..11 {
        source
            .next_frame()
            .expect("read")
            .expect("looping never ends");
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(190),
        "too fast: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(2), "too slow: {elapsed:?}");
}

#[test]
fn empty_and_wrong_files_are_bad_files() {
    for bytes in [&b""[..], b"DKIF", b"OggS", &[0u8; 64]] {
        assert!(matches!(IvfFile::parse(bytes), Err(MediaError::BadFile(_))));
        assert!(matches!(
            OggOpusFile::parse(bytes),
            Err(MediaError::BadFile(_))
        ));
    }
    // Each reader rejects the other's format.
    assert!(matches!(
        IvfFile::parse(&small_ogg()),
        Err(MediaError::BadFile(_))
    ));
    assert!(matches!(
        OggOpusFile::parse(&small_ivf()),
        Err(MediaError::BadFile(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ivf_reader_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = IvfFile::parse(&bytes);
    }

    #[test]
    fn ivf_reader_survives_random_bytes_after_a_valid_header(tail in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut bytes = small_ivf()[..32].to_vec();
        bytes.extend_from_slice(&tail);
        let _ = IvfFile::parse(&bytes);
    }

    #[test]
    fn truncated_ivf_is_rejected_or_a_prefix(cut in 0usize..4096) {
        let whole = small_ivf();
        let full = IvfFile::parse(&whole).expect("valid");
        let cut = cut % whole.len();
        match IvfFile::parse(&whole[..cut]) {
            Ok(file) => prop_assert!(full.frames.starts_with(&file.frames)),
            Err(e) => prop_assert!(matches!(e, MediaError::BadFile(_))),
        }
    }

    #[test]
    fn ogg_reader_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = OggOpusFile::parse(&bytes);
    }

    #[test]
    fn ogg_reader_survives_corrupted_files(at in 0usize..4096, value in any::<u8>(), cut in 0usize..4096) {
        let mut bytes = small_ogg();
        let at = at % bytes.len();
        bytes[at] = value;
        let cut = cut % (bytes.len() + 1);
        match OggOpusFile::parse(&bytes[..cut]) {
            Ok(file) => prop_assert!(file.packets.len() <= 4),
            Err(e) => prop_assert!(matches!(e, MediaError::BadFile(_))),
        }
    }
}

#[test]
fn dropped_ogg_recorder_still_ends_the_stream() {
    let path = temp_path("dropped.opus");
    let mut recorder = OggOpusRecorder::create(&path, 2).expect("create");
    for packet in opus_packets(3) {
        recorder.push(&packet).expect("push");
    }
    drop(recorder);
    let bytes = std::fs::read(&path).expect("read");
    assert_eq!(OggOpusFile::parse(&bytes).expect("parse").packets.len(), 3);
    assert_last_page_is_end_of_stream(&bytes, 3 * 960);
    std::fs::remove_file(&path).ok();
}

#[test]
fn recorders_reject_what_they_cannot_write() {
    let mut ivf = IvfRecorder::new(std::io::Cursor::new(Vec::new()), 64, 48).expect("recorder");
    assert!(ivf.push(&[], 0).is_err());
    assert!(OggOpusRecorder::new(Vec::new(), 3).is_err());
    let mut ogg = OggOpusRecorder::new(Vec::new(), 2).expect("recorder");
    assert!(ogg.push(&[]).is_err(), "an empty packet has no duration");
    assert_eq!(ogg.packets(), 0);
}
