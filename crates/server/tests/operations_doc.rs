//! The TOML examples of docs/operations.md parse into the configuration they describe, so the
//! operator's guide cannot drift from `Config` (unknown keys are errors there).

use skylink_server::Config;

const DOC: &str = include_str!("../../../docs/operations.md");

/// The ```toml blocks of the document, in order.
fn toml_blocks() -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in DOC.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```toml") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), text) => {
                block.push_str(text);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "unterminated ```toml block");
    blocks
}

#[test]
fn the_config_file_example_parses_with_every_section() {
    let blocks = toml_blocks();
    assert_eq!(blocks.len(), 2, "the config example and the TLS example");
    let config = Config::from_toml_str(&blocks[0]).expect("the config example parses");
    assert_eq!(config.server.port, 8018);
    assert_eq!(
        config.server.public_host.as_deref(),
        Some("signal.example.org")
    );
    assert!(config.server.skylinkjs.is_some());
    assert_eq!(config.apps.len(), 1);
    let app = &config.apps[0];
    assert_eq!(app.key, "my-app-key");
    assert_eq!(app.secret.as_deref(), Some("my-app-secret"));
    assert_eq!(app.allowed_origins, ["https://app.example.org"]);
    assert_eq!(app.owner, "ops@example.org");
    assert_eq!(config.ice_servers.len(), 2);
    assert_eq!(
        config.ice_servers[1].credential.as_deref(),
        Some("static-turn-password")
    );
    let turn = config.turn.as_ref().expect("[turn]");
    assert_eq!(turn.ttl_secs, 86_400);
    assert_eq!(config.limits.flood_per_sec, 10);
    assert_eq!(config.limits.max_pending_credentials, 100_000);
    assert!(
        !config.is_development(),
        "an [[apps]] entry ends the any-key default"
    );
}

#[test]
fn the_tls_example_parses() {
    let blocks = toml_blocks();
    let config = Config::from_toml_str(&blocks[1]).expect("the TLS example parses");
    let tls = config.server.tls.expect("[server.tls]");
    assert_eq!(tls.cert.to_str(), Some("/etc/skylink/fullchain.pem"));
    assert_eq!(tls.key.to_str(), Some("/etc/skylink/privkey.pem"));
    assert_eq!(config.server.port, 443);
}

#[test]
fn a_misspelt_key_is_an_error_naming_it() {
    let err = Config::from_toml_str("[server]\nprot = 1\n").expect_err("unknown key");
    assert!(err.to_string().contains("prot"), "{err}");
}
