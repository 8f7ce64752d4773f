//! Recorders for received tracks: VP8 to IVF, Opus to Ogg (`skylink join --record DIR`).

use std::path::{Path, PathBuf};

use skylink_media::ivf::{IvfRecorder, vp8_keyframe_size};
use skylink_media::ogg_opus::OggOpusRecorder;
use skylink_media::{Codec, EncodedFrame, FrameSink, MediaError};

use crate::peer_media::RemoteTrackStats;

/// File name characters we keep from peer and track ids (everything else becomes `_`).
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

/// A recorder writing `track` into `dir` as `<peer>-<track>.ivf` (VP8) or `.ogg` (Opus);
/// `None` for other codecs. The IVF file is created at the first key frame (its header needs
/// the picture size).
///
/// # Errors
/// The Ogg file cannot be created.
pub fn recorder_for(
    dir: &Path,
    track: &RemoteTrackStats,
) -> Result<Option<Box<dyn FrameSink>>, MediaError> {
    let stem = format!("{}-{}", safe(&track.peer_id), safe(&track.track_id));
    if track.mime_type.eq_ignore_ascii_case(Codec::Vp8.mime_type()) {
        Ok(Some(Box::new(IvfSink {
            path: dir.join(format!("{stem}.ivf")),
            recorder: None,
        })))
    } else if track
        .mime_type
        .eq_ignore_ascii_case(Codec::Opus.mime_type())
    {
        let path = dir.join(format!("{stem}.ogg"));
        Ok(Some(Box::new(OggSink(Some(OggOpusRecorder::create(
            &path, 2,
        )?)))))
    } else {
        Ok(None)
    }
}

struct IvfSink {
    path: PathBuf,
    recorder: Option<IvfRecorder>,
}

impl FrameSink for IvfSink {
    fn push(&mut self, frame: &EncodedFrame) -> Result<(), MediaError> {
        if self.recorder.is_none() {
            let Some((w, h)) = frame
                .keyframe
                .then(|| vp8_keyframe_size(&frame.data))
                .flatten()
            else {
                return Ok(()); // nothing decodable before the first key frame
            };
            self.recorder = Some(IvfRecorder::create(&self.path, w, h)?);
        }
        if let Some(r) = self.recorder.as_mut() {
            r.push_encoded(frame)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), MediaError> {
        if let Some(r) = self.recorder.take() {
            r.finish()?;
        }
        Ok(())
    }
}

struct OggSink(Option<OggOpusRecorder>);

impl FrameSink for OggSink {
    fn push(&mut self, frame: &EncodedFrame) -> Result<(), MediaError> {
        match self.0.as_mut() {
            Some(r) => r.push(&frame.data),
            None => Ok(()),
        }
    }

    fn finish(&mut self) -> Result<(), MediaError> {
        if let Some(r) = self.0.take() {
            r.finish()?;
        }
        Ok(())
    }
}
