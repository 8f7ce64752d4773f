//! Per-peer channel bindings and frame routing (§1.4, §2.1, §2.2): the layer between the
//! engine's data channels and the [`Upload`]/[`Download`]/stream sessions.
//!
//! One [`PeerDt`] per peer connection. The engine reports channel events and frames by channel
//! label; [`PeerDt::poll_output`] yields what to do (send on a label, open/close a DATA channel,
//! raise an event).
//!
//! ```
//! use skylink_dt::peer::{Output, PeerDt};
//! use skylink_dt::version::{Dialect, PeerProfile};
//! let d = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "chrome"));
//! let mut a = PeerDt::new("peerA", "peerB", d);
//! a.set_messaging_label("peerA_peerB");
//! a.send_message(serde_json::json!("hi"), true).unwrap();
//! let Some(Output::Send { label, .. }) = a.poll_output() else { panic!() };
//! assert_eq!(label, "peerA_peerB");
//! ```

use crate::error::DtError;
use crate::message::{Frame, Incoming, Message, OutFrame, P2pMessage, WrqKind, classify};
use crate::stream::{
    DataStreamReceiver, DataStreamSender, StreamAction, StreamConfig, StreamEvent,
    receiver_stream_id,
};
use crate::transfer::{
    Action, ChannelKind, Chunk, Download, DownloadConfig, Event, Payload, Upload, UploadConfig,
    receiver_transfer_id,
};
use crate::version::Dialect;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

/// What the engine must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send a frame on the channel with this label.
    Send {
        /// Channel label.
        label: String,
        /// The frame.
        frame: OutFrame,
    },
    /// Create a DATA channel (ordered, reliable, in-band, protocol `""`) with this label and
    /// report [`PeerDt::channel_open`] when it opens.
    OpenChannel {
        /// Channel label (= transfer or stream id).
        label: String,
    },
    /// Close the DATA channel with this label.
    CloseChannel {
        /// Channel label.
        label: String,
    },
    /// A transfer event.
    Transfer(Event),
    /// A stream event.
    Stream(StreamEvent),
    /// `incomingMessage` from a received `MESSAGE`.
    Message {
        /// Sender (`sender`, else the channel's peer).
        sender: String,
        /// The message.
        message: P2pMessage,
    },
}

#[derive(Debug)]
enum Binding {
    Upload(Box<Upload>),
    Download(Box<Download>),
    StreamTx(DataStreamSender),
    StreamRx(DataStreamReceiver),
}

impl Binding {
    fn resumable(&self) -> bool {
        match self {
            Binding::Upload(u) => u.resumable(),
            Binding::Download(d) => d.resumable(),
            Binding::StreamTx(_) | Binding::StreamRx(_) => false,
        }
    }
}

/// The DT state of one peer connection.
#[derive(Debug)]
pub struct PeerDt {
    local_id: String,
    peer_id: String,
    dialect: Dialect,
    messaging: Option<String>,
    bindings: BTreeMap<String, Binding>,
    suspended: BTreeMap<String, Binding>,
    out: VecDeque<Output>,
    last_ms: u64,
    /// Timeout in seconds for new uploads.
    pub timeout_secs: f64,
    /// WRQ `agent`.
    pub agent: String,
    /// WRQ `version`.
    pub version: Value,
}

impl PeerDt {
    /// New peer state; `dialect` from [`Dialect::for_peer`].
    pub fn new(local_id: &str, peer_id: &str, dialect: Dialect) -> Self {
        PeerDt {
            local_id: local_id.into(),
            peer_id: peer_id.into(),
            dialect,
            messaging: None,
            bindings: BTreeMap::new(),
            suspended: BTreeMap::new(),
            out: VecDeque::new(),
            last_ms: 0,
            timeout_secs: crate::transfer::DEFAULT_TIMEOUT_SECS,
            agent: crate::transfer::DEFAULT_AGENT.into(),
            version: Value::from(crate::AGENT_VERSION),
        }
    }

    /// The dialect used towards this peer.
    pub fn dialect(&self) -> &Dialect {
        &self.dialect
    }

