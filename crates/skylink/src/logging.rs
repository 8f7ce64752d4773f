//! SDK logging: `setLogLevel()`, `setDebugMode()` and the `SkylinkLogs` store, built on
//! [`tracing`].
//!
//! Every skylink-rs crate logs through `tracing` (targets `skylink`, `skylink_room`,
//! `skylink_sm`, …). The application installs [`layer()`] in its subscriber; the layer then
//!
//! * lets SDK records through only up to the current [`LogLevel`] ([`set_log_level`],
//!   default `ERROR` as in the reference), for **every** layer of that subscriber — install it
//!   first, before the layers that print (records of other targets are left alone);
//! * when [`DebugMode::store_logs`] is on ([`set_debug_mode`]), keeps those records in a
//!   bounded in-memory store ([`set_store_capacity`], default [`DEFAULT_STORE_CAPACITY`]) read
//!   with [`SkylinkLogs`];
//! * when [`DebugMode::trace`] is on, also records the span stack of each record (the
//!   equivalent of the reference's `console.trace()` call stack).
//!
//! Levels map as `ERROR`→[`tracing::Level::ERROR`], `WARN`→`WARN`, `INFO`→`INFO`,
//! `LOG`→`DEBUG` and `DEBUG`→`TRACE`. The settings and the store are process-wide, like the
//! reference's global `SkylinkLogs` object.
//!
//! ```no_run
//! use tracing_subscriber::prelude::*;
//! use skylink::logging::{self, DebugMode, LogLevel, SkylinkLogs};
//!
//! tracing_subscriber::registry()
//!     .with(logging::layer())                   // first: it filters the SDK's records
//!     .with(tracing_subscriber::fmt::layer())   // prints what passes
//!     .init();
//! logging::set_log_level(LogLevel::Info);
//! logging::set_debug_mode(DebugMode { store_logs: true, trace: false });
//! // … use the SDK …
//! for record in SkylinkLogs::get_logs(Some(LogLevel::Warn)) {
//!     println!("{record}");
//! }
//! SkylinkLogs::clear_all_logs();
//! ```

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::time::SystemTime;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

pub use crate::constants::LogLevel;

/// How many records the store keeps by default (the oldest are dropped first).
pub const DEFAULT_STORE_CAPACITY: usize = 10_000;

static LEVEL: AtomicI32 = AtomicI32::new(LogLevel::Error as i32);
static STORE_LOGS: AtomicBool = AtomicBool::new(false);
static TRACE: AtomicBool = AtomicBool::new(false);
static CAPACITY: AtomicUsize = AtomicUsize::new(DEFAULT_STORE_CAPACITY);
static STORE: Mutex<VecDeque<LogRecord>> = Mutex::new(VecDeque::new());

/// `setDebugMode()` options.
///
/// `DebugMode::from(true)` turns both on, as `setDebugMode(true)` does; `DebugMode::default()`
/// turns both off (`setDebugMode()`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DebugMode {
    /// `storeLogs`: keep SDK records for [`SkylinkLogs`].
    pub store_logs: bool,
    /// `trace`: record the span stack of each record.
    pub trace: bool,
}

impl From<bool> for DebugMode {
    fn from(on: bool) -> Self {
        DebugMode {
            store_logs: on,
            trace: on,
        }
    }
}

/// `setLogLevel(logLevel)`: the most verbose SDK level that passes.
pub fn set_log_level(level: LogLevel) {
    LEVEL.store(level.value(), Ordering::Relaxed);
}

/// The current log level.
pub fn log_level() -> LogLevel {
    LogLevel::from_value(LEVEL.load(Ordering::Relaxed)).unwrap_or(LogLevel::Error)
}

/// `setDebugMode(options)`. Turning `store_logs` off keeps what was stored.
pub fn set_debug_mode(mode: impl Into<DebugMode>) {
    let mode = mode.into();
    STORE_LOGS.store(mode.store_logs, Ordering::Relaxed);
    TRACE.store(mode.trace, Ordering::Relaxed);
}

/// The current debug mode.
pub fn debug_mode() -> DebugMode {
    DebugMode {
        store_logs: STORE_LOGS.load(Ordering::Relaxed),
        trace: TRACE.load(Ordering::Relaxed),
    }
}

/// Sets how many records the store keeps (at least 1); the oldest are dropped first.
pub fn set_store_capacity(capacity: usize) {
    let capacity = capacity.max(1);
    CAPACITY.store(capacity, Ordering::Relaxed);
    let mut store = STORE.lock();
    while store.len() > capacity {
        store.pop_front();
    }
}

/// The reference level of a `tracing` level.
pub fn level_of(level: &Level) -> LogLevel {
    match *level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Log,
        _ => LogLevel::Debug,
    }
}

/// Whether `target` belongs to the SDK: `skylink`, `skylink::*` and `skylink_*` except the
/// server and the command-line tool (`skylink_server`, `skylink_cli`).
pub fn is_sdk_target(target: &str) -> bool {
    let crate_name = target.split("::").next().unwrap_or(target);
    crate_name == "skylink"
        || (crate_name.starts_with("skylink_")
            && crate_name != "skylink_server"
            && crate_name != "skylink_cli")
}

