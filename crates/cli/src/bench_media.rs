//! `skylink bench media`: what a 640×480@30 VP8 test-pattern stream costs and how late its
//! frames arrive, each figure next to a baseline measured in the same run.
//!
//! 1. **Encode cost, in-process**: `--encode-seconds` worth of the unpaced test pattern at
//!    30 fps settings, generated alone (baseline) and generated + VP8-encoded at the engine's
//!    bitrate ([`skylink_room::devices::VIDEO_BITRATE_KBPS`]), interleaved over three rounds;
//!    process CPU time (`getrusage`) per frame and as % of one core at 30 fps. The encoded
//!    frames are then decoded (+ frame number read) for the receiver's cost.
//! 2. **Paced pipeline**: an embedded `skylink serve` and two Rust clients in this process.
//!    Both join and connect; the process CPU is measured for `--idle-seconds` (idle-connected
//!    baseline). Then A `sendStream`s the paced test pattern and B decodes every received
//!    frame (VP8 decoder + [`skylink_media::read_frame_number`]); CPU over `--seconds`.
//! 3. **End-to-end latency Rust→Rust**, over the same window: from the frame's capture (the
//!    paced pattern renders frame n when it is due; A's source records that instant per frame
//!    number) to B having decoded it and read its number. Same process, so the `Instant`s
//!    compare. Split into capture→encoded (A's encoder), encoded→arrived (RTP packetization,
//!    SRTP, UDP loopback, depacketization: B's sink gets the whole frame) and arrived→decoded
//!    (B's decode + read, the baseline component).

use clap::Args as ClapArgs;

/// `skylink bench media` options.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Seconds of the paced Rust→Rust stream that are measured (after a 1 s warm-up).
    #[arg(long, default_value_t = 12.0)]
    seconds: f64,
    /// Seconds of idle-connected baseline before the stream starts.
    #[arg(long, default_value_t = 5.0)]
    idle_seconds: f64,
    /// Seconds of video (at 30 fps) encoded per round of the in-process encode measurement.
    #[arg(long, default_value_t = 20.0)]
    encode_seconds: f64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs the benchmark.
#[cfg(not(feature = "codecs"))]
pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!(
        "`skylink bench media` needs the VP8 codec: build with `--features codecs` \
         (Debian: apt-get install libvpx-dev libopus-dev)"
    )
}

#[cfg(feature = "codecs")]
pub use imp::run;

#[cfg(feature = "codecs")]
mod imp {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use anyhow::{Context as _, bail};
    use serde_json::{Value, json};
    use skylink_media::{
        EncodedFrame, EncodedSource, FrameSink, MediaError, TestPattern, VideoSource as _,
        Vp8Decoder, Vp8Source, read_frame_number,
    };
    use skylink_room::devices::VIDEO_BITRATE_KBPS;
    use skylink_room::local_media::OpenedMedia;
    use skylink_room::peer_media::SinkFactory;
    use skylink_room::{Client, Event, InitOptions, JoinOptions, StreamInput};

    use super::Args;
    use crate::bench_join::until;

    const WIDTH: u32 = 640;
    const HEIGHT: u32 = 480;
    const FPS: f64 = 30.0;
    /// Bound of every wait on the engine.
    const WAIT: Duration = Duration::from_secs(20);

    use crate::bench_transfer::cpu_seconds;