    /// Register the messaging channel's label (§1.4: the first channel seen for the peer, or
    /// the one we created as offerer; a revived channel keeps the label).
    pub fn set_messaging_label(&mut self, label: &str) {
        self.messaging = Some(label.into());
    }

    /// Classify a channel the remote side opened (§1.4): the first channel ever seen for the
    /// peer, or one whose label equals the stored messaging label (revival), is the messaging
    /// channel; everything else is a DATA channel keyed by its label.
    pub fn incoming_channel(&mut self, label: &str) -> ChannelKind {
        match &self.messaging {
            None => {
                self.messaging = Some(label.into());
                ChannelKind::Messaging
            }
            Some(m) if m == label => ChannelKind::Messaging,
            Some(_) => ChannelKind::Data,
        }
    }

    /// Next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// A unique transfer id `<ownId>_<epoch ms>` (the ms is bumped on collision).
    pub fn new_transfer_id(&mut self, epoch_ms: u64) -> String {
        let ms = epoch_ms.max(self.last_ms + 1);
        self.last_ms = ms;
        format!("{}_{}", self.local_id, ms)
    }

    fn kind_of(&self, label: &str) -> ChannelKind {
        if self.messaging.as_deref() == Some(label) {
            ChannelKind::Messaging
        } else {
            ChannelKind::Data
        }
    }

    fn push_actions(&mut self, label: &str, acts: Vec<Action>) {
        for a in acts {
            self.out.push_back(match a {
                Action::Send(frame) => Output::Send {
                    label: label.into(),
                    frame,
                },
                Action::Event(e) => Output::Transfer(e),
                Action::CloseChannel => Output::CloseChannel {
                    label: label.into(),
                },
            });
        }
    }

    fn push_stream(&mut self, label: &str, acts: Vec<StreamAction>) {
        for a in acts {
            self.out.push_back(match a {
                StreamAction::Send(frame) => Output::Send {
                    label: label.into(),
                    frame,
                },
                StreamAction::Event(e) => Output::Stream(e),
                StreamAction::CloseChannel => Output::CloseChannel {
                    label: label.into(),
                },
            });
        }
    }

    /// Drop terminal sessions (their channel binding becomes free).
    fn gc(&mut self, label: &str) {
        let done = match self.bindings.get(label) {
            Some(Binding::Upload(u)) => u.is_terminal(),
            Some(Binding::Download(d)) => d.is_terminal(),
            Some(Binding::StreamRx(r)) => r.is_stopped(),
            Some(Binding::StreamTx(_)) | None => false,
        };
        if done {
            self.bindings.remove(label);
        }
    }

    /// Start an upload of `payload` to this peer (`sendBlobData` / `sendURLData` for one peer).
    /// On a DATA channel an [`Output::OpenChannel`] is emitted and the WRQ follows
    /// [`channel_open`](Self::channel_open); on the messaging channel the WRQ is sent now.
    pub fn send_payload(
        &mut self,
        transfer_id: &str,
        payload: Payload,
        name: Option<&str>,
        binary: bool,
    ) -> Result<(), DtError> {
        let mut cfg = UploadConfig::new(
            transfer_id,
            &self.local_id,
            &self.peer_id,
            &self.dialect,
            binary,
        );
        cfg.name = name.map(str::to_owned);
        cfg.timeout_secs = self.timeout_secs;
        cfg.agent = self.agent.clone();
        cfg.version = self.version.clone();
        let mut up = Upload::new(cfg, payload)?;
        match up.config().channel {
            ChannelKind::Data => {
                if self.bindings.contains_key(transfer_id) {
                    return Err(DtError::InvalidState("transfer id in use"));
                }
                self.bindings
                    .insert(transfer_id.into(), Binding::Upload(Box::new(up)));
                self.out.push_back(Output::OpenChannel {
                    label: transfer_id.into(),
                });
            }
            ChannelKind::Messaging => {
                let label = self
                    .messaging
                    .clone()
                    .ok_or(DtError::InvalidState("no messaging channel"))?;
                if self.bindings.contains_key(&label) {
                    return Err(DtError::InvalidState(
                        "messaging channel has a data transfer in-progress",
                    ));
                }
                let acts = up.start()?;
                self.bindings
                    .insert(label.clone(), Binding::Upload(Box::new(up)));
                self.push_actions(&label, acts);
            }
        }
        Ok(())
    }

