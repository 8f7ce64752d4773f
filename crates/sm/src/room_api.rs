//! The room/API server exchange (spec §1): request URL parsing and response bodies.
//!
//! ```
//! use skylink_sm::room_api::parse_api_request;
//! let req = parse_api_request(
//!     "/api/my-key/my%20room/2017-09-18T03:00:00.000Z/2",
//!     Some("&cred=K2Zq%2BAb9x0%3D&rand=2017-09-18T03:21:07.123Z"),
//! )
//! .unwrap();
//! assert_eq!(req.app_key, "my-key");
//! assert_eq!(req.room, "my room");
//! let creds = req.credentials.unwrap();
//! assert_eq!(creds.duration, "2");
//! assert_eq!(creds.cred, "K2Zq+Ab9x0=");
//! ```

use std::borrow::Cow;

use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};

use crate::SmError;

/// A parsed `GET /api/{appKey}/{room}[/{start}/{duration}]?…` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    /// The app key (percent-decoded path segment).
    pub app_key: String,
    /// The room name (percent-decoded path segment).
    pub room: String,
    /// Credential parameters, present when the path has the `/{start}/{duration}` form.
    pub credentials: Option<CredentialParams>,
}

/// The credential part of a room-API request (spec §1.2/§1.3). All values are percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialParams {
    /// The start time segment, as text (normally ISO-8601).
    pub start: String,
    /// The duration segment, as text (hours, e.g. `"24"` or `"0.5"`).
    pub duration: String,
    /// The `cred` query value: base64 HMAC-SHA1 (see [`crate::credentials`]).
    pub cred: String,
}

/// Why a room-API request could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiRequestError {
    /// The path does not start with `/api/`.
    #[error("path does not start with /api/")]
    NotApiPath,
    /// The path has neither 2 nor 4 segments after `/api/`.
    #[error("expected /api/{{appKey}}/{{room}}[/{{start}}/{{duration}}], got {0} segment(s)")]
    SegmentCount(usize),
    /// A path segment is empty.
    #[error("empty `{0}` path segment")]
    EmptySegment(&'static str),
    /// A percent-decoded value is not UTF-8.
    #[error("`{0}` is not valid UTF-8 after percent-decoding")]
    InvalidUtf8(&'static str),
    /// The credentials form of the path was used without a (non-empty) `cred` query item.
    #[error("credential path without a `cred` query parameter")]
    MissingCred,
}

fn decode(text: &str, what: &'static str) -> Result<String, ApiRequestError> {
    percent_decode_str(text)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| ApiRequestError::InvalidUtf8(what))
}

/// Parses the path and query of a room-API request.
///
/// * `path` must start with `/api/` and have 2 (`appKey`, `room`) or 4 (`…`, `start`,
///   `duration`) non-empty segments after it; segments are percent-decoded.
/// * `query` is the text after `?` (a leading `?` is tolerated). Empty items (the client sends
///   `?&cred=…`) are skipped, `rand` and unknown items are ignored, the first `cred` wins. Only
///   `%XX` escapes are decoded: `+` is a literal plus (base64), not a space.
/// * With 4 segments a non-empty `cred` is required; with 2 segments `cred` is ignored.
///
/// # Errors
/// [`ApiRequestError`] describing the first problem found.
pub fn parse_api_request(path: &str, query: Option<&str>) -> Result<ApiRequest, ApiRequestError> {
    let rest = path
        .strip_prefix("/api/")
        .ok_or(ApiRequestError::NotApiPath)?;
    let segments: Vec<&str> = rest.split('/').collect();
    const NAMES: [&str; 4] = ["appKey", "room", "start", "duration"];
    if segments.len() != 2 && segments.len() != 4 {
        return Err(ApiRequestError::SegmentCount(segments.len()));
    }
    let mut decoded = Vec::with_capacity(segments.len());
    for (seg, name) in segments.iter().zip(NAMES) {
        if seg.is_empty() {
            return Err(ApiRequestError::EmptySegment(name));
        }
        decoded.push(decode(seg, name)?);
    }
    let mut decoded = decoded.into_iter();
    let app_key = decoded.next().unwrap_or_default();
    let room = decoded.next().unwrap_or_default();
    let credentials = match (decoded.next(), decoded.next()) {
        (Some(start), Some(duration)) => {
            let cred = query_value(query.unwrap_or(""), "cred")
                .filter(|c| !c.is_empty())
                .ok_or(ApiRequestError::MissingCred)?;
            Some(CredentialParams {
                start,
                duration,
                cred: decode(cred, "cred")?,
            })
        }
        _ => None,
    };
    Ok(ApiRequest {
        app_key,
        room,
        credentials,
    })
}

