//! The ICE server list of a room session (sdp-and-peers.md §2.2), computed from
//! `inRoom.pc_config.iceServers` and the `init()` options. Sans-IO.
//!
//! Two departures from 0.6.26, both recorded in docs/architecture.md:
//! * the reference always synthesises a "private" entry on `turn.temasys.io` (or the host of a
//!   Temasys STUN entry). A server that is not Temasys' platform (no Temasys STUN entry and no
//!   credentialed TURN entry) gets its own entries passed through instead, so a Rust peer talking
//!   to `skylink serve` never looks up Temasys host names;
//! * an `iceServer` override is kept even when `usePublicSTUN` is false (the reference empties
//!   the list in that case, spec \[Q\]).

use skylink_sm::message::PcConfig;

use crate::peer::IceServer;

/// `TURN_TRANSPORT` (`TURNServerTransport` init option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TurnTransport {
    /// `"any"` (default).
    #[default]
    Any,
    /// `"udp"`.
    Udp,
    /// `"tcp"`.
    Tcp,
    /// `"none"`.
    None,
    /// `"all"` (same as any).
    All,
}

/// The `init()` options that shape the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IceOptions {
    /// `usePublicSTUN`.
    pub use_public_stun: bool,
    /// `forceTURNSSL`.
    pub force_turn_ssl: bool,
    /// `TURNServerTransport`.
    pub turn_transport: TurnTransport,
    /// `iceServer` override URLs.
    pub ice_server_override: Option<Vec<String>>,
}

struct Scan {
    public: Vec<String>,
    server_name: Option<String>,
    temasys: bool,
    turn: Option<(String, String)>,
    passthrough: Vec<IceServer>,
}

fn scan(config: Option<&PcConfig>) -> Scan {
    let mut sc = Scan {
        public: Vec::new(),
        server_name: None,
        temasys: false,
        turn: None,
        passthrough: Vec::new(),
    };
    let entries = config.and_then(|c| c.ice_servers.as_deref()).unwrap_or(&[]);
    for e in entries {
        // Entries without `url` make the reference throw; skip them.
        let Some(url) = e.url.as_deref() else {
            continue;
        };
        let credential = e.credential.clone().unwrap_or_default();
        if let Some(rest) = url.strip_prefix("stun:") {
            if url.find("temasys").is_some_and(|i| i > 0) {
                let host = rest.split([':', '?']).next().unwrap_or_default();
                sc.server_name = Some(host.to_owned());
                sc.temasys = true;
            } else {
                sc.public.push(url.to_owned());
                sc.passthrough.push(IceServer {
                    urls: vec![url.to_owned()],
                    ..Default::default()
                });
            }
        } else if url.starts_with("turn:")
            && url.contains('@')
            && !credential.is_empty()
            && sc.turn.is_none()
        {
            let second = url.split(':').nth(1).unwrap_or_default();
            let (user, host) = second.split_once('@').unwrap_or(("", second));
            let host = host.split('?').next().unwrap_or_default();
            sc.server_name = Some(host.to_owned());
            sc.turn = Some((user.to_owned(), credential.clone()));
            // Standard form for the pass-through list: the user moves to `username`.
            let standard = url.replacen(&format!("{user}@"), "", 1);
            sc.passthrough.push(IceServer {
                urls: vec![standard],
                username: user.to_owned(),
                credential,
            });
        }
    }
    sc
}