    /// Send a P2P `MESSAGE` on the messaging channel.
    pub fn send_message(&mut self, data: Value, is_private: bool) -> Result<(), DtError> {
        let label = self
            .messaging
            .clone()
            .ok_or(DtError::InvalidState("no messaging channel"))?;
        let m = P2pMessage::new(is_private, &self.local_id, &self.peer_id, data);
        self.out.push_back(Output::Send {
            label,
            frame: Message::Message(m).to_frame(),
        });
        Ok(())
    }

    /// Start a data stream to this peer (DT ≥ 0.1.3 peers only).
    pub fn start_stream(
        &mut self,
        stream_id: &str,
        string: bool,
        is_private: bool,
    ) -> Result<(), DtError> {
        if !self.dialect.streams {
            return Err(DtError::Unsupported("data streaming"));
        }
        let mut c = StreamConfig::new(stream_id, &self.local_id, &self.peer_id, string, is_private);
        c.agent = self.agent.clone();
        c.version = self.version.clone();
        self.bindings.insert(
            stream_id.into(),
            Binding::StreamTx(DataStreamSender::new(c)),
        );
        self.out.push_back(Output::OpenChannel {
            label: stream_id.into(),
        });
        Ok(())
    }

    /// Send a stream chunk (binary or text).
    pub fn stream_send(&mut self, stream_id: &str, chunk: Chunk<'_>) -> Result<(), DtError> {
        let Some(Binding::StreamTx(tx)) = self.bindings.get_mut(stream_id) else {
            return Err(DtError::InvalidState("no such stream"));
        };
        let acts = match chunk {
            Chunk::Binary(b) => tx.send_binary(b)?,
            Chunk::Text(t) => tx.send_text(t)?,
        };
        self.push_stream(stream_id, acts);
        Ok(())
    }

    /// Stop a data stream.
    pub fn stream_stop(&mut self, stream_id: &str) -> Result<(), DtError> {
        let Some(Binding::StreamTx(tx)) = self.bindings.get_mut(stream_id) else {
            return Err(DtError::InvalidState("no such stream"));
        };
        let acts = tx.stop()?;
        self.bindings.remove(stream_id);
        self.push_stream(stream_id, acts);
        Ok(())
    }

    /// A DATA channel we asked for is open: send the pending WRQ.
    pub fn channel_open(&mut self, label: &str) -> Result<(), DtError> {
        match self.bindings.get_mut(label) {
            Some(Binding::Upload(u)) => {
                let acts = if u.is_suspended() {
                    u.resume()?
                } else {
                    u.start()?
                };
                self.push_actions(label, acts);
            }
            Some(Binding::StreamTx(tx)) => {
                let acts = tx.start()?;
                self.push_stream(label, acts);
            }
            _ => {}
        }
        Ok(())
    }

    /// A channel closed or errored at `now`. The messaging channel's loss also fails this
    /// peer's uploads. Sessions that negotiated the resume extension are suspended instead
    /// (see [`PeerDt::resume_uploads`]).
    pub fn channel_closed(&mut self, label: &str, now: Instant) {
        let messaging = self.messaging.as_deref() == Some(label);
        let labels: Vec<String> = self.bindings.keys().cloned().collect();
        for l in labels {
            let hit = l == label;
            let (acts, suspended_id) = match self.bindings.get_mut(&l) {
                Some(Binding::Upload(u)) if hit || messaging => {
                    let a = u.channel_lost(now);
                    (a, u.is_suspended().then(|| u.config().transfer_id.clone()))
                }
                Some(Binding::Download(d)) if hit => {
                    let a = d.channel_lost(now);
                    (a, d.is_suspended().then(|| d.config().transfer_id.clone()))
                }
                _ => continue,
            };
            self.push_actions(&l, acts);
            if let Some(id) = suspended_id
                && let Some(b) = self.bindings.remove(&l)
            {
                self.suspended.insert(id, b);
            }
            self.gc(&l);
        }
        if !messaging {
            self.bindings.remove(label);
        }
    }

