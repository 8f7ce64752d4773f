//! `skylink demo --browser`: headless Chromium opens the server's own page (the real skylinkjs
//! 0.6.26 bundle) with `&autoreply=1` and joins the demo room as a third participant. The Rust
//! peers then talk to it — chat, P2P, a file whose SHA-256 the page reports back — and ask it to
//! leave. Everything is checked from the Rust side through the answers the page sends.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures_util::StreamExt as _;
use serde_json::json;
use skylink::{Event, Skylink, TransferOptions};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::demo::{Events, Row, say, until};

/// The page's display name (its `userData.displayName`), how the Rust peers recognise it.
const NAME: &str = "browser";
/// Size of the file sent to the browser: big enough for many DT chunks, small enough for a demo.
const FILE_SIZE: usize = 1_000_000;
/// Chromium's start-up plus the page's init and join can take longer than one event wait on a
/// loaded machine (the first start also creates the profile).
const JOIN_WAIT: Duration = Duration::from_secs(45);

const NOT_FOUND: &str =
    "--browser needs Chromium: apt-get install chromium, or set SKYLINK_CHROMIUM";

/// Where Chromium is: `$SKYLINK_CHROMIUM`, else the usual names on `PATH`.
fn find_chromium() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("SKYLINK_CHROMIUM") {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        bail!(
            "SKYLINK_CHROMIUM={} does not exist; {NOT_FOUND}",
            path.display()
        );
    }
    let dirs = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&dirs) {
            let path = dir.join(name);
            if path.is_file() {
                return Ok(path);
            }
        }
    }
    bail!("{NOT_FOUND}")
}

/// Without skylink.complete.js the page cannot join; say so now rather than time out later.
async fn check_bundle(port: u16) -> anyhow::Result<()> {
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .context("connecting to the embedded server")?;
    conn.write_all(b"HEAD /skylink.complete.js HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .await?;
    let mut head = [0u8; 12];
    conn.read_exact(&mut head)
        .await
        .context("reading the server's answer")?;
    if !head.ends_with(b"200") {
        bail!(
            "the server has no skylink.complete.js for the browser page: run `npm ci` in interop/ \
             or pass --skylinkjs PATH"
        );
    }
    Ok(())
}

/// The running Chromium and its throw-away profile; both go away on drop, whether the demo
/// succeeded or failed half-way.
pub struct Browser {
    child: Child,
    profile: PathBuf,
}

impl Browser {
    fn launch(port: u16) -> anyhow::Result<Self> {
        let exe = find_chromium()?;
        // A fresh profile: no state from earlier runs, and no lock held by another Chromium.
        let profile = std::env::temp_dir().join(format!(
            "skylink-demo-chromium-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&profile)
            .with_context(|| format!("creating {}", profile.display()))?;
        let url = format!(
            "http://127.0.0.1:{port}/?room=demo&name={NAME}&autoreply=1&appKey={}",
            crate::demo::APP_KEY
        );
        let mut cmd = Command::new(&exe);
        // Chromium refuses to run its sandbox as root (containers, CI).
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            cmd.arg("--no-sandbox");
        }
        cmd.args([
            "--headless=new",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            "--autoplay-policy=no-user-gesture-required",
            // Plain 127.0.0.1 host candidates (not mDNS names the Rust peers cannot resolve),
            // and loopback is allowed as a peer-connection address at all.
            "--allow-loopback-in-peer-connection",
            "--disable-features=WebRtcHideLocalIpsWithMdns",
            // Loopback only: never try DNS for anything else.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(&url)
        .stdin(Stdio::null())
        // Chromium is chatty on stderr even when all is well; the demo reports what matters.
        .stdout(Stdio::null());
        if std::env::var_os("SKYLINK_DEMO_BROWSER_LOG").is_some() {
            // Debugging aid: the page's console and Chromium's own log on our stderr.
            cmd.arg("--enable-logging=stderr").stderr(Stdio::inherit());
        } else {
            cmd.stderr(Stdio::null());
        }
        let child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&profile);
                return Err(e).with_context(|| format!("starting {}", exe.display()));
            }
        };
        say(&format!(
            "started {} (pid {}) on {url}",
            exe.display(),
            child.id()
        ));
        Ok(Self { child, profile })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SIGTERM first so Chromium takes its helper processes (zygote, renderer) down with it.
            if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
                // SAFETY: kill on the pid of our own child, which has not been reaped yet.
                unsafe { libc::kill(pid, libc::SIGTERM) };
            }
            let deadline = Instant::now() + Duration::from_secs(3);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        remove_profile(&self.profile);
    }
}

