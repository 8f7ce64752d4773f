//! The socket fallback chain (`SOCKET_FALLBACK`, spec §2.3–§2.4) as a pure planner.
//!
//! ```
//! use skylink_room::fallback::{FallbackPlan, SocketFallback, Transport};
//! let mut plan = FallbackPlan::new(vec![443, 3443], true, false);
//! let first = plan.next_instance().unwrap();
//! assert_eq!((first.transport, first.port, first.fallback), (Transport::WebSocket, 443, SocketFallback::NonFallback));
//! let second = plan.next_instance().unwrap();
//! assert_eq!((second.port, second.fallback), (3443, SocketFallback::FallbackPortSsl));
//! ```

use serde::Serialize;

/// `SOCKET_FALLBACK` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SocketFallback {
    /// `"nonfallback"`: the first instance.
    #[serde(rename = "nonfallback")]
    NonFallback,
    /// `"fallbackPortNonSSL"`: websocket on a later port, http.
    #[serde(rename = "fallbackPortNonSSL")]
    FallbackPortNonSsl,
    /// `"fallbackPortSSL"` (code key `FALLBACK_SSL_PORT`): websocket on a later port, https.
    #[serde(rename = "fallbackPortSSL")]
    FallbackPortSsl,
    /// `"fallbackLongPollingNonSSL"`: long-polling, http.
    #[serde(rename = "fallbackLongPollingNonSSL")]
    LongPollingNonSsl,
    /// `"fallbackLongPollingSSL"`: long-polling, https.
    #[serde(rename = "fallbackLongPollingSSL")]
    LongPollingSsl,
}

impl SocketFallback {
    /// The wire/constant value.
    pub fn as_str(self) -> &'static str {
        match self {
            SocketFallback::NonFallback => "nonfallback",
            SocketFallback::FallbackPortNonSsl => "fallbackPortNonSSL",
            SocketFallback::FallbackPortSsl => "fallbackPortSSL",
            SocketFallback::LongPollingNonSsl => "fallbackLongPollingNonSSL",
            SocketFallback::LongPollingSsl => "fallbackLongPollingSSL",
        }
    }
}

/// `SOCKET_ERROR` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[repr(i32)]
pub enum SocketErrorCode {
    /// `CONNECTION_FAILED` 0: the first instance failed.
    ConnectionFailed = 0,
    /// `RECONNECTION_FAILED` −1: a later instance failed.
    ReconnectionFailed = -1,
    /// `CONNECTION_ABORTED` −2 (never emitted by 0.6.26).
    ConnectionAborted = -2,
    /// `RECONNECTION_ABORTED` −3: the chain is exhausted; `joinRoom` fails.
    ReconnectionAborted = -3,
    /// `RECONNECTION_ATTEMPT` −4: a new instance starts.
    ReconnectionAttempt = -4,
}

impl SocketErrorCode {
    /// Numeric value.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// Engine.IO transport of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Transport {
    /// `websocket`.
    #[serde(rename = "WebSocket")]
    WebSocket,
    /// XHR long-polling (Engine.IO 3 polling, `crate::polling`).
    #[serde(rename = "Polling")]
    Polling,
}

/// The `socketServer` debug override (spec §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketServer {
    /// A complete URL (`http://host:port`, `ws://host:port/socket.io/?…`), no `rand`; every
    /// step counts as "last port".
    Url(String),
    /// `{url, ports?, protocol?}`: host (and nothing else) plus optional ports and protocol
    /// (`"http:"`/`"https:"`).
    Custom {
        /// Host name or address.
        url: String,
        /// Ports replacing the API port list when non-empty.
        ports: Vec<u16>,
        /// `"http:"` or `"https:"`; `None` = chosen by `forceSSL`.
        protocol: Option<String>,
    },
}

/// One socket instance of the chain: `1 + reconnectionAttempts` connection attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SocketInstance {
    /// Transport.
    pub transport: Transport,
    /// Index in the port list.
    pub port_index: usize,
    /// The port.
    pub port: u16,
    /// Reported fallback state.
    pub fallback: SocketFallback,
    /// Connection attempts of this instance (3 websocket, 5 polling).
    pub attempts: u32,
    /// `finalAttempts` counter after this instance was created.
    pub final_attempts: u32,
}

/// `reconnectionAttempts` of the websocket phase.
pub const WEBSOCKET_RECONNECTION_ATTEMPTS: u32 = 2;
/// `reconnectionAttempts` of the polling phase.
pub const POLLING_RECONNECTION_ATTEMPTS: u32 = 4;

/// The fallback planner: call [`FallbackPlan::next_instance`] for the first instance and
/// again each time an instance reported `reconnect_failed`; `None` = give up
/// (`RECONNECTION_ABORTED`).
#[derive(Debug, Clone)]
pub struct FallbackPlan {
    ports: Vec<u16>,
    secure: bool,
    string_server: bool,
    current: Option<SocketInstance>,
    final_attempts: u32,
}

impl FallbackPlan {
    /// A plan over `ports` (empty → the defaults for `secure`), `secure` = https, and
    /// `string_server` = a string `socketServer` override (every step is "last port").
    pub fn new(ports: Vec<u16>, secure: bool, string_server: bool) -> Self {
        let ports = if ports.is_empty() {
            default_ports(secure)
        } else {
            ports
        };
        FallbackPlan {
            ports,
            secure,
            string_server,
            current: None,
            final_attempts: 0,
        }
    }

