//! `cargo xtask bench media`: the VP8 test-pattern stream's CPU cost and end-to-end latency.
//!
//! Builds `skylink` (release, `--features codecs`), runs `skylink bench media --json` (encode
//! cost against pattern generation alone; the paced Rust→Rust pipeline against an
//! idle-connected baseline; capture→decoded latency with the decode time as the baseline
//! component) and, unless `--no-browser`, `interop/bench/media-pages.mjs` (Rust bot →
//! skylinkjs 0.6.26 page in headless Chromium, capture→displayed latency). The tables are
//! printed, written to `bench/results/media-<UTC date>.md` and put in the "Media" section of
//! `docs/benchmarks.md` (between the `media-bench` markers, replaced on every run).

use anyhow::{Context as _, Result, bail};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use super::{cpu_model, f, release_skylink, unique_path, utc_date};

pub(super) const MEDIA_USAGE: &str = "\
  media: 640×480@30 VP8 test pattern — CPU per encoded stream (vs pattern generation alone),
  paced Rust→Rust stream CPU (vs idle-connected), capture→decoded latency Rust→Rust (decode
  time as the baseline component), and Rust bot → skylinkjs page capture→displayed latency.
  options: --seconds S [12]  --idle-seconds S [5]  --encode-seconds S [20]  --browser-seconds S
  [15]  --no-build  --no-browser  --no-docs (do not touch docs/benchmarks.md)";

const BEGIN: &str = "<!-- media-bench:begin (cargo xtask bench media rewrites this section) -->";
const END: &str = "<!-- media-bench:end -->";

/// `cargo xtask bench media`.
pub(super) fn run(root: &Path, args: &[String]) -> Result<()> {
    let mut pass: Vec<String> = Vec::new();
    let mut build = true;
    let mut browser = true;
    let mut docs = true;
    let mut browser_seconds = "15".to_owned();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" | "--idle-seconds" | "--encode-seconds" => {
                let v = it.next().with_context(|| format!("{a} needs a value"))?;
                v.parse::<f64>()
                    .with_context(|| format!("{a}: bad value"))?;
                pass.extend([a.clone(), v.clone()]);
            }
            "--browser-seconds" => {
                let v = it.next().context("--browser-seconds needs a value")?;
                v.parse::<f64>().context("--browser-seconds: bad value")?;
                browser_seconds = v.clone();
            }
            "--no-build" => build = false,
            "--no-browser" => browser = false,
            "--no-docs" => docs = false,
            "-h" | "--help" => {
                eprintln!("usage: cargo xtask bench media [options]\n{MEDIA_USAGE}");
                return Ok(());
            }
            other => bail!("unknown option {other}\n{MEDIA_USAGE}"),
        }
    }
    let bin = release_skylink(root, build, &["codecs"])?;
    let out = Command::new(&bin)
        .args(["bench", "media", "--json"])
        .args(&pass)
        .env("RUST_LOG", "error")
        .stderr(Stdio::inherit())
        .output()
        .context("skylink bench media")?;
    if !out.status.success() {
        bail!(
            "skylink bench media failed ({}); is {} built with --features codecs?",
            out.status,
            bin.display()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let rust: Value = serde_json::from_str(text.lines().last().unwrap_or_default())
        .context("bench media JSON")?;

    let pages: Option<Value> = if browser {
        match browser_run(root, &bin, &browser_seconds) {
            Ok(v) => Some(v),
            Err(e) => {
                eprintln!("Rust→browser latency not measured: {e:#}");
                None
            }
        }
    } else {
        None
    };

    let s = |path: &[&str]| {
        let mut cur = &rust;
        for k in path {
            cur = &cur[*k];
        }
        cur.as_str().unwrap_or("?").to_owned()
    };
    let mut t = String::new();
    let _ = writeln!(
        t,
        "Run of {} ({}; {} cores; load average before / after: {} / {}).\n",
        utc_date(),
        cpu_model(),
        f(&rust, &["machine", "cores"]).unwrap_or(0.0),
        s(&["machine", "loadavg"]),
        s(&["loadavg_after"]),
    );
    t.push_str(rust["table"].as_str().unwrap_or("(no table)\n"));
    match &pages {
        Some(p) => {
            let g = |k: &str, q: &str| f(p, &["latency_ms", k, q]).unwrap_or(f64::NAN);
            let _ = writeln!(
                t,
                "\nRust bot → skylinkjs 0.6.26 page (headless Chromium), {} frames displayed \
                 with a readable number ({} unreadable), wall-clock ms:\n",
                f(p, &["frames"]).unwrap_or(0.0),
                f(p, &["unreadable"]).unwrap_or(0.0),
            );
            let _ = writeln!(
                t,
                "| segment | p50 ms | p95 ms | max ms |\n|---|--:|--:|--:|"
            );
            for (name, k) in [
                (
                    "capture → received by Chromium (rVFC receiveTime)",
                    "capture_to_received",
                ),
                (
                    "capture → presented (requestVideoFrameCallback expectedDisplayTime)",
                    "capture_to_presented",
                ),
                (
                    "capture → callback + number read from canvas",
                    "capture_to_read",
                ),
            ] {
                let _ = writeln!(
                    t,
                    "| {name} | {:.1} | {:.1} | {:.1} |",
                    g(k, "p50"),
                    g(k, "p95"),
                    g(k, "max")
                );
            }
            if let Some(note) = p["note"].as_str() {
                let _ = writeln!(t, "\n{note}");
            }
        }
        None => {
            let _ = writeln!(t, "\nRust→browser latency: not measured in this run.");
        }
    }
    println!("{t}");

    let dir = root.join("bench/results");
    std::fs::create_dir_all(&dir)?;
    let path = unique_path(&dir, &format!("media-{}", utc_date()));
    let raw = serde_json::json!({"rust": rust, "pages": pages});
    std::fs::write(&path, format!("{t}\n## Raw\n\n```json\n{raw:#}\n```\n"))?;
    let rel = path
        .strip_prefix(root)
        .unwrap_or(&path)
        .display()
        .to_string();
    println!("written to {rel}");
    if docs {
        let doc = root.join("docs/benchmarks.md");
        let old = std::fs::read_to_string(&doc).context("reading docs/benchmarks.md")?;
        let section = format!("{BEGIN}\n{t}\nRaw numbers: `{rel}`.\n{END}");
        std::fs::write(&doc, splice(&old, &section)).context("writing docs/benchmarks.md")?;
        println!("docs/benchmarks.md: media section updated");
    }
    Ok(())
}

/// `doc` with the text between the markers replaced by `section` (which carries the markers),
/// or with `section` appended under a "Media" heading when there are no markers yet.
fn splice(doc: &str, section: &str) -> String {
    if let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END))
        && b < e
    {
        return format!("{}{section}{}", &doc[..b], &doc[e + END.len()..]);
    }
    let mut out = doc.trim_end().to_owned();
    out.push_str("\n\n## Media: 640×480@30 VP8 test pattern (`cargo xtask bench media`)\n\n");
    out.push_str(section);
    out.push('\n');
    out
}