/// The session's ICE servers.
///
/// ```
/// use skylink_room::ice::{ice_servers, IceOptions};
/// use skylink_sm::message::PcConfig;
/// let cfg: PcConfig = serde_json::from_str(r#"{"iceServers":[{"url":"stun:127.0.0.1:3478"}]}"#).unwrap();
/// let list = ice_servers(Some(&cfg), &IceOptions::default());
/// assert_eq!(list[0].urls, ["stun:127.0.0.1:3478"]);
/// ```
pub fn ice_servers(config: Option<&PcConfig>, opts: &IceOptions) -> Vec<IceServer> {
    let sc = scan(config);
    let (username, credential) = sc.turn.clone().unwrap_or_default();
    if let Some(urls) = &opts.ice_server_override {
        let mut list = Vec::new();
        if opts.use_public_stun && !sc.public.is_empty() {
            list.push(IceServer {
                urls: sc.public.clone(),
                ..Default::default()
            });
        }
        list.push(IceServer {
            urls: urls.clone(),
            username,
            credential,
        });
        return list;
    }
    if !sc.temasys && sc.turn.is_none() {
        return sc.passthrough;
    }
    let name = sc
        .server_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "turn.temasys.io".to_owned());
    let has_turn = sc.turn.is_some();
    let mut proto = if has_turn { "turn" } else { "stun" };
    let mut udp: Vec<u16> = vec![3478, 19302, 19303, 19304];
    let mut tcp: Vec<u16> = vec![80, 443];
    let mut both: Vec<u16> = vec![19305, 19306, 19307, 19308];
    if opts.force_turn_ssl {
        udp.clear();
        proto = "turns";
    }
    match opts.turn_transport {
        TurnTransport::Udp if !opts.force_turn_ssl => {
            udp.append(&mut both);
            tcp.clear();
        }
        TurnTransport::Tcp => {
            tcp.append(&mut both);
            udp.clear();
        }
        TurnTransport::None => {
            tcp.clear();
            udp.clear();
        }
        _ => {}
    }
    if proto == "stun" {
        tcp.clear();
    }
    let mut urls = Vec::new();
    urls.extend(
        tcp.iter()
            .map(|p| format!("{proto}:{name}:{p}?transport=tcp")),
    );
    urls.extend(
        udp.iter()
            .map(|p| format!("{proto}:{name}:{p}?transport=udp")),
    );
    urls.extend(both.iter().map(|p| format!("{proto}:{name}:{p}")));
    let private = IceServer {
        urls,
        username: if has_turn { username } else { String::new() },
        credential: if has_turn { credential } else { String::new() },
    };
    let mut list = Vec::new();
    if opts.use_public_stun {
        list.push(IceServer {
            urls: sc.public,
            ..Default::default()
        });
    }
    list.push(private);
    list
}