/// The raw (still percent-encoded) value of the first query item named `key`.
fn query_value<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    let query = query.strip_prefix('?').unwrap_or(query);
    query
        .split('&')
        .filter(|item| !item.is_empty())
        .find_map(|item| match item.split_once('=') {
            Some((k, v)) if k == key => Some(v),
            None if item == key => Some(""),
            _ => None,
        })
}

/// `len` of the API response: hours, a number or a string (forwarded opaquely by the client).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RoomLen {
    /// A JSON number (what the capture shows: `24`).
    Number(serde_json::Number),
    /// A JSON string.
    Text(String),
}

impl From<u32> for RoomLen {
    fn from(hours: u32) -> Self {
        RoomLen::Number(hours.into())
    }
}

fn is_true(b: &bool) -> bool {
    *b
}

fn default_true() -> bool {
    true
}

/// A successful room-API response (spec §1.5), fields in the order the spec lists them.
///
/// The three `*_constraints` fields are **strings holding JSON** (MUST (compat)): a 0.6.26
/// client `JSON.parse`s them unconditionally. Fields the client only forwards are `Option`s so
/// a lenient reader accepts servers that omit them; `extra` keeps informational fields
/// (`tieBreaker`, `room_cred`, `bandwidth`, …) of responses read from elsewhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiSuccess {
    /// Informational `true` (not read by the client).
    #[serde(default = "default_true")]
    pub success: bool,
    /// Session key, forwarded as `cid` in `joinRoom`/`public`/`private`/`stream`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// Forwarded as `apiOwner` in `joinRoom`.
    #[serde(rename = "apiOwner", default, skip_serializing_if = "Option::is_none")]
    pub api_owner: Option<String>,
    /// Signaling host (no scheme, no port). Required.
    #[serde(rename = "ipSigserver")]
    pub ip_sigserver: String,
    /// Ports for `http:` signaling (client default `[80, 3000]`).
    #[serde(
        rename = "httpPortList",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub http_port_list: Option<Vec<u16>>,
    /// Ports for `https:` signaling (client default `[443, 3443]`).
    #[serde(
        rename = "httpsPortList",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub https_port_list: Option<Vec<u16>>,
    /// Privileged key (enables `getPeers`/`introduce`).
    #[serde(
        rename = "isPrivileged",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_privileged: Option<bool>,
    /// Auto-introduce flag forwarded in `joinRoom`.
    #[serde(
        rename = "autoIntroduce",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub auto_introduce: Option<bool>,
    /// Forwarded as `uid` in `joinRoom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Forwarded as `userCred` in `joinRoom`.
    #[serde(rename = "userCred", default, skip_serializing_if = "Option::is_none")]
    pub user_cred: Option<String>,
    /// Forwarded as `timeStamp` in `joinRoom`.
    #[serde(rename = "timeStamp", default, skip_serializing_if = "Option::is_none")]
    pub time_stamp: Option<String>,
    /// The signaling room id: `rid` of every room message. Required.
    pub room_key: String,
    /// Forwarded as `roomCred` in `joinRoom`.
    #[serde(rename = "roomCred", default, skip_serializing_if = "Option::is_none")]
    pub room_cred: Option<String>,
    /// Room start (ISO-8601), forwarded as `start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Room length in hours, forwarded as `len`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub len: Option<RoomLen>,
    /// JSON text of the legacy peer-connection constraints. Required.
    pub pc_constraints: String,
    /// JSON text of the offer constraints. Required.
    pub offer_constraints: String,
    /// JSON text of the media constraints. Required.
    pub media_constraints: String,
    /// Any other fields (kept when reading; appended when writing).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Constraint texts that make a 0.6.26 client happy (the values of the capture).
