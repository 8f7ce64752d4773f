//! The crate's error type.

use crate::api::ReadyStateError;
use crate::fallback::SocketErrorCode;

/// Everything a [`crate::Client`] call can fail with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RoomError {
    /// The room-API request failed (`readyStateChange(ERROR)`).
    #[error("room API failed (status {}, errorCode {:?}): {}", .0.status, .0.error_code, .0.content)]
    Init(ReadyStateError),
    /// The signaling socket could not be opened (the fallback chain was exhausted).
    #[error("signaling socket failed ({code:?}): {reason}")]
    Socket {
        /// `SOCKET_ERROR` value.
        code: SocketErrorCode,
        /// What went wrong last.
        reason: String,
    },
    /// The server refused the join with a `redirect` `reject`.
    #[error("join rejected ({reason}): {info}")]
    Rejected {
        /// `SYSTEM_ACTION_REASON` value.
        reason: String,
        /// The server's text.
        info: String,
    },
    /// The socket closed before `inRoom` arrived.
    #[error("socket closed before joining the room")]
    ClosedBeforeJoin,
    /// The call needs a joined room.
    #[error("not in a room")]
    NotInRoom,
    /// A newer `join_room`/`leave_room` superseded this join.
    #[error("join superseded by a newer join or leave")]
    Superseded,
    /// No such peer in the room.
    #[error("unknown peer {0}")]
    UnknownPeer(String),
    /// A peer-connection operation failed.
    #[error("peer connection: {0}")]
    Peer(String),
    /// An argument is not valid (the reference's argument checks).
    #[error("{0}")]
    InvalidArgument(String),
    /// Media could not be captured or sent (the reference's `getUserMedia` / `sendStream`
    /// errors, e.g. `Unable to send stream as user is not in the Room.`).
    #[error("{0}")]
    Media(String),
    /// A reader given to [`Client::send_blob_reader`](crate::Client::send_blob_reader) did not
    /// hold exactly the announced number of bytes: it ended after `read` bytes (`read <
    /// expected`) or had more (`read > expected`; reading stopped there).
    #[error("the reader {} (announced {expected} bytes)", if .read < .expected { format!("ended after {} bytes", .read) } else { "holds more bytes".to_owned() })]
    ReaderLength {
        /// The announced length.
        expected: u64,
        /// Bytes read when the mismatch was found.
        read: u64,
    },
    /// The engine task is gone.
    #[error("engine stopped")]
    EngineStopped,
}
