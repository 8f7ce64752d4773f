//! The SkylinkLogs store behind `skylink::logging::layer()` (its own test binary: the
//! logging settings and the subscriber are process-wide).

mod common;

use common::{bounded, skylink, start_server};
use skylink::JoinOptions;
use skylink::logging::{self, DebugMode, LogLevel, SkylinkLogs};
use tracing_subscriber::prelude::*;

#[tokio::test]
async fn store_follows_the_level_and_debug_mode() {
    tracing_subscriber::registry()
        .with(logging::layer())
        .try_init()
        .expect("the only subscriber of this binary");
    assert_eq!(
        logging::log_level(),
        LogLevel::Error,
        "the reference default"
    );

    // Nothing is stored until storeLogs is on.
    tracing::error!(target: "skylink::test", "not stored");
    assert!(SkylinkLogs::get_logs(None).is_empty());

    logging::set_log_level(LogLevel::Info);
    logging::set_debug_mode(DebugMode {
        store_logs: true,
        trace: false,
    });
    tracing::info!(target: "skylink::test", answer = 42, "hello {}", "info");
    tracing::debug!(target: "skylink::test", "below the level");
    tracing::warn!(target: "skylink_room::fake", "careful");
    tracing::error!(target: "some_app", "not an SDK record");
    let logs = SkylinkLogs::get_logs(None);
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert_eq!(logs[0].level, LogLevel::Info);
    assert_eq!(logs[0].message, "hello info");
    assert_eq!(logs[0].fields, Some(serde_json::json!({"answer": 42})));
    assert_eq!(logs[1].level, LogLevel::Warn);
    assert_eq!(logs[1].target, "skylink_room::fake");
    assert_eq!(SkylinkLogs::get_logs(Some(LogLevel::Warn)).len(), 1);
    assert_eq!(SkylinkLogs::get_logs(Some(LogLevel::Log)).len(), 0);
    assert_eq!(SkylinkLogs::get_logs(Some(LogLevel::None)).len(), 2);
    let mut out = Vec::new();
    SkylinkLogs::write_all_logs(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("[INFO] skylink::test: hello info {\"answer\":42}"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2);

    // clearAllLogs.
    SkylinkLogs::clear_all_logs();
    assert!(SkylinkLogs::get_logs(None).is_empty());

    // trace: the span stack is recorded.
    logging::set_debug_mode(true);
    {
        let span = tracing::error_span!(target: "skylink::test", "outer");
        let _outer = span.enter();
        let span = tracing::error_span!(target: "skylink::test", "inner");
        let _inner = span.enter();
        tracing::error!(target: "skylink::test", "deep");
    }
    let logs = SkylinkLogs::get_logs(None);
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].spans, ["outer", "inner"]);
    SkylinkLogs::clear_all_logs();

    // The engine's own records at DEBUG (everything) while joining a real room.
    logging::set_log_level(LogLevel::Debug);
    let addr = start_server().await;
    let s = skylink(addr);
    bounded("join", s.join_room(Some("logs"), JoinOptions::default()))
        .await
        .expect("joined");
    let room_logs: Vec<_> = SkylinkLogs::get_logs(None)
        .into_iter()
        .filter(|r| r.target.starts_with("skylink_room"))
        .collect();
    assert!(
        room_logs
            .iter()
            .any(|r| r.level == LogLevel::Log && r.message.contains("room-API request")),
        "{room_logs:?}"
    );
    assert!(
        SkylinkLogs::get_logs(None)
            .iter()
            .all(|r| !r.target.starts_with("skylink_server")),
        "server records are not SDK records"
    );
    s.leave_room().await.unwrap();

    // NONE: nothing passes. ERROR keeps only errors.
    SkylinkLogs::clear_all_logs();
    logging::set_log_level(LogLevel::None);
    tracing::error!(target: "skylink::test", "silenced");
    assert!(SkylinkLogs::get_logs(None).is_empty());
    logging::set_log_level(LogLevel::Error);
    tracing::warn!(target: "skylink::test", "filtered");
    tracing::error!(target: "skylink::test", "kept");
    assert_eq!(SkylinkLogs::get_logs(None).len(), 1);

    // The store is bounded: the oldest records go first.
    logging::set_store_capacity(2);
    for n in 0..3 {
        tracing::error!(target: "skylink::test", n, "bounded");
    }
    let logs = SkylinkLogs::get_logs(None);
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0].fields, Some(serde_json::json!({"n": 1})));

    // storeLogs off: nothing more is stored, what was stored stays.
    logging::set_debug_mode(DebugMode::default());
    tracing::error!(target: "skylink::test", "not stored");
    assert_eq!(SkylinkLogs::get_logs(None).len(), 2);
    SkylinkLogs::clear_all_logs();
    assert!(SkylinkLogs::get_logs(None).is_empty());
}