    /// The whole peer connection is gone (the peer left, or our signaling socket dropped and
    /// every connection was closed): every channel counts as lost at `now`. Sessions that
    /// negotiated the resume extension are suspended (see [`PeerDt::has_suspended`]); the
    /// others fail with their reference events.
    pub fn connection_lost(&mut self, now: Instant) {
        // The messaging channel first: its loss is what fails (or suspends) the uploads that
        // run on their own DATA channels.
        let mut labels: Vec<String> = self.messaging.iter().cloned().collect();
        labels.extend(self.bindings.keys().cloned());
        for l in labels {
            self.channel_closed(&l, now);
        }
        self.bindings.clear();
    }

    /// We are leaving the room on purpose, so no reconnect will come: every session that a
    /// lost connection would suspend for a resume (see [`PeerDt::connection_lost`]) is
    /// cancelled now, sending CANCEL so the peer ends it at once instead of waiting out its
    /// timeout. Sessions without a negotiated resume are left to the connection's close,
    /// which fails them with the reference's events. Returns how many were cancelled.
    ///
    /// ```
    /// use skylink_dt::peer::PeerDt;
    /// use skylink_dt::version::{Dialect, PeerProfile};
    /// let d = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "chrome"));
    /// let mut dt = PeerDt::new("a1", "b1", d);
    /// assert_eq!(dt.leaving(), 0);
    /// ```
    pub fn leaving(&mut self) -> usize {
        let labels: Vec<String> = self
            .bindings
            .iter()
            .filter(|(_, b)| b.resumable())
            .map(|(label, _)| label.clone())
            .collect();
        for label in &labels {
            let acts = match self.bindings.get_mut(label) {
                Some(Binding::Upload(u)) => u.cancel(),
                Some(Binding::Download(d)) => d.cancel(),
                _ => Vec::new(),
            };
            self.push_actions(label, acts);
            self.gc(label);
        }
        labels.len()
    }

    /// Whether losing the connection now would suspend a session (see
    /// [`PeerDt::connection_lost`]) rather than fail it.
    pub fn has_resumable(&self) -> bool {
        self.bindings.values().any(Binding::resumable)
    }

    /// Whether any session waits to be resumed on a new connection.
    pub fn has_suspended(&self) -> bool {
        !self.suspended.is_empty()
    }

    /// Move this state to a new connection with the same remote instance under new peer ids
    /// (after a signaling reconnect both sides may have new ids). The messaging channel is
    /// forgotten (the new connection's first channel becomes it); suspended sessions keep
    /// their transfer ids and are re-addressed. Then call [`PeerDt::resume_uploads`] once
    /// the new messaging channel is open; downloads resume when the uploader's WRQ arrives.
    ///
    /// ```
    /// use skylink_dt::peer::PeerDt;
    /// use skylink_dt::version::{Dialect, PeerProfile};
    /// let d = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "chrome"));
    /// let mut dt = PeerDt::new("a1", "b1", d);
    /// dt.connection_lost(std::time::Instant::now());
    /// assert!(!dt.has_suspended());
    /// dt.rebind("a2", "b2");
    /// ```
    pub fn rebind(&mut self, local_id: &str, peer_id: &str) {
        self.local_id = local_id.into();
        self.peer_id = peer_id.into();
        self.messaging = None;
        self.bindings.clear();
        for b in self.suspended.values_mut() {
            match b {
                Binding::Upload(u) => u.rebind(local_id, peer_id),
                Binding::Download(d) => d.rebind(local_id, peer_id),
                Binding::StreamTx(_) | Binding::StreamRx(_) => {}
            }
        }
    }

