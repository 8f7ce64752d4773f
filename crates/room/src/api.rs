//! `init()`: the room-API request (spec §1): options, URL construction, the HTTP GET with
//! per-attempt timeout and at most 3 attempts, and the mapping of results onto
//! `readyStateChange` (spec §1.6).
//!
//! The pure parts ([`api_url`], [`classify_response`], [`iso_timestamp`]) are separated from
//! the thin I/O ([`fetch_room`]).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt as _, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use serde::Serialize;
use skylink_sm::room_api::{ApiResponse, ApiSuccess, ClientErrorCode, parse_api_response};

use crate::fallback::SocketServer;
use crate::session::PriorityWeightScheme;

/// Default room server (`//api.temasys.io`, protocol-relative).
pub const DEFAULT_ROOM_SERVER: &str = "//api.temasys.io";

/// Default per-attempt API timeout (spec §1.4).
pub const DEFAULT_API_TIMEOUT: Duration = Duration::from_millis(4000);

/// Attempts in total for the API request (1 + 2 retries, spec §1.4).
pub const API_ATTEMPTS: u32 = 3;

/// Hash-based credentials (spec §1.3): computed by the application, only forwarded here.
#[derive(Debug, Clone, PartialEq)]
pub struct Credentials {
    /// `startDateTime`: ISO-8601 start of the session.
    pub start_date_time: String,
    /// `duration` in hours (a JS number: `1`, `0.5`, `24`).
    pub duration: f64,
    /// `credentials`: the URL-encoded base64 HMAC (inserted into the URL verbatim).
    pub credentials: String,
}

/// `init()` options (spec §1.2, §1.7). Build with [`InitOptions::new`] and adjust fields.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// `appKey` (required).
    pub app_key: String,
    /// `defaultRoom`: defaults to `appKey` (also when empty).
    pub default_room: Option<String>,
    /// `roomServer`: default `//api.temasys.io`; one trailing `/` is removed.
    pub room_server: String,
    /// `forceSSL`: prepend `https:` to the URL and use `https` ports / `wss` (default `true`).
    pub force_ssl: bool,
    /// `credentials` (all three must be valid, else ignored, spec §1.2).
    pub credentials: Option<Credentials>,
    /// `apiTimeout` per attempt (default 4000 ms).
    pub api_timeout: Duration,
    /// `socketTimeout`: per socket connection attempt (7000 ms; 0.6.26 never applies the
    /// option, we do).
    pub socket_timeout: Duration,
    /// `socketServer` debug override of the signaling address (spec §2.2).
    pub socket_server: Option<SocketServer>,
    /// `enableIceTrickle` (default `true`).
    pub enable_ice_trickle: bool,
    /// `enableDataChannel` (default `true`).
    pub enable_data_channel: bool,
    /// Sent as `enableIceRestart` (default `true`).
    pub enable_ice_restart: bool,
    /// `priorityWeightScheme` (default `auto`).
    pub priority_weight_scheme: PriorityWeightScheme,
    /// First socket.io reconnection delay (`reconnectionDelay`, 1000 ms).
    pub reconnection_delay: Duration,
    /// Maximum socket.io reconnection delay (`reconnectionDelayMax`, 5000 ms websocket phase).
    pub reconnection_delay_max: Duration,
    /// Rejoin the room automatically after an unexpected socket drop (default `true`).
    /// Deviation: 0.6.26 only emits `sessionDisconnect` and stays out of the room.
    pub auto_rejoin: bool,
    /// How many times an automatic rejoin is tried before giving up (default 3).
    pub rejoin_attempts: u32,
    /// Local UDP addresses the peer connections bind (default `["0.0.0.0:0"]`: every
    /// non-loopback interface; tests and loopback-only setups use `["127.0.0.1:0"]`).
    pub udp_addrs: Vec<String>,
    /// `usePublicSTUN`, `forceTURNSSL`, `TURNServerTransport`, `iceServer` (spec §2.2).
    pub ice: crate::ice::IceOptions,
    /// Codec, bandwidth and connection settings of the SDP munging (skylink-sdp).
    pub sdp_settings: skylink_sdp::SdpSettings,
    /// Offer the skylink-dt extensions (pipelined and resumable transfers, SHA-1 check) to
    /// other skylink-rs peers (default `true`; JS peers never get them). `false` gives the
    /// reference's stop-and-wait protocol everywhere (the benchmark baseline).
    pub dt_extensions: bool,
    /// Extra trusted root certificates for `https`/`wss` (room API, websocket and
    /// long-polling), on top of the built-in Mozilla roots (webpki-roots): for self-signed or
    /// private-CA deployments and tests. Each entry is one DER certificate or a PEM text with
    /// one or more `CERTIFICATE` blocks. Default: empty. An entry that does not parse makes the
    /// room-API request fail with `readyStateChange(ERROR)` (`errorCode` −1).
    pub extra_root_certs: Vec<Vec<u8>>,
    /// Where `getUserMedia` / `sendStream(options)` / `shareScreen` get media (the Rust
    /// counterpart of a browser's devices). Default: [`crate::local_media::NoDevices`], so
    /// every request fails with `mediaAccessError` until the application configures one.
    pub media_devices: std::sync::Arc<dyn crate::local_media::MediaDevices>,
    /// `audioFallback`: when a camera + microphone request fails, retry with audio only
    /// (default `false`, as the reference).
    pub audio_fallback: bool,
    /// Sinks for every received media track (recorders, probes, an application's consumer).
    /// Default: none (tracks are still counted, see `Client::remote_tracks`).
    pub media_sinks: Option<crate::peer_media::SinkFactory>,
}

