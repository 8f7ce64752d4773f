//! Project automation: `cargo xtask ci | interop | fmt`.
//!
//! `ci` runs exactly what CI runs: format check, clippy with warnings denied, every test,
//! the rustdoc build, then the browser interop suite against real skylinkjs 0.6.26.

mod bench;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    std::env::set_current_dir(&root).context("entering the project root")?;
    match args.first().map(String::as_str) {
        Some("ci") => ci(&root),
        Some("interop") => interop(&root, &args[1..]),
        Some("bench") => bench::run(&root, &args[1..]),
        Some("test") => step(
            "cargo test",
            cargo(&["test", "--workspace", "--all-targets"]),
        ),
        _ => {
            eprintln!("usage: cargo xtask <ci|interop|test>");
            eprintln!("  ci       fmt check, clippy -D warnings, tests, rustdoc, browser interop");
            eprintln!(
                "  interop  build `skylink`, npm ci in interop/, run the Chromium + skylinkjs suite"
            );
            bail!("unknown or missing command")
        }
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args);
    cmd
}

fn step(name: &str, mut cmd: Command) -> Result<()> {
    eprintln!("==> {name}");
    let started = Instant::now();
    let status = cmd.status().with_context(|| format!("running {name}"))?;
    eprintln!(
        "<== {name}: {status} in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    if !status.success() {
        bail!("{name} failed ({status})");
    }
    Ok(())
}

fn ci(root: &Path) -> Result<()> {
    step(
        "cargo fmt --check",
        cargo(&["fmt", "--all", "--", "--check"]),
    )?;
    step(
        "cargo clippy",
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    npm_ci(&root.join("interop"))?;
    step(
        "cargo test",
        cargo(&["test", "--workspace", "--all-targets", "--all-features"]),
    )?;
    step(
        "doc tests",
        cargo(&["test", "--workspace", "--doc", "--all-features"]),
    )?;
    let mut doc = cargo(&["doc", "--workspace", "--no-deps", "--all-features"]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    step("cargo doc", doc)?;
    interop(root, &[])
}

/// Installs the browser harness (Playwright, skylinkjs 0.6.26) once. `ci` calls it before
/// `cargo test` too: `skylink demo --browser`'s test serves the skylinkjs bundle from
/// interop/node_modules, which a fresh clone does not have yet.
fn npm_ci(dir: &Path) -> Result<()> {
    if dir.join("node_modules/.package-lock.json").exists() {
        return Ok(());
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"]).current_dir(dir);
    step("npm ci (interop)", npm)
}

fn interop(root: &Path, extra: &[String]) -> Result<()> {
    // `--workspace --all-features` keeps feature unification identical to the test build, so
    // nothing rebuilds (and the bot has the VP8/Opus codecs the media interop tests need).
    // `--examples`: the screen-share test runs skylink-media's `x11_paint` next to the bot.
    step(
        "build skylink",
        cargo(&[
            "build",
            "--workspace",
            "--bins",
            "--examples",
            "--all-features",
        ]),
    )?;
    let dir = root.join("interop");
    npm_ci(&dir)?;
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        bail!("{chromium} not found: install Debian's chromium (apt-get install -y chromium)");
    }
    // The bot the suite drives: `SKYLINK_BIN` wins, else the build above (honouring
    // CARGO_TARGET_DIR like cargo does).
    let bin = match std::env::var_os("SKYLINK_BIN") {
        Some(b) => PathBuf::from(b),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|t| if t.is_absolute() { t } else { root.join(t) })
            .unwrap_or_else(|| root.join("target"))
            .join("debug/skylink"),
    };
    let mut node = Command::new("node");
    node.arg("--test")
        .arg("--test-concurrency=1")
        .args(extra)
        .arg("tests/")
        .current_dir(&dir)
        .env("SKYLINK_BIN", bin)
        .env("CHROMIUM", chromium);
    step("browser interop (node --test)", node)
}
