//! # skylink-room
//!
//! The Skylink client engine (no media yet): the room-API request of `init()` (http or https), a socket.io
//! (protocol 4 over Engine.IO 3) client over a tokio-tungstenite websocket with the
//! `SOCKET_FALLBACK` chain and reconnection, the §4 throttled outgoing queue, the room session
//! (`joinRoom`, `enter`/`welcome`, messages, user data, room lock, leave, automatic rejoin),
//! and one typed [`Event`] stream.
//!
//! | module | what | I/O |
//! |---|---|---|
//! | [`api`] | `init()` options, URL building, response classification, HTTP GET with retries | hyper |
//! | [`eio`] | Engine.IO 3 / socket.io frame decoding | none |
//! | [`fallback`] | `SOCKET_FALLBACK` planner, reconnection back-off | none |
//! | [`session`] | the room session state machine (peers, weights, throttle) | none |
//! | [`event`] | [`Event`] and its payload types | none |
//! | [`Client`] | the engine task and its handle | tokio |
//!
//! Protocol decisions live in the sans-IO modules; [`Client`] only moves bytes and timers.
//!
//! ```no_run
//! # async fn demo() -> Result<(), skylink_room::RoomError> {
//! use skylink_room::{Client, Event, InitOptions, JoinOptions};
//! let mut opts = InitOptions::new("my-app-key");
//! opts.room_server = "//127.0.0.1:8018".into();
//! opts.force_ssl = false;
//! let client = Client::new(opts);
//! let mut events = client.subscribe();
//! client.join_room(Some("lobby"), JoinOptions::default()).await?;
//! while let Ok(ev) = events.recv().await {
//!     if let Event::DataChannelState { state, peer_id, .. } = ev {
//!         if state == "open" {
//!             client.send_p2p_message(serde_json::json!("hi"), Some(vec![peer_id])).await?;
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```
//! See the crate README for what is still missing (media, MCU-specific refresh).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
mod client;
pub mod devices;
pub mod eio;
mod error;
pub mod event;
mod event_json;
pub mod fallback;
pub mod ice;
pub mod local_media;
pub mod peer;
pub mod peer_media;
mod peers;
mod polling;
#[cfg(feature = "codecs")]
pub mod probes;
pub mod recording;
mod recvonly;
pub mod session;
mod socket;
pub mod stats;
pub mod transfer;

pub use api::{Credentials, InitOptions, ReadyStateError};
pub use client::{
    ChannelInfo, Client, EVENT_CAPACITY, JoinOptions, RefreshResult, RoomPeer, StreamInput,
    TransferOptions,
};
pub use error::RoomError;
pub use event::{Event, HandshakeProgress, MessageInfo, PeerInfo, SocketSession, TransferData};
pub use fallback::{SocketErrorCode, SocketFallback, SocketServer};
pub use session::{PriorityWeightScheme, Role};
/// `joinRoom({bandwidth})` ([`JoinOptions::bandwidth`]).
pub use skylink_sdp::settings::{Bandwidth, GoogleXBandwidth, SdpConnectionSettings};
pub use skylink_sm::room_api::ReadyState;
