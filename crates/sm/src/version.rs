//! Protocol versions (spec §7) and the version rules of skylinkjs 0.6.26.
//!
//! ```
//! use skylink_sm::version::{skylinkjs_is_lower_than, compare_versions};
//! use std::cmp::Ordering;
//! // 0.6.26's own (quirky) rule: every position of `required` is checked, no early exit.
//! assert!(skylinkjs_is_lower_than("0.2.0", "0.1.2"));
//! // A correct comparison for our own decisions:
//! assert_eq!(compare_versions("0.2.0", "0.1.2"), Ordering::Greater);
//! ```

use std::cmp::Ordering;

/// The SM protocol version the API reference documents (0.1.4); what our Rust peer announces.
pub const SM_PROTOCOL_VERSION: &str = "0.1.4";

/// The DT protocol version the API reference documents (0.1.0).
pub const DT_PROTOCOL_VERSION: &str = "0.1.0";

/// `SMProtocolVersion` a skylinkjs 0.6.26 client actually sends (0.6.21–0.6.39).
pub const SKYLINKJS_0_6_26_SM_PROTOCOL_VERSION: &str = "0.1.2.4";

/// `DTProtocolVersion` a skylinkjs 0.6.26 client actually sends (0.6.18 onwards).
pub const SKYLINKJS_0_6_26_DT_PROTOCOL_VERSION: &str = "0.1.3";

/// What a receiver assumes when a peer omits `SMProtocolVersion` (spec §7.2).
pub const DEFAULT_PEER_SM_PROTOCOL_VERSION: &str = "0.1.1";

/// Minimum peer SM version for which 0.6.26 initiates a `restart` (spec §7.3).
pub const SM_MIN_FOR_RESTART: &str = "0.1.2";

/// What a receiver assumes when a peer omits `DTProtocolVersion` (spec §7.2): `"0.1.2"` when
/// the receiver already has an MCU or the sender is `MCU`, else `"0.1.0"`.
pub fn default_peer_dt_protocol_version(mcu_involved: bool) -> &'static str {
    if mcu_involved { "0.1.2" } else { "0.1.0" }
}

/// JavaScript `parseInt(text, 10)`: optional leading whitespace and sign, then the longest
/// run of decimal digits; `None` where JS gives `NaN`.
fn js_parse_int(text: &str) -> Option<f64> {
    let t = text.trim_start();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let v: f64 = t[..digits].parse().ok()?;
    Some(if neg { -v } else { v })
}

/// JavaScript `parseFloat(text)`: the longest decimal-number prefix (or `Infinity`); `None`
/// where JS gives `NaN`.
fn js_parse_float(text: &str) -> Option<f64> {
    let t = text.trim_start();
    let b = t.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    if t[i..].starts_with("Infinity") {
        return Some(if b.first() == Some(&b'-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    let int_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        frac_digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if int_digits + frac_digits > 0 {
            i += 1 + frac_digits;
        }
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_digits = b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp_digits > 0 {
            i = j + exp_digits;
        }
    }
    t[..i].parse().ok()
}

/// skylinkjs 0.6.26's `_isLowerThanVersion(have, required)`, quirks included (spec §7.3).
///
/// Both strings are split on `.`; for each position of `required`, if
/// `parseInt(have[i] || "0") < parseInt(required[i] || "0")` the answer is "lower". There is
/// no early exit when a component is greater, and components of `have` beyond the length of
/// `required` are never looked at; a component that does not parse (`NaN`) never compares as
/// lower. Use this to predict what a 0.6.26 peer decides about us; use
/// [`compare_versions`] for our own decisions.
pub fn skylinkjs_is_lower_than(have: &str, required: &str) -> bool {
    let have: Vec<&str> = have.split('.').collect();
    required.split('.').enumerate().any(|(i, req)| {
        let h = have
            .get(i)
            .copied()
            .filter(|s| !s.is_empty())
            .unwrap_or("0");
        let r = if req.is_empty() { "0" } else { req };
        match (js_parse_int(h), js_parse_int(r)) {
            (Some(h), Some(r)) => h < r,
            _ => false,
        }
    })
}

/// Compares dotted version strings properly: component by component, numerically; missing
/// components count as `0` (`"0.1"` == `"0.1.0"`). A component is compared by its leading
/// digits first (none = 0), then by the rest of its text, so `"1a" < "1b"` and non-numeric
/// input never panics. Surrounding whitespace is ignored.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn key(component: &str) -> (&str, &str) {
        let c = component.trim();
        let digits = c.bytes().take_while(u8::is_ascii_digit).count();
        let num = c[..digits].trim_start_matches('0');
        (num, &c[digits..])
    }
    let mut a_parts = a.trim().split('.');
    let mut b_parts = b.trim().split('.');
    loop {
        let (x, y) = match (a_parts.next(), b_parts.next()) {
            (None, None) => return Ordering::Equal,
            (x, y) => (key(x.unwrap_or("0")), key(y.unwrap_or("0"))),
        };
        // Numbers of any length: compare digit strings by length, then lexically.
        let ord =
            x.0.len()
                .cmp(&y.0.len())
                .then_with(|| x.0.cmp(y.0))
                .then_with(|| x.1.cmp(y.1));
        if ord != Ordering::Equal {
            return ord;
        }
    }
}