impl std::fmt::Debug for dyn crate::local_media::MediaDevices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MediaDevices")
    }
}

impl InitOptions {
    /// Options with the reference defaults for this app key.
    pub fn new(app_key: impl Into<String>) -> Self {
        InitOptions {
            app_key: app_key.into(),
            default_room: None,
            room_server: DEFAULT_ROOM_SERVER.into(),
            force_ssl: true,
            credentials: None,
            api_timeout: DEFAULT_API_TIMEOUT,
            socket_timeout: Duration::from_millis(7000),
            socket_server: None,
            enable_ice_trickle: true,
            enable_data_channel: true,
            enable_ice_restart: true,
            priority_weight_scheme: PriorityWeightScheme::Auto,
            reconnection_delay: Duration::from_millis(1000),
            reconnection_delay_max: Duration::from_millis(5000),
            auto_rejoin: true,
            rejoin_attempts: 3,
            udp_addrs: vec!["0.0.0.0:0".to_owned()],
            ice: crate::ice::IceOptions::default(),
            sdp_settings: skylink_sdp::SdpSettings::default(),
            extra_root_certs: Vec::new(),
            dt_extensions: true,
            media_devices: std::sync::Arc::new(crate::local_media::NoDevices),
            audio_fallback: false,
            media_sinks: None,
        }
    }

    /// The room used by `init()`: `defaultRoom`, or the app key when absent/empty.
    pub fn room(&self) -> &str {
        match self.default_room.as_deref() {
            Some(r) if !r.is_empty() => r,
            _ => &self.app_key,
        }
    }
}

/// Formats a JS `Duration` number the way `String(number)` does for the values that occur
/// (`1`, `0.5`, `24`, `1e21`…): integers without a fraction, others in shortest form.
pub fn js_number(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e21 {
        format!("{}", x as i64)
    } else {
        // Rust's shortest round-trip formatting matches JS for ordinary fractions.
        format!("{x}")
    }
}

/// Builds the request URL of spec §1.2 for `room` at wall-clock time `now_iso`
/// (`rand` cache buster, e.g. [`iso_timestamp`]).
///
/// Without credentials: `{roomServer}/api/{appKey}/{room}?rand={now}`; with credentials:
/// `{roomServer}/api/{appKey}/{room}/{start}/{duration}?&cred={cred}&rand={now}`. No
/// segment is percent-encoded; with `forceSSL` the string `https:` is prepended.
pub fn api_url(opts: &InitOptions, room: &str, now_iso: &str) -> String {
    let server = opts
        .room_server
        .strip_suffix('/')
        .unwrap_or(&opts.room_server);
    let room = if room.is_empty() { &opts.app_key } else { room };
    let mut url = format!("{server}/api/{}/{room}", opts.app_key);
    match valid_credentials(opts.credentials.as_ref()) {
        Some(c) => {
            url.push_str(&format!(
                "/{}/{}?&cred={}&rand={now_iso}",
                c.start_date_time,
                js_number(c.duration),
                c.credentials
            ));
        }
        None => url.push_str(&format!("?rand={now_iso}")),
    }
    if opts.force_ssl {
        url.insert_str(0, "https:");
    }
    url
}