    /// The next instance, or `None` once `finalAttempts` reached 2.
    pub fn next_instance(&mut self) -> Option<SocketInstance> {
        let (transport, idx, fallback) = match self.current {
            None => (Transport::WebSocket, 0, SocketFallback::NonFallback),
            Some(cur) => {
                if self.final_attempts >= 2 {
                    return None;
                }
                let last = self.string_server || cur.port_index + 1 >= self.ports.len();
                let (transport, idx) = if last {
                    match cur.transport {
                        Transport::WebSocket => (Transport::Polling, 0),
                        Transport::Polling => {
                            self.final_attempts += 1;
                            (Transport::Polling, cur.port_index)
                        }
                    }
                } else {
                    (cur.transport, cur.port_index + 1)
                };
                let fallback = match (transport, self.secure) {
                    (Transport::WebSocket, false) => SocketFallback::FallbackPortNonSsl,
                    (Transport::WebSocket, true) => SocketFallback::FallbackPortSsl,
                    (Transport::Polling, false) => SocketFallback::LongPollingNonSsl,
                    (Transport::Polling, true) => SocketFallback::LongPollingSsl,
                };
                (transport, idx, fallback)
            }
        };
        let idx = idx.min(self.ports.len().saturating_sub(1));
        let inst = SocketInstance {
            transport,
            port_index: idx,
            port: self.ports.get(idx).copied().unwrap_or(0),
            fallback,
            attempts: 1 + match transport {
                Transport::WebSocket => WEBSOCKET_RECONNECTION_ATTEMPTS,
                Transport::Polling => POLLING_RECONNECTION_ATTEMPTS,
            },
            final_attempts: self.final_attempts,
        };
        self.current = Some(inst);
        Some(inst)
    }
}

/// Default port lists when the API gives none: https `[443, 3443]`, http `[80, 3000]`.
pub fn default_ports(secure: bool) -> Vec<u16> {
    if secure {
        vec![443, 3443]
    } else {
        vec![80, 3000]
    }
}

/// The whole chain for a port list, e.g. for documentation and tests.
pub fn fallback_sequence(ports: Vec<u16>, secure: bool) -> Vec<SocketInstance> {
    let mut plan = FallbackPlan::new(ports, secure, false);
    std::iter::from_fn(|| plan.next_instance()).collect()
}

/// socket.io-client reconnection delay before attempt `n` (1-based retry number):
/// `min(delay · 2^(n−1), max)`, randomised by ±50 % with `jitter` in `[0, 1)`.
pub fn reconnection_delay(
    n: u32,
    delay: std::time::Duration,
    max: std::time::Duration,
    jitter: f64,
) -> std::time::Duration {
    let base = delay.as_secs_f64() * 2f64.powi(n.saturating_sub(1).min(30) as i32);
    let deviation = base * 0.5;
    let jitter = jitter.clamp(0.0, 1.0);
    // socket.io's Backoff: odd floor(rand*10) subtracts, even adds.
    let with = if ((jitter * 10.0).floor() as i64) % 2 == 0 {
        base + jitter * deviation
    } else {
        base - jitter * deviation
    };
    std::time::Duration::from_secs_f64(with.clamp(0.0, max.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use SocketFallback::*;
    use Transport::*;

    #[test]
    fn https_default_ports_table_of_spec_2_4() {
        let seq = fallback_sequence(vec![], true);
        let got: Vec<_> = seq
            .iter()
            .map(|i| {
                (
                    i.transport,
                    i.port,
                    i.fallback,
                    i.attempts,
                    i.final_attempts,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (WebSocket, 443, NonFallback, 3, 0),
                (WebSocket, 3443, FallbackPortSsl, 3, 0),
                (Polling, 443, LongPollingSsl, 5, 0),
                (Polling, 3443, LongPollingSsl, 5, 0),
                (Polling, 3443, LongPollingSsl, 5, 1),
                (Polling, 3443, LongPollingSsl, 5, 2),
            ]
        );
    }

    #[test]
    fn http_single_port() {
        let seq = fallback_sequence(vec![8018], false);
        let got: Vec<_> = seq
            .iter()
            .map(|i| (i.transport, i.port, i.fallback))
            .collect();
        assert_eq!(
            got,
            vec![
                (WebSocket, 8018, NonFallback),
                (Polling, 8018, LongPollingNonSsl),
                (Polling, 8018, LongPollingNonSsl),
                (Polling, 8018, LongPollingNonSsl),
            ]
        );
        assert_eq!(default_ports(false), vec![80, 3000]);
    }

    #[test]
    fn string_server_treats_every_step_as_last() {
        let mut plan = FallbackPlan::new(vec![1, 2, 3], false, true);
        let t: Vec<_> = std::iter::from_fn(|| plan.next_instance())
            .map(|i| (i.transport, i.port))
            .collect();
        assert_eq!(
            t,
            vec![(WebSocket, 1), (Polling, 1), (Polling, 1), (Polling, 1)]
        );
    }

    #[test]
    fn backoff_grows_and_caps() {
        use std::time::Duration as D;
        let d = |n| reconnection_delay(n, D::from_millis(1000), D::from_millis(5000), 0.0);
        assert_eq!(d(1), D::from_millis(1000));
        assert_eq!(d(2), D::from_millis(2000));
        assert_eq!(d(5), D::from_millis(5000));
        let j = reconnection_delay(1, D::from_millis(1000), D::from_millis(5000), 0.99);
        assert!(j >= D::from_millis(500) && j <= D::from_millis(1500));
    }

    #[test]
    fn wire_values() {
        assert_eq!(FallbackPortSsl.as_str(), "fallbackPortSSL");
        assert_eq!(LongPollingNonSsl.as_str(), "fallbackLongPollingNonSSL");
        assert_eq!(SocketErrorCode::ReconnectionAborted.code(), -3);
    }
}