/// The receiver-side `agent.version` rule of spec §3.0.1: the `version` text of
/// `enter`/`welcome`/`restart` as a number.
///
/// * missing → `0`;
/// * no dot → `parseInt`;
/// * one dot → `parseFloat`;
/// * two or more dots → `major + "." + the remaining parts joined with "0"`, then
///   `parseFloat` (`"0.9.6"` → 0.906, `"0.9.6.1"` → 0.90601).
///
/// Returns `None` where JavaScript would produce `NaN`.
pub fn parse_agent_version(version: Option<&str>) -> Option<f64> {
    let Some(v) = version else {
        return Some(0.0);
    };
    let parts: Vec<&str> = v.split('.').collect();
    match parts.as_slice() {
        [single] => js_parse_int(single),
        [_, _] => js_parse_float(v),
        [major, rest @ ..] => js_parse_float(&format!("{major}.{}", rest.join("0"))),
        [] => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quirky_rule_matches_spec_examples() {
        assert!(!skylinkjs_is_lower_than("0.1.2.4", "0.1.2"));
        assert!(skylinkjs_is_lower_than("0.1.1", "0.1.2"));
        assert!(skylinkjs_is_lower_than("0.2.0", "0.1.2"));
        assert!(skylinkjs_is_lower_than("1.0", "0.1.3"));
        // Our own announcement as seen by a 0.6.26 peer.
        assert!(!skylinkjs_is_lower_than(
            SM_PROTOCOL_VERSION,
            SM_MIN_FOR_RESTART
        ));
        assert!(!skylinkjs_is_lower_than(
            SKYLINKJS_0_6_26_DT_PROTOCOL_VERSION,
            "0.1.3"
        ));
        // DT 0.1.0 (what the reference documents) is lower than 0.1.2 and 0.1.3.
        assert!(skylinkjs_is_lower_than(DT_PROTOCOL_VERSION, "0.1.2"));
        // Missing components count as 0; extra `have` components are ignored.
        assert!(skylinkjs_is_lower_than("0.1", "0.1.2"));
        assert!(!skylinkjs_is_lower_than("0.1.2.0.0.9", "0.1.2"));
        assert!(!skylinkjs_is_lower_than("", ""));
        assert!(skylinkjs_is_lower_than("", "0.0.1"));
        // NaN never compares lower.
        assert!(!skylinkjs_is_lower_than("x.y.z", "0.1.2"));
        assert!(!skylinkjs_is_lower_than("0.1.2", "a.b"));
        // parseInt prefixes.
        assert!(!skylinkjs_is_lower_than("0.1.2beta", "0.1.2"));
    }

    #[test]
    fn proper_comparison() {
        use Ordering::*;
        assert_eq!(compare_versions("0.2.0", "0.1.2"), Greater);
        assert_eq!(compare_versions("0.1.2.4", "0.1.2"), Greater);
        assert_eq!(compare_versions("0.1", "0.1.0.0"), Equal);
        assert_eq!(compare_versions("1.10", "1.9"), Greater);
        assert_eq!(compare_versions("0.1.04", "0.1.4"), Equal);
        assert_eq!(compare_versions("1a", "1b"), Less);
        assert_eq!(compare_versions("", "0"), Equal);
        assert_eq!(compare_versions("x", "0"), Greater);
        assert_eq!(compare_versions("99999999999999999999999", "1"), Greater);
        assert_eq!(compare_versions(" 0.1.4 ", "0.1.4"), Equal);
    }

    #[test]
    fn agent_version() {
        assert_eq!(parse_agent_version(None), Some(0.0));
        assert_eq!(parse_agent_version(Some("156")), Some(156.0));
        assert_eq!(parse_agent_version(Some("61.0")), Some(61.0));
        assert_eq!(parse_agent_version(Some("0.9.6")), Some(0.906));
        assert_eq!(parse_agent_version(Some("0.9.6.1")), Some(0.90601));
        assert_eq!(parse_agent_version(Some("11.5x")), Some(11.5));
        assert_eq!(parse_agent_version(Some("abc")), None);
        assert_eq!(parse_agent_version(Some("")), None);
        assert_eq!(parse_agent_version(Some(".")), None);
        assert_eq!(parse_agent_version(Some(".5")), Some(0.5));
        assert_eq!(parse_agent_version(Some("1e3")), Some(1.0));
        assert_eq!(parse_agent_version(Some("1.5e3")), Some(1500.0));
        assert_eq!(
            parse_agent_version(Some("-Infinity.x")),
            Some(f64::NEG_INFINITY)
        );
        assert_eq!(default_peer_dt_protocol_version(true), "0.1.2");
    }
}
