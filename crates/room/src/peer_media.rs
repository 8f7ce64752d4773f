//! Media on one peer connection: the local tracks we send (one `webrtc` track per feed,
//! written from the feed's broadcast) and the remote tracks we receive (depacketized into
//! whole frames for the [`FrameSink`]s).
//!
//! Notes on `webrtc` 0.21 media (read with `peer.rs`'s notes):
//! - A `TrackLocalStaticSample` binds to one connection, so every connection gets its own
//!   track per feed; the feed's frames are written to each. Writing before the track is bound
//!   (negotiation not done) fails; the writer just waits for the next frame.
//! - The payload type to stamp is the sender's negotiated codec's (`get_parameters`), read
//!   once the track is bound; it can change on renegotiation, so a failed write re-reads it.
//! - `add_track` reuses a transceiver of the same kind whose sender was removed, which keeps
//!   the m-line count stable across renegotiations (what browsers expect).
//! - Interceptors are not registered, so RTCP feedback (PLI) is not delivered to us: video
//!   sources produce periodic key frames, and a new writer asks its feed for one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use skylink_media::{Codec, EncodedFrame, FrameSink};
use tokio::sync::broadcast::error::RecvError;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::PeerConnection;
use webrtc::rtp_transceiver::RtpSender;

use crate::local_media::FeedHandle;
use crate::peer::PeerError;

/// How often a receiver asks for a key frame (PLI) while it has none decoded recently.
const PLI_INTERVAL: Duration = Duration::from_secs(2);

fn rtp_codec(codec: Codec) -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: codec.mime_type().to_owned(),
        clock_rate: codec.clock_rate(),
        channels: codec.channels(),
        sdp_fmtp_line: String::new(),
        rtcp_feedback: vec![],
    }
}

fn rtp_kind(codec: Codec) -> RtpCodecKind {
    match codec.kind() {
        skylink_media::MediaKind::Audio => RtpCodecKind::Audio,
        skylink_media::MediaKind::Video => RtpCodecKind::Video,
    }
}

/// One local track on one connection.
pub(crate) struct SendingTrack {
    sender: Arc<dyn RtpSender>,
    writer: tokio::task::JoinHandle<()>,
}

impl SendingTrack {
    /// Adds a track carrying `feed` under stream id `stream_id` (the msid peers see) and
    /// starts writing the feed's frames to it.
    pub(crate) async fn attach(
        pc: &dyn PeerConnection,
        stream_id: &str,
        feed: &FeedHandle,
    ) -> Result<SendingTrack, PeerError> {
        let ssrc: u32 = rand::random();
        let kind = rtp_kind(feed.codec);
        let kind_name = if kind == RtpCodecKind::Audio {
            "audio"
        } else {
            "video"
        };
        let track = Arc::new(TrackLocalStaticSample::new(
            Instant::now(),
            MediaStreamTrack::new(
                stream_id.to_owned(),
                format!("{stream_id}-{kind_name}"),
                format!("{kind_name} of {stream_id}"),
                kind,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters {
                        ssrc: Some(ssrc),
                        ..Default::default()
                    },
                    codec: rtp_codec(feed.codec),
                    ..Default::default()
                }],
            ),
        )?);
        let sender = pc.add_track(track.clone() as Arc<dyn TrackLocal>).await?;
        let writer = tokio::spawn(write_feed(
            track,
            sender.clone(),
            ssrc,
            feed.clone(),
            kind == RtpCodecKind::Video,
        ));
        Ok(SendingTrack { sender, writer })
    }

    /// Stops writing and removes the track from the connection.
    pub(crate) async fn detach(self, pc: &dyn PeerConnection) {
        self.writer.abort();
        if let Err(e) = pc.remove_track(&self.sender).await {
            tracing::debug!(error = %e, "removing a local track");
        }
    }
}

