//! VP8 encoding cost of the 640×480 test pattern at 30 fps settings, with pattern generation
//! alone as the baseline.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use skylink_media::testpattern::TestPattern;
use skylink_media::vp8::Vp8Encoder;

fn benches(c: &mut Criterion) {
    let pattern = TestPattern::unpaced(640, 480, 30.0).expect("pattern");
    let mut index = 0u64;
    c.bench_function("test_pattern_640x480", |b| {
        b.iter(|| {
            index += 1;
            black_box(pattern.render(index))
        })
    });

    // Two seconds of frames, rendered up front so only encoding is measured; the encoder
    // keeps running across them, so it sees steady-state motion and regular key frames.
    let frames: Vec<_> = (0..60).map(|i| pattern.render(i)).collect();
    let mut encoder = Vp8Encoder::new(640, 480, 30.0, 1000).expect("encoder");
    let mut next = 0usize;
    c.bench_function("vp8_encode_640x480_30fps_1000kbps", |b| {
        b.iter(|| {
            let frame = &frames[next % frames.len()];
            next += 1;
            black_box(encoder.encode(frame, false).expect("encode"))
        })
    });
}

criterion_group!(encode, benches);
criterion_main!(encode);
