//! Event names and the `on` / `once` / `off` listener registry.
//!
//! Listeners are plain closures (`Fn(&Event) + Send + Sync + 'static`). One dispatcher task
//! per [`crate::Skylink`] calls them in event order: for each event, first the `on` listeners
//! of its name in subscription order, then its `once` listeners in subscription order (as the
//! reference SDK does). A listener that panics is logged and skipped; it stays subscribed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use skylink_room::Event;
use tokio::sync::broadcast;

/// The error of parsing an [`EventName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event name {0:?}")]
pub struct UnknownEventName(pub String);

macro_rules! event_names {
    ($( $(#[$meta:meta])* $variant:ident = $name:literal ),+ $(,)?) => {
        /// The reference's event names (`"peerJoined"`, …), as [`Event::name`] returns them.
        ///
        /// Every event of the reference is listed, including those the engine does not raise
        /// yet (media, data transfers), so listeners can be subscribed to them already.
        ///
        /// ```
        /// use skylink::EventName;
        /// let n: EventName = "peerJoined".parse().unwrap();
        /// assert_eq!(n, EventName::PeerJoined);
        /// assert_eq!(n.as_str(), "peerJoined");
        /// assert!("peerjoined".parse::<EventName>().is_err());
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[non_exhaustive]
        pub enum EventName {
            $( $(#[$meta])* #[serde(rename = $name)] $variant, )+
        }

        impl EventName {
            /// Every event name, alphabetically.
            pub const ALL: &'static [EventName] = &[ $( EventName::$variant ),+ ];

            /// The reference's name.
            pub fn as_str(self) -> &'static str {
                match self { $( EventName::$variant => $name, )+ }
            }
        }

        impl std::str::FromStr for EventName {
            type Err = UnknownEventName;
            fn from_str(s: &str) -> Result<Self, UnknownEventName> {
                match s {
                    $( $name => Ok(EventName::$variant), )+
                    _ => Err(UnknownEventName(s.to_owned())),
                }
            }
        }
    };
}

event_names! {
    /// `candidateGenerationState`.
    CandidateGenerationState = "candidateGenerationState",
    /// `candidateProcessingState`.
    CandidateProcessingState = "candidateProcessingState",
    /// `candidatesGathered`.
    CandidatesGathered = "candidatesGathered",
    /// `channelClose`.
    ChannelClose = "channelClose",
    /// `channelError`.
    ChannelError = "channelError",
    /// `channelMessage`.
    ChannelMessage = "channelMessage",
    /// `channelOpen`.
    ChannelOpen = "channelOpen",
    /// `channelRetry`.
    ChannelRetry = "channelRetry",
    /// `dataChannelState`.
    DataChannelState = "dataChannelState",
    /// `dataStreamState`.
    DataStreamState = "dataStreamState",
    /// `dataTransferState`.
    DataTransferState = "dataTransferState",
    /// `getConnectionStatusStateChange`.
    GetConnectionStatusStateChange = "getConnectionStatusStateChange",
    /// `getPeersStateChange`.
    GetPeersStateChange = "getPeersStateChange",
    /// `handshakeProgress`.
    HandshakeProgress = "handshakeProgress",
    /// `iceConnectionState`.
    IceConnectionState = "iceConnectionState",
    /// `incomingData`.
    IncomingData = "incomingData",
    /// `incomingDataRequest`.
    IncomingDataRequest = "incomingDataRequest",
    /// `incomingDataStream`.
    IncomingDataStream = "incomingDataStream",
    /// `incomingDataStreamStarted`.
    IncomingDataStreamStarted = "incomingDataStreamStarted",
    /// `incomingDataStreamStopped`.
    IncomingDataStreamStopped = "incomingDataStreamStopped",
    /// `incomingMessage`.
    IncomingMessage = "incomingMessage",
    /// `incomingStream`.
    IncomingStream = "incomingStream",
    /// `introduceStateChange`.
    IntroduceStateChange = "introduceStateChange",
    /// `localMediaMuted`.
    LocalMediaMuted = "localMediaMuted",
    /// `mediaAccessError`.
    MediaAccessError = "mediaAccessError",
    /// `mediaAccessFallback`.
    MediaAccessFallback = "mediaAccessFallback",
    /// `mediaAccessRequired`.
    MediaAccessRequired = "mediaAccessRequired",
    /// `mediaAccessStopped`.
    MediaAccessStopped = "mediaAccessStopped",
    /// `mediaAccessSuccess`.
    MediaAccessSuccess = "mediaAccessSuccess",
    /// `peerConnectionState`.
    PeerConnectionState = "peerConnectionState",
    /// `peerJoined`.
    PeerJoined = "peerJoined",
    /// `peerLeft`.
    PeerLeft = "peerLeft",
    /// `peerRestart`.
    PeerRestart = "peerRestart",
    /// `peerUpdated`.
    PeerUpdated = "peerUpdated",
    /// `readyStateChange`.
    ReadyStateChange = "readyStateChange",
    /// `recordingState`.
    RecordingState = "recordingState",
    /// `roomLock`.
    RoomLock = "roomLock",
    /// `serverPeerJoined`.
    ServerPeerJoined = "serverPeerJoined",
    /// `serverPeerLeft`.
    ServerPeerLeft = "serverPeerLeft",
    /// `serverPeerRestart`.
    ServerPeerRestart = "serverPeerRestart",
    /// `sessionDisconnect`.
    SessionDisconnect = "sessionDisconnect",
    /// `socketError`.
    SocketError = "socketError",
    /// `streamEnded`.
    StreamEnded = "streamEnded",
    /// `streamMuted`.
    StreamMuted = "streamMuted",
    /// `systemAction`.
    SystemAction = "systemAction",
}

impl EventName {
    /// The name of `event` (`None` only for an event the reference does not list).
    pub fn of(event: &Event) -> Option<EventName> {
        event.name().parse().ok()
    }
}

impl std::fmt::Display for EventName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifies one subscription, for [`crate::Skylink::off`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(u64);

type Handler = Arc<dyn Fn(&Event) + Send + Sync>;
type Condition = Arc<dyn Fn(&Event) -> bool + Send + Sync>;

#[derive(Clone)]
enum Kind {
    On(Handler),
    Once {
        condition: Condition,
        handler: Handler,
        fire_always: bool,
    },
}

struct Listener {
    id: ListenerId,
    name: EventName,
    kind: Kind,
}

/// The listeners of one [`crate::Skylink`] (shared with its dispatcher task).
#[derive(Default)]
pub(crate) struct Registry {
    next: AtomicU64,
    listeners: Mutex<Vec<Listener>>,
}

impl Registry {
    fn add(&self, name: EventName, kind: Kind) -> ListenerId {
        let id = ListenerId(self.next.fetch_add(1, Ordering::Relaxed));
        self.listeners.lock().push(Listener { id, name, kind });
        id
    }

    pub(crate) fn on(&self, name: EventName, handler: Handler) -> ListenerId {
        self.add(name, Kind::On(handler))
    }

    pub(crate) fn once(
        &self,
        name: EventName,
        condition: Condition,
        handler: Handler,
        fire_always: bool,
    ) -> ListenerId {
        self.add(
            name,
            Kind::Once {
                condition,
                handler,
                fire_always,
            },
        )
    }

    /// Removes `id` (when it listens to `name`), or every listener of `name`; returns how many.
    pub(crate) fn off(&self, name: EventName, id: Option<ListenerId>) -> usize {
        let mut l = self.listeners.lock();
        let before = l.len();
        l.retain(|x| x.name != name || id.is_some_and(|id| x.id != id));
        before - l.len()
    }

    /// Removes every listener; returns how many.
    pub(crate) fn off_all(&self) -> usize {
        let mut l = self.listeners.lock();
        let n = l.len();
        l.clear();
        n
    }

    /// How many listeners `name` has.
    pub(crate) fn count(&self, name: EventName) -> usize {
        self.listeners
            .lock()
            .iter()
            .filter(|l| l.name == name)
            .count()
    }

    fn contains(&self, id: ListenerId) -> bool {
        self.listeners.lock().iter().any(|l| l.id == id)
    }

    fn remove(&self, id: ListenerId) -> bool {
        let mut l = self.listeners.lock();
        let before = l.len();
        l.retain(|x| x.id != id);
        before != l.len()
    }

    /// Calls the listeners of `event`. The lock is never held while user code runs, so a
    /// listener may call `on`/`once`/`off`; a listener removed by an earlier one is skipped.
    pub(crate) fn dispatch(&self, event: &Event) {
        let name = event.name();
        let (mut on, mut once) = (Vec::new(), Vec::new());
        for l in self.listeners.lock().iter() {
            if l.name.as_str() == name {
                match &l.kind {
                    Kind::On(_) => on.push((l.id, l.kind.clone())),
                    Kind::Once { .. } => once.push((l.id, l.kind.clone())),
                }
            }
        }
        on.append(&mut once);
        for (id, kind) in on {
            if !self.contains(id) {
                continue;
            }
            match kind {
                Kind::On(handler) => {
                    guarded(name, || handler(event));
                }
                Kind::Once {
                    condition,
                    handler,
                    fire_always,
                } => {
                    if guarded(name, || condition(event)) != Some(true) {
                        continue;
                    }
                    // A plain `once` is spent before its handler runs.
                    if !fire_always && !self.remove(id) {
                        continue;
                    }
                    guarded(name, || handler(event));
                }
            }
        }
    }
}

/// Runs listener code, turning a panic into a log record.
fn guarded<T>(event: &str, f: impl FnOnce() -> T) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(t) => Some(t),
        Err(_) => {
            tracing::error!(event, "event listener panicked");
            None
        }
    }
}

/// The dispatcher task: delivers every event of `rx` to `registry`'s listeners, in order,
/// until the engine stops.
pub(crate) async fn run_dispatcher(registry: Arc<Registry>, mut rx: broadcast::Receiver<Event>) {
    loop {
        match rx.recv().await {
            Ok(ev) => registry.dispatch(&ev),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(skipped = n, "event listeners too slow; events skipped");
            }
            Err(broadcast::error::RecvError::Closed) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    fn lock_event(is_locked: bool) -> Event {
        Event::RoomLock {
            is_locked,
            peer_id: "p".into(),
            peer_info: Default::default(),
            is_self: false,
        }
    }

    fn counter() -> (Arc<AtomicUsize>, Handler) {
        let n = Arc::new(AtomicUsize::new(0));
        let m = n.clone();
        (
            n,
            Arc::new(move |_: &Event| {
                m.fetch_add(1, Ordering::SeqCst);
            }),
        )
    }

    #[test]
    fn names_match_the_engine() {
        for n in EventName::ALL {
            assert_eq!(n.as_str().parse::<EventName>(), Ok(*n));
        }
        assert_eq!(EventName::ALL.len(), 45);
        assert_eq!(EventName::of(&lock_event(true)), Some(EventName::RoomLock));
        let ev = Event::SessionDisconnect {
            peer_id: "p".into(),
            peer_info: Default::default(),
        };
        assert_eq!(EventName::of(&ev), Some(EventName::SessionDisconnect));
    }

    #[test]
    fn once_on_off() {
        let r = Registry::default();
        let (on, h) = counter();
        let on_id = r.on(EventName::RoomLock, h);
        let (once, h) = counter();
        r.once(EventName::RoomLock, Arc::new(|_| true), h, false);
        let (cond, h) = counter();
        r.once(
            EventName::RoomLock,
            Arc::new(|e| {
                matches!(
                    e,
                    Event::RoomLock {
                        is_locked: false,
                        ..
                    }
                )
            }),
            h,
            false,
        );
        let (always, h) = counter();
        r.once(
            EventName::RoomLock,
            Arc::new(|e| {
                matches!(
                    e,
                    Event::RoomLock {
                        is_locked: true,
                        ..
                    }
                )
            }),
            h,
            true,
        );
        let (other, h) = counter();
        r.on(EventName::PeerJoined, h);
        for locked in [true, true, false, false, true] {
            r.dispatch(&lock_event(locked));
        }
        assert_eq!(on.load(Ordering::SeqCst), 5);
        assert_eq!(once.load(Ordering::SeqCst), 1);
        assert_eq!(cond.load(Ordering::SeqCst), 1);
        assert_eq!(always.load(Ordering::SeqCst), 3);
        assert_eq!(other.load(Ordering::SeqCst), 0);
        // Spent `once` listeners are gone; `on` and fire-always ones stay.
        assert_eq!(r.count(EventName::RoomLock), 2);
        assert_eq!(r.off(EventName::PeerJoined, Some(on_id)), 0);
        assert_eq!(r.off(EventName::RoomLock, Some(on_id)), 1);
        r.dispatch(&lock_event(true));
        assert_eq!(on.load(Ordering::SeqCst), 5);
        assert_eq!(always.load(Ordering::SeqCst), 4);
        assert_eq!(r.off(EventName::RoomLock, None), 1);
        assert_eq!(r.off_all(), 1);
    }

    #[test]
    fn listeners_may_unsubscribe_each_other_and_panics_are_contained() {
        let r = Arc::new(Registry::default());
        let (second, h2) = counter();
        let r2 = r.clone();
        // The first listener removes every listener of the event before the second runs.
        r.on(
            EventName::RoomLock,
            Arc::new(move |_| {
                r2.off(EventName::RoomLock, None);
            }),
        );
        r.on(EventName::RoomLock, h2);
        r.dispatch(&lock_event(true));
        assert_eq!(second.load(Ordering::SeqCst), 0);

        let (after, h) = counter();
        r.on(EventName::RoomLock, Arc::new(|_| panic!("listener bug")));
        r.on(EventName::RoomLock, h);
        r.dispatch(&lock_event(true));
        r.dispatch(&lock_event(true));
        assert_eq!(after.load(Ordering::SeqCst), 2);
    }
}