/// Whether an SDK record of `level` passes the current log level.
fn passes(level: &Level) -> bool {
    level_of(level).value() <= LEVEL.load(Ordering::Relaxed)
}

/// One stored record (the reference's `[date, level, message, object]` log item).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRecord {
    /// When it was logged.
    pub timestamp: SystemTime,
    /// Its level.
    pub level: LogLevel,
    /// The `tracing` target (module path).
    pub target: String,
    /// The message.
    pub message: String,
    /// The record's other fields (the reference's "log message object"), if any.
    pub fields: Option<Value>,
    /// Entered spans, outermost first (only with [`DebugMode::trace`]).
    pub spans: Vec<String>,
}

impl std::fmt::Display for LogRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = crate::constants::Constant::key(self.level);
        write!(
            f,
            "{} [{level}] {}",
            skylink_room::api::iso_timestamp(self.timestamp),
            self.target
        )?;
        if !self.spans.is_empty() {
            write!(f, " {{{}}}", self.spans.join(" > "))?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(fields) = &self.fields {
            write!(f, " {fields}")?;
        }
        Ok(())
    }
}

/// `SkylinkLogs`: the stored SDK records (see the [module docs](self)).
#[derive(Debug, Clone, Copy, Default)]
pub struct SkylinkLogs;

impl SkylinkLogs {
    /// `SkylinkLogs.getLogs(logLevel)`: the stored records of exactly `level`, or all of them
    /// (`None`, or [`LogLevel::None`], which no record has), oldest first.
    pub fn get_logs(level: Option<LogLevel>) -> Vec<LogRecord> {
        let level = level.filter(|l| *l != LogLevel::None);
        STORE
            .lock()
            .iter()
            .filter(|r| level.is_none_or(|l| r.level == l))
            .cloned()
            .collect()
    }

    /// `SkylinkLogs.clearAllLogs()`.
    pub fn clear_all_logs() {
        STORE.lock().clear();
    }

    /// `SkylinkLogs.printAllLogs()`: writes every stored record to standard error.
    pub fn print_all_logs() {
        let _ = Self::write_all_logs(&mut std::io::stderr().lock());
    }

    /// Writes every stored record, one a line, to `out`.
    ///
    /// # Errors
    /// The writer's.
    pub fn write_all_logs(out: &mut impl std::io::Write) -> std::io::Result<()> {
        for r in Self::get_logs(None) {
            writeln!(out, "{r}")?;
        }
        Ok(())
    }
}

/// The [`tracing_subscriber::Layer`] of the SDK logs; see [`layer`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SkylinkLayer;

/// The layer to install in the application's subscriber (see the [module docs](self)).
pub fn layer() -> SkylinkLayer {
    SkylinkLayer
}

impl<S> tracing_subscriber::Layer<S> for SkylinkLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        if is_sdk_target(meta.target()) {
            // The level can change at any time: decide per record.
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::always()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        !is_sdk_target(meta.target()) || passes(meta.level())
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        if !is_sdk_target(meta.target())
            || !passes(meta.level())
            || !STORE_LOGS.load(Ordering::Relaxed)
        {
            return;
        }
        let mut visitor = Fields::default();
        event.record(&mut visitor);
        let spans = if TRACE.load(Ordering::Relaxed) {
            ctx.event_scope(event)
                .map(|scope| scope.from_root().map(|s| s.name().to_owned()).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let record = LogRecord {
            timestamp: SystemTime::now(),
            level: level_of(meta.level()),
            target: meta.target().to_owned(),
            message: visitor.message,
            fields: (!visitor.fields.is_empty()).then_some(Value::Object(visitor.fields)),
            spans,
        };
        let capacity = CAPACITY.load(Ordering::Relaxed);
        let mut store = STORE.lock();
        while store.len() >= capacity {
            store.pop_front();
        }
        store.push_back(record);
    }
}

/// Collects a record's message and fields.
#[derive(Default)]
struct Fields {
    message: String,
    fields: Map<String, Value>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.fields.insert(field.name().to_owned(), value.into());
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.fields
                .insert(field.name().to_owned(), format!("{value:?}").into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_levels() {
        assert!(is_sdk_target("skylink"));
        assert!(is_sdk_target("skylink_room::client"));
        assert!(is_sdk_target("skylink::events"));
        assert!(!is_sdk_target("skylinkx"));
        assert!(!is_sdk_target("hyper::client"));
        assert!(!is_sdk_target("skylink_server::room"));
        assert_eq!(level_of(&Level::DEBUG), LogLevel::Log);
        assert_eq!(level_of(&Level::TRACE), LogLevel::Debug);
        assert_eq!(
            DebugMode::from(true),
            DebugMode {
                store_logs: true,
                trace: true
            }
        );
    }
}
