//! The test pattern through a real VP8 encoder and decoder.
#![cfg(feature = "codecs")]

use skylink_media::VideoFrame;
use skylink_media::VideoSource;
use skylink_media::testpattern::{TestPattern, read_frame_number};
use skylink_media::vp8::{Vp8Decoder, Vp8Encoder};

/// Box-filters an I420 frame to half size each way, as a browser showing a smaller video would.
fn half_size(frame: &VideoFrame) -> VideoFrame {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let (hw, hh) = (w / 2, h / 2);
    let (ow, oh) = (hw & !1, hh & !1);
    let mut data = Vec::with_capacity(VideoFrame::i420_len(ow as u32, oh as u32));
    let chroma = (w / 2) * (h / 2);
    let planes = [
        (0, w, ow, oh),
        (w * h, w / 2, ow / 2, oh / 2),
        (w * h + chroma, w / 2, ow / 2, oh / 2),
    ];
    for (base, pw, out_w, out_h) in planes {
        for y in 0..out_h {
            for x in 0..out_w {
                let at = |dx: usize, dy: usize| {
                    u32::from(frame.data[base + (2 * y + dy) * pw + 2 * x + dx])
                };
                data.push(((at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1) + 2) / 4) as u8);
            }
        }
    }
    VideoFrame {
        width: ow as u32,
        height: oh as u32,
        data,
        index: frame.index,
        captured_at: frame.captured_at,
    }
}

#[test]
fn ninety_frames_keep_their_numbers_motion_and_brightness() {
    let mut pattern = TestPattern::unpaced(640, 480, 30.0).expect("pattern");
    let mut encoder = Vp8Encoder::new(640, 480, 30.0, 1000).expect("encoder");
    let mut decoder = Vp8Decoder::new().expect("decoder");
    let mut previous: Option<VideoFrame> = None;
    for i in 0..90u64 {
        let raw = pattern.next_frame().expect("frame");
        let force = i == 45;
        let encoded = encoder.encode(&raw, force).expect("encode");
        assert_eq!(encoded.len(), 1, "one compressed frame per input");
        let encoded = &encoded[0];
        assert_eq!(encoded.index, i);
        if i == 0 || force {
            assert!(encoded.keyframe, "frame {i} should be a key frame");
        } else if i < 45 {
            assert!(!encoded.keyframe, "frame {i} should be a delta frame");
        }
        let decoded = decoder.decode(&encoded.data).expect("decode");
        assert_eq!(decoded.len(), 1);
        let frame = &decoded[0];
        assert_eq!((frame.width, frame.height), (640, 480));
        assert_eq!(read_frame_number(frame), Some(i), "frame {i}");
        assert!(
            frame.mean_luma() > 60.0,
            "frame {i} mean luma {}",
            frame.mean_luma()
        );
        if let Some(prev) = &previous {
            assert_ne!(prev.y(), frame.y(), "frame {i} equals its predecessor");
        }
        previous = Some(frame.clone());
    }
}

#[test]
fn numbers_survive_low_bitrate_and_downscaling_without_misreads() {
    let mut pattern = TestPattern::unpaced(640, 480, 30.0).expect("pattern");
    let mut encoder = Vp8Encoder::new(640, 480, 30.0, 150).expect("encoder");
    let mut decoder = Vp8Decoder::new().expect("decoder");
    let (mut read_full, mut read_half, total) = (0, 0, 120u64);
    for i in 0..total {
        let raw = pattern.next_frame().expect("frame");
        for encoded in encoder.encode(&raw, false).expect("encode") {
            for frame in decoder.decode(&encoded.data).expect("decode") {
                let half = half_size(&frame);
                assert_eq!((half.width, half.height), (320, 240));
                if let Some(n) = read_frame_number(&frame) {
                    assert_eq!(n, i, "misread at full size");
                    read_full += 1;
                }
                if let Some(n) = read_frame_number(&half) {
                    assert_eq!(n, i, "misread at half size");
                    read_half += 1;
                }
            }
        }
    }
    eprintln!("150 kbps: read {read_full}/{total} full size, {read_half}/{total} half size");
    assert!(
        read_full * 10 >= total * 9,
        "only {read_full}/{total} read at full size"
    );
    assert!(
        read_half * 10 >= total * 9,
        "only {read_half}/{total} read at half size"
    );
}

/// Nearest-neighbour resize of the luma plane to any even size (neutral chroma), like a
/// browser's cheapest scaler.
fn resize(frame: &VideoFrame, width: u32, height: u32) -> VideoFrame {
    let (sw, sh) = (frame.width as usize, frame.height as usize);
    let (w, h) = (width as usize, height as usize);
    let mut data = vec![128u8; VideoFrame::i420_len(width, height)];
    for y in 0..h {
        for x in 0..w {
            data[y * w + x] = frame.data[(y * sh / h) * sw + x * sw / w];
        }
    }
    VideoFrame {
        width,
        height,
        data,
        index: frame.index,
        captured_at: frame.captured_at,
    }
}

#[test]
fn numbers_read_at_other_display_sizes() {
    let mut pattern = TestPattern::unpaced(1280, 720, 30.0).expect("pattern");
    let mut encoder = Vp8Encoder::new(1280, 720, 30.0, 600).expect("encoder");
    let mut decoder = Vp8Decoder::new().expect("decoder");
    let sizes = [(960, 540), (640, 360), (426, 240), (320, 180), (1920, 1080)];
    let mut read = [0u32; 5];
    for i in 0..30u64 {
        let raw = pattern.next_frame().expect("frame");
        for encoded in encoder.encode(&raw, false).expect("encode") {
            for frame in decoder.decode(&encoded.data).expect("decode") {
                for (k, &(w, h)) in sizes.iter().enumerate() {
                    if let Some(n) = read_frame_number(&resize(&frame, w, h)) {
                        assert_eq!(n, i, "misread at {w}x{h}");
                        read[k] += 1;
                    }
                }
            }
        }
    }
    assert!(
        read.iter().all(|&r| r >= 27),
        "frames read per size {sizes:?}: {read:?}"
    );
}