pub mod default_constraints {
    /// `pc_constraints`.
    pub const PC: &str = r#"{"mandatory":{},"optional":[{"DtlsSrtpKeyAgreement":true}]}"#;
    /// `offer_constraints`.
    pub const OFFER: &str =
        r#"{"mandatory":{"OfferToReceiveAudio":true,"OfferToReceiveVideo":true},"optional":[]}"#;
    /// `media_constraints`.
    pub const MEDIA: &str = r#"{"audio":true,"video":{"mandatory":{},"optional":[]}}"#;
}

/// A failed room-API response (spec §1.6): `{"success":false,"error":<code>,"info":"…"}`.
///
/// Send it with HTTP 200 (the normal way to report 4001…5005) and never add
/// `pc_constraints`/`offer_constraints`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiFailure {
    /// Always `false` when written.
    #[serde(default, skip_serializing_if = "is_true")]
    pub success: bool,
    /// The error code ([`ApiErrorCode::code`] for server codes); `0` when a body had none.
    #[serde(default)]
    pub error: i32,
    /// Human-readable text (becomes the client's error `content`).
    #[serde(default)]
    pub info: String,
}

impl ApiFailure {
    /// A failure body for a server error code, with the code's default description.
    pub fn new(code: ApiErrorCode) -> Self {
        Self::with_info(code, code.description())
    }

    /// A failure body with custom text.
    pub fn with_info(code: ApiErrorCode, info: impl Into<String>) -> Self {
        ApiFailure {
            success: false,
            error: code.code(),
            info: info.into(),
        }
    }
}

/// A room-API response as a client classifies it.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiResponse {
    /// The body had `pc_constraints` or `offer_constraints`.
    Success(Box<ApiSuccess>),
    /// It had neither: an error report.
    Failure(ApiFailure),
}

/// Classifies and decodes a room-API response body the way 0.6.26 does: it is a success iff
/// `pc_constraints` or `offer_constraints` is present and non-empty; an empty body counts as `{}`.
///
/// # Errors
/// [`SmError::Json`] for non-JSON, [`SmError::NotAnObject`], or [`SmError::ApiResponse`] when a
/// success body lacks a required field or has one with the wrong type.
pub fn parse_api_response(body: &str) -> Result<ApiResponse, SmError> {
    let body = if body.trim().is_empty() { "{}" } else { body };
    let value: serde_json::Value = serde_json::from_str(body).map_err(|e| SmError::json(&e))?;
    let serde_json::Value::Object(map) = value else {
        return Err(SmError::NotAnObject);
    };
    let present = |k: &str| match map.get(k) {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::String(s)) => !s.is_empty(),
        Some(serde_json::Value::Bool(b)) => *b,
        Some(_) => true,
    };
    if present("pc_constraints") || present("offer_constraints") {
        let ok: ApiSuccess = serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|e| SmError::ApiResponse(e.to_string()))?;
        Ok(ApiResponse::Success(Box::new(ok)))
    } else {
        let error = map
            .get("error")
            .and_then(serde_json::Value::as_i64)
            .and_then(|c| i32::try_from(c).ok())
            .unwrap_or(0);
        let info = map
            .get("info")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(ApiResponse::Failure(ApiFailure {
            success: false,
            error,
            info,
        }))
    }
}

