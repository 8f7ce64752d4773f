//! HTTP routes: API, health, metrics, the demo page, CORS, and the Engine.IO service.

use crate::signaling::SignalingHandler;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use engineioxide::config::EngineIoConfig;
use engineioxide::layer::EngineIoLayer;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

const INDEX_HTML: &str = include_str!("page/index.html");
const APP_JS: &str = include_str!("page/app.js");
const APP_CSS: &str = include_str!("page/app.css");
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The complete router.
pub fn router(state: AppState) -> Router {
    let server = &state.config.server;
    let eio_config = EngineIoConfig::builder()
        .req_path("/socket.io")
        .ping_interval(Duration::from_millis(server.ping_interval_ms))
        .ping_timeout(Duration::from_millis(server.ping_timeout_ms))
        .max_buffer_size(server.socket_buffer)
        .max_payload((server.max_message_bytes as u64).saturating_mul(4))
        // Frames a bit over the limit reach `on_message`, which drops and counts them while the
        // socket lives on; far larger ones make the transport close the connection.
        .ws_max_message_size(server.max_message_bytes.saturating_mul(4))
        .ws_max_frame_size(server.max_message_bytes.saturating_mul(4))
        .build();
    let handler = Arc::new(SignalingHandler::new(state.clone()));
    Router::new()
        .route("/", get(|| async { Html(INDEX_HTML) }))
        .route("/app.js", get(|| async { asset(JS, APP_JS) }))
        .route("/app.css", get(|| async { asset(CSS, APP_CSS) }))
        .route("/skylink.complete.js", get(skylinkjs))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/api/{*rest}", get(crate::api::handle))
        .with_state(state)
        .layer(EngineIoLayer::from_config(handler, eio_config))
        .layer(middleware::from_fn(cors))
}

/// A static asset of the `/` page.
fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type)], body)
}

async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let m = &state.metrics;
    axum::Json(serde_json::json!({
        "status": "ok",
        "sockets": m.sockets.load(Ordering::Relaxed),
        "rooms": m.rooms.load(Ordering::Relaxed),
        "peers": m.peers.load(Ordering::Relaxed),
    }))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// Where skylinkjs' bundle is looked for when the config names none.
fn skylinkjs_candidates(state: &AppState) -> Vec<PathBuf> {
    if let Some(path) = &state.config.server.skylinkjs {
        return vec![path.clone()];
    }
    let rel = "node_modules/skylinkjs/publish/skylink.complete.js";
    vec![
        PathBuf::from("interop").join(rel),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../interop")).join(rel),
    ]
}

async fn skylinkjs(State(state): State<AppState>) -> Response {
    for path in skylinkjs_candidates(&state) {
        if let Ok(body) = tokio::fs::read(&path).await {
            return ([(header::CONTENT_TYPE, "application/javascript")], body).into_response();
        }
    }
    (
        StatusCode::NOT_FOUND,
        "skylink.complete.js not found: run `npm ci` in interop/ or pass --skylinkjs PATH",
    )
        .into_response()
}

/// skylinkjs sends credentialed cross-origin XHRs (API and long-polling): echo the Origin and
/// allow credentials; answer preflights.
async fn cors(req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let preflight_headers = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned();
    let mut res = if req.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    if let Some(origin) = origin {
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        if let Some(requested) = preflight_headers {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
        }
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    res
}