async fn write_feed(
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
    ssrc: u32,
    feed: FeedHandle,
    video: bool,
) {
    let mut rx = feed.subscribe();
    let mut payload_type = None;
    // A decoder can only start at a key frame: after (re)binding, skip to the next one.
    let mut synced = !video;
    loop {
        let frame = match rx.recv().await {
            Ok(f) => f,
            Err(RecvError::Lagged(n)) => {
                tracing::debug!(skipped = n, "slow media writer skipped frames");
                synced = !video;
                feed.request_keyframe();
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        if payload_type.is_none() {
            payload_type = sender
                .get_parameters()
                .await
                .ok()
                .and_then(|p| p.rtp_parameters.codecs.first().map(|c| c.payload_type));
            if payload_type.is_none() {
                tracing::trace!(ssrc, "no negotiated codec yet");
                continue;
            }
            tracing::debug!(ssrc, ?payload_type, "local track negotiated");
            feed.request_keyframe();
        }
        if !synced {
            if !frame.keyframe {
                continue;
            }
            synced = true;
        }
        let Some(pt) = payload_type else { continue };
        let sample = Sample {
            data: frame.data.clone(),
            duration: frame.duration,
            ..Sample::new(Instant::now())
        };
        if let Err(e) = track.sample_writer(ssrc, pt).write_sample(&sample).await {
            tracing::trace!(error = %e, "media write failed (not bound yet?)");
            payload_type = None;
            synced = !video;
        }
    }
}

/// Counters of one received track, for [`crate::Client::remote_tracks`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemoteTrackStats {
    /// The sending peer.
    pub peer_id: String,
    /// The remote stream id (msid).
    pub stream_id: String,
    /// The remote track id.
    pub track_id: String,
    /// `audio` or `video`.
    pub kind: String,
    /// Negotiated MIME type (`video/VP8`, `audio/opus`).
    pub mime_type: String,
    /// RTP packets received.
    pub packets: u64,
    /// RTP payload bytes received.
    pub bytes: u64,
    /// Whole frames (VP8) or packets (Opus) assembled.
    pub frames: u64,
    /// VP8 key frames among them.
    pub keyframes: u64,
    /// The track ended.
    pub ended: bool,
}

type MakeSinks = dyn Fn(&RemoteTrackStats) -> Vec<Box<dyn FrameSink>> + Send + Sync;

/// Builds the sinks for each newly received track (recorders, probes, an application's own
/// consumer); it sees the track's peer, stream id, kind and codec.
///
/// ```
/// use skylink_room::peer_media::SinkFactory;
/// let factory = SinkFactory::new(|track| {
///     println!("{} sends {} ({})", track.peer_id, track.kind, track.mime_type);
///     Vec::new()
/// });
/// # let _ = factory;
/// ```
#[derive(Clone)]
pub struct SinkFactory(Arc<MakeSinks>);

impl SinkFactory {
    /// Wraps a closure.
    pub fn new(
        f: impl Fn(&RemoteTrackStats) -> Vec<Box<dyn FrameSink>> + Send + Sync + 'static,
    ) -> Self {
        SinkFactory(Arc::new(f))
    }

    fn make(&self, track: &RemoteTrackStats) -> Vec<Box<dyn FrameSink>> {
        (self.0)(track)
    }
}

impl std::fmt::Debug for SinkFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SinkFactory")
    }
}

/// Reads one remote track until it ends: counts, depacketizes, feeds the sinks.
pub(crate) async fn receive_track(
    peer_id: String,
    track: Arc<dyn TrackRemote>,
    factory: Option<SinkFactory>,
    stats: Arc<std::sync::Mutex<RemoteTrackStats>>,
) {
    let ssrc = track.ssrcs().await.first().copied().unwrap_or(0);
    let kind = track.kind().await;
    let mime = track
        .codec(ssrc)
        .await
        .map(|c| c.mime_type)
        .unwrap_or_default();
    let codec = if mime.eq_ignore_ascii_case("video/vp8") {
        Some(Codec::Vp8)
    } else if mime.eq_ignore_ascii_case("audio/opus") {
        Some(Codec::Opus)
    } else {
        None
    };
    let (stream_id, track_id) = (track.stream_id().await, track.track_id().await);
    let info = {
        let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
        s.peer_id = peer_id;
        s.stream_id = stream_id;
        s.track_id = track_id;
        s.kind = if kind == RtpCodecKind::Audio {
            "audio".into()
        } else {
            "video".into()
        };
        s.mime_type = mime.clone();
        s.clone()
    };
    tracing::debug!(peer = %info.peer_id, stream = %info.stream_id, %mime, "remote track");
    let mut sinks = factory.map(|f| f.make(&info)).unwrap_or_default();
    let mut assembler = codec.map(Assembler::new);
    let mut last_pli: Option<Instant> = None;
    let mut last_key: Option<Instant> = None;
    while let Some(event) = track.poll().await {
        let packet = match event {
            TrackRemoteEvent::OnRtpPacket(p) => p,
            TrackRemoteEvent::OnEnded => break,
            _ => continue,
        };
        let now = Instant::now();
        if codec == Some(Codec::Vp8)
            && last_key.is_none_or(|k| now - k > PLI_INTERVAL)
            && last_pli.is_none_or(|p| now - p > PLI_INTERVAL)
        {
            last_pli = Some(now);
            let pli =
                rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication {
                    sender_ssrc: 0,
                    media_ssrc: ssrc,
                };
            if let Err(e) = track.write_rtcp(vec![Box::new(pli)]).await {
                tracing::trace!(error = %e, "PLI");
            }
        }
        {
            let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
            s.packets += 1;
            s.bytes += packet.payload.len() as u64;
        }
        let Some(asm) = assembler.as_mut() else {
            continue;
        };
        for frame in asm.push(now, packet) {
            {
                let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
                s.frames += 1;
                if frame.keyframe {
                    s.keyframes += 1;
                }
            }
            if frame.keyframe {
                last_key = Some(now);
            }
            sinks.retain_mut(|sink| match sink.push(&frame) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(error = %e, "media sink failed; detached");
                    false
                }
            });
        }
    }
    for sink in &mut sinks {
        if let Err(e) = sink.finish() {
            tracing::warn!(error = %e, "media sink finish");
        }
    }
    stats.lock().unwrap_or_else(|p| p.into_inner()).ended = true;
}