/// Part 3: `interop/bench/media-pages.mjs` (bot → page); its last stdout line is JSON.
fn browser_run(root: &Path, bin: &Path, seconds: &str) -> Result<Value> {
    let interop = root.join("interop");
    if !interop.join("bench/media-pages.mjs").exists() {
        bail!("interop/bench/media-pages.mjs is missing");
    }
    if !interop.join("node_modules").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&interop)
            .status()
            .context("npm ci")?;
        if !status.success() {
            bail!("npm ci failed in interop/");
        }
    }
    let out = Command::new("node")
        .arg("bench/media-pages.mjs")
        .arg(seconds)
        .current_dir(&interop)
        .env("SKYLINK_BIN", bin)
        // `skylink serve` must log its "listening" line (info) for the harness.
        .env("RUST_LOG", "warn,skylink=info")
        .stderr(Stdio::inherit())
        .output()
        .context("node bench/media-pages.mjs")?;
    if !out.status.success() {
        bail!("bench/media-pages.mjs failed ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default()).context("media-pages JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_appends_then_replaces() {
        let doc = "# Benchmarks\n\n## Other\n\ntext\n";
        let once = splice(doc, &format!("{BEGIN}\nA\n{END}"));
        assert!(once.starts_with(doc.trim_end()));
        assert!(once.contains("## Media") && once.contains("\nA\n"));
        let twice = splice(&once, &format!("{BEGIN}\nB\n{END}"));
        assert!(twice.contains("\nB\n") && !twice.contains("\nA\n"));
        assert_eq!(twice.matches("## Media").count(), 1);
    }
}