/// Server-issued room-API error codes (spec §1.6, `READY_STATE_CHANGE_ERROR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorCode {
    /// 4001: app key does not exist.
    ApiInvalid,
    /// 4002: key's domain name does not match the requesting server.
    ApiDomainNotMatch,
    /// 4003: key's CORS URL does not match the request `Origin`.
    ApiCorsDomainNotMatch,
    /// 4004: no CORS origin and no credentials.
    ApiCredentialsInvalid,
    /// 4005: credentials do not verify.
    ApiCredentialsNotMatch,
    /// 4006: key does not belong to an existing app.
    ApiInvalidParentKey,
    /// 4010: persistent room: no meeting matches the credentials.
    ApiNoMeetingRecordFound,
    /// 4020: concurrent-user limit reached.
    ApiOverSeatLimit,
    /// 4021: token generation failed.
    ApiRetrievalFailed,
    /// 5005: request sent to the wrong auth server.
    ApiWrongAccessDomain,
}

impl ApiErrorCode {
    /// Every code, in numeric order.
    pub const ALL: [ApiErrorCode; 10] = [
        ApiErrorCode::ApiInvalid,
        ApiErrorCode::ApiDomainNotMatch,
        ApiErrorCode::ApiCorsDomainNotMatch,
        ApiErrorCode::ApiCredentialsInvalid,
        ApiErrorCode::ApiCredentialsNotMatch,
        ApiErrorCode::ApiInvalidParentKey,
        ApiErrorCode::ApiNoMeetingRecordFound,
        ApiErrorCode::ApiOverSeatLimit,
        ApiErrorCode::ApiRetrievalFailed,
        ApiErrorCode::ApiWrongAccessDomain,
    ];

    /// The numeric wire value (`error` field).
    pub fn code(self) -> i32 {
        match self {
            ApiErrorCode::ApiInvalid => 4001,
            ApiErrorCode::ApiDomainNotMatch => 4002,
            ApiErrorCode::ApiCorsDomainNotMatch => 4003,
            ApiErrorCode::ApiCredentialsInvalid => 4004,
            ApiErrorCode::ApiCredentialsNotMatch => 4005,
            ApiErrorCode::ApiInvalidParentKey => 4006,
            ApiErrorCode::ApiNoMeetingRecordFound => 4010,
            ApiErrorCode::ApiOverSeatLimit => 4020,
            ApiErrorCode::ApiRetrievalFailed => 4021,
            ApiErrorCode::ApiWrongAccessDomain => 5005,
        }
    }

    /// The code for a wire value, if it is one of the known ones.
    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The SDK constant name, e.g. `"API_INVALID"`.
    pub fn name(self) -> &'static str {
        match self {
            ApiErrorCode::ApiInvalid => "API_INVALID",
            ApiErrorCode::ApiDomainNotMatch => "API_DOMAIN_NOT_MATCH",
            ApiErrorCode::ApiCorsDomainNotMatch => "API_CORS_DOMAIN_NOT_MATCH",
            ApiErrorCode::ApiCredentialsInvalid => "API_CREDENTIALS_INVALID",
            ApiErrorCode::ApiCredentialsNotMatch => "API_CREDENTIALS_NOT_MATCH",
            ApiErrorCode::ApiInvalidParentKey => "API_INVALID_PARENT_KEY",
            ApiErrorCode::ApiNoMeetingRecordFound => "API_NO_MEETING_RECORD_FOUND",
            ApiErrorCode::ApiOverSeatLimit => "API_OVER_SEAT_LIMIT",
            ApiErrorCode::ApiRetrievalFailed => "API_RETRIEVAL_FAILED",
            ApiErrorCode::ApiWrongAccessDomain => "API_WRONG_ACCESS_DOMAIN",
        }
    }

    /// A default human-readable `info` text.
    pub fn description(self) -> &'static str {
        match self {
            ApiErrorCode::ApiInvalid => "App key does not exist",
            ApiErrorCode::ApiDomainNotMatch => "Domain name does not match",
            ApiErrorCode::ApiCorsDomainNotMatch => "CORS domain does not match",
            ApiErrorCode::ApiCredentialsInvalid => "No CORS origin and no credentials supplied",
            ApiErrorCode::ApiCredentialsNotMatch => "Credentials do not match",
            ApiErrorCode::ApiInvalidParentKey => "App key does not belong to an existing app",
            ApiErrorCode::ApiNoMeetingRecordFound => "No meeting record found",
            ApiErrorCode::ApiOverSeatLimit => "Over seat limit",
            ApiErrorCode::ApiRetrievalFailed => "Token retrieval failed",
            ApiErrorCode::ApiWrongAccessDomain => "Wrong access domain",
        }
    }
}

