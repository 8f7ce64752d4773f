//! Decoder probes on every received track (feature `codecs`): a [`SinkFactory`] that attaches
//! a VP8 probe to video and an Opus probe to audio, and the reports they keep — what tests,
//! the bot's `getRemoteMedia` and the demo read to tell "frames advance, not black, audio is
//! not silence".
//!
//! ```
//! let probes = skylink_room::probes::ProbeSet::default();
//! let mut options = skylink_room::InitOptions::new("app-key");
//! options.media_sinks = Some(probes.factory(None));
//! // … later: probes.video_reports(), probes.audio_reports()
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use skylink_media::probe::{OpusProbe, OpusProbeReport, ProbeReport, Vp8Probe};
use skylink_media::{Codec, EncodedFrame, FrameSink, MediaError};

use crate::peer_media::{RemoteTrackStats, SinkFactory};

enum Probe {
    Video(Vp8Probe),
    Audio(OpusProbe),
}

/// The probes of every track received by one client, by track id.
#[derive(Clone, Default)]
pub struct ProbeSet {
    probes: Arc<Mutex<BTreeMap<String, (RemoteTrackStats, Probe)>>>,
}

impl std::fmt::Debug for ProbeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeSet").finish_non_exhaustive()
    }
}

struct ProbeSink {
    track_id: String,
    probes: Arc<Mutex<BTreeMap<String, (RemoteTrackStats, Probe)>>>,
}

impl FrameSink for ProbeSink {
    fn push(&mut self, frame: &EncodedFrame) -> Result<(), MediaError> {
        let mut map = self.probes.lock().unwrap_or_else(|p| p.into_inner());
        let Some((_, probe)) = map.get_mut(&self.track_id) else {
            return Ok(());
        };
        // A frame the decoder rejects (e.g. before the first key frame) is counted by the
        // probe; it must not detach the sink.
        let r = match probe {
            Probe::Video(p) => p.push(&frame.data),
            Probe::Audio(p) => p.push(&frame.data),
        };
        if let Err(e) = r {
            tracing::trace!(error = %e, "probe decode");
        }
        Ok(())
    }
}

impl ProbeSet {
    /// A sink factory attaching a probe to every VP8 / Opus track, and, when `record_dir` is
    /// set, a recorder writing `<peer>-<track>.ivf` / `.ogg` there.
    pub fn factory(&self, record_dir: Option<PathBuf>) -> SinkFactory {
        let probes = self.probes.clone();
        SinkFactory::new(move |track| {
            let mut sinks: Vec<Box<dyn FrameSink>> = Vec::new();
            let probe = if track.mime_type.eq_ignore_ascii_case(Codec::Vp8.mime_type()) {
                Vp8Probe::new().map(Probe::Video)
            } else if track
                .mime_type
                .eq_ignore_ascii_case(Codec::Opus.mime_type())
            {
                OpusProbe::new().map(Probe::Audio)
            } else {
                return sinks;
            };
            match probe {
                Ok(p) => {
                    probes
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(track.track_id.clone(), (track.clone(), p));
                    sinks.push(Box::new(ProbeSink {
                        track_id: track.track_id.clone(),
                        probes: probes.clone(),
                    }));
                }
                Err(e) => tracing::warn!(error = %e, "creating a media probe"),
            }
            if let Some(dir) = &record_dir {
                match crate::recording::recorder_for(dir, track) {
                    Ok(Some(r)) => sinks.push(r),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "creating a recorder"),
                }
            }
            sinks
        })
    }

    /// `(track, report)` of every video track received.
    pub fn video_reports(&self) -> Vec<(RemoteTrackStats, ProbeReport)> {
        self.probes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter_map(|(t, p)| match p {
                Probe::Video(v) => Some((t.clone(), v.report())),
                Probe::Audio(_) => None,
            })
            .collect()
    }

    /// `(track, report)` of every audio track received.
    pub fn audio_reports(&self) -> Vec<(RemoteTrackStats, OpusProbeReport)> {
        self.probes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter_map(|(t, p)| match p {
                Probe::Audio(a) => Some((t.clone(), a.report())),
                Probe::Video(_) => None,
            })
            .collect()
    }

    /// One track's report as JSON (`getRemoteMedia` in the bot).
    pub fn report_json(&self, track_id: &str) -> Option<serde_json::Value> {
        let map = self.probes.lock().unwrap_or_else(|p| p.into_inner());
        let (_, probe) = map.get(track_id)?;
        Some(match probe {
            Probe::Video(v) => {
                let r = v.report();
                serde_json::json!({
                    "framesReceived": r.frames_received,
                    "framesDecoded": r.frames_decoded,
                    "decodeErrors": r.decode_errors,
                    "keyframes": r.keyframes,
                    "lastFrameNumber": r.last_frame_number,
                    "frameNumbersRead": r.frame_numbers_read,
                    "meanLuma": r.mean_luma,
                    "width": r.resolution.map(|r| r.0),
                    "height": r.resolution.map(|r| r.1),
                    "changedFrames": r.changed_frames,
                })
            }
            Probe::Audio(a) => {
                let r = a.report();
                serde_json::json!({
                    "packets": r.packets,
                    "decodeErrors": r.decode_errors,
                    "samplesDecoded": r.samples_decoded,
                    "lastRms": r.last_rms,
                    "peakRms": r.peak_rms,
                })
            }
        })
    }
}
