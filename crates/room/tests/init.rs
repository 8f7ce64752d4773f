//! `init()` against the real server and against a silent one.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt as _;

use common::{bounded, client, options, start_server, wait_for};
use skylink_room::{Event, ReadyState, RoomError};
use skylink_server::{AppConfig, Config};

#[tokio::test]
async fn init_reports_ready_states() {
    let addr = start_server(None).await;
    let (c, mut rx) = client(options(addr, "dev-key"));
    let mut stream = Box::pin(c.events());
    bounded("init", c.init()).await.expect("init ok");
    let first = bounded("stream item", stream.next()).await;
    assert!(matches!(
        first,
        Some(Event::ReadyStateChange {
            ready_state: ReadyState::Init,
            ..
        })
    ));
    let mut states = Vec::new();
    for _ in 0..3 {
        states.push(
            wait_for(&mut rx, "readyStateChange", |e| match e {
                Event::ReadyStateChange {
                    ready_state, room, ..
                } => Some((*ready_state, room.clone())),
                _ => None,
            })
            .await,
        );
    }
    let k = "dev-key".to_owned();
    assert_eq!(
        states,
        vec![
            (ReadyState::Init, k.clone()),
            (ReadyState::Loading, k.clone()),
            (ReadyState::Completed, k)
        ]
    );
}

#[tokio::test]
async fn unknown_app_key_is_an_error_with_the_server_code() {
    let mut config = Config::default();
    config.apps.push(AppConfig {
        key: "known".into(),
        ..AppConfig::default()
    });
    let addr = start_server(Some(config)).await;
    let (c, mut rx) = client(options(addr, "unknown"));
    let err = bounded("init", c.init()).await.unwrap_err();
    let RoomError::Init(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.error_code, Some(4001));
    assert_eq!(e.status, 200);
    let reported = wait_for(&mut rx, "ERROR", |e| match e {
        Event::ReadyStateChange {
            ready_state: ReadyState::Error,
            error,
            ..
        } => error.clone(),
        _ => None,
    })
    .await;
    assert_eq!(reported.error_code, Some(4001));
}

#[tokio::test]
async fn silent_api_gives_up_after_three_attempts() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(s); // never answer
        }
    });
    let mut opts = options(addr, "k");
    opts.api_timeout = Duration::from_millis(150);
    let (c, _rx) = client(opts);
    let err = bounded("init", c.init()).await.unwrap_err();
    let RoomError::Init(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.error_code, Some(-2));
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}