/// Client-side `READY_STATE_CHANGE_ERROR` codes (never sent by a server; spec §1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ClientErrorCode {
    /// `NO_SOCKET_IO` 1.
    NoSocketIo = 1,
    /// `NO_XMLHTTPREQUEST_SUPPORT` 2.
    NoXmlHttpRequestSupport = 2,
    /// `NO_WEBRTC_SUPPORT` 3.
    NoWebrtcSupport = 3,
    /// `NO_PATH` 4.
    NoPath = 4,
    /// `ADAPTER_NO_LOADED` 7.
    AdapterNoLoaded = 7,
    /// `PARSE_CODECS` 8.
    ParseCodecs = 8,
    /// `XML_HTTP_REQUEST_ERROR` −1: network error.
    XmlHttpRequestError = -1,
    /// `XML_HTTP_NO_REPONSE_ERROR` −2 (sic): no response after 3 attempts.
    XmlHttpNoResponseError = -2,
}

impl ClientErrorCode {
    /// The numeric value.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// `READY_STATE_CHANGE` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ReadyState {
    /// `INIT` 0.
    Init = 0,
    /// `LOADING` 1.
    Loading = 1,
    /// `COMPLETED` 2.
    Completed = 2,
    /// `ERROR` −1.
    Error = -1,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_request() {
        let r = parse_api_request(
            "/api/capture-app-key/capture-room",
            Some("rand=2026-11-26T11:47:47.845Z"),
        )
        .unwrap();
        assert_eq!(r.app_key, "capture-app-key");
        assert_eq!(r.room, "capture-room");
        assert!(r.credentials.is_none());
        let r = parse_api_request("/api/k/r", None).unwrap();
        assert_eq!((r.app_key.as_str(), r.room.as_str()), ("k", "r"));
    }

    #[test]
    fn parses_credentials_request() {
        let r = parse_api_request(
            "/api/7d4e-app-key/my_room/2017-09-18T03:00:00.000Z/2",
            Some("?&cred=K2Zq%2BAb9x0%3D&rand=2017-09-18T03:21:07.123Z"),
        )
        .unwrap();
        let c = r.credentials.unwrap();
        assert_eq!(c.start, "2017-09-18T03:00:00.000Z");
        assert_eq!(c.duration, "2");
        assert_eq!(c.cred, "K2Zq+Ab9x0=");
        // A literal '+' is kept (not turned into a space).
        let r = parse_api_request("/api/k/r/s/0.5", Some("&cred=a+b/c=")).unwrap();
        assert_eq!(r.credentials.unwrap().cred, "a+b/c=");
        // Percent-decoded segments.
        let r = parse_api_request(
            "/api/k/my%20room%C3%A9/2017-09-18T03%3A00%3A00.000Z/24",
            Some("cred=x"),
        )
        .unwrap();
        assert_eq!(r.room, "my roomé");
        assert_eq!(r.credentials.unwrap().start, "2017-09-18T03:00:00.000Z");
    }

