//! Full local pipeline on the Chromium audio+video+data offer, with parse+marshal (the floor
//! every pipeline pays) measured in the same run as the baseline. Goal: ≤ 20 µs.

use criterion::{Criterion, criterion_group, criterion_main};
use skylink_sdp::{PeerContext, Sdp, SdpSettings, SdpType};
use std::hint::black_box;

const OFFER: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/skylinkjs-0.6.26/sdp/01-A-setLocal-offer-initial.sdp"
));

fn bench(c: &mut Criterion) {
    let settings = SdpSettings::default();
    let mut g = c.benchmark_group("sdp");
    g.bench_function("baseline_parse_marshal", |b| {
        b.iter(|| {
            let s = Sdp::parse(black_box(OFFER)).map(|s| s.to_text());
            black_box(s)
        })
    });
    g.bench_function("local_pipeline", |b| {
        b.iter(|| {
            let mut peer = PeerContext::default();
            let out = skylink_sdp::local(black_box(OFFER), SdpType::Offer, &settings, &mut peer);
            black_box(out)
        })
    });
    g.bench_function("local_plus_output", |b| {
        b.iter(|| {
            let mut peer = PeerContext::default();
            let out = skylink_sdp::local(black_box(OFFER), SdpType::Offer, &settings, &mut peer)
                .and_then(|s| skylink_sdp::output(&s, SdpType::Offer, &settings, &peer));
            black_box(out)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