    /// After a reconnect: resume every suspended upload (a DATA channel is requested again, or
    /// the WRQ is re-sent on a free messaging channel).
    pub fn resume_uploads(&mut self) -> Result<(), DtError> {
        let ids: Vec<String> = self
            .suspended
            .iter()
            .filter(|(_, b)| matches!(b, Binding::Upload(_)))
            .map(|(k, _)| k.clone())
            .collect();
        for id in ids {
            let Some(Binding::Upload(mut u)) = self.suspended.remove(&id) else {
                continue;
            };
            match u.config().channel {
                ChannelKind::Data => {
                    self.bindings.insert(id.clone(), Binding::Upload(u));
                    self.out.push_back(Output::OpenChannel { label: id });
                }
                ChannelKind::Messaging => {
                    let Some(label) = self
                        .messaging
                        .clone()
                        .filter(|l| !self.bindings.contains_key(l))
                    else {
                        self.suspended.insert(id, Binding::Upload(u));
                        continue;
                    };
                    let acts = u.resume()?;
                    self.bindings.insert(label.clone(), Binding::Upload(u));
                    self.push_actions(&label, acts);
                }
            }
        }
        Ok(())
    }

    fn find(&self, transfer_id: &str) -> Option<String> {
        self.bindings.iter().find_map(|(l, b)| match b {
            Binding::Upload(u) if u.config().transfer_id == transfer_id => Some(l.clone()),
            Binding::Download(d) if d.config().transfer_id == transfer_id => Some(l.clone()),
            _ => None,
        })
    }

    /// Accept (`true`) or reject (`false`) a requested download.
    pub fn respond(&mut self, transfer_id: &str, accept: bool) -> Result<(), DtError> {
        let label = self
            .find(transfer_id)
            .ok_or(DtError::InvalidState("no such transfer"))?;
        let Some(Binding::Download(d)) = self.bindings.get_mut(&label) else {
            return Err(DtError::InvalidState("not a download"));
        };
        let acts = if accept { d.accept()? } else { d.reject()? };
        self.push_actions(&label, acts);
        self.gc(&label);
        Ok(())
    }

    /// Accept a requested blob download, writing its bytes through to `sink` as they arrive
    /// ([`Download::accept_into`]).
    pub fn accept_into(
        &mut self,
        transfer_id: &str,
        sink: Box<dyn crate::sink::ChunkSink>,
    ) -> Result<(), DtError> {
        let label = self
            .find(transfer_id)
            .ok_or(DtError::InvalidState("no such transfer"))?;
        let Some(Binding::Download(d)) = self.bindings.get_mut(&label) else {
            return Err(DtError::InvalidState("not a download"));
        };
        let acts = d.accept_into(sink)?;
        self.push_actions(&label, acts);
        self.gc(&label);
        Ok(())
    }

    /// Cancel a transfer in either direction.
    pub fn cancel(&mut self, transfer_id: &str) -> Result<(), DtError> {
        let label = self
            .find(transfer_id)
            .ok_or(DtError::InvalidState("no such transfer"))?;
        let acts = match self.bindings.get_mut(&label) {
            Some(Binding::Upload(u)) => u.cancel(),
            Some(Binding::Download(d)) => d.cancel(),
            _ => Vec::new(),
        };
        self.push_actions(&label, acts);
        self.gc(&label);
        Ok(())
    }

