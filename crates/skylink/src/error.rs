//! [`Error`]: what a [`crate::Skylink`] call can fail with, carrying the reference's error
//! information (`readyStateChange` error object, `SOCKET_ERROR`, `SYSTEM_ACTION_REASON`).

use skylink_room::{ReadyStateError, RoomError, SocketErrorCode};

use crate::constants::{ReadyStateChangeError, SystemActionReason, UnknownConstant};
use crate::events::UnknownEventName;

/// The facade's error type.
///
/// ```
/// use skylink::{Error, constants::{ReadyStateChangeError, SystemActionReason}};
/// use skylink_room::{ReadyStateError, RoomError};
/// let e = Error::from(RoomError::Init(ReadyStateError {
///     status: 200, content: "Over seat limit".into(), error_code: Some(4020),
/// }));
/// assert_eq!(e.ready_state_change_error(), Some(ReadyStateChangeError::ApiOverSeatLimit));
/// let e = Error::from(RoomError::Rejected { reason: "locked".into(), info: "Room locked".into() });
/// assert_eq!(e.system_action_reason(), Some(SystemActionReason::RoomLocked));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The engine's error (room API, socket, join rejection, not in a room, …).
    #[error(transparent)]
    Room(#[from] RoomError),
    /// An event name that is not one of the reference's.
    #[error(transparent)]
    UnknownEvent(#[from] UnknownEventName),
    /// A constant value that is not one of its group's.
    #[error(transparent)]
    UnknownConstant(#[from] UnknownConstant),
}

impl Error {
    /// The engine error, if this is one.
    pub fn room_error(&self) -> Option<&RoomError> {
        match self {
            Error::Room(e) => Some(e),
            _ => None,
        }
    }

    /// The `readyStateChange(ERROR)` error object `{status, content, errorCode}` of a failed
    /// `init()` (also inside `join_room`).
    pub fn ready_state_error(&self) -> Option<&ReadyStateError> {
        match self {
            Error::Room(RoomError::Init(e)) => Some(e),
            _ => None,
        }
    }

    /// The `READY_STATE_CHANGE_ERROR` code of a failed `init()`, when it is a known one.
    pub fn ready_state_change_error(&self) -> Option<ReadyStateChangeError> {
        self.ready_state_error()
            .and_then(|e| e.error_code)
            .and_then(ReadyStateChangeError::from_value)
    }

    /// The `SOCKET_ERROR` code when the signaling socket could not be opened.
    pub fn socket_error(&self) -> Option<SocketErrorCode> {
        match self {
            Error::Room(RoomError::Socket { code, .. }) => Some(*code),
            _ => None,
        }
    }

    /// The `SYSTEM_ACTION_REASON` when the server rejected the join (`systemAction(REJECT)`).
    pub fn system_action_reason(&self) -> Option<SystemActionReason> {
        match self {
            Error::Room(RoomError::Rejected { reason, .. }) => reason.parse().ok(),
            _ => None,
        }
    }

    /// Whether the call needed a joined room.
    pub fn is_not_in_room(&self) -> bool {
        matches!(self, Error::Room(RoomError::NotInRoom))
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
