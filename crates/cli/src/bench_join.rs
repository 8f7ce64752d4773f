//! `skylink bench join`: how fast two Rust peers get from `joinRoom` to an open messaging data
//! channel through a running `skylink serve`, and how long the offerer waits from applying the
//! answer to the channel opening.
//!
//! Each iteration uses a fresh room: peer A joins and settles, then peer B joins (B is the
//! newcomer, so it offers). Timed from B's `joinRoom` call to the moment both sides raised
//! `dataChannelState("open")`; `answer→open` is from B's `handshakeProgress("answer")` to B's
//! `dataChannelState("open")`.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::json;
use skylink_room::{Client, Event, HandshakeProgress, InitOptions, JoinOptions};
use tokio::sync::broadcast;

/// `skylink bench join` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// roomServer URL of the server under test.
    #[arg(long, default_value = "http://127.0.0.1:8018")]
    server: String,
    /// App key to use.
    #[arg(long, default_value = "bench-key")]
    app_key: String,
    /// Number of timed joins (one warm-up join runs first).
    #[arg(long, default_value_t = 20)]
    iterations: usize,
    /// Local UDP address of the peer connections.
    #[arg(long, default_value = "127.0.0.1:0")]
    udp: String,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

const WAIT: Duration = Duration::from_secs(15);

fn options(args: &Args) -> InitOptions {
    let mut o = InitOptions::new(args.app_key.clone());
    o.force_ssl = args.server.starts_with("https:");
    o.room_server = args
        .server
        .trim_start_matches("https:")
        .trim_start_matches("http:")
        .to_owned();
    o.udp_addrs = vec![args.udp.clone()];
    o
}

/// Waits (bounded by 15 s) for the first event `f` maps to a value.
pub(crate) async fn until<T>(
    rx: &mut broadcast::Receiver<Event>,
    what: &str,
    mut f: impl FnMut(&Event) -> Option<T>,
) -> anyhow::Result<T> {
    let fut = async {
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    if let Some(t) = f(&ev) {
                        return Ok(t);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => bail!("engine stopped"),
            }
        }
    };
    tokio::time::timeout(WAIT, fut)
        .await
        .with_context(|| format!("timed out waiting for {what}"))?
}

/// One join; returns (join→open, answer→open).
async fn once(args: &Args, room: &str) -> anyhow::Result<(Duration, Duration)> {
    let a = Client::new(options(args));
    let b = Client::new(options(args));
    let mut a_rx = a.subscribe();
    let mut b_rx = b.subscribe();
    let a_id = a.join_room(Some(room), JoinOptions::default()).await?;
    let t0 = Instant::now();
    let b_id = b.join_room(Some(room), JoinOptions::default()).await?;
    let aid = a_id.clone();
    let t_answer = until(&mut b_rx, "B applies the answer", |e| match e {
        Event::HandshakeProgress {
            state: HandshakeProgress::Answer,
            peer_id,
            ..
        } if *peer_id == aid => Some(Instant::now()),
        _ => None,
    })
    .await?;
    let aid = a_id.clone();
    let t_b = until(&mut b_rx, "B's channel open", |e| match e {
        Event::DataChannelState { state, peer_id, .. } if state == "open" && *peer_id == aid => {
            Some(Instant::now())
        }
        _ => None,
    })
    .await?;
    let t_a = until(&mut a_rx, "A's channel open", |e| match e {
        Event::DataChannelState { state, peer_id, .. } if state == "open" && *peer_id == b_id => {
            Some(Instant::now())
        }
        _ => None,
    })
    .await?;
    let done = t_a.max(t_b);
    a.leave_room().await?;
    b.leave_room().await?;
    Ok((done - t0, t_b.saturating_duration_since(t_answer)))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Runs the benchmark.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    once(&args, &format!("bench-join-warmup-{stamp}")).await?;
    let mut join = Vec::new();
    let mut answer = Vec::new();
    for i in 0..args.iterations {
        let (j, a) = once(&args, &format!("bench-join-{stamp}-{i}")).await?;
        join.push(j.as_secs_f64() * 1e3);
        answer.push(a.as_secs_f64() * 1e3);
    }
    join.sort_by(f64::total_cmp);
    answer.sort_by(f64::total_cmp);
    let out = json!({
        "iterations": args.iterations,
        "join_to_open_ms": {"p50": percentile(&join, 0.5), "p90": percentile(&join, 0.9), "min": join.first(), "max": join.last()},
        "answer_to_open_ms": {"p50": percentile(&answer, 0.5), "p90": percentile(&answer, 0.9), "min": answer.first(), "max": answer.last()},
    });
    if args.json {
        println!("{out}");
    } else {
        println!(
            "join→open   p50 {:7.1} ms  p90 {:7.1} ms  ({} joins)",
            percentile(&join, 0.5),
            percentile(&join, 0.9),
            args.iterations
        );
        println!(
            "answer→open p50 {:7.1} ms  p90 {:7.1} ms",
            percentile(&answer, 0.5),
            percentile(&answer, 0.9)
        );
    }
    Ok(())
}
