//! Server configuration: built-in development defaults, a TOML file, `SKYLINK_*` overrides.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

/// Errors while loading configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// File path.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The TOML did not parse or had wrong types.
    #[error("invalid config: {0}")]
    Parse(#[from] toml::de::Error),
    /// An environment override had a bad value.
    #[error("invalid value {value:?} for {var}")]
    Env {
        /// Variable name.
        var: &'static str,
        /// Offending value.
        value: String,
    },
}

/// Whole server configuration.
///
/// ```
/// let config = skylink_server::Config::from_toml_str(r#"
/// [server]
/// port = 9000
/// [[apps]]
/// key = "my-app"
/// secret = "s3cret"
/// privileged = true
/// [[ice_servers]]
/// url = "stun:127.0.0.1:3478"
/// "#).unwrap();
/// assert_eq!(config.server.port, 9000);
/// assert!(config.app("my-app").unwrap().privileged);
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listener and transport settings.
    pub server: ServerConfig,
    /// Declared App Keys. Empty = development mode: any App Key is accepted in CORS mode.
    pub apps: Vec<AppConfig>,
    /// ICE servers handed to clients in `inRoom` (`url` singular, as 0.6.26 requires).
    pub ice_servers: Vec<IceServerConfig>,
    /// Optional TURN REST credential minting (coturn `use-auth-secret`).
    pub turn: Option<TurnConfig>,
    /// Abuse limits.
    pub limits: LimitsConfig,
}

/// Listener and transport settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to bind (default 127.0.0.1).
    pub bind: IpAddr,
    /// Port (default 8018; 0 picks a free port).
    pub port: u16,
    /// Host name given to clients as `ipSigserver`; default: the host the API request used.
    pub public_host: Option<String>,
    /// Path of skylinkjs' `skylink.complete.js`, served at `/skylink.complete.js`.
    pub skylinkjs: Option<PathBuf>,
    /// Engine.IO ping interval in ms (socket.io 1.4.8 default 25000).
    pub ping_interval_ms: u64,
    /// Engine.IO ping timeout in ms (socket.io 1.4.8 default 60000).
    pub ping_timeout_ms: u64,
    /// Largest accepted signaling message in bytes.
    pub max_message_bytes: usize,
    /// Frames queued per socket before further frames to it are dropped (and counted).
    pub socket_buffer: usize,
    /// How long issued credentials may wait before `joinRoom` (seconds); older → `oldTimeStamp`.
    pub credential_ttl_secs: u64,
    /// Room length in hours for CORS (credential-less) sessions.
    pub default_room_hours: f64,
    /// Seconds before a room's end at which `toClose` is sent.
    pub close_warning_secs: u64,
    /// Secret for deriving room keys; random per process when absent (set it for multi-node).
    pub room_key_secret: Option<String>,
    /// Serve HTTPS/WSS with these PEM files (skylinkjs defaults to `forceSSL: true`).
    pub tls: Option<TlsConfig>,
}

/// PEM certificate chain and private key for TLS.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8018,
            public_host: None,
            skylinkjs: None,
            ping_interval_ms: 25_000,
            ping_timeout_ms: 60_000,
            max_message_bytes: 256 * 1024,
            socket_buffer: 4096,
            credential_ttl_secs: 300,
            default_room_hours: 24.0,
            close_warning_secs: 300,
            room_key_secret: None,
            tls: None,
        }
    }
}

/// One App Key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// The App Key.
    pub key: String,
    /// Secret for HMAC credentials (spec §1.3). Without it only CORS mode works.
    pub secret: Option<String>,
    /// Privileged key: may use `getPeers` and `introduce`.
    pub privileged: bool,
    /// Relay broadcast `enter` (peers meet automatically).
    pub auto_introduce: bool,
    /// Concurrent peers allowed for this key (0 = unlimited).
    pub seat_limit: usize,
    /// Origins allowed in CORS mode (empty = any origin).
    pub allowed_origins: Vec<String>,
    /// Allow credential-less (CORS) sessions.
    pub cors: bool,
    /// Owner shown as `apiOwner`.
    pub owner: String,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            key: String::new(),
            secret: None,
            privileged: false,
            auto_introduce: true,
            seat_limit: 0,
            allowed_origins: Vec::new(),
            cors: true,
            owner: "owner@skylink.invalid".into(),
        }
    }
}

/// One ICE server entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IceServerConfig {
    /// `stun:host:port` or `turn:user@host:port?transport=udp`.
    pub url: String,
    /// TURN credential.
    pub credential: Option<String>,
}

/// TURN REST credentials (`<expiry>:<user>` + base64 HMAC-SHA1 of it).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnConfig {
    /// Shared secret (coturn `static-auth-secret`).
    pub secret: String,
    /// TURN host (and optional `:port`).
    pub host: String,
    /// Credential lifetime in seconds.
    #[serde(default = "default_turn_ttl")]
    pub ttl_secs: u64,
}

fn default_turn_ttl() -> u64 {
    86_400
}

/// Abuse limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Throttled-type messages (public, updateUserEvent, mute*, stream, group) per second
    /// above which the sender gets a `fastmsg` warning.
    pub flood_per_sec: u32,
    /// Peers per room (0 = unlimited); joiners beyond get `serverError`.
    pub room_seats: usize,
    /// Issued-but-unused credentials kept at most; the API answers 4021 beyond (0 = unlimited).
    pub max_pending_credentials: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            flood_per_sec: 10,
            room_seats: 0,
            max_pending_credentials: 100_000,
        }
    }
}

impl Config {
    /// Parses a TOML document.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] on syntax or type errors.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Ok(toml::from_str(text)?)
    }

    /// Reads and parses a TOML file.
    ///
    /// # Errors
    /// [`ConfigError::Read`] or [`ConfigError::Parse`].
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text)
    }

    /// Applies `SKYLINK_BIND`, `SKYLINK_PORT`, `SKYLINK_PUBLIC_HOST`, `SKYLINK_JS`.
    ///
    /// # Errors
    /// [`ConfigError::Env`] for an unparsable value.
    pub fn apply_env(&mut self) -> Result<(), ConfigError> {
        fn var(name: &'static str) -> Option<String> {
            std::env::var(name).ok().filter(|v| !v.is_empty())
        }
        if let Some(v) = var("SKYLINK_BIND") {
            self.server.bind = v.parse().map_err(|_| ConfigError::Env {
                var: "SKYLINK_BIND",
                value: v.clone(),
            })?;
        }
        if let Some(v) = var("SKYLINK_PORT") {
            self.server.port = v.parse().map_err(|_| ConfigError::Env {
                var: "SKYLINK_PORT",
                value: v.clone(),
            })?;
        }
        if let Some(v) = var("SKYLINK_PUBLIC_HOST") {
            self.server.public_host = Some(v);
        }
        if let Some(v) = var("SKYLINK_JS") {
            self.server.skylinkjs = Some(v.into());
        }
        Ok(())
    }

    /// The declared app with this key.
    pub fn app(&self, key: &str) -> Option<&AppConfig> {
        self.apps.iter().find(|a| a.key == key)
    }

    /// True when no App Key is declared: any key is accepted in CORS mode.
    pub fn is_development(&self) -> bool {
        self.apps.is_empty()
    }
}
