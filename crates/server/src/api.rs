//! The room API: `GET /api/{appKey}/{room}[/{start}/{duration}?&cred=…]` → credentials.

use crate::config::AppConfig;
use crate::hub::Ticket;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha1::Sha1;
use skylink_sm::room_api::{
    ApiErrorCode, ApiFailure, ApiRequest, ApiSuccess, RoomLen, default_constraints,
    parse_api_request,
};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Handles one room-API request.
pub async fn handle(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    match issue(&state, &headers, &uri) {
        Ok(body) => {
            state.metrics.api_ok.fetch_add(1, Ordering::Relaxed);
            json_response(&body)
        }
        Err(failure) => {
            state.metrics.api_refused.fetch_add(1, Ordering::Relaxed);
            tracing::info!(path = uri.path(), code = failure.error, info = %failure.info, "room API refused");
            json_response(&failure)
        }
    }
}

fn json_response<T: serde::Serialize>(body: &T) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn fail(code: ApiErrorCode, info: impl Into<String>) -> ApiFailure {
    ApiFailure::with_info(code, info)
}

fn issue(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Result<ApiSuccess, ApiFailure> {
    let req = parse_api_request(uri.path(), uri.query())
        .map_err(|e| fail(ApiErrorCode::ApiInvalid, e.to_string()))?;
    let config = &state.config;
    let dev_app;
    let app: &AppConfig = match config.app(&req.app_key) {
        Some(app) => app,
        None if config.is_development() => {
            dev_app = AppConfig {
                key: req.app_key.clone(),
                ..AppConfig::default()
            };
            &dev_app
        }
        None => return Err(fail(ApiErrorCode::ApiInvalid, "Unknown App Key")),
    };
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let now_sys = SystemTime::now();
    let now = Instant::now();
    let (start_text, len, window_start, window_end) = match &req.credentials {
        Some(cred) => verify_credentials(app, &req, cred, now_sys, now)?,
        None => {
            if !app.cors {
                return Err(fail(
                    ApiErrorCode::ApiCredentialsInvalid,
                    "This App Key requires credentials",
                ));
            }
            if !app.allowed_origins.is_empty() {
                let allowed = origin
                    .as_deref()
                    .is_some_and(|o| app.allowed_origins.iter().any(|a| a == o));
                if !allowed {
                    let code = if origin.is_some() {
                        ApiErrorCode::ApiCorsDomainNotMatch
                    } else {
                        ApiErrorCode::ApiCredentialsInvalid
                    };
                    return Err(fail(code, "Origin not allowed for this App Key"));
                }
            }
            let hours = config.server.default_room_hours;
            (
                iso(now_sys),
                len_value(hours),
                now,
                now + Duration::from_secs_f64(hours.max(0.0) * 3600.0),
            )
        }
    };
    let seats_used = state.hub.lock().seats_used(&app.key);
    if app.seat_limit > 0 && seats_used >= app.seat_limit {
        return Err(fail(ApiErrorCode::ApiOverSeatLimit, "Seat limit reached"));
    }
    let room_key = room_key(&state.room_key_secret, &app.key, &req.room);
    let username = format!("user_{}", random_hex(8));
    let user_cred = random_b64();
    let room_cred = random_b64();
    let time_stamp = iso(now_sys);
    let cid = format!("cid_{}", app.key);
    let ticket = Ticket {
        app_key: app.key.clone(),
        room_name: req.room.clone(),
        room_key: room_key.clone(),
        cid: cid.clone(),
        api_owner: app.owner.clone(),
        username: username.clone(),
        user_cred: user_cred.clone(),
        room_cred: room_cred.clone(),
        time_stamp: time_stamp.clone(),
        start: start_text.clone(),
        len: len.clone(),
        privileged: app.privileged,
        auto_introduce: app.auto_introduce,
        mcu: false,
        window_start,
        window_end,
        issued: now,
        used: false,
    };
    state
        .hub
        .lock()
        .issue_ticket(ticket, now)
        .map_err(|e| fail(ApiErrorCode::ApiRetrievalFailed, e.to_string()))?;
    let host = config
        .server
        .public_host
        .clone()
        .or_else(|| host_of(headers))
        .unwrap_or_else(|| state.local_addr.ip().to_string());
    let port = state.local_addr.port();
    let len = match len {
        Value::Number(n) => RoomLen::Number(n),
        other => RoomLen::Text(other.to_string()),
    };
    Ok(ApiSuccess {
        success: true,
        cid: Some(cid),
        api_owner: Some(app.owner.clone()),
        ip_sigserver: host,
        http_port_list: Some(vec![port]),
        https_port_list: Some(vec![port]),
        is_privileged: Some(app.privileged),
        auto_introduce: Some(app.auto_introduce),
        username: Some(username),
        user_cred: Some(user_cred),
        time_stamp: Some(time_stamp),
        room_key,
        room_cred: Some(room_cred),
        start: Some(start_text),
        len: Some(len),
        pc_constraints: default_constraints::PC.into(),
        offer_constraints: default_constraints::OFFER.into(),
        media_constraints: default_constraints::MEDIA.into(),
        extra: serde_json::Map::new(),
    })
}

type Window = (String, Value, Instant, Instant);

fn verify_credentials(
    app: &AppConfig,
    req: &ApiRequest,
    cred: &skylink_sm::room_api::CredentialParams,
    now_sys: SystemTime,
    now: Instant,
) -> Result<Window, ApiFailure> {
    let Some(secret) = app.secret.as_deref() else {
        return Err(fail(
            ApiErrorCode::ApiCredentialsNotMatch,
            "This App Key has no secret; use CORS mode",
        ));
    };
    if !skylink_sm::credentials::verify(secret, &req.room, &cred.duration, &cred.start, &cred.cred)
    {
        return Err(fail(
            ApiErrorCode::ApiCredentialsNotMatch,
            "Credentials do not match",
        ));
    }
    let start = OffsetDateTime::parse(&cred.start, &Rfc3339).map_err(|_| {
        fail(
            ApiErrorCode::ApiCredentialsNotMatch,
            "startDateTime is not an ISO-8601 time",
        )
    })?;
    let hours: f64 = cred
        .duration
        .parse()
        .ok()
        .filter(|h: &f64| h.is_finite() && *h > 0.0 && *h <= 24.0 * 366.0)
        .ok_or_else(|| {
            fail(
                ApiErrorCode::ApiCredentialsNotMatch,
                "duration must be a positive number of hours",
            )
        })?;
    let now_odt = OffsetDateTime::from(now_sys);
    let offset = start - now_odt; // signed
    let window_start = shift(now, offset);
    let window_end = shift(now, offset + time::Duration::seconds_f64(hours * 3600.0));
    Ok((
        cred.start.clone(),
        len_value(hours),
        window_start,
        window_end,
    ))
}

/// `now` moved by a signed offset, saturating at "long ago" rather than panicking.
fn shift(now: Instant, by: time::Duration) -> Instant {
    let secs = by.as_seconds_f64();
    if secs >= 0.0 {
        now + Duration::from_secs_f64(secs.min(1e9))
    } else {
        now.checked_sub(Duration::from_secs_f64((-secs).min(1e9)))
            .unwrap_or(now - Duration::from_secs(1))
    }
}

fn len_value(hours: f64) -> Value {
    if hours.fract() == 0.0 && (0.0..1e12).contains(&hours) {
        Value::from(hours as u64)
    } else {
        Value::from(hours)
    }
}

fn iso(t: SystemTime) -> String {
    let t = OffsetDateTime::from(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn host_of(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let uri: Uri = format!("http://{host}/").parse().ok()?;
    uri.host().map(|h| h.trim_matches(['[', ']']).to_owned())
}

/// Stable per (app, room) for the life of the secret, so every member gets the same `rid`.
pub(crate) fn room_key(secret: &[u8], app_key: &str, room: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return format!("rk_{app_key}_{room}");
    };
    mac.update(app_key.as_bytes());
    mac.update(b"\n");
    mac.update(room.as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("rk_{hex}")
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

fn random_b64() -> String {
    let bytes: [u8; 20] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