    #[test]
    fn rejects_bad_requests() {
        use ApiRequestError::*;
        assert_eq!(parse_api_request("/apix/k/r", None), Err(NotApiPath));
        assert_eq!(parse_api_request("/prefix/api/k/r", None), Err(NotApiPath));
        assert_eq!(parse_api_request("/api/k", None), Err(SegmentCount(1)));
        assert_eq!(parse_api_request("/api/k/r/s", None), Err(SegmentCount(3)));
        assert_eq!(
            parse_api_request("/api/k/r/s/d/e", None),
            Err(SegmentCount(5))
        );
        assert_eq!(
            parse_api_request("/api/k/", None),
            Err(EmptySegment("room"))
        );
        assert_eq!(
            parse_api_request("/api//r", None),
            Err(EmptySegment("appKey"))
        );
        assert_eq!(
            parse_api_request("/api/k/%FF", None),
            Err(InvalidUtf8("room"))
        );
        assert_eq!(parse_api_request("/api/k/r/s/d", None), Err(MissingCred));
        assert_eq!(
            parse_api_request("/api/k/r/s/d", Some("&rand=1")),
            Err(MissingCred)
        );
        assert_eq!(
            parse_api_request("/api/k/r/s/d", Some("cred=")),
            Err(MissingCred)
        );
        assert_eq!(
            parse_api_request("/api/k/r/s/d", Some("cred=%FF")),
            Err(InvalidUtf8("cred"))
        );
    }

    #[test]
    fn success_serialises_in_spec_order() {
        let ok = ApiSuccess {
            success: true,
            cid: Some("c".into()),
            api_owner: Some("o".into()),
            ip_sigserver: "127.0.0.1".into(),
            http_port_list: Some(vec![80]),
            https_port_list: Some(vec![443]),
            is_privileged: Some(false),
            auto_introduce: Some(true),
            username: Some("u".into()),
            user_cred: Some("uc".into()),
            time_stamp: Some("t".into()),
            room_key: "rk".into(),
            room_cred: Some("rc".into()),
            start: Some("s".into()),
            len: Some(24.into()),
            pc_constraints: default_constraints::PC.into(),
            offer_constraints: default_constraints::OFFER.into(),
            media_constraints: default_constraints::MEDIA.into(),
            extra: Default::default(),
        };
        let text = serde_json::to_string(&ok).unwrap();
        let keys: Vec<String> =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text)
                .unwrap()
                .keys()
                .cloned()
                .collect();
        assert_eq!(
            keys,
            [
                "success",
                "cid",
                "apiOwner",
                "ipSigserver",
                "httpPortList",
                "httpsPortList",
                "isPrivileged",
                "autoIntroduce",
                "username",
                "userCred",
                "timeStamp",
                "room_key",
                "roomCred",
                "start",
                "len",
                "pc_constraints",
                "offer_constraints",
                "media_constraints"
            ]
        );
        let back: ApiSuccess = serde_json::from_str(&text).unwrap();
        assert_eq!(back, ok);
        assert!(matches!(
            parse_api_response(&text),
            Ok(ApiResponse::Success(_))
        ));
    }

    #[test]
    fn failure_round_trip_and_classification() {
        let f = ApiFailure::with_info(
            ApiErrorCode::ApiDomainNotMatch,
            "Domain name does not match",
        );
        let text = serde_json::to_string(&f).unwrap();
        assert_eq!(
            text,
            r#"{"success":false,"error":4002,"info":"Domain name does not match"}"#
        );
        assert_eq!(parse_api_response(&text), Ok(ApiResponse::Failure(f)));
        assert!(matches!(
            parse_api_response(""),
            Ok(ApiResponse::Failure(ApiFailure { error: 0, .. }))
        ));
        assert!(matches!(parse_api_response("nope"), Err(SmError::Json(_))));
        assert_eq!(parse_api_response("[]"), Err(SmError::NotAnObject));
        assert!(matches!(
            parse_api_response(r#"{"pc_constraints":"{}"}"#),
            Err(SmError::ApiResponse(_))
        ));
    }

    #[test]
    fn codes() {
        for c in ApiErrorCode::ALL {
            assert_eq!(ApiErrorCode::from_code(c.code()), Some(c));
        }
        assert_eq!(ApiErrorCode::ApiWrongAccessDomain.code(), 5005);
        assert_eq!(ApiErrorCode::from_code(1), None);
        assert_eq!(ClientErrorCode::XmlHttpNoResponseError.code(), -2);
    }
}