    /// CPU seconds and wall seconds spent by `f`.
    fn measure<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
        let (c0, t0) = (cpu_seconds(), Instant::now());
        let out = f();
        (out, cpu_seconds() - c0, t0.elapsed().as_secs_f64())
    }

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            f64::NAN
        } else {
            v[v.len() / 2]
        }
    }

    fn percentile(sorted: &[f64], p: f64) -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
        sorted[idx.min(sorted.len() - 1)]
    }

    fn summary(mut v: Vec<f64>) -> Value {
        v.sort_by(f64::total_cmp);
        json!({
            "n": v.len(),
            "min": v.first(),
            "p50": percentile(&v, 0.5),
            "p95": percentile(&v, 0.95),
            "max": v.last(),
            "mean": if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 },
        })
    }

    /// Part 1: in-process encode (and decode) cost per frame.
    fn encode_cost(frames: u64) -> anyhow::Result<Value> {
        let mut pattern_us = Vec::new();
        let mut encode_us = Vec::new();
        let mut last_encoded: Vec<EncodedFrame> = Vec::new();
        for _round in 0..3 {
            // Baseline: the pattern alone.
            let mut pattern = TestPattern::unpaced(WIDTH, HEIGHT, FPS)?;
            let (res, cpu, _) = measure(|| -> Result<(), MediaError> {
                for _ in 0..frames {
                    std::hint::black_box(pattern.next_frame()?);
                }
                Ok(())
            });
            res?;
            pattern_us.push(cpu / frames as f64 * 1e6);
            // Pattern + VP8 encode, fresh encoder each round (starts with a key frame, as a
            // new stream does).
            let pattern = TestPattern::unpaced(WIDTH, HEIGHT, FPS)?;
            let mut source = Vp8Source::new(pattern, VIDEO_BITRATE_KBPS)?;
            let (res, cpu, _) = measure(|| -> Result<Vec<EncodedFrame>, MediaError> {
                let mut out = Vec::with_capacity(frames as usize);
                for _ in 0..frames {
                    out.push(source.next_frame()?.ok_or(MediaError::Ended)?);
                }
                Ok(out)
            });
            last_encoded = res?;
            encode_us.push(cpu / frames as f64 * 1e6);
        }
        // The receiver's work on the same frames: decode + read the frame number.
        let mut decode_us = Vec::new();
        let mut read_ok = 0u64;
        for _round in 0..3 {
            let mut decoder = Vp8Decoder::new()?;
            let (res, cpu, _) = measure(|| -> Result<u64, MediaError> {
                let mut ok = 0;
                for f in &last_encoded {
                    for raw in decoder.decode(&f.data)? {
                        if read_frame_number(&raw) == Some(f.index & 0xffff_ffff) {
                            ok += 1;
                        }
                    }
                }
                Ok(ok)
            });
            read_ok = res?;
            decode_us.push(cpu / last_encoded.len().max(1) as f64 * 1e6);
        }
        let bytes: usize = last_encoded.iter().map(|f| f.data.len()).sum();
        let kbps = bytes as f64 * 8.0 * FPS / last_encoded.len().max(1) as f64 / 1000.0;
        let keyframes = last_encoded.iter().filter(|f| f.keyframe).count();
        let (p, e, d) = (
            median(pattern_us.clone()),
            median(encode_us.clone()),
            median(decode_us.clone()),
        );
        let pct = |us: f64| us * FPS / 1e4;
        Ok(json!({
            "frames_per_round": frames,
            "rounds": 3,
            "width": WIDTH, "height": HEIGHT, "fps": FPS,
            "target_kbps": VIDEO_BITRATE_KBPS,
            "actual_kbps": kbps,
            "keyframes": keyframes,
            "pattern_us_per_frame": p,
            "pattern_encode_us_per_frame": e,
            "encode_only_us_per_frame": e - p,
            "decode_read_us_per_frame": d,
            "pattern_core_pct_at_30fps": pct(p),
            "pattern_encode_core_pct_at_30fps": pct(e),
            "encode_only_core_pct_at_30fps": pct(e - p),
            "decode_read_core_pct_at_30fps": pct(d),
            "decoded_numbers_ok": read_ok,
            "runs": {"pattern_us": pattern_us, "pattern_encode_us": encode_us, "decode_read_us": decode_us},
        }))
    }

    /// Per frame number: when A's pattern rendered it and when A's encoder returned it.
    #[derive(Default)]
    struct Timeline {
        sent: HashMap<u32, (Instant, Instant)>,
        /// Frames encoded since the last reset.
        encoded: u64,
    }

    /// B's side: per decoded frame (capture→decoded, capture→encoded, encoded→arrived,
    /// decode+read) in ms.
    #[derive(Default)]
    struct Received {
        samples: Vec<[f64; 4]>,
        first_decoded: Option<Instant>,
        decode_errors: u64,
        unreadable: u64,
        unknown: u64,
        frames_in: u64,
    }

    /// A's video source: the paced pattern, encoded; stamps each frame's timings.
    struct Stamped {
        inner: Vp8Source<TestPattern>,
        timeline: Arc<Mutex<Timeline>>,
    }

    impl EncodedSource for Stamped {
        fn codec(&self) -> skylink_media::Codec {
            self.inner.codec()
        }

        fn next_frame(&mut self) -> Result<Option<EncodedFrame>, MediaError> {
            let frame = self.inner.next_frame()?;
            if let Some(f) = &frame {
                let now = Instant::now();
                let mut t = self.timeline.lock().unwrap_or_else(|p| p.into_inner());
                t.sent.insert(f.index as u32, (f.captured_at, now));
                t.encoded += 1;
                // Keep ~20 s of history.
                if t.sent.len() > 1200 {
                    let floor = (f.index as u32).wrapping_sub(600);
                    t.sent.retain(|&k, _| k.wrapping_sub(floor) < 1_000_000);
                }
            }
            Ok(frame)
        }

        fn request_keyframe(&mut self) {
            self.inner.request_keyframe();
        }

        fn set_muted(&mut self, muted: bool) {
            self.inner.set_muted(muted);
        }
    }

    /// B's sink on the received video track: decodes and reads every frame's number.
    struct LatencySink {
        decoder: Vp8Decoder,
        timeline: Arc<Mutex<Timeline>>,
        received: Arc<Mutex<Received>>,
    }

    impl FrameSink for LatencySink {
        fn push(&mut self, frame: &EncodedFrame) -> Result<(), MediaError> {
            let arrived = Instant::now();
            let decoded = self.decoder.decode(&frame.data);
            let mut numbers = Vec::new();
            if let Ok(raws) = &decoded {
                numbers.extend(raws.iter().map(read_frame_number));
            }
            let done = Instant::now();
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            let mut r = self.received.lock().unwrap_or_else(|p| p.into_inner());
            r.frames_in += 1;
            if decoded.is_err() {
                r.decode_errors += 1;
                return Ok(());
            }
            for n in numbers {
                let Some(n) = n else {
                    r.unreadable += 1;
                    continue;
                };
                let stamp = self
                    .timeline
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .sent
                    .get(&(n as u32))
                    .copied();
                let Some((captured, encoded)) = stamp else {
                    r.unknown += 1;
                    continue;
                };
                r.first_decoded.get_or_insert(done);
                r.samples.push([
                    ms(done.saturating_duration_since(captured)),
                    ms(encoded.saturating_duration_since(captured)),
                    ms(arrived.saturating_duration_since(encoded)),
                    ms(done - arrived),
                ]);
            }
            Ok(())
        }
    }

    fn options(addr: std::net::SocketAddr) -> InitOptions {
        let mut o = InitOptions::new("bench-media");
        o.room_server = format!("//{addr}");
        o.force_ssl = false;
        o.udp_addrs = vec!["127.0.0.1:0".to_owned()];
        o
    }

    /// Parts 2 and 3: the paced Rust→Rust pipeline.
    async fn pipeline(args: &Args) -> anyhow::Result<Value> {
        let mut config = skylink_server::Config::default();
        config.server.bind = std::net::Ipv4Addr::LOCALHOST.into();
        config.server.port = 0;
        let server = skylink_server::Server::bind(config).await?;
        let addr = server.local_addr();
        let server_task = tokio::spawn(server.run_until(std::future::pending()));

        let timeline = Arc::new(Mutex::new(Timeline::default()));
        let received = Arc::new(Mutex::new(Received::default()));
        let a = Client::new(options(addr));
        let mut b_opts = options(addr);
        let (tl, rc) = (timeline.clone(), received.clone());
        b_opts.media_sinks = Some(SinkFactory::new(move |track| {
            if track.kind != "video" {
                return Vec::new();
            }
            match Vp8Decoder::new() {
                Ok(decoder) => vec![Box::new(LatencySink {
                    decoder,
                    timeline: tl.clone(),
                    received: rc.clone(),
                }) as Box<dyn FrameSink>],
                Err(e) => {
                    tracing::error!(error = %e, "VP8 decoder");
                    Vec::new()
                }
            }
        }));
        let b = Client::new(b_opts);
        let mut a_rx = a.subscribe();
        let mut b_rx = b.subscribe();
        let room = format!(
            "bench-media-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
        );
        let a_id = a.join_room(Some(&room), JoinOptions::default()).await?;
        let b_id = b.join_room(Some(&room), JoinOptions::default()).await?;
        until(&mut a_rx, "A's data channel", |e| match e {
            Event::DataChannelState { state, peer_id, .. }
                if state == "open" && *peer_id == b_id =>
            {
                Some(())
            }
            _ => None,
        })
        .await?;
        let aid = a_id.clone();
        until(&mut b_rx, "B's data channel", |e| match e {
            Event::DataChannelState { state, peer_id, .. }
                if state == "open" && *peer_id == aid =>
            {
                Some(())
            }
            _ => None,
        })
        .await?;
        tokio::time::sleep(Duration::from_secs(1)).await;

        // Idle-connected baseline.
        let (c0, t0) = (cpu_seconds(), Instant::now());
        tokio::time::sleep(Duration::from_secs_f64(args.idle_seconds)).await;
        let idle_pct = (cpu_seconds() - c0) / t0.elapsed().as_secs_f64() * 100.0;

        // The stream.
        let source = Stamped {
            inner: Vp8Source::new(TestPattern::new(WIDTH, HEIGHT, FPS)?, VIDEO_BITRATE_KBPS)?,
            timeline: timeline.clone(),
        };
        a.send_stream(StreamInput::Sources(OpenedMedia {
            audio: None,
            video: Some(Box::new(source)),
        }))
        .await
        .context("sendStream")?;
        let started = Instant::now();
        tokio::time::timeout(WAIT, async {
            while received
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .first_decoded
                .is_none()
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .context("no decoded frame at B")?;
        let first_frame_ms = started.elapsed().as_secs_f64() * 1e3;
        // Warm-up: key frame, rate control settling.
        tokio::time::sleep(Duration::from_secs(1)).await;
        {
            let mut r = received.lock().unwrap_or_else(|p| p.into_inner());
            *r = Received {
                first_decoded: r.first_decoded,
                ..Received::default()
            };
            timeline.lock().unwrap_or_else(|p| p.into_inner()).encoded = 0;
        }
        let (c0, t0) = (cpu_seconds(), Instant::now());
        tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
        let wall = t0.elapsed().as_secs_f64();
        let media_pct = (cpu_seconds() - c0) / wall * 100.0;
        let r = std::mem::take(&mut *received.lock().unwrap_or_else(|p| p.into_inner()));
        let encoded = timeline.lock().unwrap_or_else(|p| p.into_inner()).encoded;

        let _ = a.stop_stream().await;
        let _ = a.leave_room().await;
        let _ = b.leave_room().await;
        server_task.abort();

        let col = |i: usize| r.samples.iter().map(|s| s[i]).collect::<Vec<_>>();
        Ok(json!({
            "seconds": wall,
            "idle_seconds": args.idle_seconds,
            "idle_cpu_pct": idle_pct,
            "media_cpu_pct": media_pct,
            "stream_cpu_pct": media_pct - idle_pct,
            "first_frame_ms": first_frame_ms,
            "frames_encoded": encoded,
            "frames_in": r.frames_in,
            "frames_decoded": r.samples.len(),
            "fps_decoded": r.samples.len() as f64 / wall,
            "decode_errors": r.decode_errors,
            "unreadable": r.unreadable,
            "unknown": r.unknown,
            "latency_ms": {
                "capture_to_decoded": summary(col(0)),
                "capture_to_encoded": summary(col(1)),
                "encoded_to_arrived": summary(col(2)),
                "decode_read": summary(col(3)),
            },
        }))
    }

    fn machine() -> Value {
        let model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, m)| m.trim().to_owned())
            })
            .unwrap_or_default();
        let load = std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        json!({
            "cpu": model,
            "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "loadavg": load,
        })
    }

    /// The markdown table printed by `skylink bench media` (also in its JSON as `table`).
    fn table(v: &Value) -> String {
        let g = |path: &[&str]| {
            let mut cur = v;
            for k in path {
                cur = match cur.get(k) {
                    Some(c) => c,
                    None => return f64::NAN,
                };
            }
            cur.as_f64().unwrap_or(f64::NAN)
        };
        let e = |k: &str| g(&["encode", k]);
        let p = |k: &str| g(&["pipeline", k]);
        let l = |k: &str, q: &str| g(&["pipeline", "latency_ms", k, q]);
        let mut t = String::new();
        use std::fmt::Write as _;
        let _ = writeln!(
            t,
            "CPU per 640×480@30 VP8 stream (target {} kbps, got {:.0} kbps; {} frames × 3 rounds, medians)\n",
            e("target_kbps"),
            e("actual_kbps"),
            e("frames_per_round")
        );
        let _ = writeln!(t, "| work | CPU µs / frame | % of one core at 30 fps |");
        let _ = writeln!(t, "|---|--:|--:|");
        for (name, k) in [
            ("test pattern alone (baseline)", "pattern"),
            ("test pattern + VP8 encode", "pattern_encode"),
            ("VP8 encode alone (difference)", "encode_only"),
            ("receiver: VP8 decode + read frame number", "decode_read"),
        ] {
            let _ = writeln!(
                t,
                "| {name} | {:.0} | {:.2} % |",
                e(&format!("{k}_us_per_frame")),
                e(&format!("{k}_core_pct_at_30fps"))
            );
        }
        let _ = writeln!(
            t,
            "\nPaced pipeline in one process (server + sender + receiver with decode), {:.1} s:\n",
            p("seconds")
        );
        let _ = writeln!(t, "| phase | process CPU, % of one core |");
        let _ = writeln!(t, "|---|--:|");
        let _ = writeln!(
            t,
            "| idle-connected, no media (baseline, {:.0} s) | {:.2} % |",
            p("idle_seconds"),
            p("idle_cpu_pct")
        );
        let _ = writeln!(
            t,
            "| streaming the test pattern A → B | {:.2} % |",
            p("media_cpu_pct")
        );
        let _ = writeln!(
            t,
            "| difference: one stream sent + received | {:.2} % |",
            p("stream_cpu_pct")
        );
        let _ = writeln!(
            t,
            "\nEnd-to-end latency Rust→Rust, {} frames decoded of {} encoded ({:.1} fps; {} decode errors, {} unreadable); first frame {:.0} ms after sendStream:\n",
            p("frames_decoded"),
            p("frames_encoded"),
            p("fps_decoded"),
            p("decode_errors"),
            p("unreadable"),
            p("first_frame_ms")
        );
        let _ = writeln!(t, "| segment | p50 ms | p95 ms | max ms |");
        let _ = writeln!(t, "|---|--:|--:|--:|");
        for (name, k) in [
            (
                "capture → decoded + number read (end to end)",
                "capture_to_decoded",
            ),
            (
                "  capture → encoded (sender's VP8 encode)",
                "capture_to_encoded",
            ),
            (
                "  encoded → arrived at receiver (RTP, SRTP, UDP loopback, depacketize)",
                "encoded_to_arrived",
            ),
            (
                "  arrived → decoded + read (baseline component)",
                "decode_read",
            ),
        ] {
            let _ = writeln!(
                t,
                "| {name} | {:.2} | {:.2} | {:.2} |",
                l(k, "p50"),
                l(k, "p95"),
                l(k, "max")
            );
        }
        t
    }

    /// Runs the benchmark.
    pub async fn run(args: Args) -> anyhow::Result<()> {
        if !(args.seconds > 0.0 && args.idle_seconds > 0.0 && args.encode_seconds > 0.0) {
            bail!("--seconds, --idle-seconds and --encode-seconds must be > 0");
        }
        let machine_before = machine();
        let frames = (args.encode_seconds * FPS).round().max(1.0) as u64;
        let encode = tokio::task::spawn_blocking(move || encode_cost(frames))
            .await
            .context("encode task")??;
        let pipeline = pipeline(&args).await?;
        let mut out = json!({
            "machine": machine_before,
            "loadavg_after": machine()["loadavg"],
            "encode": encode,
            "pipeline": pipeline,
        });
        let text = table(&out);
        if args.json {
            // The markdown table rides along for `cargo xtask bench media`.
            out["table"] = Value::String(text);
            println!("{out}");
        } else {
            print!("{text}");
        }
        Ok(())
    }
}
