//! Room credentials: the HMAC-SHA1 recipe of spec §1.3.
//!
//! An application that uses credential authentication computes
//! `base64(HMAC-SHA1(secret, room + "_" + duration + "_" + start))`, URL-encodes it with
//! `encodeURIComponent` and passes it to `init()`. The room server rebuilds the same string from
//! the (percent-decoded) URL path segments and compares.
//!
//! ```
//! use skylink_sm::credentials;
//! let cred = credentials::compute("secret", "my_room", "2", "2017-09-18T03:00:00.000Z");
//! assert!(credentials::verify("secret", "my_room", "2", "2017-09-18T03:00:00.000Z", &cred));
//! assert!(!credentials::verify("other", "my_room", "2", "2017-09-18T03:00:00.000Z", &cred));
//! // What goes into the URL query `?&cred=...`:
//! let in_url = credentials::encode_for_url(&cred);
//! assert!(!in_url.contains(['+', '/', '=']));
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// The characters JavaScript's `encodeURIComponent` leaves alone: `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

fn mac(secret: &str, room: &str, duration: &str, start: &str) -> HmacSha1 {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac =
        HmacSha1::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(room.as_bytes());
    mac.update(b"_");
    mac.update(duration.as_bytes());
    mac.update(b"_");
    mac.update(start.as_bytes());
    mac
}

/// The message that gets signed: `room + "_" + duration + "_" + start`.
pub fn message(room: &str, duration: &str, start: &str) -> String {
    format!("{room}_{duration}_{start}")
}

/// Computes the credential string (standard base64 with padding, *not* URL-encoded).
///
/// `duration` and `start` are the exact texts that appear in the URL path (e.g. `"24"`,
/// `"0.5"`, `"2017-09-18T03:00:00.000Z"`).
pub fn compute(secret: &str, room: &str, duration: &str, start: &str) -> String {
    STANDARD.encode(mac(secret, room, duration, start).finalize().into_bytes())
}

/// Checks a credential (already percent-decoded, standard base64) in constant time.
///
/// Returns `false` for anything that is not valid base64 of the right length.
pub fn verify(secret: &str, room: &str, duration: &str, start: &str, cred_b64: &str) -> bool {
    let Ok(tag) = STANDARD.decode(cred_b64.trim()) else {
        return false;
    };
    mac(secret, room, duration, start)
        .verify_slice(&tag)
        .is_ok()
}

/// Percent-encodes like JavaScript's `encodeURIComponent` (so `+`, `/`, `=` become `%2B`,
/// `%2F`, `%3D`; upper-case hex).
pub fn encode_for_url(b64: &str) -> String {
    utf8_percent_encode(b64, URI_COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // RFC 2202, HMAC-SHA1 test case 2 (key "Jefe").
        let mut m = HmacSha1::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        let hex: String = m
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        // And our composed message is exactly room_duration_start.
        assert_eq!(message("r", "2", "s"), "r_2_s");
        let direct = {
            let mut m = HmacSha1::new_from_slice(b"k").unwrap();
            m.update(b"r_2_s");
            STANDARD.encode(m.finalize().into_bytes())
        };
        assert_eq!(compute("k", "r", "2", "s"), direct);
    }

    #[test]
    fn verify_rejects_garbage() {
        let c = compute("k", "room", "24", "2020-01-01T00:00:00.000Z");
        assert_eq!(c.len(), 28);
        assert!(verify("k", "room", "24", "2020-01-01T00:00:00.000Z", &c));
        assert!(!verify("k", "room2", "24", "2020-01-01T00:00:00.000Z", &c));
        assert!(!verify(
            "k",
            "room",
            "24",
            "2020-01-01T00:00:00.000Z",
            "not base64!"
        ));
        assert!(!verify("k", "room", "24", "2020-01-01T00:00:00.000Z", ""));
        assert!(!verify(
            "k",
            "room",
            "24",
            "2020-01-01T00:00:00.000Z",
            "AAAA"
        ));
    }

    #[test]
    fn url_encoding_matches_encode_uri_component() {
        assert_eq!(encode_for_url("K2Zq+Ab9x0="), "K2Zq%2BAb9x0%3D");
        assert_eq!(encode_for_url("a/b"), "a%2Fb");
        assert_eq!(encode_for_url("-_.!~*'()"), "-_.!~*'()");
        assert_eq!(encode_for_url("é "), "%C3%A9%20");
    }
}