fn valid_credentials(c: Option<&Credentials>) -> Option<&Credentials> {
    c.filter(|c| {
        !c.start_date_time.is_empty()
            && !c.credentials.is_empty()
            && c.duration != 0.0
            && !c.duration.is_nan()
    })
}

/// `now` as a JavaScript `toISOString()` text: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso_timestamp(now: SystemTime) -> String {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let millis = d.subsec_millis();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, dd) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The error object of `readyStateChange(ERROR)` (spec §1.6): `{status, content, errorCode}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadyStateError {
    /// HTTP status (`0` when there was no response).
    pub status: u16,
    /// Error text (the API's `info`, or a client message).
    pub content: String,
    /// Server code (4001…5005), or a client code (−1, −2); `None` when the server sent none.
    pub error_code: Option<i32>,
}

/// Classifies a finished HTTP exchange (spec §1.6). Status 0 counts as 200.
///
/// # Errors
/// The [`ReadyStateError`] to report. A non-JSON body (which hangs 0.6.26) is reported with
/// `errorCode` −1 here.
pub fn classify_response(status: u16, body: &str) -> Result<ApiSuccess, ReadyStateError> {
    let status = if status == 0 { 200 } else { status };
    let parsed = parse_api_response(body);
    match parsed {
        Ok(ApiResponse::Success(ok)) if status == 200 => Ok(*ok),
        Ok(ApiResponse::Success(_)) => Err(ReadyStateError {
            status,
            content: format!("XMLHttpRequest status not OK\nStatus was: {status}"),
            error_code: None,
        }),
        Ok(ApiResponse::Failure(f)) => {
            let raw_has_code = serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("error").and_then(serde_json::Value::as_i64))
                .is_some();
            let content = if f.info.is_empty() && status != 200 {
                format!("XMLHttpRequest status not OK\nStatus was: {status}")
            } else {
                f.info
            };
            Err(ReadyStateError {
                status,
                content,
                error_code: raw_has_code.then_some(f.error),
            })
        }
        Err(e) => Err(ReadyStateError {
            status,
            content: format!("Invalid room-API response: {e}"),
            error_code: Some(ClientErrorCode::XmlHttpRequestError.code()),
        }),
    }
}

/// One HTTP attempt's outcome.
enum Attempt {
    Done(u16, String),
    NetworkError(String),
}

/// Problems setting up TLS (before any byte is sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsSetupError {
    /// An [`InitOptions::extra_root_certs`] entry is not a usable certificate.
    #[error("extra root certificate #{index} is not usable: {reason}")]
    BadExtraRoot {
        /// Index in [`InitOptions::extra_root_certs`].
        index: usize,
        /// Why.
        reason: String,
    },
    /// The crypto provider refused the default protocol versions (a build problem).
    #[error("TLS provider: {0}")]
    Provider(String),
}

