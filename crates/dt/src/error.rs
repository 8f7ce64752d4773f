//! Typed errors of the DT crate.

/// A frame that could not be decoded into a DT protocol message or a chunk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The text looked like a JSON object but is not valid JSON.
    #[error("invalid JSON protocol message: {0}")]
    InvalidJson(String),
    /// A field of a known message type has the wrong JSON type or an impossible value.
    #[error("{message_type} field `{field}`: expected {expected}")]
    InvalidField {
        /// The message `type` (`WRQ`, `ACK`, …).
        message_type: &'static str,
        /// The wire field name.
        field: &'static str,
        /// What was expected.
        expected: &'static str,
    },
    /// A text chunk of a base64 transfer is not valid base64.
    #[error("invalid base64 chunk: {0}")]
    Base64(String),
}

/// Errors of the transfer/stream state machines and of local API misuse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DtError {
    /// A wire decoding error.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Blob transfers need at least one byte, string transfers at least one character.
    #[error("data must not be empty")]
    EmptyPayload,
    /// The timeout is not a finite, positive number of seconds.
    #[error("invalid timeout {0} s")]
    InvalidTimeout(f64),
    /// A string cannot be chunked so that no chunk is misread by a JS receiver (§2.1).
    #[error(
        "string payload cannot be chunked safely for a JS receiver near UTF-16 offset {offset}"
    )]
    UnsafeStringChunk {
        /// Offset (UTF-16 units) of the chunk that could not be made safe.
        offset: usize,
    },
    /// The peer does not support this kind of transfer (e.g. string transfers below DT 0.1.2).
    #[error("peer does not support {0}")]
    Unsupported(&'static str),
    /// A WRQ was handed to the transfer machinery but is a stream control WRQ (or vice versa).
    #[error("WRQ is a {0}, not handled here")]
    WrongWrqKind(&'static str),
    /// The operation is not valid in the current state.
    #[error("invalid in state {0}")]
    InvalidState(&'static str),
    /// A stream chunk exceeds the documented per-chunk limit.
    #[error("stream chunk of {len} exceeds the limit of {limit}")]
    ChunkTooLarge {
        /// Chunk length (bytes or UTF-16 units).
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The uploader acknowledged an index outside the transfer.
    #[error("ACK {ack_n} out of range (transfer has {chunks} chunks)")]
    AckOutOfRange {
        /// Received `ackN`.
        ack_n: i64,
        /// Chunk count of the transfer.
        chunks: usize,
    },
    /// The received data disagrees with what the WRQ announced.
    #[error("received {received} units but the WRQ announced originalSize {announced}")]
    SizeMismatch {
        /// Units received (bytes or UTF-16 units).
        received: u64,
        /// `originalSize` from the WRQ.
        announced: u64,
    },
    /// A chunk kind that the transfer cannot carry (binary frame in a string transfer).
    #[error("unexpected {0} chunk for this transfer")]
    UnexpectedChunk(&'static str),
    /// The assembled transfer would exceed the configured memory limit.
    #[error("transfer exceeds the limit of {0} bytes")]
    TooLarge(u64),
    /// A [`ChunkSource`](crate::source::ChunkSource) could not be read.
    #[error("reading the payload failed: {0}")]
    Source(String),
}
