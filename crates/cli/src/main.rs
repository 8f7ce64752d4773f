//! `skylink`: the Skylink command-line tool (server, load generator, and more to come).

mod bench_join;
mod bench_media;
mod bench_signaling;
mod bench_transfer;
mod demo;
mod demo_browser;
mod demo_media;
mod join;
mod sdp_cmd;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::io::IsTerminal as _;
use std::path::PathBuf;

/// The Skylink command-line tool.
#[derive(Debug, Parser)]
#[command(name = "skylink", version, about)]
struct Cli {
    /// Log lines on stderr as `text` (human-readable) or `json` (one object per line, for log
    /// shippers). Levels and targets come from `RUST_LOG`.
    #[arg(long, global = true, value_enum, env = "SKYLINK_LOG_FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// The `--log-format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the room-API + signaling server (skylinkjs 0.6 compatible).
    Serve(ServeArgs),
    /// A narrated tour: embedded server + two Rust peers (join, chat, P2P, a file, a stream,
    /// ICE restart, stats, leave) with a summary table.
    Demo(demo::Args),
    /// Benchmarks and load generators.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Join a room as a peer: a chat prompt, or with `--json` a bot driven by JSON lines
    /// (docs/bot-protocol.md).
    Join(join::JoinArgs),
    /// SDP tools (the SDP munging of skylinkjs 0.6.26).
    #[command(subcommand)]
    Sdp(SdpCommand),
}

#[derive(Debug, Subcommand)]
enum SdpCommand {
    /// Munge an SDP from stdin to stdout: `--stage local|output|remote --type offer|answer`.
    Munge(sdp_cmd::MungeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// TOML configuration file (app keys, ICE servers, limits). Without one, any App Key is
    /// accepted in CORS mode (a development default).
    #[arg(long, short, env = "SKYLINK_CONFIG")]
    config: Option<PathBuf>,
    /// Address to bind.
    #[arg(long, env = "SKYLINK_BIND")]
    bind: Option<std::net::IpAddr>,
    /// Port to listen on (room API, signaling and the demo page share it).
    #[arg(long, short, env = "SKYLINK_PORT")]
    port: Option<u16>,
    /// Path of skylinkjs' `skylink.complete.js` to serve at `/skylink.complete.js`.
    #[arg(long, env = "SKYLINK_JS")]
    skylinkjs: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Load-test a Skylink signaling server over Engine.IO 3 websockets.
    Signaling(bench_signaling::Args),
    /// Time joinRoom → open data channel between two Rust peers through a server.
    Join(bench_join::Args),
    /// Bulk data-transfer throughput of Rust peers (engine through a server, and raw channel).
    Transfer(bench_transfer::Args),
    /// VP8 test-pattern stream: encode CPU per stream and Rust→Rust end-to-end latency
    /// (feature `codecs`).
    Media(bench_media::Args),
}

fn main() -> anyhow::Result<()> {
    use tracing_subscriber::prelude::*;
    let cli = Cli::parse();
    // The demo narrates on stdout; its default log level keeps stderr quiet (its embedded
    // server's "any App Key accepted" warning is the point of a demo, not news).
    let default_level = if matches!(cli.command, Command::Demo(_)) {
        "warn,skylink_server=error"
    } else {
        "info"
    };
    // Without RUST_LOG, the WebRTC stack (targets `rtc`, `rtc_ice`, `rtc_sctp`, …; directives
    // match target prefixes) logs errors only: its warnings are handshake chatter ("srtp context
    // not set yet", "no candidate pairs yet") that every healthy call prints.
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(format!("{default_level},rtc=error"))
        })
    };
    // `skylink join` keeps the SDK's log store (`setDebugMode`/`getLogs` commands). Its level
    // starts fully open so that RUST_LOG alone decides what reaches stderr until the bot's
    // `setLogLevel` narrows it.
    let sdk_logs = matches!(cli.command, Command::Join(_)).then(|| {
        skylink::logging::set_log_level(skylink::logging::LogLevel::Debug);
        skylink::logging::layer()
    });
    let registry = tracing_subscriber::registry().with(sdk_logs);
    match cli.log_format {
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_filter(filter()),
            )
            .init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_writer(std::io::stderr)
                    .with_filter(filter()),
            )
            .init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Demo(args) => runtime.block_on(demo::run(args)),
        Command::Bench(BenchCommand::Signaling(args)) => {
            runtime.block_on(bench_signaling::run(args))
        }
        Command::Bench(BenchCommand::Join(args)) => runtime.block_on(bench_join::run(args)),
        Command::Bench(BenchCommand::Transfer(args)) => runtime.block_on(bench_transfer::run(args)),
        Command::Bench(BenchCommand::Media(args)) => runtime.block_on(bench_media::run(args)),
        Command::Sdp(SdpCommand::Munge(args)) => sdp_cmd::run(args),
        Command::Join(args) => {
            let code = runtime.block_on(join::run(args))?;
            // The stdin reader may still be blocked in a read: do not wait for it.
            runtime.shutdown_background();
            std::process::exit(code)
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = match &args.config {
        Some(path) => skylink_server::Config::from_file(path)
            .with_context(|| format!("reading {}", path.display()))?,
        None => skylink_server::Config::default(),
    };
    config
        .apply_env()
        .context("applying SKYLINK_* environment overrides")?;
    if let Some(bind) = args.bind {
        config.server.bind = bind;
    }
    if let Some(port) = args.port {
        config.server.port = port;
    }
    if let Some(js) = args.skylinkjs {
        config.server.skylinkjs = Some(js);
    }
    let (tls, apps) = (config.server.tls.is_some(), config.apps.len());
    let server = skylink_server::Server::bind(config).await?;
    tracing::info!(
        addr = %server.local_addr(),
        tls,
        apps,
        config = args.config.as_ref().map(|p| p.display().to_string()),
        "skylink server listening"
    );
    server.run_until(shutdown_signal()).await?;
    tracing::info!("skylink server stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what systemd, Docker and Kubernetes send).
async fn shutdown_signal() {
    // If installing a handler fails, that signal simply keeps its default action.
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    let name = tokio::select! {
        () = interrupt => "SIGINT",
        () = terminate => "SIGTERM",
    };
    tracing::info!(signal = name, "shutting down");
}
