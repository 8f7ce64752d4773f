//! # skylink-dt
//!
//! The Skylink DT data-transfer protocol over RTCDataChannels, sans-IO: DT 0.1.0 as documented
//! and 0.1.3 as skylinkjs 0.6.26 speaks it (spec: `data-transfer.md`).
//!
//! * [`message`] — WRQ / ACK / CANCEL / ERROR / MESSAGE with the reference's key order, and
//!   frame classification (§2.1).
//! * [`chunk`] — base64 / binary / string chunk codecs, sizes and chunk plans (§2.5).
//! * [`transfer`] — [`Upload`](transfer::Upload) and [`Download`](transfer::Download) state
//!   machines (§3), driven by frames, user commands and explicit [`Instant`](std::time::Instant)s.
//! * [`stream`] — data streaming sessions (§5).
//! * [`version`] — the DT version comparator and per-peer dialect decisions (§6.4).
//! * [`peer`] — [`PeerDt`](peer::PeerDt): channel bindings and frame routing for one peer.
//! * [`ext`] — pipelined/resumable transfers, negotiated only between skylink-rs peers.
//! * [`source`] — [`ChunkSource`](source::ChunkSource): blob payloads read chunk by chunk
//!   (files), never held in memory whole.
//! * [`sink`] — [`ChunkSink`](sink::ChunkSink): where a download writes its bytes as they
//!   arrive (a file), instead of assembling them in memory.
//!
//! ```
//! use skylink_dt::message::{classify, Frame, Incoming, Message};
//! use skylink_dt::transfer::*;
//! use skylink_dt::version::{Dialect, PeerProfile};
//! use std::time::Instant;
//!
//! let now = Instant::now();
//! let dialect = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "chrome"));
//! let cfg = UploadConfig::new("peerA_1", "peerA", "peerB", &dialect, false);
//! let mut up = Upload::new(cfg, Payload::blob(&b"abc"[..], Some("text/plain"))).unwrap();
//! let wire = up.start().unwrap();
//! let Action::Send(wrq) = &wire[0] else { unreachable!() };
//! let Incoming::Message(Message::Wrq(w)) = classify(wrq.as_frame()).unwrap() else { unreachable!() };
//!
//! let dcfg = DownloadConfig::new("peerB", "peerA", "peerA_1", ChannelKind::Data);
//! let (mut down, _events) = Download::new(dcfg, &w).unwrap();
//! // pump frames between the two sides until both are terminal
//! let mut to_up = down.accept().unwrap();
//! while !(up.is_terminal() && down.is_terminal()) {
//!     let mut to_down = Vec::new();
//!     for a in to_up.drain(..) {
//!         if let Action::Send(f) = a {
//!             let Incoming::Message(m) = classify(f.as_frame()).unwrap() else { unreachable!() };
//!             to_down.extend(up.handle_message(&m, now));
//!         }
//!     }
//!     for a in to_down {
//!         if let Action::Send(f) = a {
//!             match classify(f.as_frame()).unwrap() {
//!                 Incoming::TextChunk(t) => to_up.extend(down.handle_chunk(Chunk::Text(t), now)),
//!                 Incoming::BinaryChunk(b) => to_up.extend(down.handle_chunk(Chunk::Binary(b), now)),
//!                 Incoming::Message(m) => to_up.extend(down.handle_message(&m)),
//!             }
//!         }
//!     }
//! }
//! assert_eq!(up.outcome(), Some(Outcome::Completed));
//! assert_eq!(down.outcome(), Some(Outcome::Completed));
//! ```
#![warn(missing_docs)]

pub mod chunk;
pub mod error;
pub mod ext;
pub mod message;
pub mod peer;
pub mod sink;
pub mod source;
pub mod stream;
pub mod transfer;
pub mod version;

pub use error::{DecodeError, DtError};
pub use version::DEFAULT_ANNOUNCED_DT_VERSION;

/// WRQ `version` we send (our "browser major version"; informational only).
pub const AGENT_VERSION: u32 = 1;
