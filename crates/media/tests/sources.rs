//! Encoding sources end to end: mute behaviour, audio level, real-time pacing.
#![cfg(feature = "codecs")]

use std::time::{Duration, Instant};

use skylink_media::opus::{OpusDecoder, OpusSource, Tone, rms};
use skylink_media::testpattern::{TestPattern, read_frame_number};
use skylink_media::vp8::Vp8Decoder;
use skylink_media::vp8_source::Vp8Source;
use skylink_media::{Codec, EncodedSource, VideoSource};

#[test]
fn muted_video_is_black_and_unmuted_is_not() {
    let mut source = Vp8Source::new(TestPattern::unpaced(320, 240, 30.0).expect("pattern"), 500)
        .expect("source");
    assert_eq!(source.codec(), Codec::Vp8);
    let mut decoder = Vp8Decoder::new().expect("decoder");
    let mut decode_next = |source: &mut Vp8Source<TestPattern>| {
        let encoded = source.next_frame().expect("encode").expect("never ends");
        let mut frames = decoder.decode(&encoded.data).expect("decode");
        assert_eq!(frames.len(), 1);
        (encoded, frames.remove(0))
    };
    for _ in 0..5 {
        let (_, frame) = decode_next(&mut source);
        assert!(frame.mean_luma() > 60.0);
    }
    source.set_muted(true);
    for i in 5..15 {
        let (encoded, frame) = decode_next(&mut source);
        assert_eq!(encoded.index, i, "muted frames keep the source's numbering");
        assert_eq!((frame.width, frame.height), (320, 240));
        if i >= 7 {
            assert!(
                frame.mean_luma() < 20.0,
                "muted frame {i} luma {}",
                frame.mean_luma()
            );
            assert_eq!(read_frame_number(&frame), None);
        }
    }
    source.set_muted(false);
    let mut last = None;
    for _ in 0..5 {
        last = Some(decode_next(&mut source).1);
    }
    let last = last.expect("frames");
    assert!(last.mean_luma() > 60.0, "unmuted luma {}", last.mean_luma());
    assert_eq!(read_frame_number(&last), Some(19));
}

#[test]
fn requested_keyframe_comes_next() {
    let mut source = Vp8Source::new(TestPattern::unpaced(160, 120, 30.0).expect("pattern"), 200)
        .expect("source");
    let first = source.next_frame().expect("encode").expect("frame");
    assert!(first.keyframe);
    let second = source.next_frame().expect("encode").expect("frame");
    assert!(!second.keyframe);
    source.request_keyframe();
    let third = source.next_frame().expect("encode").expect("frame");
    assert!(third.keyframe);
}

#[test]
fn tone_is_loud_and_muted_tone_is_silent() {
    let mut source = OpusSource::new(Tone::unpaced(440.0).expect("tone"), 48_000).expect("source");
    assert_eq!(source.codec(), Codec::Opus);
    let mut decoder = OpusDecoder::new(2).expect("decoder");
    let mut level = |source: &mut OpusSource<Tone>| {
        let packet = source.next_frame().expect("encode").expect("never ends");
        assert_eq!(packet.duration, Duration::from_millis(20));
        let pcm = decoder.decode(&packet.data).expect("decode");
        assert_eq!(pcm.samples.len(), 960 * 2);
        rms(&pcm.samples)
    };
    // The first packets ramp up from the codec's look-ahead.
    let loud: Vec<f64> = (0..20).map(|_| level(&mut source)).collect();
    assert!(
        loud[5..].iter().all(|&l| l > 3000.0),
        "tone levels {loud:?}"
    );
    source.set_muted(true);
    let quiet: Vec<f64> = (0..20).map(|_| level(&mut source)).collect();
    assert!(
        quiet[5..].iter().all(|&l| l < 50.0),
        "muted levels {quiet:?}"
    );
}

#[test]
fn test_pattern_is_paced_in_real_time() {
    let mut pattern = TestPattern::new(160, 120, 30.0).expect("pattern");
    let start = Instant::now();
    for _ in 0..15 {
        pattern.next_frame().expect("frame");
    }
    let elapsed = start.elapsed();
    // 15 frames span 14 frame intervals after the first, immediate one: 467 ms.
    assert!(
        elapsed >= Duration::from_millis(450),
        "too fast: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(2), "too slow: {elapsed:?}");
}

#[test]
fn tone_is_paced_in_real_time() {
    let mut source = OpusSource::new(Tone::default(), 32_000).expect("source");
    let start = Instant::now();
    for _ in 0..11 {
        source.next_frame().expect("encode");
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(190),
        "too fast: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(2), "too slow: {elapsed:?}");
}