/// Drops URLs the `webrtc` crate cannot use (it refuses the whole connection otherwise):
/// anything but `stun:`/`turn:`/`turns:`, and `?transport=` on `stun:` URLs.
pub fn usable(list: Vec<IceServer>) -> Vec<IceServer> {
    list.into_iter()
        .filter_map(|mut s| {
            s.urls = s
                .urls
                .into_iter()
                .filter_map(|u| {
                    if u.starts_with("stun:") {
                        Some(u.split('?').next().unwrap_or_default().to_owned())
                    } else if u.starts_with("turn:") || u.starts_with("turns:") {
                        Some(u)
                    } else {
                        None
                    }
                })
                .collect();
            (!s.urls.is_empty()).then_some(s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: &str) -> PcConfig {
        serde_json::from_str(json).expect("pc_config")
    }

    const SPEC: &str = r#"{"iceServers":[{"url":"stun:turn.temasys.io:3478"},
 {"url":"turn:skyuser@turn-sg.temasys.io:443?transport=tcp","credential":"secretCred"},
 {"url":"turn:skyuser@turn-sg.temasys.io:3478?transport=udp","credential":"secretCred"},
 {"url":"stun:stun.l.google.com:19302"}]}"#;

    #[test]
    fn spec_default_example() {
        let list = ice_servers(Some(&cfg(SPEC)), &IceOptions::default());
        assert_eq!(list.len(), 1);
        // The later Temasys STUN entry does not come after the TURN one here, so the TURN host wins.
        assert_eq!(list[0].username, "skyuser");
        assert_eq!(list[0].credential, "secretCred");
        assert_eq!(list[0].urls.len(), 10);
        assert_eq!(list[0].urls[0], "turn:turn-sg.temasys.io:80?transport=tcp");
        assert_eq!(list[0].urls[9], "turn:turn-sg.temasys.io:19308");
    }

    #[test]
    fn spec_transport_variants() {
        let udp = ice_servers(
            Some(&cfg(SPEC)),
            &IceOptions {
                turn_transport: TurnTransport::Udp,
                ..Default::default()
            },
        );
        assert_eq!(udp[0].urls.len(), 8);
        assert!(
            udp[0]
                .urls
                .iter()
                .all(|u| u.ends_with("?transport=udp") || !u.contains("transport"))
        );
        let none = ice_servers(
            Some(&cfg(SPEC)),
            &IceOptions {
                turn_transport: TurnTransport::None,
                ..Default::default()
            },
        );
        assert_eq!(none[0].urls[0], "turn:turn-sg.temasys.io:19305");
        let ssl = ice_servers(
            Some(&cfg(SPEC)),
            &IceOptions {
                force_turn_ssl: true,
                ..Default::default()
            },
        );
        assert_eq!(ssl[0].urls.len(), 6);
        assert!(ssl[0].urls.iter().all(|u| u.starts_with("turns:")));
        let public = ice_servers(
            Some(&cfg(SPEC)),
            &IceOptions {
                use_public_stun: true,
                ..Default::default()
            },
        );
        assert_eq!(public[0].urls, ["stun:stun.l.google.com:19302"]);
        assert_eq!(public.len(), 2);
    }

    #[test]
    fn temasys_stun_only_gives_stun_entry() {
        let list = ice_servers(
            Some(&cfg(
                r#"{"iceServers":[{"url":"stun:turn.temasys.io:3478"}]}"#,
            )),
            &IceOptions::default(),
        );
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].urls.len(), 8);
        assert_eq!(list[0].urls[0], "stun:turn.temasys.io:3478?transport=udp");
        assert!(list[0].username.is_empty());
    }

    #[test]
    fn own_server_passes_through_and_skips_bad_entries() {
        let list = ice_servers(
            Some(&cfg(
                r#"{"iceServers":[{"urls":"stun:x"},{"url":"stun:127.0.0.1:3478"},{"url":"turn:1700000000@127.0.0.1:3478?transport=udp","credential":"c"}]}"#,
            )),
            &IceOptions::default(),
        );
        // A credentialed TURN entry switches to the reference rules with its host.
        assert_eq!(list[0].username, "1700000000");
        assert!(list[0].urls[0].starts_with("turn:127.0.0.1:"));
        let stun_only = ice_servers(
            Some(&cfg(r#"{"iceServers":[{"url":"stun:127.0.0.1:3478"}]}"#)),
            &IceOptions::default(),
        );
        assert_eq!(stun_only.len(), 1);
        assert_eq!(stun_only[0].urls, ["stun:127.0.0.1:3478"]);
        assert!(ice_servers(None, &IceOptions::default()).is_empty());
    }

    #[test]
    fn override_is_kept() {
        let list = ice_servers(
            Some(&cfg(SPEC)),
            &IceOptions {
                ice_server_override: Some(vec!["turn:my.turn.example:3478".into()]),
                ..Default::default()
            },
        );
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].urls, ["turn:my.turn.example:3478"]);
        assert_eq!(list[0].username, "skyuser");
    }

    #[test]
    fn usable_filters_urls() {
        let list = usable(vec![IceServer {
            urls: vec![
                "stun:h:1?transport=udp".into(),
                "http://x".into(),
                "turn:h:2?transport=tcp".into(),
            ],
            ..Default::default()
        }]);
        assert_eq!(list[0].urls, ["stun:h:1", "turn:h:2?transport=tcp"]);
        assert!(usable(vec![IceServer::default()]).is_empty());
    }
}