/// RTP → whole frames for the two codecs we handle, released as soon as they are complete:
/// a VP8 frame at the packet carrying the RTP marker bit, an Opus packet at once. (webrtc's
/// `SampleBuilder` releases a frame only when the next one starts, which held every video
/// frame back one frame interval — 33 ms at 30 fps — in `cargo xtask bench media`.)
struct Assembler {
    codec: Codec,
    vp8: rtc::rtp::codec::vp8::Vp8Packet,
    /// RTP timestamp of the frame being assembled; `None` when no frame is open.
    open: Option<u32>,
    next_seq: u16,
    buf: Vec<u8>,
    /// RTP timestamp of the last released frame (for durations).
    last_ts: Option<u32>,
    index: u64,
}

impl Assembler {
    fn new(codec: Codec) -> Assembler {
        Assembler {
            codec,
            vp8: Default::default(),
            open: None,
            next_seq: 0,
            buf: Vec::new(),
            last_ts: None,
            index: 0,
        }
    }

    fn release(&mut self, now: Instant, ts: u32, data: bytes::Bytes) -> EncodedFrame {
        let clock = self.codec.clock_rate();
        let ticks = self.last_ts.map_or(0, |last| ts.wrapping_sub(last));
        // A gap of more than a second (a pause, a wrap) says nothing about this frame.
        let duration = if ticks == 0 || ticks > clock {
            Duration::from_millis(if self.codec == Codec::Opus { 20 } else { 33 })
        } else {
            Duration::from_micros(u64::from(ticks) * 1_000_000 / u64::from(clock))
        };
        self.last_ts = Some(ts);
        let keyframe = self.codec == Codec::Vp8 && data.first().is_some_and(|b0| b0 & 1 == 0);
        let frame = EncodedFrame {
            codec: self.codec,
            data,
            duration,
            keyframe,
            index: self.index,
            captured_at: now,
        };
        self.index += 1;
        frame
    }

    fn push(&mut self, now: Instant, packet: rtc::rtp::Packet) -> Vec<EncodedFrame> {
        use rtc::rtp::packetizer::Depacketizer as _;
        let (ts, seq) = (packet.header.timestamp, packet.header.sequence_number);
        if packet.payload.is_empty() {
            return Vec::new(); // padding
        }
        if self.codec == Codec::Opus {
            return vec![self.release(now, ts, packet.payload)];
        }
        if self.vp8.is_partition_head(&packet.payload) {
            // A new frame starts (a frame still open lost its tail: drop it).
            self.open = Some(ts);
            self.buf.clear();
        } else if self.open != Some(ts) || seq != self.next_seq {
            // A middle packet without its frame's head, or a gap: drop until the next head.
            self.open = None;
            return Vec::new();
        }
        self.next_seq = seq.wrapping_add(1);
        match self.vp8.depacketize(&packet.payload) {
            Ok(part) => self.buf.extend_from_slice(&part),
            Err(e) => {
                tracing::trace!(error = %e, "VP8 depacketize");
                self.open = None;
                return Vec::new();
            }
        }
        if packet.header.marker {
            self.open = None;
            let data = bytes::Bytes::from(std::mem::take(&mut self.buf));
            return vec![self.release(now, ts, data)];
        }
        Vec::new()
    }
}
