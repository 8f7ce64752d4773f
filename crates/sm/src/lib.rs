//! # skylink-sm
//!
//! The Skylink SM signaling protocol (as spoken by skylinkjs 0.6.26, documented as SM 0.1.4),
//! sans-IO: wire types, room-API request/response types, credentials, protocol versions, the
//! outgoing group/throttle queue, and the Socket.IO framing Skylink uses.
//!
//! | module | what |
//! |---|---|
//! | [`room_api`] | `GET /api/{appKey}/{room}[/{start}/{duration}]` parsing, success/failure bodies, error codes |
//! | [`credentials`] | the HMAC-SHA1 credential recipe (compute, constant-time verify, URL-encode) |
//! | [`envelope`] | the relay hot path: `type`/`mid`/`rid`/`target` only, [`MessageType`], [`Routing`] |
//! | [`message`] | every message type as serde structs, [`message::Message`] |
//! | [`throttle`] | the 1 s / 16-message `group` queue of the JS client |
//! | [`version`] | protocol versions and 0.6.26's version comparison |
//! | [`frame`] | Socket.IO `message` event framing |
//!
//! Nothing here does I/O, spawns, or panics on input: parsers return [`SmError`].
//!
//! ```
//! use skylink_sm::{Envelope, Routing, frame, message::Message};
//!
//! // A server receives a socket.io frame from a browser…
//! let packet = r#"2["message","{\"cid\":\"c\",\"data\":\"hi\",\"mid\":\"a\",\"rid\":\"r\",\"type\":\"public\"}"]"#;
//! let frame::SioPacket::Event { data, .. } = frame::parse_packet(packet).unwrap() else {
//!     unreachable!()
//! };
//! let json = frame::message_payload(data).unwrap();
//!
//! // …routes it by its envelope without decoding the rest…
//! let env = Envelope::parse(&json).unwrap();
//! assert_eq!(env.routing(), Routing::Broadcast);
//! assert_eq!(env.mid.as_deref(), Some("a"));
//!
//! // …and a client decodes it fully.
//! let Message::Public(p) = Message::from_json(&json).unwrap() else { unreachable!() };
//! assert_eq!(p.data, Some(serde_json::json!("hi")));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod credentials;
pub mod envelope;
mod error;
pub mod frame;
pub mod message;
pub mod room_api;
mod serde_util;
pub mod throttle;
pub mod version;

pub use envelope::{Envelope, MessageType, Routing};
pub use error::SmError;
