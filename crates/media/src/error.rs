//! Errors of media sources, encoders and sinks.

use thiserror::Error;

/// Everything that can go wrong producing or consuming media.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MediaError {
    /// A capture device (camera, microphone, X display) does not exist or cannot be opened.
    #[error("no such device: {0}")]
    NoDevice(String),
    /// The requested setting is outside what the source or the reference API accepts.
    #[error("invalid media settings: {0}")]
    InvalidSettings(String),
    /// A codec library call failed.
    #[error("{codec} error: {message}")]
    Codec {
        /// `"VP8"` or `"opus"`.
        codec: &'static str,
        /// The library's own description.
        message: String,
    },
    /// A media file is malformed or of an unsupported kind.
    #[error("bad media file: {0}")]
    BadFile(String),
    /// Reading or writing a file or device failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The source was stopped or its device went away.
    #[error("source ended")]
    Ended,
}