/// Helpers may still be flushing into the profile for a moment after the browser exited.
fn remove_profile(dir: &Path) {
    for _ in 0..20 {
        if std::fs::remove_dir_all(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A browser that has joined; [`BrowserPeer::leave`] ends its part of the demo.
pub struct BrowserPeer {
    browser: Browser,
    id: String,
}

fn reply_from(e: &Event, from: &str, p2p: bool) -> Option<String> {
    match e {
        Event::IncomingMessage {
            message,
            peer_id,
            is_self: false,
            ..
        } if peer_id == from && message.is_data_channel == p2p => {
            message.content.as_str().map(str::to_owned)
        }
        _ => None,
    }
}

/// Starts Chromium and runs the browser steps: join, data channel, chat, P2P and a file.
pub async fn run(
    port: u16,
    alice: &Skylink,
    bob: &Skylink,
    a_ev: &mut Events,
    b_ev: &mut Events,
    rows: &mut Vec<Row>,
) -> anyhow::Result<BrowserPeer> {
    say("");
    say("--browser: a headless Chromium page running skylinkjs 0.6.26 joins the room");
    check_bundle(port).await?;
    let t = Instant::now();
    let browser = Browser::launch(port)?;
    // Not `until`: the join needs a longer bound than one event (see JOIN_WAIT).
    let join = async {
        while let Some(e) = a_ev.next().await {
            match e {
                Event::PeerJoined {
                    peer_id,
                    peer_info,
                    is_self: false,
                } if peer_info.user_data["displayName"] == NAME => {
                    return Ok((
                        peer_id,
                        format!("{} {}", peer_info.agent.name, peer_info.agent.version),
                    ));
                }
                _ => {}
            }
        }
        bail!("alice's event stream ended while waiting for the browser to join")
    };
    let (id, agent) = tokio::time::timeout(JOIN_WAIT, join)
        .await
        .with_context(|| format!("the browser did not join within {JOIN_WAIT:?}"))??;
    let peer = BrowserPeer { browser, id };
    let id = peer.id.clone();
    rows.push(Row {
        step: "browser: Chromium start → peerJoined",
        took: t.elapsed(),
        detail: format!("agent {agent}, peer {id}"),
    });
    say(&format!("the browser joined as {id} (agent {agent})"));

    let t = Instant::now();
    for (ev, who) in [(&mut *a_ev, "alice"), (&mut *b_ev, "bob")] {
        until(
            ev,
            &format!("the data channel {who}↔browser"),
            |e| match e {
                Event::DataChannelState {
                    state,
                    peer_id,
                    channel_type,
                    ..
                } if state == "open" && *peer_id == id && channel_type == "messaging" => Some(()),
                _ => None,
            },
        )
        .await?;
    }
    rows.push(Row {
        step: "browser: data channels open",
        took: t.elapsed(),
        detail: "alice↔browser and bob↔browser (Rust ↔ Chromium WebRTC)".into(),
    });
    say("data channels alice↔browser and bob↔browser open");

    // Chat through the server: private to the browser, so bob's event stream stays quiet.
    let t = Instant::now();
    let text = "hello browser, alice here";
    alice
        .send_message(json!(text), Some(vec![id.clone()]))
        .await?;
    let want = format!("browser got: {text}");
    let got = until(a_ev, "the browser's chat answer", |e| {
        reply_from(e, &id, false).filter(|r| *r == want)
    })
    .await?;
    rows.push(Row {
        step: "browser: chat alice → browser, answered",
        took: t.elapsed(),
        detail: format!("alice got {got:?} via the server"),
    });
    say(&format!("alice got {got:?} back from the browser"));

    let t = Instant::now();
    let text = "hi browser, bob here over WebRTC";
    bob.send_p2p_message(json!(text), Some(vec![id.clone()]))
        .await?;
    let want = format!("browser got: {text}");
    let got = until(b_ev, "the browser's P2P answer", |e| {
        reply_from(e, &id, true).filter(|r| *r == want)
    })
    .await?;
    rows.push(Row {
        step: "browser: P2P bob → browser, answered",
        took: t.elapsed(),
        detail: format!("bob got {got:?} over the data channel"),
    });
    say(&format!("bob got {got:?} back peer-to-peer"));

    // A file: the page accepts it and reports size and SHA-256 (crypto.subtle) by chat.
    let data: Vec<u8> = (0..FILE_SIZE).map(|i| (i * 7 % 256) as u8).collect();
    let digest = ring::digest::digest(&ring::digest::SHA256, &data);
    let sha: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let t = Instant::now();
    alice
        .send_blob_data(
            data,
            Some(vec![id.clone()]),
            TransferOptions {
                name: Some("demo-browser.bin".into()),
                ..Default::default()
            },
        )
        .await?;
    let report = until(a_ev, "the browser's file report", |e| {
        reply_from(e, &id, false).filter(|r| r.starts_with("browser saved "))
    })
    .await?;
    let took = t.elapsed();
    let want = format!("browser saved demo-browser.bin: {FILE_SIZE} bytes sha256 {sha}");
    if report != want {
        bail!("the browser's file does not match: it reported {report:?}, expected {want:?}");
    }
    rows.push(Row {
        step: "browser: 1 MB file alice → browser",
        took,
        detail: format!(
            "{FILE_SIZE} bytes, SHA-256 {}… verified by the page, {:.1} MB/s",
            &sha[..16],
            FILE_SIZE as f64 / took.as_secs_f64() / 1e6
        ),
    });
    say("the browser saved the file; its SHA-256 matches");
    Ok(peer)
}

impl BrowserPeer {
    /// Asks the page to leave the room and waits for `peerLeft` at alice; Chromium is closed
    /// afterwards.
    pub async fn leave(
        self,
        alice: &Skylink,
        a_ev: &mut Events,
        rows: &mut Vec<Row>,
    ) -> anyhow::Result<()> {
        let t = Instant::now();
        alice
            .send_message(json!("browser: leave"), Some(vec![self.id.clone()]))
            .await?;
        until(a_ev, "the browser's peerLeft", |e| match e {
            Event::PeerLeft { peer_id, .. } if *peer_id == self.id => Some(()),
            _ => None,
        })
        .await?;
        rows.push(Row {
            step: "browser: leaveRoom → peerLeft",
            took: t.elapsed(),
            detail: "the page left; Chromium closed".into(),
        });
        say("the browser left the room");
        drop(self.browser);
        Ok(())
    }
}