    /// Earliest session deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.bindings
            .values()
            .chain(self.suspended.values())
            .filter_map(|b| match b {
                Binding::Upload(u) => u.poll_timeout(),
                Binding::Download(d) => d.poll_timeout(),
                _ => None,
            })
            .min()
    }

    /// Timer input.
    pub fn handle_timeout(&mut self, now: Instant) {
        let labels: Vec<String> = self.bindings.keys().cloned().collect();
        for l in labels {
            let acts = match self.bindings.get_mut(&l) {
                Some(Binding::Upload(u)) => u.handle_timeout(now),
                Some(Binding::Download(d)) => d.handle_timeout(now),
                _ => continue,
            };
            self.push_actions(&l, acts);
            self.gc(&l);
        }
        let ids: Vec<String> = self.suspended.keys().cloned().collect();
        for id in ids {
            let (acts, done) = match self.suspended.get_mut(&id) {
                Some(Binding::Upload(u)) => (u.handle_timeout(now), u.is_terminal()),
                Some(Binding::Download(d)) => (d.handle_timeout(now), d.is_terminal()),
                _ => continue,
            };
            // no channel: only the events matter
            for a in acts {
                if let Action::Event(e) = a {
                    self.out.push_back(Output::Transfer(e));
                }
            }
            if done {
                self.suspended.remove(&id);
            }
        }
    }

    /// A frame arrived on the channel `label`. `epoch_ms` is only used to name transfers that
    /// arrive without a `transferId` on the messaging channel. Undecodable protocol messages
    /// are returned as errors (the frame is dropped); chunks without a session are discarded.
    pub fn handle_frame(
        &mut self,
        label: &str,
        frame: Frame<'_>,
        now: Instant,
        epoch_ms: u64,
    ) -> Result<(), DtError> {
        let kind = self.kind_of(label);
        match classify(frame)? {
            Incoming::Message(Message::Message(m)) => {
                let sender = m.sender.clone().unwrap_or_else(|| self.peer_id.clone());
                self.out.push_back(Output::Message { sender, message: m });
            }
            Incoming::Message(Message::Wrq(w)) => match (w.kind(), self.bindings.get_mut(label)) {
                (WrqKind::Transfer, Some(Binding::Upload(u))) => {
                    let acts = u.handle_message(&Message::Wrq(w), now);
                    self.push_actions(label, acts);
                }
                (WrqKind::Transfer, Some(Binding::Download(d))) => {
                    let acts = d.handle_message(&Message::Wrq(w));
                    self.push_actions(label, acts);
                }
                (WrqKind::Transfer, None) => {
                    let id = receiver_transfer_id(kind, label, &w, &self.peer_id, epoch_ms);
                    if matches!(self.suspended.get(&id), Some(Binding::Download(_)))
                        && let Some(Binding::Download(mut d)) = self.suspended.remove(&id)
                    {
                        match d.resume(&w, kind, now) {
                            Ok(acts) => {
                                self.bindings.insert(label.into(), Binding::Download(d));
                                self.push_actions(label, acts);
                                return Ok(());
                            }
                            Err(_) => {
                                // not the same payload: forget the partial one, treat as new
                                let acts = d.cancel();
                                for a in acts {
                                    if let Action::Event(e) = a {
                                        self.out.push_back(Output::Transfer(e));
                                    }
                                }
                            }
                        }
                    }
                    let cfg = DownloadConfig::new(&self.local_id, &self.peer_id, &id, kind);
                    let (d, acts) = Download::new(cfg, &w)?;
                    self.bindings
                        .insert(label.into(), Binding::Download(Box::new(d)));
                    self.push_actions(label, acts);
                }
                (WrqKind::StreamStart, None) => {
                    let id = receiver_stream_id(kind, label, &w, &self.peer_id, epoch_ms);
                    let (r, acts) = DataStreamReceiver::new(&id, &self.peer_id, &w)?;
                    self.bindings.insert(label.into(), Binding::StreamRx(r));
                    self.push_stream(label, acts);
                }
                (WrqKind::StreamStop, Some(Binding::StreamRx(r))) => {
                    let acts = r.handle_wrq(&w);
                    self.push_stream(label, acts);
                }
                _ => {}
            },
            Incoming::Message(m @ (Message::Ack(_) | Message::Cancel(_) | Message::Error(_))) => {
                let acts = match self.bindings.get_mut(label) {
                    Some(Binding::Upload(u)) => u.handle_message(&m, now),
                    Some(Binding::Download(d)) => d.handle_message(&m),
                    _ => Vec::new(),
                };
                self.push_actions(label, acts);
            }
            Incoming::Message(m @ Message::Unknown(_)) => {
                if let Some(Binding::Download(d)) = self.bindings.get_mut(label) {
                    let acts = d.handle_message(&m);
                    self.push_actions(label, acts);
                }
            }
            Incoming::TextChunk(t) => self.chunk(label, Chunk::Text(t), now),
            Incoming::BinaryChunk(b) => self.chunk(label, Chunk::Binary(b), now),
        }
        self.gc(label);
        Ok(())
    }

    fn chunk(&mut self, label: &str, c: Chunk<'_>, now: Instant) {
        match self.bindings.get_mut(label) {
            Some(Binding::Download(d)) => {
                let acts = d.handle_chunk(c, now);
                self.push_actions(label, acts);
            }
            Some(Binding::StreamRx(r)) => {
                let acts = r.handle_chunk(c);
                self.push_stream(label, acts);
            }
            _ => {}
        }
    }
}
