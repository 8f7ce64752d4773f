//! Where received media goes: the engine hands every depacketized frame of a remote track to
//! the [`FrameSink`]s attached to it (recorders, probes, an application's own consumer).

use crate::error::MediaError;
use crate::frame::EncodedFrame;

/// A consumer of one received track's encoded frames (whole VP8 frames, Opus packets).
pub trait FrameSink: Send {
    /// One frame, in arrival order. An error detaches the sink (it is logged, the track goes on).
    fn push(&mut self, frame: &EncodedFrame) -> Result<(), MediaError>;
    /// The track ended: flush and close.
    fn finish(&mut self) -> Result<(), MediaError> {
        Ok(())
    }
}
