//! # skylink-sm
//!
//! The Skylink SM signaling protocol (as spoken by skylinkjs 0.6.26, documented as SM 0.1.4),
//! sans-IO: wire types, room-API request/response types, credentials, protocol versions, the
//! outgoing group/throttle queue, and the Socket.IO framing Skylink uses.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod credentials;
pub mod envelope;
mod error;
pub mod frame;
pub mod message;
pub mod room_api;
mod serde_util;

pub use envelope::{Envelope, MessageType, Routing};
pub use error::SmError;