/// The rustls client configuration (ring provider) trusting the webpki roots plus
/// `extra_roots` (each DER or PEM, see [`InitOptions::extra_root_certs`]).
///
/// # Errors
/// [`TlsSetupError`] when an extra root does not parse or is rejected as a trust anchor.
pub fn tls_client_config(
    extra_roots: &[Vec<u8>],
) -> Result<Arc<rustls::ClientConfig>, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for (index, entry) in extra_roots.iter().enumerate() {
        let bad = |reason: String| TlsSetupError::BadExtraRoot { index, reason };
        let certs: Vec<CertificateDer<'static>> =
            if entry.trim_ascii_start().starts_with(b"-----BEGIN") {
                CertificateDer::pem_slice_iter(entry)
                    .collect::<Result<_, _>>()
                    .map_err(|e| bad(format!("bad PEM: {e}")))?
            } else {
                vec![CertificateDer::from(entry.clone())]
            };
        if certs.is_empty() {
            return Err(bad("no CERTIFICATE block in the PEM text".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| bad(e.to_string()))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| TlsSetupError::Provider(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The HTTP client of the room API and of long-polling: `http` and `https` (with `tls`).
pub(crate) type HttpClient = Client<HttpsConnector<HttpConnector>, Full<bytes::Bytes>>;

/// A pooled HTTP/1.1 client for `http:` and `https:` URLs.
pub(crate) fn http_client(tls: &rustls::ClientConfig) -> HttpClient {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls.clone())
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(connector)
}

/// Describes a transport error with its whole source chain; `true` when a TLS failure
/// (handshake, certificate) is in the chain.
pub(crate) fn describe_error(e: &(dyn std::error::Error + 'static)) -> (String, bool) {
    let mut text = e.to_string();
    let mut tls = false;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    // `io::Error::source` skips the error it wraps, so follow `get_ref` for those (connectors
    // wrap the rustls error in one or two `io::Error`s).
    let mut depth = 0;
    while let Some(err) = cur {
        depth += 1;
        if err.downcast_ref::<rustls::Error>().is_some() {
            tls = true;
        }
        let next: Option<&(dyn std::error::Error + 'static)> = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner),
            None => err.source(),
        };
        if let Some(next) = next {
            let s = next.to_string();
            if !text.contains(&s) {
                text.push_str(": ");
                text.push_str(&s);
            }
        }
        cur = if depth < 16 { next } else { None };
    }
    if tls {
        text = format!("TLS failure: {text}");
    }
    (text, tls)
}

fn network_error(detail: impl std::fmt::Display) -> ReadyStateError {
    ReadyStateError {
        status: 0,
        content: format!("Network error occurred. (Status: 0) {detail}"),
        error_code: Some(ClientErrorCode::XmlHttpRequestError.code()),
    }
}

/// Performs the room-API request for `room` (spec §1.4): up to [`API_ATTEMPTS`] attempts of
/// `api_timeout` each, then classification.
///
/// `http:` and `https:` (rustls, webpki roots plus [`InitOptions::extra_root_certs`]). A TLS
/// failure (untrusted certificate, handshake error) is a network error: status 0,
/// `errorCode` −1, `content` naming the TLS failure.
///
/// # Errors
/// The [`ReadyStateError`] to emit with `readyStateChange(ERROR)`.
pub async fn fetch_room(opts: &InitOptions, room: &str) -> Result<ApiSuccess, ReadyStateError> {
    let url = api_url(opts, room, &iso_timestamp(SystemTime::now()));
    let url = if url.starts_with("//") {
        format!("http:{url}")
    } else {
        url
    };
    tracing::debug!(%url, "room-API request");
    let uri: http::Uri = url
        .parse()
        .map_err(|e| network_error(format_args!("invalid URL {url}: {e}")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(network_error(format_args!("unsupported scheme in {url}")));
    }
    let tls = tls_client_config(&opts.extra_root_certs).map_err(network_error)?;
    let client = http_client(&tls);
    for attempt in 1..=API_ATTEMPTS {
        let fut = async {
            match client.get(uri.clone()).await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    match resp.into_body().collect().await {
                        Ok(b) => Attempt::Done(
                            status,
                            String::from_utf8_lossy(&b.to_bytes()).into_owned(),
                        ),
                        Err(e) => Attempt::NetworkError(describe_error(&e).0),
                    }
                }
                Err(e) => Attempt::NetworkError(describe_error(&e).0),
            }
        };
        match tokio::time::timeout(opts.api_timeout, fut).await {
            Ok(Attempt::Done(status, body)) => return classify_response(status, &body),
            Ok(Attempt::NetworkError(e)) => {
                tracing::debug!(error = %e, "room-API network error");
                return Err(network_error(e));
            }
            Err(_) => tracing::debug!(attempt, "room-API attempt timed out"),
        }
    }
    Err(ReadyStateError {
        status: 0,
        content: "No response from the room API".into(),
        error_code: Some(ClientErrorCode::XmlHttpNoResponseError.code()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2017-09-18T03:21:07.123Z";

    #[test]
    fn url_without_credentials() {
        let mut o = InitOptions::new("key-1");
        assert_eq!(
            api_url(&o, o.room(), NOW),
            "https://api.temasys.io/api/key-1/key-1?rand=2017-09-18T03:21:07.123Z"
        );
        o.room_server = "//127.0.0.1:8018/".into();
        o.force_ssl = false;
        o.default_room = Some("my room".into());
        assert_eq!(
            api_url(&o, o.room(), NOW),
            "//127.0.0.1:8018/api/key-1/my room?rand=2017-09-18T03:21:07.123Z"
        );
        o.default_room = Some(String::new());
        assert_eq!(o.room(), "key-1");
        o.room_server = "http://h:1".into();
        assert_eq!(
            api_url(&o, "", NOW),
            format!("http://h:1/api/key-1/key-1?rand={NOW}")
        );
    }

    #[test]
    fn url_with_credentials() {
        let mut o = InitOptions::new("k");
        o.credentials = Some(Credentials {
            start_date_time: "2017-09-18T03:00:00.000Z".into(),
            duration: 2.0,
            credentials: "K2Zq%2BAb9x0%3D".into(),
        });
        assert_eq!(
            api_url(&o, "my_room", NOW),
            "https://api.temasys.io/api/k/my_room/2017-09-18T03:00:00.000Z/2?&cred=K2Zq%2BAb9x0%3D&rand=2017-09-18T03:21:07.123Z"
        );
        o.credentials.as_mut().unwrap().duration = 0.5;
        assert!(api_url(&o, "r", NOW).contains("/0.5?&cred="));
        // Invalid credentials are ignored entirely.
        o.credentials.as_mut().unwrap().duration = 0.0;
        assert_eq!(
            api_url(&o, "r", NOW),
            format!("https://api.temasys.io/api/k/r?rand={NOW}")
        );
        o.credentials.as_mut().unwrap().duration = 1.0;
        o.credentials.as_mut().unwrap().credentials.clear();
        assert!(!api_url(&o, "r", NOW).contains("cred="));
    }

    #[test]
    fn credentials_from_the_sm_recipe_are_url_safe() {
        let b64 =
            skylink_sm::credentials::compute("secret", "room", "2", "2017-09-18T03:00:00.000Z");
        let cred = skylink_sm::credentials::encode_for_url(&b64);
        let mut o = InitOptions::new("k");
        o.credentials = Some(Credentials {
            start_date_time: "2017-09-18T03:00:00.000Z".into(),
            duration: 2.0,
            credentials: cred.clone(),
        });
        let url = api_url(&o, "room", NOW);
        assert!(url.contains(&format!("?&cred={cred}&rand=")));
        assert!(!cred.contains(['+', '/', '=']));
    }

    #[test]
    fn iso_timestamps() {
        assert_eq!(iso_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_505_704_867_123);
        assert_eq!(iso_timestamp(t), "2017-09-18T03:21:07.123Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(iso_timestamp(t), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn js_numbers() {
        assert_eq!(js_number(24.0), "24");
        assert_eq!(js_number(0.5), "0.5");
        assert_eq!(js_number(1.25), "1.25");
    }

    #[test]
    fn extra_roots_der_pem_and_garbage() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let der = cert.cert.der().to_vec();
        let pem = cert.cert.pem().into_bytes();
        assert!(tls_client_config(&[]).is_ok());
        assert!(tls_client_config(&[der, pem]).is_ok());
        let err = tls_client_config(&[b"-----BEGIN CERTIFICATE-----\nxx\n".to_vec()]).unwrap_err();
        assert!(
            matches!(err, TlsSetupError::BadExtraRoot { index: 0, .. }),
            "{err}"
        );
        let err = tls_client_config(&[
            b"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n".to_vec()
        ])
        .unwrap_err();
        assert!(
            matches!(err, TlsSetupError::BadExtraRoot { index: 0, .. }),
            "{err}"
        );
        let err = tls_client_config(&[vec![1, 2, 3]]).unwrap_err();
        assert!(
            matches!(err, TlsSetupError::BadExtraRoot { index: 0, .. }),
            "{err}"
        );
    }

    #[test]
    fn response_classification() {
        let err = classify_response(200, r#"{"success":false,"error":4002,"info":"Domain"}"#)
            .unwrap_err();
        assert_eq!(
            err,
            ReadyStateError {
                status: 200,
                content: "Domain".into(),
                error_code: Some(4002)
            }
        );
        let err = classify_response(500, "{}").unwrap_err();
        assert_eq!(err.status, 500);
        assert_eq!(err.error_code, None);
        assert!(err.content.contains("status not OK"));
        let err = classify_response(200, "not json").unwrap_err();
        assert_eq!(err.error_code, Some(-1));
        let ok = r#"{"ipSigserver":"h","room_key":"r","pc_constraints":"{}","offer_constraints":"{}","media_constraints":"{}"}"#;
        assert_eq!(classify_response(0, ok).unwrap().room_key, "r");
    }
}
