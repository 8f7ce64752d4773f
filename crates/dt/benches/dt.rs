//! Criterion benchmarks: chunk encode+decode throughput (base64, binary) and a 64 MiB
//! in-memory Upload→Download transfer (base64 and binary).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use skylink_dt::chunk::{CHUNK_FILE_SIZE, decode_base64_chunk, encode_base64_chunk};
use skylink_dt::message::{Incoming, Message, OutFrame, classify};
use skylink_dt::transfer::*;
use skylink_dt::version::{Dialect, PeerProfile};
use std::hint::black_box;
use std::time::Instant;

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn chunk_codecs(c: &mut Criterion) {
    let raw = data(CHUNK_FILE_SIZE);
    let mut g = c.benchmark_group("chunk");
    g.throughput(Throughput::Bytes(raw.len() as u64));
    g.bench_function("base64 encode+decode 49152 B", |b| {
        b.iter(|| {
            let t = encode_base64_chunk(black_box(&raw));
            let (bytes, _) = decode_base64_chunk(&t).unwrap();
            black_box(bytes)
        })
    });
    let raw = data(skylink_dt::chunk::BINARY_FILE_SIZE);
    g.throughput(Throughput::Bytes(raw.len() as u64));
    g.bench_function("binary encode+decode 65456 B", |b| {
        let mut sink = Vec::with_capacity(raw.len());
        b.iter(|| {
            let f = OutFrame::Binary(black_box(&raw).to_vec());
            sink.clear();
            if let Ok(Incoming::BinaryChunk(x)) = classify(f.as_frame()) {
                sink.extend_from_slice(x);
            }
            black_box(sink.len())
        })
    });
    g.finish();
}

/// Run one whole transfer in memory; returns the received byte count.
fn transfer(payload: &Payload, binary: bool) -> usize {
    let now = Instant::now();
    let d = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "chrome"));
    let mut up = Upload::new(
        UploadConfig::new("A_1", "A", "B", &d, binary),
        payload.clone(),
    )
    .unwrap();
    let start = up.start().unwrap();
    let Action::Send(OutFrame::Text(w)) = &start[0] else {
        unreachable!()
    };
    let Message::Wrq(w) = Message::from_json(w).unwrap() else {
        unreachable!()
    };
    let (mut down, _) =
        Download::new(DownloadConfig::new("B", "A", "A_1", ChannelKind::Data), &w).unwrap();
    let mut to_up = down.accept().unwrap();
    let mut received = 0;
    while !down.is_terminal() {
        let mut to_down = Vec::new();
        for a in to_up.drain(..) {
            if let Action::Send(OutFrame::Text(t)) = a {
                to_down.extend(up.handle_message(&Message::from_json(&t).unwrap(), now));
            }
        }
        for a in to_down {
            if let Action::Send(f) = a {
                let acts = match classify(f.as_frame()).unwrap() {
                    Incoming::TextChunk(t) => down.handle_chunk(Chunk::Text(t), now),
                    Incoming::BinaryChunk(b) => down.handle_chunk(Chunk::Binary(b), now),
                    Incoming::Message(m) => down.handle_message(&m),
                };
                for a in acts {
                    match a {
                        Action::Event(Event::IncomingData { data, .. }) => {
                            received = data.as_bytes().map_or(0, <[u8]>::len)
                        }
                        other => to_up.push(other),
                    }
                }
            }
        }
    }
    received
}

fn transfers(c: &mut Criterion) {
    const N: usize = 64 << 20;
    let payload = Payload::blob(data(N), None);
    let mut g = c.benchmark_group("transfer 64 MiB");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(N as u64));
    g.bench_function("base64", |b| {
        b.iter(|| assert_eq!(transfer(&payload, false), N))
    });
    g.bench_function("binary", |b| {
        b.iter(|| assert_eq!(transfer(&payload, true), N))
    });
    g.finish();
}

criterion_group!(benches, chunk_codecs, transfers);
criterion_main!(benches);
