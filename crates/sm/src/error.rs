//! The crate-wide error type.

use crate::room_api::ApiRequestError;

/// Everything that can go wrong while decoding or validating SM protocol data.
///
/// Every parser in this crate returns one of these instead of panicking, whatever the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SmError {
    /// The text is not valid JSON (or has trailing garbage).
    #[error("malformed JSON: {0}")]
    Json(String),
    /// The top-level JSON value is not an object.
    #[error("signaling message is not a JSON object")]
    NotAnObject,
    /// The message object has no `type` field (or it is `null`).
    #[error("signaling message has no `type` field")]
    MissingType,
    /// A routing field has the wrong JSON type.
    #[error("field `{field}` must be {expected}, found {found}")]
    WrongFieldType {
        /// Field name on the wire (`type`, `mid`, `rid`, `target`, …).
        field: &'static str,
        /// What the protocol requires, e.g. `"a string"`.
        expected: &'static str,
        /// What was found, e.g. `"a number"`.
        found: &'static str,
    },
    /// A message of a known type does not match that type's schema.
    #[error("invalid `{kind}` message: {reason}")]
    InvalidMessage {
        /// The message's `type`.
        kind: String,
        /// Why decoding failed (serde's explanation).
        reason: String,
    },
    /// One element of a `group` message's `lists` failed to decode.
    #[error("invalid element {index} of `group.lists`: {source}")]
    GroupElement {
        /// Index in `lists`.
        index: usize,
        /// What was wrong with it.
        source: Box<SmError>,
    },
    /// A room-API request path/query could not be parsed.
    #[error(transparent)]
    ApiRequest(#[from] ApiRequestError),
    /// A room-API response body could not be understood.
    #[error("invalid room-API response: {0}")]
    ApiResponse(String),
}

impl SmError {
    pub(crate) fn json(err: &serde_json::Error) -> Self {
        SmError::Json(err.to_string())
    }
}
