//! End-to-end: the real server in-process, ~20 clients in 5 rooms for 2 seconds.

use super::*;
use std::net::{IpAddr, Ipv4Addr};

/// Starts `skylink_server` on an ephemeral loopback port; returns its address and a stopper.
async fn start_server() -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let mut config = skylink_server::Config::default();
    config.server.bind = IpAddr::V4(Ipv4Addr::LOCALHOST);
    config.server.port = 0;
    let server = skylink_server::Server::bind(config)
        .await
        .expect("server binds");
    let addr = server.local_addr();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let stopped = async move {
            let _ = stop_rx.await;
        };
        if let Err(e) = server.run_until(stopped).await {
            panic!("server failed: {e}");
        }
    });
    (addr, stop_tx, task)
}

fn small_config(addr: SocketAddr, mode: Mode) -> Config {
    let mut cfg = Config::new(format!("http://{addr}"));
    cfg.clients = 20;
    cfg.rooms = 5;
    cfg.mode = mode;
    cfg.duration = Duration::from_secs(2);
    cfg.settle = Duration::from_millis(500);
    cfg.grace = Duration::from_secs(5);
    cfg.server_pid = Some(std::process::id());
    cfg
}

fn assert_clean(report: &Report) {
    let problems = report.problems();
    assert!(problems.is_empty(), "{problems:?}\n{}", report.table());
    assert_eq!(report.joined, 20, "{}", report.table());
    assert!(report.delivered > 0, "{}", report.table());
    assert_eq!(report.lost, 0, "{}", report.table());
    assert_eq!(report.delivered, report.expected, "{}", report.table());
    assert_eq!(report.errors["misdelivered"], 0, "{}", report.table());
    assert_eq!(report.errors["self_echo"], 0, "{}", report.table());
    // 5 rooms of 4: everybody learns the 3 others via enter/welcome.
    assert_eq!(report.peers_expected, 5 * 4 * 3);
    assert_eq!(
        report.peers_discovered,
        report.peers_expected,
        "{}",
        report.table()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_private_and_public_reach_exactly_their_targets() {
    let (addr, stop, task) = start_server().await;
    let mut cfg = small_config(addr, Mode::Rate(20.0));
    // Well under skylinkjs' one throttled transmission per second (§4).
    cfg.public_ratio = 0.02;
    let report = run_bench(cfg).await.expect("bench runs");
    eprintln!("{}", report.table());
    assert_clean(&report);
    assert!(report.sent_private > 0);
    let _ = stop.send(());
    let _ = task.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_keeps_window_and_loses_nothing() {
    let (addr, stop, task) = start_server().await;
    let report = run_bench(small_config(addr, Mode::Inflight(4)))
        .await
        .expect("bench runs");
    eprintln!("{}", report.table());
    assert_clean(&report);
    let _ = stop.send(());
    let _ = task.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_join_and_hold() {
    let (addr, stop, task) = start_server().await;
    let mut cfg = small_config(addr, Mode::Idle);
    cfg.duration = Duration::from_millis(500);
    let report = run_bench(cfg).await.expect("bench runs");
    let problems = report.problems();
    assert!(problems.is_empty(), "{problems:?}\n{}", report.table());
    assert_eq!((report.joined, report.expected), (20, 0));
    assert!(report.server.is_some());
    let _ = stop.send(());
    let _ = task.await;
}
